"""`corpus-tools run`, the main job, end to end on the bundled seed pages."""
from __future__ import annotations

from pathlib import Path

from corpus_tools.cli import main
from corpus_tools.store import load_corpus
from corpus_tools.tokenize import TokenCache, get_segmenter, text_sha, tokenize_documents

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"


def test_run_writes_every_table_and_segments_on_the_workers(tmp_path, monkeypatch):
    import corpus_tools.tokenize as tok

    calls = []
    real = tok.fill_token_cache

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(tok, "fill_token_cache", spy)
    out = tmp_path / "build"
    assert main(["run", str(RAW), "-o", str(out), "--quiet", "--workers", "2"]) == 0
    for name in ("pages", "documents", "sections", "removed"):
        assert (out / f"{name}.parquet").exists()
    for name in ("themes_by_document", "topics", "slogans", "document_stats", "corpus_stats"):
        assert (out / "analysis" / f"{name}.csv").stat().st_size > 0
    assert (out / "report.html").exists()
    assert [(c["workers"], c["engine"]) for c in calls] == [(2, "local")]  # the ingest's workers
    # the token cache was filled by fill_token_cache (one part per shard task) before the
    # analysis: every document is in it, so tokenizing again segments nothing
    corpus = load_corpus(out)
    cache = TokenCache(out / "cache" / "tokens", get_segmenter())
    where = cache.index().where
    assert all(text_sha(t) in where for t in corpus.documents["text"])
    info = tokenize_documents(corpus, with_info=True).attrs["tokenize"]
    assert info["n_segmented"] == 0
