"""Tokenisation: user dictionary, stopwords, rjieba/jieba agreement, token cache, CLI.

Also holds the ``seed_dir`` / ``reports_dir`` corpus fixtures used by test_themes.py,
test_topics.py and test_stats.py: the real ``corpus_tools.ingest`` when it works, else the
stand-in ingest of test_dedup.py.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import corpus_tools.tokenize as tk
from corpus_tools.cli import main
from corpus_tools.tokenize import (
    Segmenter, filter_tokens, load_stopwords, load_userdict, tokenize, tokenize_documents,
)
from test_dedup import RAW, fixture_reports_corpus, fixture_seed_corpus


@pytest.fixture(scope="session")
def seed_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tok_seed_corpus")
    try:
        from corpus_tools import ingest

        ingest([str(RAW)], out=str(out))
        if len(pd.read_parquet(out / "documents.parquet")) >= 10:
            return out
    except Exception:  # ingestion not ready: fall back to the stand-in
        pass
    out = tmp_path_factory.mktemp("tok_seed_corpus_fixture")
    return fixture_seed_corpus(out)


@pytest.fixture(scope="session")
def reports_dir(tmp_path_factory) -> Path:
    return fixture_reports_corpus(tmp_path_factory.mktemp("tok_reports_corpus"))


def seed_docs(seed_dir: Path) -> pd.DataFrame:
    return pd.read_parquet(seed_dir / "documents.parquet")


# ----------------------------------------------------------------- dictionary and stopwords
def test_user_dictionary_words_stay_whole():
    text = "我们开展工资集体协商，签订集体合同，建设模范职工之家，关心困难职工，召开职代会，推行厂务公开。"
    for backend in ("jieba", "auto"):
        toks = tokenize(text, backend=backend)
        for w in ("工资集体协商", "集体合同", "模范职工之家", "困难职工", "职代会", "厂务公开"):
            assert w in toks, (backend, w, toks)
    plain = tokenize(text, userdict=None, backend="jieba")
    assert "工资集体协商" not in plain and "模范职工之家" not in plain  # the dictionary is what joins them


def test_userdict_file_is_jieba_format_and_overridable(tmp_path):
    entries = load_userdict()
    assert len(entries) >= 200
    assert all(isinstance(f, int) and f > 0 for _, f, _ in entries)
    words = {w for w, _, _ in entries}
    assert {"职代会", "教代会", "厂务公开", "送温暖", "职工之家", "劳动竞赛", "工人先锋号", "安康杯",
            "合理化建议", "校务公开", "女职工", "工资集体协商"} <= words
    text = "开展比学赶帮超活动"
    assert "比学赶帮超" not in tokenize(text, backend="jieba")
    assert "比学赶帮超" in tokenize(text, add_words=["比学赶帮超"], backend="jieba")
    custom = tmp_path / "dict.txt"
    custom.write_text("比学赶帮超 5000 nz\n", encoding="utf-8")
    toks = tokenize(text + "，建设职工之家", userdict=custom, backend="jieba")
    assert "比学赶帮超" in toks and "职工之家" not in toks  # replaced, not extended


def test_stopwords_switch(tmp_path):
    text = "我们进一步加强工会组织建设，积极开展送温暖活动的"
    default = tokenize(text)
    assert "的" not in default and "我们" not in default
    assert "进一步" in default and "积极开展" in default
    filler = tokenize(text, stopwords="default+filler")
    assert "进一步" not in filler and "加强" not in filler
    assert {"工会组织", "送温暖"} <= set(filler)
    none = tokenize(text, stopwords=None)
    assert "的" in none and "我们" in none
    assert "，" not in none and "，" in tokenize(text, stopwords=None, keep_punct=True)
    f = tmp_path / "stop.txt"
    f.write_text("# mine\n送温暖\n", encoding="utf-8")
    assert "送温暖" not in tokenize(text, stopwords=f)
    assert "的" not in tokenize(text, stopwords=f"default+{f}")
    assert "工会组织" not in tokenize(text, stopwords=["工会组织"])
    assert "进一步" in load_stopwords("filler") and "的" not in load_stopwords("filler")


def test_filter_drops_numbers_and_placeholders():
    toks = ["20xx", "__", "12", "3.5%", "工会", " ", "。", "xx", "某某"]
    assert filter_tokens(toks) == ["工会"]
    assert "12" in filter_tokens(toks, keep_numbers=True)


# ----------------------------------------------------------------- backends
def test_rjieba_agrees_with_jieba_on_seed_corpus(seed_dir):
    pytest.importorskip("rjieba")
    texts = seed_docs(seed_dir)["text"].tolist()
    j, r = Segmenter(backend="jieba"), Segmenter(backend="rjieba")
    pairs = [(j.cut(text), r.cut(text)) for text in texts]
    for text, (a, b) in zip(texts, pairs):
        assert "".join(a) == text == "".join(b)
    agree, total = tk.boundary_counts([a for a, _ in pairs], [b for _, b in pairs])
    assert total > 50_000
    assert agree / total >= 0.999


def test_fallback_to_jieba_without_rjieba(monkeypatch):
    monkeypatch.setattr(tk, "_rjieba_available", lambda: False)
    seg = Segmenter(backend="auto")
    assert seg.backend == "jieba"
    assert "职工之家" in seg.cut("建设职工之家")
    with pytest.raises(ImportError):
        Segmenter(backend="rjieba")


def test_segmenter_loaded_once_per_process():
    a = tk.get_segmenter()
    b = tk.get_segmenter()
    assert a is b
    tokenize("职工之家")
    tok = a._tok
    tokenize("工资集体协商")
    assert a._tok is tok


# ----------------------------------------------------------------- cache
def test_token_cache_is_hit_on_second_run(seed_dir, tmp_path, monkeypatch):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("documents.parquet", "manifest.json"):
        (corpus / name).write_bytes((seed_dir / name).read_bytes())
    first = tokenize_documents(corpus)
    info = first.attrs["tokenize"]
    assert info["n_segmented"] > 0 and info["n_cached"] == 0
    files = [p for p in (corpus / "cache" / "tokens").rglob("*") if p.is_file()]
    assert files and all(p.suffix in (".parquet", ".json") for p in files)  # never pickle

    def boom(self, text):
        raise AssertionError("re-segmented although the cache should be hit")

    monkeypatch.setattr(Segmenter, "cut", boom)
    second = tokenize_documents(corpus)
    assert second.attrs["tokenize"]["n_segmented"] == 0
    pd.testing.assert_frame_equal(first, second)
    # stopword changes reuse the cached segmentation too
    filler = tokenize_documents(corpus, stopwords="default+filler")
    assert filler["tokens"].map(len).sum() < first["tokens"].map(len).sum()
    # a different dictionary is a different cache key
    with pytest.raises(AssertionError, match="re-segmented"):
        tokenize_documents(corpus, add_words=["比学赶帮超"])


def test_dataframe_input_caches_only_when_asked(seed_dir, tmp_path):
    docs = seed_docs(seed_dir).head(3)
    out = tokenize_documents(docs)
    assert list(out.columns) == ["unit_id", "tokens"] and out["unit_id"].tolist() == docs["doc_id"].tolist()
    assert out.attrs["tokenize"]["cache_dir"] is None
    cached = tokenize_documents(docs, cache_dir=tmp_path / "c")
    assert list((tmp_path / "c").rglob("part-*.parquet"))
    assert tokenize_documents(docs, cache_dir=tmp_path / "c").attrs["tokenize"]["n_cached"] == 3
    pd.testing.assert_frame_equal(out, cached)


def test_workers_give_the_same_tokens(seed_dir):
    docs = seed_docs(seed_dir).head(8)
    one = tokenize_documents(docs, cache_dir=None, workers=1)
    two = tokenize_documents(docs, cache_dir=None, workers=2)
    pd.testing.assert_frame_equal(one, two)


def test_cli_tokenize_fills_cache(seed_dir, tmp_path, capsys):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("documents.parquet", "manifest.json"):
        (corpus / name).write_bytes((seed_dir / name).read_bytes())
    assert main(["tokenize", str(corpus), "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert "segmented" in out and list((corpus / "cache" / "tokens").rglob("part-*.parquet"))
    assert main(["tokenize", str(corpus), "--format", "json"]) == 0
    import json

    row = json.loads(capsys.readouterr().out)[0]
    assert row["segmented"] == 0 and row["from_cache"] == row["units"]


# ----------------------------------------------------------------- shard workers, streaming, cache index
def copy_corpus(seed_dir: Path, dest: Path) -> Path:
    dest.mkdir()
    for name in ("documents.parquet", "manifest.json"):
        (dest / name).write_bytes((seed_dir / name).read_bytes())
    return dest


def cache_parts(corpus: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (corpus / "cache" / "tokens").rglob("part-*.parquet")}


@pytest.fixture
def many_shards(monkeypatch):
    """Cut even the small seed corpus into ~SHARDS shards, so two workers share the work."""
    monkeypatch.setattr(tk, "SHARD_MIN_CHARS", 1)


def test_fill_with_two_workers_writes_the_same_parts(seed_dir, tmp_path, many_shards):
    one = copy_corpus(seed_dir, tmp_path / "one")
    two = copy_corpus(seed_dir, tmp_path / "two")
    info1 = tk.fill_token_cache(one, workers=1)
    info2 = tk.fill_token_cache(two, workers=2)
    assert info1 == {**info2, "cache_dir": info1["cache_dir"]}
    assert info1["n_segmented"] > 0 and info1["n_cached"] == 0
    parts1, parts2 = cache_parts(one), cache_parts(two)
    assert len(parts1) > 2 and parts1 == parts2  # same shards, same part files, byte for byte
    # the parts the workers wrote are found: nothing is segmented again, tokens are right
    cached = tokenize_documents(two, workers=2)
    assert cached.attrs["tokenize"]["n_segmented"] == 0
    pd.testing.assert_frame_equal(cached, tokenize_documents(seed_docs(seed_dir), cache_dir=None))
    assert sum(cached["tokens"].map(len)) < info1["n_tokens"]  # raw tokens (punctuation too) are counted


def test_fill_on_ray_writes_the_same_parts(seed_dir, tmp_path, many_shards):
    """The shard tasks run unchanged on Ray (`corpus-tools tokenize --engine ray`): same parts."""
    pytest.importorskip("ray")
    local = copy_corpus(seed_dir, tmp_path / "local")
    on_ray = copy_corpus(seed_dir, tmp_path / "ray")
    info1 = tk.fill_token_cache(local, workers=1)
    info2 = tk.fill_token_cache(on_ray, workers=2, engine="ray")
    assert info1 == {**info2, "cache_dir": info1["cache_dir"]}
    parts = cache_parts(local)
    assert len(parts) > 2 and parts == cache_parts(on_ray)


def test_warm_fill_segments_nothing(seed_dir, tmp_path, monkeypatch):
    corpus = copy_corpus(seed_dir, tmp_path / "corpus")
    cold = tk.fill_token_cache(corpus, workers=2)

    def boom(self, text):
        raise AssertionError("re-segmented although the cache should be hit")

    monkeypatch.setattr(Segmenter, "cut", boom)
    for workers in (1, 2):
        warm = tk.fill_token_cache(corpus, workers=workers)
        assert warm["n_segmented"] == 0 and warm["n_cached"] == cold["n_segmented"]
        assert warm["n_units"] == cold["n_units"] and warm["n_tokens"] == cold["n_tokens"]
    assert tokenize_documents(corpus).attrs["tokenize"]["n_segmented"] == 0


def test_fill_and_iter_stream_documents_of_a_corpus(seed_dir, tmp_path, monkeypatch, many_shards):
    import pyarrow.parquet as pq

    import corpus_tools.analysis.units as units_mod
    from corpus_tools.store import Corpus

    corpus = copy_corpus(seed_dir, tmp_path / "corpus")
    expected = tokenize_documents(seed_docs(seed_dir), cache_dir=None)["tokens"].tolist()

    def whole(*a, **k):
        raise AssertionError("loaded the whole documents table")

    monkeypatch.setattr(units_mod, "as_units", whole)
    monkeypatch.setattr(Corpus, "documents", property(whole))
    monkeypatch.setattr(pq, "read_table", whole)
    monkeypatch.setattr(pd, "read_parquet", whole)
    batch_sizes = []
    iter_batches = pq.ParquetFile.iter_batches

    def spy(self, batch_size=65536, *a, **k):
        batch_sizes.append(batch_size)
        return iter_batches(self, batch_size, *a, **k)

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", spy)
    info = tk.fill_token_cache(corpus, workers=2, batch_size=7)
    assert info["n_units"] == len(expected) and 7 in batch_sizes and max(batch_sizes) <= 1024
    assert list(tk.iter_unit_tokens(corpus, batch_size=5)) == expected
    assert list(tk.iter_unit_tokens(Corpus(corpus), batch_size=5)) == expected


def test_get_many_reads_only_the_row_groups_it_needs(seed_dir, tmp_path, monkeypatch, many_shards):
    import pyarrow.parquet as pq

    corpus = copy_corpus(seed_dir, tmp_path / "corpus")
    tk.fill_token_cache(corpus)
    cache = tk.TokenCache(corpus / "cache" / "tokens", tk.get_segmenter())
    idx = cache.index()
    assert len(idx.parts) > 2 and len(idx.where) == sum(len(i.shas) for i in idx.infos)
    read = []
    read_row_groups = pq.ParquetFile.read_row_groups

    def spy(self, groups, *a, **k):
        read.append(len(groups))
        return read_row_groups(self, groups, *a, **k)

    monkeypatch.setattr(pq.ParquetFile, "read_row_groups", spy)
    text = seed_docs(seed_dir)["text"].iloc[3]
    assert cache.get_many([tk.text_sha(text), "0" * 64]) == {tk.text_sha(text): Segmenter().cut(text)}
    assert read == [1]  # one row group of one part


def test_compaction_merges_parts_and_drops_duplicates(seed_dir, tmp_path, monkeypatch, many_shards):
    corpus = copy_corpus(seed_dir, tmp_path / "corpus")
    tk.fill_token_cache(corpus)
    before = tokenize_documents(corpus)
    root = corpus / "cache" / "tokens"
    seg = tk.get_segmenter()
    texts = seed_docs(seed_dir)["text"].tolist()[:5]
    tk.TokenCache(root, seg).put_many({tk.text_sha(t): seg.cut(t) for t in texts})  # duplicates
    assert len(list(root.rglob("part-*.parquet"))) > 4
    monkeypatch.setattr(tk.TokenCache, "MAX_PARTS", 4)
    info = tk.fill_token_cache(corpus)  # nothing to segment, but too many parts
    parts = list(root.rglob("part-*.parquet"))
    assert len(parts) == 1 and info["n_segmented"] == 0
    assert pd.read_parquet(parts[0])["text_sha"].is_unique
    after = tokenize_documents(corpus)
    assert after.attrs["tokenize"]["n_segmented"] == 0
    pd.testing.assert_frame_equal(before, after)


def test_other_cache_formats_are_never_read(monkeypatch):
    """The cache format is part of the segmenter fingerprint, so parts of another format
    (list<string> tokens before format 2) live in another directory and are not read."""
    seg = tk.Segmenter()
    now = seg.fingerprint
    monkeypatch.setattr(tk, "CACHE_FORMAT_VERSION", 1)
    assert seg.fingerprint != now


def test_dataframes_and_sections_with_workers(seed_dir, tmp_path, many_shards):
    docs = seed_docs(seed_dir)
    one = tokenize_documents(docs, cache_dir=None, workers=1)
    pd.testing.assert_frame_equal(one, tokenize_documents(docs, cache_dir=None, workers=2))
    pd.testing.assert_frame_equal(one, tokenize_documents(docs, cache_dir=tmp_path / "c", workers=2))
    if (seed_dir / "sections.parquet").exists():
        corpus = copy_corpus(seed_dir, tmp_path / "corpus")
        (corpus / "sections.parquet").write_bytes((seed_dir / "sections.parquet").read_bytes())
        info = tk.fill_token_cache(corpus, unit="section", workers=2)
        assert info["n_units"] > 0
        assert tokenize_documents(corpus, unit="section").attrs["tokenize"]["n_segmented"] == 0


def test_split_non_han_matches_the_token_by_token_rule():
    def reference(tokens):
        return [x for t in tokens for x in tk._split_token(t)]

    cases = [["qq.com"], ["工会", "1-6", "年"], ["1.5%", "a b", "3.5.6", "ａ1", "12"], [],
             ["x\x00y.z", "2019-2020"], ["-1"], ["ab-", "，", "abc"], ["2-3"],
             ["a.", ".a", "工", "b-c-d"], ["a", "-", "b"], ["工a-", "%1", "１-a", "é1"], ["ab"] * 3 + ["a-b"]]
    for tokens in cases:
        assert tk._split_non_han(list(tokens)) == reference(tokens), tokens
        out, joined = tk._split_non_han_joined(list(tokens))
        if not any("\x00" in t for t in tokens):  # the join is patched around split tokens
            assert joined == "\x00".join(reference(tokens)), tokens
    assert Segmenter(backend="jieba").cut("访问qq.com，第1-6条") == Segmenter().cut("访问qq.com，第1-6条")


def test_a_failed_shard_leaves_no_part(seed_dir, tmp_path, monkeypatch):
    corpus = copy_corpus(seed_dir, tmp_path / "corpus")

    def boom(self, text):
        raise RuntimeError("segmenter crashed")

    monkeypatch.setattr(Segmenter, "cut_joined", boom)  # what a shard task calls (cut calls it too)
    with pytest.raises(RuntimeError, match="crashed"):
        tk.fill_token_cache(corpus)
    assert [p.name for p in (corpus / "cache" / "tokens").rglob("*") if p.is_file()] == ["settings.json"]


def test_token_lists_round_trip_through_part_columns():
    """Cache parts store each token list NUL-joined; lists a split would not give back
    (empty, NUL inside a token) go to the tokens_list column: every list round-trips."""
    import pyarrow as pa

    for lists in ([["工会", "。"], ["a"]], [["a"], []], [["a\x00b", "c"]], [["", "x", ""]], [[]], [[""]], []):
        joined, rest = tk._token_columns(lists)
        table = pa.table({"tokens": joined, "tokens_list": rest})
        assert tk._token_lists(table) == lists, lists
        # joins handed over by the segmenter (None where it made none) give the same columns
        joins = ["\x00".join(t) if i % 2 else None for i, t in enumerate(lists)]
        j2, r2 = tk._token_columns(lists, joins)
        assert j2.equals(joined) and r2.equals(rest), lists
    seg = Segmenter()
    for text in ("访问qq.com，第1-6条", "工会工作总结", "", "a\x00b 工会"):
        toks, joined = seg.cut_joined(text)
        assert toks == seg.cut(text) and "".join(toks) == text
        assert joined is None or joined == "\x00".join(toks)


def test_shards_get_smaller_for_the_last_quarter():
    """The last quarter of the characters is cut four times finer (workers finish together);
    every row is in exactly one shard, in order, and the cut depends only on the sizes."""
    sizes = [10] * 400  # 4000 characters
    shards = list(tk._runs(enumerate(sizes), 400, total=4000))
    assert [r for s in shards for r in s] == list(range(400))
    lengths = [len(s) for s in shards]
    assert lengths[:7] == [40] * 7 and lengths[-10:] == [10] * 10  # 3000 chars in 400s, the last 1000 in 100s
    assert tk._shard_rows(range(400), sizes) == list(tk._runs(enumerate(sizes), tk._shard_target(4000), 4000))
    assert [len(s) for s in tk._runs(enumerate(sizes), 400)] == [40] * 10  # total unknown: equal shards


def test_segmenter_fingerprint_is_computed_once_and_pickled(monkeypatch):
    """Every shard task looked the worker's segmenter up by fingerprint (~12 ms of JSON and
    hashing each time); it is now kept on the object, also across pickling to a worker."""
    import pickle

    seg = tk.Segmenter()
    fp = seg.fingerprint
    calls = []
    monkeypatch.setattr(tk.json, "dumps", lambda *a, **k: calls.append(1) or "")
    assert seg.fingerprint == fp and pickle.loads(pickle.dumps(seg)).fingerprint == fp
    assert calls == []


def test_rjieba_loaded_without_its_default_tokenizer():
    """The segmenter loads rjieba's compiled module alone (``import rjieba`` builds a default
    tokenizer, ~0.1 s); a later ``import rjieba`` still works and shares the class."""
    import subprocess
    import sys

    pytest.importorskip("rjieba")
    code = ("import sys\n"
            "from corpus_tools.tokenize import Segmenter, _rjieba_class\n"
            "toks = Segmenter(backend='rjieba').cut('工会工作总结qq.com，第1-6条')\n"
            "print('rjieba' in sys.modules, '|'.join(toks))\n"
            "import rjieba\n"
            "print(rjieba.Jieba is _rjieba_class(), '|'.join(rjieba.Jieba().cut('工会工作总结', True)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "False 工会工作|总结|qq|.|com|，|第|1|-|6|条"
    assert out[1].startswith("True ")
