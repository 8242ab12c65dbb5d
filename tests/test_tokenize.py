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
