"""Near-duplicate clustering and repeated paragraphs (corpus_tools.export.dedup).

This module also holds the corpus fixtures shared by test_slogans.py and test_export.py:
the real ``corpus_tools.ingest`` when it is available, else a small stand-in ingest
(split seed pages on their essay markers, light punctuation normalisation).
"""
from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pandas as pd
import pytest

from corpus_tools.export.dedup import (
    drop_spans, jaccard, near_duplicate_clusters, repeated_paragraphs, shingles,
)
from corpus_tools.store import atomic_write_json, write_table

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
REPORTS = Path("/work/shared/corpus/reports")
CONGRESS_YEARS = {10: 1973, 11: 1977, 12: 1982, 13: 1987, 14: 1992, 15: 1997, 16: 2002, 17: 2007,
                  18: 2012, 19: 2017, 20: 2022}  # CPC national congress → year

# ---------------------------------------------------------------- stand-in ingest
_PINYIN = re.compile(r"[(（][a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]{1,8}[)）]")
_HALF = str.maketrans({",": "，", ":": "：", ";": "；", "!": "！", "?": "？", "(": "（", ")": "）",
                       "‚": "“", "‛": "”"})
_MARK = re.compile(r"^(?:第[一二三四五六七八九十]{1,3}篇[:：](?P<t1>.{0,60})|(?P<t2>.{1,60}?篇\d{1,2}))$")
_INLINE_MARK = re.compile(r"【第[一二三四五六七八九十]{1,3}篇】")
_H1 = re.compile(r"^([一二三四五六七八九十]{1,3}、)")
_H2 = re.compile(r"^(（[一二三四五六七八九十]{1,3}）)")


def _clean(text: str) -> str:
    import opencc

    text = opencc.OpenCC("t2s").convert(text)
    text = _PINYIN.sub("", text).translate(_HALF)
    text = re.sub(r'"([^"\n]{0,40})"', r"“\1”", text)
    lines = [ln.strip(" \u3000\t") for ln in text.split("\n")]
    return "\n".join(ln for ln in lines if ln)


def _sections(doc_id: str, text: str) -> list[dict]:
    heads, pos = [], 0
    for line in text.split("\n"):
        for level, rx in ((1, _H1), (2, _H2)):
            m = rx.match(line)
            if m:
                heads.append((pos, level, m.group(1), line[len(m.group(1)):][:40]))
        pos += len(line) + 1
    rows, parents = [], {}
    for i, (start, level, marker, heading) in enumerate(heads):
        end = next((s for s, lv, _, _ in heads[i + 1:] if lv <= level), len(text))
        sid = f"{doc_id}.s{i:02d}"
        parents[level] = sid
        rows.append({"doc_id": doc_id, "section_id": sid, "parent_id": parents.get(level - 1) if level > 1 else None,
                     "level": level, "style": level, "marker": marker, "number": 0, "heading": heading,
                     "start": start, "end": end, "inline": False, "role": "body", "issues": ""})
    return rows


def _write(out: Path, pages: list[dict], docs: list[dict]) -> Path:
    sections = [r for d in docs for r in _sections(d["doc_id"], d["text"])]
    write_table(out / "pages.parquet", pd.DataFrame(pages))
    write_table(out / "documents.parquet", pd.DataFrame(docs))
    write_table(out / "sections.parquet", pd.DataFrame(sections))
    write_table(out / "removed.parquet", pd.DataFrame(
        {"page_id": ["p"], "raw_start": [0], "raw_end": [1], "text": ["x"], "replacement": [""],
         "kind": ["removed"], "reason": ["boilerplate_line"]}))
    atomic_write_json(out / "manifest.json", {"version": "fixture"})
    return out


def fixture_seed_corpus(out: Path) -> Path:
    """Stand-in ingest of data/raw: one document per essay marker."""
    pages, docs = [], []
    for path in sorted(RAW.glob("*.txt")):
        page_id = path.stem.split("_")[1]
        text = _clean(path.read_text(encoding="utf-8"))
        text = _INLINE_MARK.sub(lambda m: "\n" + m.group(0).strip("【】") + "：\n", text)
        chunks, cur = [], None
        for line in text.split("\n"):
            m = _MARK.match(line)
            if m:
                cur = [(m.group("t1") or m.group("t2") or "").strip(), []]
                chunks.append(cur)
            elif cur is not None:
                cur[1].append(line)
        for i, (title, lines) in enumerate(chunks, 1):
            body = "\n".join(lines)
            docs.append({"doc_id": f"{page_id}-{i:02d}", "page_id": page_id, "source": path.name, "index": i,
                         "title": title or lines[0][:30], "text": body, "year": None, "n_chars": len(body),
                         "signoff": None})
        pages.append({"page_id": page_id, "source": path.name, "status": "ok", "truncated": False,
                      "n_documents": len(chunks)})
    return _write(out, pages, docs)


def fixture_reports_corpus(out: Path) -> Path:
    """One document per official report, year from index.jsonl."""
    index = [json.loads(line) for line in (REPORTS / "index.jsonl").read_text(encoding="utf-8").splitlines() if line]
    pages, docs = [], []
    for rec in sorted(index, key=lambda r: r["file"]):
        text = _clean((REPORTS / rec["file"]).read_text(encoding="utf-8"))
        pid = rec["file"].rsplit(".", 1)[0]
        docs.append({"doc_id": pid, "page_id": pid, "source": rec["file"], "index": 1, "title": rec["title"],
                     "text": text, "year": int(rec.get("year") or CONGRESS_YEARS[rec["congress"]]), "n_chars": len(text), "signoff": None})
        pages.append({"page_id": pid, "source": rec["file"], "status": "ok", "truncated": False, "n_documents": 1})
    return _write(out, pages, docs)


def _real_ingest(paths: list[Path], out: Path) -> Path | None:
    """The real ingest if it works; else None (the stand-in is used, with a warning)."""
    import shutil
    import warnings

    try:
        from corpus_tools.ingest.pipeline import ingest  # `corpus_tools.ingest` may be the subpackage
        ingest([str(p) for p in paths], out=str(out))
        if not (out / "documents.parquet").exists() or not (out / "sections.parquet").exists():
            raise RuntimeError("ingest wrote no documents/sections table")
    except Exception as exc:  # noqa: BLE001 - ingest is developed concurrently
        warnings.warn(f"real ingest unavailable ({type(exc).__name__}: {exc}); using the stand-in corpus")
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True, exist_ok=True)
        return None
    return out


@pytest.fixture(scope="session")
def seed_corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("seed_corpus")
    return _real_ingest([RAW], out) or fixture_seed_corpus(out)


@pytest.fixture(scope="session")
def reports_corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("reports_corpus")
    return fixture_reports_corpus(out)


def seed_documents(corpus: Path) -> pd.DataFrame:
    return pd.read_parquet(corpus / "documents.parquet")


# ---------------------------------------------------------------- tests
def test_page_003_first_two_essays_cluster(seed_corpus):
    docs = seed_documents(seed_corpus)
    clusters = near_duplicate_clusters(docs)
    p3 = docs[docs["source"].str.startswith("003")].sort_values("index")
    first, second = p3["doc_id"].iloc[0], p3["doc_id"].iloc[1]
    c = clusters.set_index("doc_id")
    assert c.loc[first, "cluster_id"] == c.loc[second, "cluster_id"]
    members = clusters[clusters["cluster_id"] == c.loc[first, "cluster_id"]]
    assert members["kept"].sum() == 1
    # deterministic
    pd.testing.assert_frame_equal(clusters, near_duplicate_clusters(docs.sample(frac=1, random_state=3)))


def test_exact_duplicate_and_singletons():
    docs = pd.DataFrame({"doc_id": ["b", "a", "c"],
                         "text": ["工会工作，“送温暖”。" * 20, "工会工作“送温暖”" * 20, "完全不同的一段文字内容" * 10]})
    cl = near_duplicate_clusters(docs).set_index("doc_id")
    assert cl.loc["b", "cluster_id"] == "a" and cl.loc["b", "dup_type"] == "exact"
    assert cl.loc["c", "cluster_id"] == "c" and cl.loc["c", "kept"]


def _edit(base: str, keep: float, rng: random.Random, filler: str) -> str:
    """Copy of ``base`` keeping ``keep`` of its characters: the rest, in 4 contiguous blocks,
    is replaced by unrelated text of the same length."""
    n = len(base)
    cut = int(round(n * (1 - keep)))
    out, pos = [], 0
    block = cut // 4
    starts = sorted(rng.sample(range(0, n - block - 1, max(block + 1, 1)), 4)) if block else []
    for s in starts:
        out.append(base[pos:s])
        k = rng.randrange(0, len(filler) - block)
        out.append(filler[k:k + block])
        pos = s + block
    out.append(base[pos:])
    return "".join(out)


def plant(n_base: int = 12, seed: int = 7):
    """Base documents from the reports corpus plus planted exact and edited copies.
    Returns (docs, truth) where truth maps each copy to (base, keep fraction)."""
    rng = random.Random(seed)
    files = sorted(REPORTS.glob("*.txt"))
    texts = [f.read_text(encoding="utf-8").replace("\u3000", "") for f in files]
    bases = [t[5000:7000] for t in texts[:n_base]]  # 2000-char passages of distinct reports
    filler = "".join(t[20000:40000] for t in texts[n_base:n_base + 4])
    docs, truth = [], {}
    for i, b in enumerate(bases):
        docs.append((f"base{i:02d}", b))
        for keep in (1.0, 0.95, 0.9, 0.85, 0.6, 0.3):
            did = f"copy{i:02d}_{int(keep * 100):03d}"
            text = b.replace("，", ",") if keep == 1.0 else _edit(b, keep, rng, filler)  # exact after normalisation
            docs.append((did, text))
            truth[did] = (f"base{i:02d}", keep)
    return pd.DataFrame(docs, columns=["doc_id", "text"]), truth


def test_planted_duplicates_recall_precision(capsys):
    docs, truth = plant()
    cl = near_duplicate_clusters(docs, threshold=0.8).set_index("doc_id")
    # ground truth: copies keeping >= 85 % of characters are duplicates; 60 % and 30 % are not
    tp = fp = fn = 0
    per_level: dict[float, list[bool]] = {}
    for did, (base, keep) in truth.items():
        together = cl.loc[did, "cluster_id"] == cl.loc[base, "cluster_id"]
        per_level.setdefault(keep, []).append(together)
        if keep >= 0.85:
            tp += together
            fn += not together
        else:
            fp += together
    # bases are distinct reports: none may merge
    bases = [d for d in docs["doc_id"] if d.startswith("base")]
    assert cl.loc[bases, "cluster_id"].nunique() == len(bases)
    recall, precision = tp / (tp + fn), tp / max(tp + fp, 1)
    with capsys.disabled():
        rates = {k: f"{sum(v)}/{len(v)}" for k, v in sorted(per_level.items(), reverse=True)}
        print(f"\n[dedup plant] recall={recall:.3f} precision={precision:.3f} merged-by-keep={rates}")
    assert recall >= 0.95
    assert precision >= 0.95


def test_shingles_and_jaccard():
    assert shingles("一二三四五六", 5) == {"一二三四五", "二三四五六"}
    assert shingles("“一二”", 5) == {"一二"}
    assert jaccard({"a"}, {"a", "b"}) == 0.5


def test_repeated_paragraphs_and_drop_spans():
    para = "这是一段足够长的重复段落，用于测试重复段落的检测功能。"
    docs = pd.DataFrame({"doc_id": ["d1", "d2"],
                         "text": [f"一、标题\n{para}\n其他内容也要足够长才行，不然会被忽略掉的。\n{para}", f"一、标题\n{para}"]})
    rep = repeated_paragraphs(docs)
    assert list(rep["doc_id"]) == ["d1", "d2"]
    assert list(rep["reason"]) == ["repeated_paragraph_same_doc", "repeated_paragraph_other_doc"]
    t = docs["text"][0]
    r = rep.iloc[0]
    assert t[r.start:r.end] == para
    assert drop_spans(t, [(r.start, r.end)]) == t[:r.start].rstrip("\n")
    assert drop_spans(docs["text"][1], [(5, 5 + len(para))]) == "一、标题"


def test_seed_repeated_paragraphs(seed_corpus):
    docs = seed_documents(seed_corpus)
    rep = repeated_paragraphs(docs)
    per_doc = rep.groupby("doc_id").size()
    p3 = docs[docs["source"].str.startswith("003")].sort_values("index")["doc_id"].tolist()
    p2 = docs[docs["source"].str.startswith("002")].sort_values("index")["doc_id"].tolist()
    # page 002's 篇6 has blocks pasted twice inside it
    same = rep[(rep["doc_id"] == p2[5]) & (rep["reason"] == "repeated_paragraph_same_doc")]
    assert len(same) >= 3
    # page 003's 第二篇 repeats 第一篇 (and carries a second, edited version)
    assert per_doc.get(p3[1], 0) >= 10
    assert (rep["start"] < rep["end"]).all()


def test_hashed_shingle_similarity_equals_the_set_similarity(seed_corpus):
    """near_duplicate_clusters keeps shingles as sorted 64-bit hash arrays (8 bytes each, not
    a set of strings): the similarities equal those of the sets, short texts included."""
    from corpus_tools.export.dedup import _hashed_similarity, _shingle_hashes, normalize_text, shingles, similarity

    texts = [normalize_text(t) for t in seed_documents(seed_corpus)["text"]][:12] + ["", "工会", "工会工作", "工会工作总"]
    for a in texts:
        assert len(_shingle_hashes(a, 5)) == len(shingles(a, 5, normalized=True))
        for b in texts:
            for use_c in (True, False):
                want = similarity(shingles(a, 5, normalized=True), shingles(b, 5, normalized=True), use_c)
                assert _hashed_similarity(_shingle_hashes(a, 5), _shingle_hashes(b, 5), use_c) == want


def test_signatures_on_workers_give_the_same_clusters(seed_corpus, monkeypatch):
    """workers=2 computes the MinHash signatures in processes (small chunks here, so there
    are several tasks): the same cluster table and report as one process."""
    import corpus_tools.export.dedup as dd

    docs = seed_documents(seed_corpus)
    one, rep1 = dd.near_duplicate_clusters(docs, return_report=True)
    monkeypatch.setattr(dd, "SIGNATURE_CHUNK", 4)
    two, rep2 = dd.near_duplicate_clusters(docs, return_report=True, workers=2)
    pd.testing.assert_frame_equal(one, two)
    assert rep1 == rep2


def test_shingle_arrays_beyond_the_memory_bound_are_spilled_and_change_nothing(monkeypatch):
    """The shingle-hash arrays kept in memory for verification are bounded (least recently
    used out); arrays made in this process and pushed out go to a temporary file and are
    read back, never sorted again. With room for almost nothing the clusters and the report
    are the same. (Here the signature tasks store no arrays, so they are made.)"""
    import corpus_tools.export.dedup as dd

    docs, _ = plant()
    made = []
    real_init = dd._ShingleHashes.__init__
    real_signatures = dd._signatures

    def init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(dd._ShingleHashes, "__init__", init)
    monkeypatch.setattr(dd, "_signatures", lambda *a: real_signatures(*a[:5], None, *a[6:]))
    full, rep_full = dd.near_duplicate_clusters(docs, return_report=True)
    free = made[-1]
    assert free.reads == 0 and free.misses > 10  # all kept in memory, each made once
    monkeypatch.setattr(dd, "SHINGLE_CACHE_BYTES", 1)
    tight, rep_tight = dd.near_duplicate_clusters(docs, return_report=True)
    assert made[-1].misses == free.misses and made[-1].reads > 0  # read back, not made again
    assert made[-1]._file is None  # the spill file is closed at the end
    pd.testing.assert_frame_equal(full, tight)
    assert rep_full == rep_tight


def test_verification_reads_the_shingle_arrays_the_signature_tasks_stored(monkeypatch):
    """The signature tasks (here 4 documents each, on 2 processes) write every document's
    shingle hashes to part files; the verification reads them back instead of normalising
    and hashing again (no array made in the driver, also when memory holds almost nothing):
    same clusters and report as without stored arrays, and the directory is removed."""
    import tempfile

    import corpus_tools.export.dedup as dd

    docs, _ = plant()
    made, dirs = [], []
    real_init = dd._ShingleHashes.__init__
    real_signatures = dd._signatures
    real_tmp = tempfile.TemporaryDirectory

    def init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        made.append(self)

    def tmp(*a, **k):
        dirs.append(real_tmp(*a, **k))
        return dirs[-1]

    monkeypatch.setattr(dd._ShingleHashes, "__init__", init)
    monkeypatch.setattr(dd.tempfile, "TemporaryDirectory", tmp)
    monkeypatch.setattr(dd, "_signatures", lambda *a: real_signatures(*a[:5], None, *a[6:]))
    want, rep_want = dd.near_duplicate_clusters(docs, return_report=True)
    monkeypatch.setattr(dd, "_signatures", real_signatures)
    monkeypatch.setattr(dd, "SIGNATURE_CHUNK", 4)
    for cache in (dd.SHINGLE_CACHE_BYTES, 1):
        monkeypatch.setattr(dd, "SHINGLE_CACHE_BYTES", cache)
        got, rep = dd.near_duplicate_clusters(docs, return_report=True, workers=2)
        sh = made[-1]
        assert sh.misses == 0 and sh.reads > 10 and len(sh.stored) == len(docs)
        assert not sh._spilled and sh._file is None
        pd.testing.assert_frame_equal(want, got)
        assert rep == rep_want
        assert not __import__("os").path.exists(dirs[-1].name)


def test_lsh_buckets_by_sorting_find_exactly_the_pairs_sharing_a_band():
    """Candidate pairs come from sorting each band's columns (not datasketch's in-memory
    MinHashLSH): every pair of rows equal on all values of at least one band, each once,
    later row first; checked against a brute-force dictionary bucketing."""
    import numpy as np

    from corpus_tools.export.dedup import _lsh_candidates

    sigs = np.random.default_rng(0).integers(0, 3, (600, 12)).astype(np.uint32)
    want = set()
    for b in range(4):
        buckets: dict[tuple, list[int]] = {}
        for i, key in enumerate(map(tuple, sigs[:, b * 3:(b + 1) * 3])):
            want.update(i * 600 + j for j in buckets.get(key, []))
            buckets.setdefault(key, []).append(i)
    assert _lsh_candidates(sigs, 4, 3).tolist() == sorted(want)
    assert len(want) > 1000


def test_minhash_prefilter_drops_unrelated_candidates_and_no_duplicate(monkeypatch):
    """Candidates whose signatures agree on too few values for their threshold are not
    verified; with the prefilter off (miss probability 0: nothing is ruled out) the clusters
    and the verified pairs are the same."""
    import corpus_tools.export.dedup as dd

    docs, _ = plant()
    on, rep_on = dd.near_duplicate_clusters(docs, return_report=True)
    monkeypatch.setattr(dd, "PREFILTER_MISS", 0.0)
    off, rep_off = dd.near_duplicate_clusters(docs, return_report=True)
    assert rep_off.n_ruled_out_pairs == 0 and rep_on.n_ruled_out_pairs > 0
    assert rep_on.n_candidate_pairs == rep_off.n_candidate_pairs
    assert rep_on.n_verified_pairs == rep_off.n_verified_pairs > 0
    pd.testing.assert_frame_equal(on, off)


def test_normalize_text_is_the_category_rule_on_every_code_point():
    """normalize_text drops categories Z*, P*, S*, C* with a lookup table: the same as
    testing each character's category, over all of Unicode."""
    import unicodedata

    from corpus_tools.export.dedup import normalize_text

    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000)
    nfkc = unicodedata.normalize("NFKC", every)
    assert normalize_text(every) == "".join(ch for ch in nfkc if unicodedata.category(ch)[0] not in "ZPSC").lower()
    assert normalize_text("第一篇：“送温暖”，ＡＢＣ！") == "第一篇送温暖abc"
    assert normalize_text(None) == "" == normalize_text("")
