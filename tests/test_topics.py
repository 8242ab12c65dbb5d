"""Topic models (corpus_tools.analysis.topics)."""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from corpus_tools.analysis.topics import (
    TopicModelResult, fit_topics, prepare_corpus, seed_eta, sweep_k, topics_over_time_dmr,
)
from corpus_tools.cli import main
from test_tokenize import reports_dir, seed_dir, seed_docs  # noqa: F401  (fixtures)


@pytest.mark.parametrize("method", ["lda", "nmf"])
def test_same_seed_same_topics(seed_dir, method):
    a = fit_topics(seed_dir, k=6, method=method, seed=13)
    b = fit_topics(seed_dir, k=6, method=method, seed=13)
    pd.testing.assert_frame_equal(a.topics, b.topics)
    pd.testing.assert_frame_equal(a.doc_topics, b.doc_topics)
    pd.testing.assert_frame_equal(a.coherence, b.coherence)
    assert list(a.topics.columns) == ["topic", "rank", "term", "weight"]
    assert list(a.doc_topics.columns) == ["unit_id", "topic", "weight"]
    sums = a.doc_topics.groupby("unit_id")["weight"].sum()
    assert np.allclose(sums, 1.0, atol=1e-3) and len(sums) == len(seed_docs(seed_dir))
    assert set(a.coherence.columns) == {"topic", "c_v", "c_npmi"} and a.coherence[["c_v", "c_npmi"]].notna().all().all()
    assert (a.topics.groupby("topic").size() == 10).all()
    # filler words are out of the vocabulary by default
    assert not {"进一步", "积极", "认真"} & set(a.vocab)


def test_different_seed_changes_lda(seed_dir):
    a = fit_topics(seed_dir, k=6, seed=1, coherence=False)
    b = fit_topics(seed_dir, k=6, seed=2, coherence=False)
    assert not a.doc_topics["weight"].equals(b.doc_topics["weight"])


def test_sweep_k_reports_both_coherences(seed_dir):
    t0 = time.perf_counter()
    df = sweep_k(seed_dir, ks=[4, 6, 8], seed=13)
    assert time.perf_counter() - t0 < 30
    assert df["k"].tolist() == [4, 6, 8]
    for col in ("c_v", "c_npmi", "diversity", "rank"):
        assert col in df.columns and df[col].notna().all()
    assert df["c_v"].between(0, 1).all() and df["c_npmi"].between(-1, 1).all()
    assert sorted(df["rank"]) == [1, 2, 3]
    assert df.loc[df["rank"] == 1, "c_npmi"].iloc[0] == df["c_npmi"].max()  # ranked by c_npmi


@pytest.mark.slow
def test_full_sweep_on_seed_corpus_under_a_minute(seed_dir):
    t0 = time.perf_counter()
    df = sweep_k(seed_dir, ks=range(4, 21, 2), seed=13)
    assert time.perf_counter() - t0 < 60
    assert len(df) == 9 and df[["c_v", "c_npmi"]].notna().all().all()


def test_save_load_roundtrip(seed_dir, tmp_path):
    res = fit_topics(seed_dir, k=5, seed=3)
    res.save(tmp_path / "m")
    back = TopicModelResult.load(tmp_path / "m")
    pd.testing.assert_frame_equal(res.topics, back.topics)
    pd.testing.assert_frame_equal(res.doc_topics, back.doc_topics)
    assert back.k == 5 and back.method == "lda" and back.model is not None
    assert np.allclose(back.topic_term, res.topic_term) and back.vocab == res.vocab
    assert not list((tmp_path / "m").glob("*.pkl"))
    nmf = fit_topics(seed_dir, k=4, method="nmf", seed=3, coherence=False)
    nmf.save(tmp_path / "n")
    assert TopicModelResult.load(tmp_path / "n").topics.equals(nmf.topics)


def test_over_time_by_year(reports_dir):
    res = fit_topics(reports_dir, k=5, seed=13, coherence=False)
    ot = res.over_time("year")
    years = pd.read_parquet(reports_dir / "documents.parquet")["year"]
    assert sorted(ot["year"].unique()) == sorted(years.unique())
    assert np.allclose(ot.groupby("year")["weight"].sum(), 1.0, atol=1e-3)
    assert (ot["n_units"] >= 1).all()


def test_seeded_lda_uses_theme_priors(seed_dir):
    prep = prepare_corpus(seed_dir)
    eta, labels = seed_eta(prep.dictionary, 10)
    assert eta.shape == (10, len(prep.dictionary)) and labels
    tid = prep.dictionary.token2id["安全生产"]
    safety = [t for t, th in labels.items() if th == "safety"][0]
    assert eta[safety, tid] > eta[(safety + 1) % 10, tid]
    res = fit_topics(k=10, seed=13, seeded=True, prepared=prep, seed_weight=5.0)
    assert res.params["seed_themes"][str(safety)] == "safety"
    top = res.topics[(res.topics["topic"] == safety)]["term"].tolist()
    assert {"安全生产", "安全", "安康杯", "劳动保护", "隐患", "事故"} & set(top)


def test_streaming_corpus_matches_in_memory(seed_dir):
    a = fit_topics(seed_dir, k=4, seed=5, coherence=False)
    b = fit_topics(seed_dir, k=4, seed=5, coherence=False, stream=True)
    assert b.params["stream"] is True
    pd.testing.assert_frame_equal(a.topics, b.topics)
    pd.testing.assert_frame_equal(a.doc_topics, b.doc_topics)


def test_sections_as_units(seed_dir):
    res = fit_topics(seed_dir, k=4, unit="section", seed=1, coherence=False)
    secs = pd.read_parquet(seed_dir / "sections.parquet")
    assert res.doc_topics["unit_id"].nunique() == (secs["level"] == 1).sum()


def test_dmr_topics_over_time(reports_dir):
    pytest.importorskip("tomotopy")
    a = topics_over_time_dmr(reports_dir, k=4, iterations=100, seed=7, coherence=False)
    b = topics_over_time_dmr(reports_dir, k=4, iterations=100, seed=7, coherence=False)
    pd.testing.assert_frame_equal(a.topics, b.topics)
    prior = a.extra["prior_by_group"]
    assert prior["year"].nunique() == pd.read_parquet(reports_dir / "documents.parquet")["year"].nunique()
    assert np.allclose(prior.groupby("year")["weight"].sum(), 1.0)


def test_cli_topics(seed_dir, capsys):
    assert main(["topics", str(seed_dir), "-k", "4", "--seed", "13", "--format", "csv"]) == 0
    out = capsys.readouterr().out
    df = pd.read_csv(pd.io.common.StringIO(out))
    assert {"topic", "terms", "c_v", "c_npmi"} <= set(df.columns) and len(df) == 4
    assert main(["topics", str(seed_dir), "-k", "4", "--method", "nmf"]) == 0
    assert "c_npmi" in capsys.readouterr().out
    assert main(["topics", str(seed_dir), "-k", "1"]) == 2
