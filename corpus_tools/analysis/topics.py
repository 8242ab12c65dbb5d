"""Topic models over documents or sections: gensim LDA (default) or scikit-learn NMF.

>>> from corpus_tools.analysis.topics import fit_topics, sweep_k
>>> res = fit_topics("build", k=10, seed=13)                 # doctest: +SKIP
>>> res.topics.head()          # topic, rank, term, weight
>>> res.coherence              # topic, c_v, c_npmi (per topic)  + res.coherence_summary
>>> res.over_time("year")      # mean topic weight per year
>>> sweep_k("build", ks=range(4, 21, 2))                     # doctest: +SKIP

Choosing K
----------
:func:`sweep_k` reports ``c_v`` *and* ``c_npmi`` (gensim ``CoherenceModel``, ``processes=1``
so results are deterministic) plus topic diversity, and ranks K by ``c_npmi`` (``rank``
column). Do not pick K on ``c_v`` alone: c_v rewards topics made of words that merely occur
in the same long windows, is known to correlate poorly with human judgements on some
corpora and is not monotone in any useful way; with a few dozen formulaic reports every
coherence score is noisy, so read the top words of the neighbouring K values too.

Determinism
-----------
The same data + parameters + ``seed`` give identical tables: gensim's single-process
``LdaModel`` with ``random_state=seed``, sklearn NMF with ``init="nndsvda"`` and
``random_state=seed``, deterministic dictionary construction, coherence with
``processes=1``, and tomotopy trained with ``workers=1``.

Tokens come from :func:`corpus_tools.tokenize.tokenize_documents` (cached under
``CORPUS_DIR/cache/tokens``) with ``stopwords="default+filler"`` and ``min_len=2`` unless
overridden. ``stream=True`` never holds the bag-of-words corpus in memory: it is streamed
from the token cache on every pass (:class:`StreamingBowCorpus`).
"""
from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np
import pandas as pd

from .units import as_units

__all__ = ["TopicModelResult", "fit_topics", "sweep_k", "topics_over_time_dmr", "seed_eta",
           "StreamingTokens", "StreamingBowCorpus", "prepare_corpus", "PreparedCorpus"]

log = logging.getLogger(__name__)

META_COLUMNS = ["unit_id", "doc_id", "page_id", "source", "year", "title", "section_id", "heading", "role"]
TOKEN_DEFAULTS = {"stopwords": "default+filler", "min_len": 2}


# --------------------------------------------------------------------------- corpus prep

class StreamingTokens:
    """Re-iterable token lists of the units, read batch by batch from the token cache."""

    def __init__(self, data: Any, unit: str = "document", batch_size: int = 500, **tokenize_kwargs: Any):
        self.data, self.unit, self.batch_size = data, unit, batch_size
        self.kwargs = {**TOKEN_DEFAULTS, **tokenize_kwargs}

    def __iter__(self) -> Iterator[list[str]]:
        from ..tokenize import iter_unit_tokens

        return iter_unit_tokens(self.data, self.unit, batch_size=self.batch_size, **self.kwargs)


class StreamingBowCorpus:
    """A gensim streaming corpus: yields ``dictionary.doc2bow(tokens)`` unit by unit, re-reading
    the tokens on each pass, so LDA over a large corpus needs memory for one batch only."""

    def __init__(self, tokens: Iterable[list[str]], dictionary: Any):
        self.tokens, self.dictionary = tokens, dictionary

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        for toks in self.tokens:
            yield self.dictionary.doc2bow(toks)

    def __len__(self) -> int:
        return self.dictionary.num_docs


@dataclass
class PreparedCorpus:
    """Units metadata, tokens, dictionary and bag-of-words, shared by several fits (sweep_k)."""

    units: pd.DataFrame
    texts: Any            # list[list[str]] or StreamingTokens
    dictionary: Any       # gensim Dictionary
    bow: Any              # list of bow or StreamingBowCorpus
    streaming: bool = False


def prepare_corpus(data: Any, unit: str = "document", no_below: int = 2, no_above: float = 0.5,
                   keep_n: int | None = 100000, stream: bool = False, cache_dir: Any = "auto",
                   **tokenize_kwargs: Any) -> PreparedCorpus:
    """Tokenise (cached), build and filter the gensim Dictionary (terms in fewer than
    ``no_below`` units or more than ``no_above`` of them are dropped) and the bow corpus."""
    from gensim.corpora import Dictionary

    units = as_units(data, unit)
    meta = units[[c for c in META_COLUMNS if c in units.columns]].reset_index(drop=True)
    kw = {**TOKEN_DEFAULTS, **tokenize_kwargs}
    if stream:
        texts: Any = StreamingTokens(data, unit, cache_dir=cache_dir, **kw)
    else:
        from ..tokenize import token_cache_dir, tokenize_texts

        texts = tokenize_texts(units["text"].tolist(), token_cache_dir(data, cache_dir), **kw)[0]
    dictionary = Dictionary(texts)
    n = dictionary.num_docs
    if n >= 2:
        dictionary.filter_extremes(no_below=min(no_below, n), no_above=no_above, keep_n=keep_n)
    bow = StreamingBowCorpus(texts, dictionary) if stream else [dictionary.doc2bow(t) for t in texts]
    return PreparedCorpus(meta, texts, dictionary, bow, stream)


# --------------------------------------------------------------------------- seeded priors

def seed_eta(dictionary: Any, k: int, lexicon: Any = None, weight: float = 1.0,
             base: float | None = None) -> tuple[np.ndarray, dict[int, str]]:
    """A (k x V) gensim ``eta`` prior seeding topic i with theme i of the lexicon.

    Seed terms present in the dictionary get ``weight`` in their theme's topic and a tenth of
    the base prior in every other topic; all other cells get ``base`` (default ``1/k``, gensim's
    symmetric default). Themes beyond ``k`` are ignored; topics beyond the number of themes stay
    unseeded. Returns ``(eta, {topic: theme_id})``.
    """
    from .themes import load_lexicon

    themes = load_lexicon(lexicon)
    base = 1.0 / k if base is None else base
    eta = np.full((k, len(dictionary)), base, dtype=np.float64)
    labels: dict[int, str] = {}
    token2id = dictionary.token2id
    for i, theme in enumerate(themes[:k]):
        ids = [token2id[t] for t in theme.terms if t in token2id]
        if not ids:
            continue
        labels[i] = theme.id
        eta[:, ids] = np.minimum(eta[:, ids], base / 10.0)
    for i, theme in enumerate(themes[:k]):
        ids = [token2id[t] for t in theme.terms if t in token2id]
        eta[i, ids] = weight
    return eta, labels


# --------------------------------------------------------------------------- result

@dataclass
class TopicModelResult:
    """A fitted topic model as tables.

    * ``topics``: topic, rank, term, weight (top ``topn`` terms per topic; weights are
      p(term | topic) for LDA and normalised NMF loadings)
    * ``doc_topics``: unit_id, topic, weight (each unit's topic distribution, rows sum to 1)
    * ``coherence``: topic, c_v, c_npmi (per topic); ``coherence_summary`` has the means
    * ``units``: unit metadata (unit_id, doc_id, year, title, …) for grouping
    * ``topic_term``: the full k x V topic-term matrix; ``vocab``; ``term_frequency``;
      ``doc_lengths`` (enough for pyLDAvis without the model)
    * ``model``: the gensim ``LdaModel`` / sklearn ``NMF`` / tomotopy model (not always
      available after :meth:`load`)
    """

    method: str
    k: int
    seed: int
    topics: pd.DataFrame
    doc_topics: pd.DataFrame
    coherence: pd.DataFrame
    units: pd.DataFrame
    topic_term: np.ndarray
    vocab: list[str]
    term_frequency: np.ndarray
    doc_lengths: np.ndarray
    params: dict = field(default_factory=dict)
    model: Any = field(default=None, repr=False)
    dictionary: Any = field(default=None, repr=False)
    extra: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    # ---- views
    @property
    def coherence_summary(self) -> dict[str, float]:
        c = self.coherence
        return {m: float(c[m].mean()) for m in ("c_v", "c_npmi") if m in c.columns and len(c)}

    def top_terms(self, n: int = 10, sep: str = " ") -> pd.DataFrame:
        """One row per topic: topic, label (seed theme if any), terms (top ``n`` joined),
        c_v, c_npmi."""
        t = self.topics[self.topics["rank"] <= n].sort_values(["topic", "rank"])
        out = t.groupby("topic")["term"].apply(lambda s: sep.join(s)).rename("terms").reset_index()
        labels = self.params.get("seed_themes") or {}
        out.insert(1, "label", out["topic"].map(lambda i: labels.get(str(i), labels.get(i, ""))))
        if len(self.coherence):
            out = out.merge(self.coherence, on="topic", how="left")
        return out

    def doc_topic_matrix(self) -> pd.DataFrame:
        """Wide unit x topic weights (index unit_id, in unit order)."""
        m = self.doc_topics.pivot(index="unit_id", columns="topic", values="weight").fillna(0.0)
        return m.reindex(self.units["unit_id"]).fillna(0.0)

    def over_time(self, by: str = "year", dropna: bool = True) -> pd.DataFrame:
        """Mean topic weight per group (default per year): columns ``<by>, topic, weight,
        n_units``. Each group's weights sum to 1 (mean of per-unit distributions)."""
        if by not in self.units.columns:
            raise ValueError(f"no column {by!r} in the units metadata ({', '.join(self.units.columns)})")
        m = self.doc_topic_matrix()
        groups = self.units.set_index("unit_id")[by].reindex(m.index)
        if dropna:
            keep = groups.notna().values
            m, groups = m[keep], groups[keep]
        if not len(m):
            return pd.DataFrame(columns=[by, "topic", "weight", "n_units"])
        mean = m.groupby(groups.values).mean()
        sizes = groups.value_counts()
        out = mean.stack().rename("weight").reset_index()
        out.columns = [by, "topic", "weight"]
        out["n_units"] = out[by].map(sizes).astype(int)
        return out.sort_values([by, "topic"]).reset_index(drop=True)

    # ---- persistence
    def save(self, path: str | os.PathLike) -> Path:
        """Write the result to a directory: tables as Parquet, arrays as ``.npy`` (no pickle),
        parameters as JSON, the gensim dictionary as text, and — for LDA — the gensim model with
        gensim's own ``save`` (``model.gensim*``). gensim's format uses pickle internally, so
        only :meth:`load` model files you wrote yourself."""
        from ..store import atomic_write_json, write_table

        d = Path(path)
        d.mkdir(parents=True, exist_ok=True)
        write_table(d / "topics.parquet", self.topics)
        write_table(d / "doc_topics.parquet", self.doc_topics)
        write_table(d / "coherence.parquet", self.coherence)
        units = self.units.copy()
        for c in units.columns:
            if units[c].dtype == object:
                units[c] = units[c].map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
        write_table(d / "units.parquet", units)
        for name, df in self.extra.items():
            write_table(d / f"extra_{name}.parquet", df)
        np.save(d / "topic_term.npy", np.asarray(self.topic_term, dtype=np.float64), allow_pickle=False)
        np.save(d / "term_frequency.npy", np.asarray(self.term_frequency, dtype=np.float64), allow_pickle=False)
        np.save(d / "doc_lengths.npy", np.asarray(self.doc_lengths, dtype=np.float64), allow_pickle=False)
        atomic_write_json(d / "vocab.json", list(self.vocab))
        atomic_write_json(d / "params.json", {"method": self.method, "k": self.k, "seed": self.seed,
                                              "params": _jsonable(self.params)})
        if self.dictionary is not None:
            self.dictionary.save_as_text(str(d / "dictionary.txt"))
        if self.method == "lda" and self.model is not None:
            self.model.save(str(d / "model.gensim"))
        return d

    @classmethod
    def load(cls, path: str | os.PathLike, load_model: bool = True) -> "TopicModelResult":
        """Read a directory written by :meth:`save`. ``load_model=True`` also loads the gensim
        LDA model (pickle-based: only for directories you wrote)."""
        d = Path(path)
        meta = json.loads((d / "params.json").read_text(encoding="utf-8"))
        extra = {p.stem[len("extra_"):]: pd.read_parquet(p) for p in sorted(d.glob("extra_*.parquet"))}
        dictionary = model = None
        if (d / "dictionary.txt").exists():
            from gensim.corpora import Dictionary

            dictionary = Dictionary.load_from_text(str(d / "dictionary.txt"))
        if load_model and meta["method"] == "lda" and (d / "model.gensim").exists():
            from gensim.models import LdaModel

            model = LdaModel.load(str(d / "model.gensim"))
        return cls(method=meta["method"], k=int(meta["k"]), seed=int(meta["seed"]),
                   topics=pd.read_parquet(d / "topics.parquet"), doc_topics=pd.read_parquet(d / "doc_topics.parquet"),
                   coherence=pd.read_parquet(d / "coherence.parquet"), units=pd.read_parquet(d / "units.parquet"),
                   topic_term=np.load(d / "topic_term.npy", allow_pickle=False),
                   vocab=json.loads((d / "vocab.json").read_text(encoding="utf-8")),
                   term_frequency=np.load(d / "term_frequency.npy", allow_pickle=False),
                   doc_lengths=np.load(d / "doc_lengths.npy", allow_pickle=False),
                   params=meta.get("params", {}), model=model, dictionary=dictionary, extra=extra)

    def to_pyldavis(self, **kwargs: Any) -> Any:
        """A pyLDAvis ``PreparedData`` (``pyLDAvis.display(...)`` in Jupyter). Topic ids are kept
        (``sort_topics=False``); note pyLDAvis numbers topics from 1. Needs ``pip install pyLDAvis``."""
        try:
            import pyLDAvis
        except ImportError as exc:  # pragma: no cover - optional
            raise ImportError("to_pyldavis() needs `pip install pyLDAvis`") from exc
        tt = np.asarray(self.topic_term, dtype=np.float64)
        tt = tt / tt.sum(axis=1, keepdims=True)
        dt = self.doc_topic_matrix().to_numpy(dtype=np.float64)
        dt = dt / np.clip(dt.sum(axis=1, keepdims=True), 1e-12, None)
        keep = np.asarray(self.doc_lengths) > 0
        kwargs.setdefault("sort_topics", False)
        return pyLDAvis.prepare(topic_term_dists=tt, doc_topic_dists=dt[keep], doc_lengths=np.asarray(self.doc_lengths)[keep],
                                vocab=list(self.vocab), term_frequency=np.asarray(self.term_frequency), **kwargs)

    def __repr__(self) -> str:
        s = self.coherence_summary
        return (f"TopicModelResult(method={self.method!r}, k={self.k}, seed={self.seed}, units={len(self.units)}, "
                f"c_v={s.get('c_v', float('nan')):.3f}, c_npmi={s.get('c_npmi', float('nan')):.3f})")


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, range)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    return str(obj)


# --------------------------------------------------------------------------- fitting

def _coherence(top_words: list[list[str]], prep: PreparedCorpus, measures: Sequence[str] = ("c_v", "c_npmi"),
               topn: int = 10) -> pd.DataFrame:
    from gensim.models.coherencemodel import CoherenceModel

    out = pd.DataFrame({"topic": list(range(len(top_words)))})
    words = [[w for w in ws[:topn]] for ws in top_words]
    if not words or any(len(w) < 2 for w in words):
        for m in measures:
            out[m] = np.nan
        return out
    for m in measures:
        cm = CoherenceModel(topics=words, texts=prep.texts, dictionary=prep.dictionary, coherence=m,
                            topn=topn, processes=1)
        out[m] = [float(x) for x in cm.get_coherence_per_topic()]
    return out


def _tables(method: str, k: int, topic_term: np.ndarray, doc_topic: np.ndarray, prep: PreparedCorpus,
            topn: int) -> tuple[pd.DataFrame, pd.DataFrame, list[list[str]]]:
    id2word = prep.dictionary
    rows, top_words = [], []
    for t in range(k):
        row = topic_term[t]
        order = np.lexsort((np.arange(len(row)), -row))[:topn]   # weight desc, id asc: stable
        top_words.append([id2word[int(i)] for i in order])
        for r, i in enumerate(order, start=1):
            rows.append({"topic": t, "rank": r, "term": id2word[int(i)], "weight": float(row[i])})
    topics = pd.DataFrame(rows, columns=["topic", "rank", "term", "weight"])
    unit_ids = prep.units["unit_id"].tolist()
    dt = pd.DataFrame(doc_topic, columns=list(range(k)))
    dt.insert(0, "unit_id", unit_ids)
    doc_topics = dt.melt(id_vars="unit_id", var_name="topic", value_name="weight")
    doc_topics["topic"] = doc_topics["topic"].astype(int)
    doc_topics = doc_topics.sort_values(["unit_id", "topic"], kind="stable")
    order = {u: i for i, u in enumerate(unit_ids)}
    doc_topics = doc_topics.iloc[np.argsort(doc_topics["unit_id"].map(order).to_numpy(), kind="stable")]
    return topics, doc_topics.reset_index(drop=True), top_words


def fit_topics(data: Any = None, k: int = 10, method: str = "lda", unit: str = "document", seed: int = 13,
               topn: int = 10, passes: int = 10, iterations: int = 200, alpha: Any = "symmetric",
               seeded: Any = False, seed_weight: float = 1.0, no_below: int = 2, no_above: float = 0.5,
               keep_n: int | None = 100000, stream: bool = False, coherence: Sequence[str] | bool = ("c_v", "c_npmi"),
               prepared: PreparedCorpus | None = None, max_iter: int = 500, **tokenize_kwargs: Any) -> TopicModelResult:
    """Fit one topic model.

    ``method="lda"`` (gensim ``LdaModel``: ``passes``, ``iterations``, ``alpha``) or ``"nmf"``
    (scikit-learn NMF on TF-IDF of the same vocabulary, ``max_iter``). ``unit="document"`` or
    ``"section"``. ``seeded=True`` (or a lexicon path/dict) seeds LDA topic i with theme i of the
    theme lexicon through gensim's ``eta`` prior (see :func:`seed_eta`); the theme of each
    seeded topic is in ``params["seed_themes"]``. ``stream=True`` streams the bag-of-words
    corpus from the token cache. Remaining keyword arguments go to the tokenizer (e.g.
    ``stopwords=``, ``userdict=``, ``min_len=``). ``prepared=`` reuses a
    :func:`prepare_corpus` result (as :func:`sweep_k` does).
    """
    if method not in ("lda", "nmf"):
        raise ValueError(f"method must be 'lda' or 'nmf', not {method!r}")
    if k < 1:
        raise ValueError("k must be >= 1")
    t0 = time.perf_counter()
    prep = prepared or prepare_corpus(data, unit, no_below, no_above, keep_n, stream, **tokenize_kwargs)
    V = len(prep.dictionary)
    if V == 0:
        raise ValueError("empty vocabulary after filtering: too few units or too strict no_below/no_above")
    params: dict[str, Any] = {"unit": unit, "topn": topn, "no_below": no_below, "no_above": no_above,
                              "n_units": len(prep.units), "n_terms": V, "stream": prep.streaming,
                              "tokenize": {**TOKEN_DEFAULTS, **tokenize_kwargs}}
    model: Any
    if method == "lda":
        from gensim.models import LdaModel

        eta: Any = None
        if seeded is not False and seeded is not None:
            eta, labels = seed_eta(prep.dictionary, k, None if seeded is True else seeded, seed_weight)
            params["seed_themes"] = {str(t): th for t, th in labels.items()}
        logging.getLogger("gensim").setLevel(logging.WARNING)
        model = LdaModel(corpus=prep.bow, id2word=prep.dictionary, num_topics=k, random_state=seed,
                         passes=passes, iterations=iterations, alpha=alpha, eta=eta,
                         chunksize=2000, eval_every=None, minimum_probability=0.0)
        topic_term = model.get_topics()
        doc_topic = np.zeros((len(prep.units), k))
        for i, bow in enumerate(prep.bow):
            for t, w in model.get_document_topics(bow, minimum_probability=0.0):
                doc_topic[i, t] = w
        params.update(passes=passes, iterations=iterations, alpha=str(alpha))
    else:
        from gensim.matutils import corpus2csc
        from sklearn.decomposition import NMF
        from sklearn.feature_extraction.text import TfidfTransformer

        counts = corpus2csc(prep.bow, num_terms=V, num_docs=len(prep.units)).T.tocsr()
        X = TfidfTransformer(sublinear_tf=True).fit_transform(counts)
        model = NMF(n_components=k, init="nndsvda", random_state=seed, max_iter=max_iter)
        W = model.fit_transform(X)
        H = model.components_
        topic_term = H / np.clip(H.sum(axis=1, keepdims=True), 1e-12, None)
        rs = W.sum(axis=1, keepdims=True)
        doc_topic = np.where(rs > 0, W / np.clip(rs, 1e-12, None), 1.0 / k)
        params.update(max_iter=max_iter, n_iter=int(model.n_iter_))
        if seeded:
            log.warning("seeded topics are only supported for LDA; ignored for NMF")
    topics, doc_topics, top_words = _tables(method, k, topic_term, doc_topic, prep, topn)
    measures = list(coherence) if coherence and coherence is not True else (["c_v", "c_npmi"] if coherence else [])
    coh = _coherence(top_words, prep, measures, topn) if measures else pd.DataFrame({"topic": range(k)})
    cfs = prep.dictionary.cfs
    term_frequency = np.array([cfs.get(i, 0) for i in range(V)], dtype=np.float64)
    doc_lengths = np.array([sum(c for _, c in b) for b in prep.bow], dtype=np.float64)
    params["seconds"] = round(time.perf_counter() - t0, 3)
    return TopicModelResult(method=method, k=k, seed=seed, topics=topics, doc_topics=doc_topics, coherence=coh,
                            units=prep.units, topic_term=topic_term, vocab=[prep.dictionary[i] for i in range(V)],
                            term_frequency=term_frequency, doc_lengths=doc_lengths, params=params, model=model,
                            dictionary=prep.dictionary)


def sweep_k(data: Any = None, ks: Iterable[int] = range(4, 21, 2), method: str = "lda", seed: int = 13,
            unit: str = "document", topn: int = 10, prepared: PreparedCorpus | None = None,
            keep_results: bool = False, **kwargs: Any) -> pd.DataFrame:
    """Fit one model per K and compare: columns ``k, c_v, c_npmi, c_v_min, c_npmi_min,
    diversity, seconds, rank``.

    ``diversity`` is the share of distinct terms among all topics' top ``topn`` terms (low =
    topics repeat each other). ``rank`` orders K by mean ``c_npmi`` (1 = best) — deliberately
    not by ``c_v``, which alone is an unreliable guide (see the module docstring); look at
    both, at diversity, and at the topics themselves. Tokenisation and the dictionary are built
    once for all K. With ``keep_results=True`` the fitted results are in
    ``df.attrs["results"]`` (k -> :class:`TopicModelResult`).
    """
    prep = prepared or prepare_corpus(
        data, unit, kwargs.pop("no_below", 2), kwargs.pop("no_above", 0.5), kwargs.pop("keep_n", 100000),
        kwargs.pop("stream", False), **{k: kwargs.pop(k) for k in list(kwargs) if k in _TOKENIZE_KEYS})
    rows, results = [], {}
    for k in ks:
        t0 = time.perf_counter()
        res = fit_topics(k=int(k), method=method, unit=unit, seed=seed, topn=topn, prepared=prep, **kwargs)
        terms = res.topics[res.topics["rank"] <= topn]["term"]
        rows.append({"k": int(k), "c_v": float(res.coherence["c_v"].mean()), "c_npmi": float(res.coherence["c_npmi"].mean()),
                     "c_v_min": float(res.coherence["c_v"].min()), "c_npmi_min": float(res.coherence["c_npmi"].min()),
                     "diversity": float(terms.nunique() / max(len(terms), 1)),
                     "seconds": round(time.perf_counter() - t0, 3)})
        if keep_results:
            results[int(k)] = res
    out = pd.DataFrame(rows, columns=["k", "c_v", "c_npmi", "c_v_min", "c_npmi_min", "diversity", "seconds"])
    out["rank"] = out["c_npmi"].rank(ascending=False, method="min").astype(int)
    out.attrs["method"] = method
    if keep_results:
        out.attrs["results"] = results
    return out


_TOKENIZE_KEYS = {"stopwords", "userdict", "add_words", "hmm", "backend", "keep_punct", "keep_numbers",
                  "min_len", "workers", "cache_dir"}


# --------------------------------------------------------------------------- tomotopy DMR

def topics_over_time_dmr(data: Any, k: int = 10, by: str = "year", unit: str = "document", seed: int = 13,
                         iterations: int = 500, topn: int = 10, min_cf: int = 2, rm_top: int = 0,
                         coherence: bool = True, **tokenize_kwargs: Any) -> TopicModelResult:
    """Topics conditioned on a document variable (default the year) with tomotopy's
    Dirichlet-multinomial regression model (``DMRModel``; optional dependency ``tomotopy``).

    Units without a value for ``by`` are left out. Returns a :class:`TopicModelResult`
    (``method="dmr"``) whose ``extra["prior_by_group"]`` holds the model's topic prior per
    group (``<by>, topic, weight``; weights sum to 1 per group) — the year-conditioned topic
    prevalence — next to the empirical ``over_time(by)``. Trained with ``workers=1`` so a fixed
    ``seed`` gives identical results.
    """
    try:
        import tomotopy as tp
    except ImportError as exc:  # pragma: no cover - optional
        raise ImportError("topics_over_time_dmr needs `pip install tomotopy`") from exc
    prep_all = prepare_corpus(data, unit, no_below=1, no_above=1.0, keep_n=None, **tokenize_kwargs)
    units = prep_all.units
    if by not in units.columns:
        raise ValueError(f"no column {by!r} in the units")
    keep = units[by].notna().to_numpy()
    if not keep.any():
        raise ValueError(f"no unit has a value for {by!r}")
    texts = [t for t, kp in zip(prep_all.texts, keep) if kp]
    meta = units[keep].reset_index(drop=True)
    groups = [str(int(v)) if isinstance(v, (int, float, np.integer, np.floating)) and float(v).is_integer() else str(v)
              for v in meta[by]]
    mdl = tp.DMRModel(k=k, seed=seed, min_cf=min_cf, rm_top=rm_top)
    doc_index = []
    for i, (toks, g) in enumerate(zip(texts, groups)):
        if toks:
            mdl.add_doc(toks, metadata=g)
            doc_index.append(i)
    mdl.train(0, workers=1)
    for _ in range(0, iterations, 50):
        mdl.train(50, workers=1)
    vocab = list(mdl.used_vocabs)
    topic_term = np.array([mdl.get_topic_word_dist(t) for t in range(k)])
    doc_topic = np.full((len(meta), k), 1.0 / k)
    for j, doc in zip(doc_index, mdl.docs):
        dist = np.asarray(doc.get_topic_dist(), dtype=float)
        doc_topic[j] = dist / dist.sum() if dist.sum() > 0 else 1.0 / k

    from gensim.corpora import Dictionary

    # _tables maps ids through prep.dictionary[i]: a plain list of tomotopy's vocabulary works
    topics, doc_topics, top_words = _tables("dmr", k, topic_term, doc_topic,
                                            PreparedCorpus(meta, texts, vocab, None), topn)
    prep = PreparedCorpus(meta, texts, Dictionary(texts), None, False)
    coh = _coherence(top_words, prep, ("c_v", "c_npmi"), topn) if coherence else pd.DataFrame({"topic": range(k)})
    prior_rows = []
    for g in sorted(set(groups), key=lambda s: (len(s), s)):
        p = np.asarray(mdl.get_topic_prior(g), dtype=float)
        p = p / p.sum()
        value = meta[by][[x == g for x in groups]].iloc[0]
        prior_rows += [{by: value, "topic": t, "weight": float(p[t])} for t in range(k)]
    term_frequency = np.asarray(mdl.used_vocab_freq, dtype=np.float64)
    doc_lengths = np.array([len(t) for t in texts], dtype=np.float64)
    return TopicModelResult(method="dmr", k=k, seed=seed, topics=topics, doc_topics=doc_topics, coherence=coh,
                            units=meta, topic_term=topic_term, vocab=vocab, term_frequency=term_frequency,
                            doc_lengths=doc_lengths,
                            params={"by": by, "iterations": iterations, "unit": unit, "min_cf": min_cf,
                                    "ll_per_word": float(mdl.ll_per_word)},
                            model=mdl, dictionary=None,
                            extra={"prior_by_group": pd.DataFrame(prior_rows, columns=[by, "topic", "weight"])})
