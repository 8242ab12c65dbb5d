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


# ----------------------------------------------------------------- at scale: workers, window statistics

def _token_prep(texts):
    """A PreparedCorpus straight from token lists (no tokenizer)."""
    from gensim.corpora import Dictionary

    from corpus_tools.analysis.topics import PreparedCorpus

    d = Dictionary(texts)
    return PreparedCorpus(pd.DataFrame({"unit_id": [f"u{i}" for i in range(len(texts))]}), texts, d,
                          [d.doc2bow(t) for t in texts])


def test_workers_give_the_same_model_as_one_process(seed_dir):
    """The E step in worker processes repeats gensim's exactly, in unit order: same seed ->
    bit-identical topics and doc-topics whatever the number of workers, run after run."""
    prep = prepare_corpus(seed_dir)
    kw = {"k": 5, "seed": 7, "passes": 3, "iterations": 50, "chunksize": 7, "coherence": False, "prepared": prep}
    one = fit_topics(workers=1, **kw)                 # plain gensim LdaModel on the bow lists
    two = fit_topics(workers=2, **kw)
    two_again = fit_topics(workers=2, **kw)
    three = fit_topics(workers=3, **kw)
    for other in (two, two_again, three):
        assert np.array_equal(one.topic_term, other.topic_term)
        pd.testing.assert_frame_equal(one.topics, other.topics)
        pd.testing.assert_frame_equal(one.doc_topics, other.doc_topics)
    from gensim.models import LdaModel

    assert type(two.model) is LdaModel and two.params["workers"] == 2
    # alpha="auto" uses the E step's gammas: still identical
    a = fit_topics(workers=1, alpha="auto", **kw)
    b = fit_topics(workers=2, alpha="auto", **kw)
    assert np.array_equal(a.topic_term, b.topic_term) and np.array_equal(a.model.alpha, b.model.alpha)


def test_auto_lda_settings():
    """"auto": the historical settings below 2000 units, lighter online settings above."""
    from corpus_tools.analysis.topics import resolve_lda_settings

    small = resolve_lda_settings(500)
    assert small == {"passes": 10, "iterations": 200, "chunksize": 2000, "workers": 1}
    large = resolve_lda_settings(10000)
    assert large["passes"] == 2 and large["iterations"] == 50 and large["chunksize"] == 1000
    assert resolve_lda_settings(100000)["passes"] == 1 and resolve_lda_settings(2000)["passes"] == 10
    assert resolve_lda_settings(10000, passes=5, workers=1)["passes"] == 5


def _random_texts(seed, n_docs=60, vocab=25, max_len=260):
    rng = np.random.default_rng(seed)
    words = [f"w{i:02d}" for i in range(vocab)]
    texts = []
    for i in range(n_docs):
        n = int(rng.integers(0, max_len)) if i % 7 else int(rng.integers(0, 12))   # short and empty units too
        # a skewed distribution: frequent words repeat inside a window (gensim's edge-token quirk)
        texts.append([words[j] for j in rng.zipf(1.6, size=n) % vocab])
    return texts


@pytest.mark.parametrize("seed", [1, 2])
def test_window_statistics_equal_gensims_coherence_model(seed, monkeypatch):
    from corpus_tools.analysis.topics import _coherence, _coherence_gensim, window_stats

    texts = _random_texts(seed)
    prep = _token_prep(texts)
    prep.dictionary.filter_extremes(no_below=1, no_above=0.97)     # some tokens become id -1
    prep.bow = [prep.dictionary.doc2bow(t) for t in texts]
    vocab = [prep.dictionary[i] for i in range(len(prep.dictionary))]
    rng = np.random.default_rng(seed + 10)
    topics = [list(rng.choice(vocab, size=8, replace=False)) for _ in range(6)]
    for m in ("c_npmi", "c_v"):
        fast = _coherence(topics, prep, [m], topn=8)[m].to_numpy()
        ref = np.array(_coherence_gensim(topics, texts, prep.dictionary, m, 8))
        np.testing.assert_allclose(fast, ref, rtol=0, atol=1e-9, equal_nan=True)
    # the counts themselves, with a block size that splits long units
    from gensim.topic_coherence.text_analysis import WordOccurrenceAccumulator

    import corpus_tools.analysis.topics as topics_mod

    ids = sorted({prep.dictionary.token2id[w] for t in topics for w in t})
    ref = WordOccurrenceAccumulator(set(ids), prep.dictionary).accumulate(texts, 10)
    monkeypatch.setattr(topics_mod, "_MAX_BLOCK_CELLS", 50)
    st = window_stats(prep.arrays(), ids, 10)
    assert st.num_windows == ref.num_docs
    for i, a in enumerate(ids):
        assert st.occurrences[i] == ref[a]
        for j, b in enumerate(ids):
            assert st.co_occurrences[i, j] == ref[(a, b)]
    # on 2 processes, a few units per task: the same counts
    monkeypatch.setattr(topics_mod, "WINDOW_CHUNK_TOKENS", 50)
    assert prep.arrays().seq_ptr[-1] > 500
    st2 = window_stats(prep.arrays(), ids, 10, workers=2)
    assert st2.num_windows == st.num_windows
    assert (st2.occurrences == st.occurrences).all() and (st2.co_occurrences == st.co_occurrences).all()


def test_sweep_shares_statistics_and_matches_per_model_coherence(seed_dir):
    """sweep_k counts the windows once for the union of all models' top words; every model's
    per-topic c_v / c_npmi equals gensim's CoherenceModel run for that model alone."""
    from corpus_tools.analysis.topics import _coherence_gensim

    prep = prepare_corpus(seed_dir)
    df = sweep_k(ks=[3, 5], seed=13, prepared=prep, keep_results=True, passes=2)
    assert list(df.columns) == ["k", "c_v", "c_npmi", "c_v_min", "c_npmi_min", "diversity", "seconds", "rank"]
    t = df.attrs["timings"]
    assert set(t["coherence_stats"]) == {"window_110", "window_10"} and set(t["fits"]) == {3, 5}
    assert df.attrs["settings"]["passes"] == 2 and df.attrs["settings"]["workers"] == 1
    for k, res in df.attrs["results"].items():
        words = res.top_terms(10)["terms"].str.split(" ").tolist()
        for m in ("c_v", "c_npmi"):
            ref = _coherence_gensim(words, prep.texts, prep.dictionary, m, 10)
            np.testing.assert_allclose(res.coherence[m].to_numpy(), ref, rtol=0, atol=1e-9)
        assert len(res.doc_topics) == len(prep.units) * k
    # same table as fitting each K on its own
    one = fit_topics(k=5, seed=13, prepared=prep, passes=2)
    pd.testing.assert_frame_equal(one.topics, df.attrs["results"][5].topics)
    assert one.coherence_summary["c_npmi"] == pytest.approx(df.set_index("k").loc[5, "c_npmi"], abs=1e-12)


def test_streaming_prepare_builds_the_same_corpus(seed_dir):
    a = prepare_corpus(seed_dir)
    b = prepare_corpus(seed_dir, stream=True, batch_size=7)
    assert a.dictionary.token2id == b.dictionary.token2id
    assert a.dictionary.dfs == b.dictionary.dfs and a.dictionary.cfs == b.dictionary.cfs
    assert list(b.bow) == a.bow and len(b.bow) == len(a.bow)
    for x, y in zip((a.arrays().indptr, a.arrays().ids, a.arrays().counts, a.arrays().seq),
                    (b.arrays().indptr, b.arrays().ids, b.arrays().counts, b.arrays().seq)):
        assert np.array_equal(x, y)
    assert set(b.timings) == {"tokens", "dictionary_bow"}


@pytest.mark.parametrize("chunk_tokens", [1, 3, 7, 1 << 22])
def test_bag_of_words_built_in_chunks_equals_one_sort(chunk_tokens):
    """CorpusArrays.from_sequences sorts the (unit, term) keys chunk by chunk of whole units
    (bounded temporary memory); the result is the one sort of all keys, empty units included."""
    from corpus_tools.analysis.topics import CorpusArrays

    rng = np.random.default_rng(3)
    lengths = np.array([0, 5, 1, 0, 9, 4, 0, 12, 2])
    seq = rng.integers(-1, 6, size=int(lengths.sum())).astype(np.int32)  # -1: dropped by the dictionary
    got = CorpusArrays.from_sequences(seq, lengths, 6, chunk_tokens=chunk_tokens)
    unit_of = np.repeat(np.arange(len(lengths)), lengths)
    keep = seq >= 0
    keys, counts = np.unique(unit_of[keep] * 6 + seq[keep], return_counts=True)
    assert got.ids.tolist() == (keys % 6).tolist()
    assert got.counts.tolist() == counts.tolist()
    assert got.indptr.tolist() == [0, *np.cumsum(np.bincount(keys // 6, minlength=len(lengths))).tolist()]
    for d in range(len(lengths)):  # and each unit's bag of words is doc2bow's
        toks = seq[sum(lengths[:d]):sum(lengths[:d + 1])]
        want = sorted((int(t), int((toks == t).sum())) for t in set(toks.tolist()) if t >= 0)
        assert got.bow(d) == want


def test_dictionary_from_id_sequences_equals_gensims_own():
    """The streaming path counts gensim's Dictionary from the units' id sequences: the same
    token2id, dfs and cfs (item order included), num_docs, num_pos and num_nnz as
    doc2bow(allow_update=True) unit by unit, with empty units, repeats and several runs."""
    from gensim.corpora import Dictionary

    from corpus_tools.analysis.topics import _dictionary_from_ids

    rng = np.random.default_rng(4)
    vocab = ["工会", "职工", "会员", "a", "B", "竞赛", "帮扶", "送温暖", "1", "z", "工", "会"] + [f"w{i}" for i in range(40)]
    docs = [list(rng.choice(vocab, size=int(rng.integers(0, 30)))) for _ in range(200)] + [[]]
    ref = Dictionary()
    for d in docs:
        ref.doc2bow(d, allow_update=True)
    index: dict[str, int] = {}
    parts, ids_after = [], []
    for d in docs:
        parts.append(np.array([index.setdefault(w, len(index)) for w in d], dtype=np.int32))
        ids_after.append(len(index))
    for chunk in (7, 4_000_000):
        got = _dictionary_from_ids(list(index), parts, ids_after, chunk_tokens=chunk)
        assert list(got.token2id.items()) == list(ref.token2id.items())
        assert list(got.dfs.items()) == list(ref.dfs.items()) and list(got.cfs.items()) == list(ref.cfs.items())
        assert (got.num_docs, got.num_pos, got.num_nnz) == (ref.num_docs, ref.num_pos, ref.num_nnz)


def test_non_finite_model_weights_fail_loudly(seed_dir, monkeypatch):
    """A model whose weights hold a NaN raises instead of ranking terms by NaN."""
    from gensim.models import LdaModel

    real = LdaModel.get_topics

    def with_nan(self):
        out = real(self)
        out[0, 0] = np.nan
        return out

    monkeypatch.setattr(LdaModel, "get_topics", with_nan)
    with pytest.raises(FloatingPointError, match="1 of .* topic-term weights are not finite"):
        fit_topics(seed_dir, k=4, seed=13, coherence=False)


def test_spurious_invalid_flag_in_the_e_step_is_not_a_warning(seed_dir, monkeypatch):
    """numpy's "invalid value" flag raised inside gensim's E step (as OpenBLAS sometimes does
    with a finite result) is not reported: finite weights decide, and the model is the same."""
    import warnings

    from gensim.models import ldamodel

    want = fit_topics(seed_dir, k=4, seed=13, coherence=False)
    real_dot = ldamodel.np.dot

    def flagging_dot(*args, **kwargs):
        np.array([np.inf]) - np.array([np.inf])  # raises the flag, result unused
        return real_dot(*args, **kwargs)

    monkeypatch.setattr(ldamodel.np, "dot", flagging_dot)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        got = fit_topics(seed_dir, k=4, seed=13, coherence=False)
    pd.testing.assert_frame_equal(want.topics, got.topics)
    pd.testing.assert_frame_equal(want.doc_topics, got.doc_topics)
