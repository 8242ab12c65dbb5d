"""Topic models over documents or sections: gensim LDA (default) or scikit-learn NMF.

>>> from corpus_tools.analysis.topics import fit_topics, sweep_k
>>> res = fit_topics("build", k=10, seed=13)                 # doctest: +SKIP
>>> res.topics.head()          # topic, rank, term, weight
>>> res.coherence              # topic, c_v, c_npmi (per topic)  + res.coherence_summary
>>> res.over_time("year")      # mean topic weight per year
>>> sweep_k("build", ks=range(4, 21, 2))                     # doctest: +SKIP

Choosing K
----------
:func:`sweep_k` reports ``c_v`` *and* ``c_npmi`` (gensim's coherence measures, same values as
``CoherenceModel(processes=1)``) plus topic diversity, and ranks K by ``c_npmi`` (``rank``
column). Do not pick K on ``c_v`` alone: c_v rewards topics made of words that merely occur
in the same long windows, is known to correlate poorly with human judgements on some
corpora and is not monotone in any useful way; with a few dozen formulaic reports every
coherence score is noisy, so read the top words of the neighbouring K values too.

Determinism
-----------
The same data + parameters + ``seed`` give identical tables: gensim's ``LdaModel`` with
``random_state=seed``, sklearn NMF with ``init="nndsvda"`` and ``random_state=seed``,
deterministic dictionary construction, coherence counted in one process, and tomotopy
trained with ``workers=1``. ``workers=N`` (LDA) does not change that: the E step of each
chunk is split over N processes, each repeating gensim's per-unit inference with the initial
values drawn by the parent, and the parent adds the sufficient statistics up in unit order,
so the model is bit-for-bit the one ``LdaModel`` trains in one process (gensim's own
``LdaMulticore`` is not used because it is not reproducible: it hands the live model state to
its workers through an asynchronous queue, so two runs with the same ``random_state`` and
``workers`` — even ``workers=1`` — can differ: by up to 3e-4 in topic-term weights on 3000
units here).

At scale
--------
For a large corpus use ``stream=True`` (the token cache is read once into compact arrays,
:class:`CorpusArrays`) and :func:`sweep_k`, which shares everything that does not depend on
K: the dictionary and bag-of-words, the E-step worker processes, and the sliding-window
counts behind c_v / c_npmi (counted once, after all fits, for the union of all models' top
words, :func:`window_stats`). ``passes`` / ``iterations`` / ``chunksize`` / ``workers``
default to ``"auto"`` in :func:`sweep_k` (:func:`resolve_lda_settings`): the historical 10
passes x 200 iterations below 2000 units, and from 2000 units on online training with about
20,000 unit-visits (2 passes over 10,000 units, chunks of 1000), at most 50 iterations per
unit and one E-step process per core. Refit the K you choose with :func:`fit_topics`
(default 10 passes x 200 iterations, ``workers=`` to use the cores). See
``docs/scaling.md`` ("Topic models at scale") and ``benchmarks/topics_sweep.py``.

Tokens come from :func:`corpus_tools.tokenize.tokenize_documents` (in memory) or
:func:`corpus_tools.tokenize.iter_unit_tokens` (``stream=True``), cached under
``CORPUS_DIR/cache/tokens``, with ``stopwords="default+filler"`` and ``min_len=2`` unless
overridden.
"""
from __future__ import annotations

import functools
import itertools
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
           "StreamingTokens", "StreamingBowCorpus", "CsrBowCorpus", "CorpusArrays", "prepare_corpus",
           "PreparedCorpus", "resolve_lda_settings", "window_stats", "WindowStats"]

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
    the tokens on each pass, so LDA over a large corpus needs memory for one batch only.
    (``prepare_corpus(stream=True)`` now reads the tokens once into :class:`CorpusArrays` and
    gives a :class:`CsrBowCorpus` instead: re-reading the cache on every pass of every fit is
    what made streamed sweeps slow.)"""

    def __init__(self, tokens: Iterable[list[str]], dictionary: Any):
        self.tokens, self.dictionary = tokens, dictionary

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        for toks in self.tokens:
            yield self.dictionary.doc2bow(toks)

    def __len__(self) -> int:
        return self.dictionary.num_docs


@dataclass
class CorpusArrays:
    """The corpus as flat numpy arrays (no Python object per token or per term):

    * ``indptr``, ``ids``, ``counts``: the bag-of-words in CSR layout — unit ``d`` holds terms
      ``ids[indptr[d]:indptr[d+1]]`` (ascending, as ``Dictionary.doc2bow`` returns them) with
      their counts; 8 bytes per (unit, term) pair.
    * ``seq_ptr``, ``seq``: every unit's token sequence as dictionary ids (``-1`` for tokens
      dropped by the dictionary filter), 4 bytes per token — what the sliding-window coherence
      statistics are counted on, without re-reading the token cache.
    """

    indptr: np.ndarray
    ids: np.ndarray
    counts: np.ndarray
    seq_ptr: np.ndarray
    seq: np.ndarray

    @property
    def n_units(self) -> int:
        return len(self.indptr) - 1

    def doc_lengths(self) -> np.ndarray:
        c = np.concatenate([[0], np.cumsum(self.counts, dtype=np.int64)])
        return (c[self.indptr[1:]] - c[self.indptr[:-1]]).astype(np.float64)

    def bow(self, d: int) -> list[tuple[int, int]]:
        a, b = int(self.indptr[d]), int(self.indptr[d + 1])
        return list(zip(self.ids[a:b].tolist(), self.counts[a:b].tolist()))

    @property
    def nbytes(self) -> int:
        return sum(int(a.nbytes) for a in (self.indptr, self.ids, self.counts, self.seq_ptr, self.seq))

    @classmethod
    def from_sequences(cls, seq: np.ndarray, lengths: np.ndarray, n_terms: int,
                       chunk_tokens: int = 1 << 22) -> CorpusArrays:
        """Build the bag-of-words from the id sequences: a sort of the (unit, term) keys of
        ~``chunk_tokens`` tokens of whole units at a time (keys are unit-major, so the chunks'
        results simply follow each other), so the temporary arrays stay ~100 MB whatever the
        corpus size (one sort of all keys took ~35 bytes a token: 7 GB at 1 GB of text)."""
        lengths = np.asarray(lengths, dtype=np.int64)
        n = len(lengths)
        v = max(n_terms, 1)
        seq_ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(lengths, out=seq_ptr[1:])
        ids_parts, count_parts = [], []
        per_unit = np.zeros(n, dtype=np.int64)
        lo = 0
        while lo < n:
            # whole units, at least one, up to ~chunk_tokens tokens
            hi = max(lo + 1, int(np.searchsorted(seq_ptr, seq_ptr[lo] + chunk_tokens, side="right")) - 1)
            hi = min(hi, n)
            part = seq[seq_ptr[lo]:seq_ptr[hi]]
            keep = part >= 0
            unit_of = np.repeat(np.arange(hi - lo, dtype=np.int64), lengths[lo:hi])[keep]
            keys, counts = np.unique(unit_of * v + part[keep], return_counts=True)
            per_unit[lo:hi] = np.bincount(keys // v, minlength=hi - lo)
            ids_parts.append((keys % v).astype(np.int32))
            count_parts.append(counts.astype(np.int32))
            lo = hi
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(per_unit, out=indptr[1:])
        ids = np.concatenate(ids_parts) if ids_parts else np.zeros(0, dtype=np.int32)
        counts = np.concatenate(count_parts) if count_parts else np.zeros(0, dtype=np.int32)
        return cls(indptr, ids, counts, seq_ptr, np.ascontiguousarray(seq, dtype=np.int32))


class CsrBowCorpus:
    """A re-iterable gensim corpus over :class:`CorpusArrays` (what ``stream=True`` gives as
    ``bow``): each pass yields the same ``[(term_id, count), ...]`` lists ``doc2bow`` would,
    built from the flat arrays, so nothing but the arrays stays in memory."""

    def __init__(self, arrays: CorpusArrays):
        self.arrays = arrays

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        for d in range(self.arrays.n_units):
            yield self.arrays.bow(d)

    def __len__(self) -> int:
        return self.arrays.n_units


@dataclass
class PreparedCorpus:
    """Units metadata, tokens, dictionary and bag-of-words, shared by several fits (sweep_k)."""

    units: pd.DataFrame
    texts: Any            # list[list[str]] or StreamingTokens
    dictionary: Any       # gensim Dictionary
    bow: Any              # list of bow, or CsrBowCorpus (stream=True)
    streaming: bool = False
    arrays_: CorpusArrays | None = field(default=None, repr=False)
    timings: dict = field(default_factory=dict)

    def arrays(self) -> CorpusArrays:
        """The flat-array form of the corpus (built from ``texts`` on first use when the corpus
        was prepared in memory; already there with ``stream=True``)."""
        if self.arrays_ is None:
            t2i = self.dictionary.token2id
            lengths = np.fromiter((len(t) for t in self.texts), dtype=np.int64)
            seq = np.fromiter((t2i.get(w, -1) for toks in self.texts for w in toks), dtype=np.int32,
                              count=int(lengths.sum()))
            self.arrays_ = CorpusArrays.from_sequences(seq, lengths, len(self.dictionary))
        return self.arrays_


_PRUNE_AT = 2000000   # gensim Dictionary(documents)'s default prune_at


def _dictionary_from_ids(tokens: list[str], parts: list[np.ndarray], ids_after: list[int],
                         chunk_tokens: int = 4_000_000) -> Any:
    """The gensim ``Dictionary`` that ``doc2bow(doc, allow_update=True)`` over the documents
    builds (with no pruning), from their token-id sequences ``parts`` (ids numbered in order
    of first occurrence, ``tokens[id]`` the token; ``ids_after[d]``: ids made up to document
    ``d``): the same ``token2id`` (gensim numbers the new tokens of each document in sorted
    order), ``dfs`` / ``cfs`` (in the same key order too: first occurrence), ``num_docs``,
    ``num_pos`` and ``num_nnz``, counted with numpy over runs of documents instead of a
    Python loop over every token."""
    from gensim.corpora import Dictionary

    V = len(tokens)
    cfs = np.zeros(V, dtype=np.int64)
    dfs = np.zeros(V, dtype=np.int64)
    nnz = num_pos = 0
    lo = 0
    while lo < len(parts):
        hi, size = lo, 0
        while hi < len(parts) and (hi == lo or size + len(parts[hi]) <= chunk_tokens):
            size += len(parts[hi])
            hi += 1
        run = parts[lo:hi]
        seq = np.concatenate(run) if run else np.zeros(0, dtype=np.int32)
        doc = np.repeat(np.arange(len(run), dtype=np.int64), [len(p) for p in run])
        keys, counts = np.unique(doc * max(V, 1) + seq, return_counts=True)  # (document, id) pairs
        ids = keys % max(V, 1)
        cfs += np.bincount(ids, weights=counts, minlength=V).astype(np.int64)
        dfs += np.bincount(ids, minlength=V)
        nnz += len(keys)
        num_pos += size
        lo = hi
    first_doc = np.searchsorted(np.asarray(ids_after, dtype=np.int64), np.arange(V), side="right")
    order = sorted(range(V), key=lambda i: (first_doc[i], tokens[i]))
    gid = np.empty(V, dtype=np.int64)
    gid[order] = np.arange(V)
    dictionary = Dictionary()
    dictionary.token2id = {tokens[i]: g for g, i in enumerate(order)}
    keys_g = gid.tolist()
    dictionary.cfs = dict(zip(keys_g, cfs.tolist()))
    dictionary.dfs = dict(zip(keys_g, dfs.tolist()))
    dictionary.num_docs = len(parts)
    dictionary.num_pos = num_pos
    dictionary.num_nnz = nnz
    return dictionary


def _stream_dictionary(data: Any, unit: str, cache_dir: Any, batch_size: int, no_below: int, no_above: float,
                       keep_n: int | None, kw: dict) -> tuple[Any, CorpusArrays, dict]:
    """One pass over the token cache: the gensim Dictionary (built exactly as
    ``Dictionary(texts)`` would) and the units' token-id sequences; then the dictionary filter
    and the CSR bag-of-words from the sequences. Tokens are never held beyond one batch."""
    from gensim.corpora import Dictionary

    from ..tokenize import iter_unit_tokens

    index: dict[str, int] = {}          # our own token numbering (first occurrence order)
    parts: list[np.ndarray] = []
    lengths: list[int] = []
    ids_after: list[int] = []  # ids made up to each unit
    t_tokens = t_dict = 0.0
    it = iter(iter_unit_tokens(data, unit, batch_size=batch_size, cache_dir=cache_dir, **kw))
    while True:
        t0 = time.perf_counter()
        toks = next(it, None)
        t1 = time.perf_counter()
        t_tokens += t1 - t0
        if toks is None:
            break
        parts.append(np.fromiter((index[w] if w in index else index.setdefault(w, len(index)) for w in toks),
                                 dtype=np.int32, count=len(toks)))
        lengths.append(len(toks))
        ids_after.append(len(index))
        t_dict += time.perf_counter() - t1
    t0 = time.perf_counter()
    tokens = list(index)
    if len(tokens) <= _PRUNE_AT:  # gensim never prunes: its Dictionary counted from the id sequences
        dictionary = _dictionary_from_ids(tokens, parts, ids_after)
    else:  # gensim prunes while it builds: replay its own per-document updates
        dictionary = Dictionary()
        for part in parts:
            if len(dictionary) > _PRUNE_AT:
                dictionary.filter_extremes(no_below=0, no_above=1.0, keep_n=_PRUNE_AT)
            dictionary.doc2bow([tokens[i] for i in part.tolist()], allow_update=True)
    n = dictionary.num_docs
    if n >= 2:
        dictionary.filter_extremes(no_below=min(no_below, n), no_above=no_above, keep_n=keep_n)
    t2i = dictionary.token2id
    remap = np.array([t2i.get(w, -1) for w in index] + [-1], dtype=np.int32)
    seq = np.empty(sum(lengths), dtype=np.int32)  # remapped part by part: no second copy of all ids
    pos = 0
    for i, part in enumerate(parts):
        seq[pos:pos + len(part)] = remap[part]
        pos += len(part)
        parts[i] = None  # type: ignore[call-overload]
    del parts
    arrays = CorpusArrays.from_sequences(seq, np.asarray(lengths, dtype=np.int64), len(dictionary))
    return dictionary, arrays, {"tokens": t_tokens, "dictionary_bow": t_dict + time.perf_counter() - t0}


def prepare_corpus(data: Any, unit: str = "document", no_below: int = 2, no_above: float = 0.5,
                   keep_n: int | None = 100000, stream: bool = False, cache_dir: Any = "auto",
                   batch_size: int = 2000, **tokenize_kwargs: Any) -> PreparedCorpus:
    """Tokenise (cached), build and filter the gensim Dictionary (terms in fewer than
    ``no_below`` units or more than ``no_above`` of them are dropped) and the bow corpus.

    ``stream=False`` holds every unit's token list and bow list in memory. ``stream=True``
    reads the token cache once, ``batch_size`` units at a time, and keeps only the dictionary
    and the corpus as flat arrays (:class:`CorpusArrays`, ~4 bytes per token + 8 per distinct
    (unit, term) pair; ``bow`` is a :class:`CsrBowCorpus` over them): the same dictionary and
    bag-of-words as in memory, a few times less memory than the token lists and tens of times
    less than lists of bow tuples. ``prep.timings`` has the seconds spent reading tokens and
    building the dictionary / bow. ``tokenize_workers=`` is passed to the tokenizer as
    ``workers`` (in-memory path only).
    """
    from gensim.corpora import Dictionary

    units = as_units(data, unit)
    meta = units[[c for c in META_COLUMNS if c in units.columns]].reset_index(drop=True)
    del units
    kw = {**TOKEN_DEFAULTS, **tokenize_kwargs}
    if "tokenize_workers" in kw:
        kw["workers"] = kw.pop("tokenize_workers")
    if stream:
        kw.pop("workers", None)   # the streaming reader segments uncached units in-process
        dictionary, arrays, timings = _stream_dictionary(data, unit, cache_dir, batch_size, no_below, no_above,
                                                         keep_n, kw)
        texts: Any = StreamingTokens(data, unit, cache_dir=cache_dir, **kw)
        return PreparedCorpus(meta, texts, dictionary, CsrBowCorpus(arrays), True, arrays, timings)
    from ..tokenize import tokenize_documents

    t0 = time.perf_counter()
    texts = [list(t) for t in tokenize_documents(data, unit, cache_dir=cache_dir, **kw)["tokens"]]
    t1 = time.perf_counter()
    dictionary = Dictionary(texts)
    n = dictionary.num_docs
    if n >= 2:
        dictionary.filter_extremes(no_below=min(no_below, n), no_above=no_above, keep_n=keep_n)
    bow = [dictionary.doc2bow(t) for t in texts]
    return PreparedCorpus(meta, texts, dictionary, bow, False,
                          timings={"tokens": t1 - t0, "dictionary_bow": time.perf_counter() - t1})


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


# --------------------------------------------------------------------------- parallel E-step

# Arrays of the corpus in a worker process (set once per process by _estep_init).
_WORKER_ARRAYS: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None


def _estep_init(indptr: np.ndarray, ids: np.ndarray, cts: np.ndarray) -> None:
    global _WORKER_ARRAYS
    _WORKER_ARRAYS = (indptr, ids, cts)
    _blas_single_thread().__enter__()   # for the life of the worker: BLAS threads only compete


def _blas_single_thread() -> Any:
    """One BLAS thread: the products here are small, and with the cores already busy (worker
    processes, other load) OpenBLAS's own threads make them several times slower."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(1)


def _estep_rows(indptr: np.ndarray, ids: np.ndarray, cts: np.ndarray, lo: int, hi: int, gamma: np.ndarray,
                expElogtheta: np.ndarray, expElogbeta: np.ndarray, alpha: np.ndarray, iterations: int,
                gamma_threshold: float, collect_sstats: bool) -> tuple:
    """gensim ``LdaModel.inference`` for units ``lo..hi-1``, line for line (same operations on
    the same dtypes, so the same floating-point results), given the chunk's initial ``gamma``
    and ``expElogtheta`` rows. Returns the final gamma rows and — for the M step — each unit's
    final ``expElogthetad`` and ``cts / phinorm``, which the caller adds up in unit order."""
    from gensim.matutils import dirichlet_expectation, mean_absolute_difference

    gamma = np.array(gamma, copy=True)
    dtype = gamma.dtype
    epsilon = np.finfo(dtype).eps
    base = int(indptr[lo])
    ratios = np.empty(int(indptr[hi]) - base, dtype=dtype) if collect_sstats else None
    thetas = np.empty_like(gamma) if collect_sstats else None
    for j, d in enumerate(range(lo, hi)):
        a, b = int(indptr[d]), int(indptr[d + 1])
        idx, ctsd = ids[a:b], cts[a:b]
        gammad = gamma[j, :]
        expElogthetad = expElogtheta[j, :]
        expElogbetad = expElogbeta[:, idx]
        phinorm = np.dot(expElogthetad, expElogbetad) + epsilon
        for _ in range(iterations):
            lastgamma = gammad
            gammad = alpha + expElogthetad * np.dot(ctsd / phinorm, expElogbetad.T)
            Elogthetad = dirichlet_expectation(gammad)
            expElogthetad = np.exp(Elogthetad)
            phinorm = np.dot(expElogthetad, expElogbetad) + epsilon
            if mean_absolute_difference(gammad, lastgamma) < gamma_threshold:
                break
        gamma[j, :] = gammad
        if collect_sstats:
            thetas[j] = expElogthetad
            ratios[a - base:b - base] = ctsd / phinorm
    return gamma, thetas, ratios


def _estep_task(args: tuple) -> tuple:
    assert _WORKER_ARRAYS is not None, "worker not initialised"
    return _estep_rows(*_WORKER_ARRAYS, *args)


class _EStepEngine:
    """Runs LDA E steps over :class:`CorpusArrays` rows, in-process or split over ``workers``
    processes. Units are independent in the E step and the sufficient statistics are added up
    in unit order by the caller, so the result does not depend on ``workers`` (bit for bit)."""

    def __init__(self, arrays: CorpusArrays, workers: int = 1, dtype: Any = np.float32):
        self.indptr = arrays.indptr
        self.ids = arrays.ids
        self.cts = arrays.counts.astype(dtype)
        self.workers = max(1, int(workers))
        self._pool: Any = None

    def _get_pool(self) -> Any:
        if self._pool is None:
            from concurrent.futures import ProcessPoolExecutor

            # the platform's default start method, like corpus_tools.engine (fork on Linux: no
            # `if __name__ == "__main__"` needed in scripts; workers only run numpy loops, with
            # one BLAS thread, so Arrow / BLAS threads of the parent do not matter)
            self._pool = ProcessPoolExecutor(self.workers, initializer=_estep_init,
                                             initargs=(self.indptr, self.ids, self.cts))
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def inference(self, model: Any, lo: int, hi: int, collect_sstats: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """``model.inference(chunk, collect_sstats)`` for units ``lo..hi-1`` (same random draws,
        same result)."""
        from gensim.matutils import dirichlet_expectation

        D = hi - lo
        gamma = model.random_state.gamma(100., 1. / 100., (D, model.num_topics)).astype(model.dtype, copy=False)
        expElogtheta = np.exp(dirichlet_expectation(gamma))
        common = (model.expElogbeta, model.alpha, model.iterations, model.gamma_threshold, collect_sstats)
        if self.workers > 1 and D > 1:
            nblocks = min(D, self.workers * 2)
            edges = [lo + (D * i) // nblocks for i in range(nblocks + 1)]
            tasks = [(a, b, gamma[a - lo:b - lo], expElogtheta[a - lo:b - lo], *common)
                     for a, b in itertools.pairwise(edges) if b > a]
            parts = list(self._get_pool().map(_estep_task, tasks))
        else:
            parts = [_estep_rows(self.indptr, self.ids, self.cts, lo, hi, gamma, expElogtheta, *common)]
        gamma = np.concatenate([p[0] for p in parts]) if len(parts) > 1 else parts[0][0]
        if not collect_sstats:
            return gamma, None
        sstats = np.zeros_like(model.expElogbeta, dtype=model.dtype)
        indptr, ids = self.indptr, self.ids
        d = lo
        for _, thetas, ratios in parts:          # gensim's accumulation order: unit by unit
            base = int(indptr[d])
            for j in range(len(thetas)):
                a, b = int(indptr[d]), int(indptr[d + 1])
                sstats[:, ids[a:b]] += np.outer(thetas[j].T, ratios[a - base:b - base])
                d += 1
        sstats *= model.expElogbeta
        return gamma, sstats


class _RowNumbers:
    """Stands in for the corpus in ``LdaModel.update``: chunks of unit row numbers, which
    :class:`_ArrayLda` turns into E steps over the arrays."""

    def __init__(self, n: int):
        self.n = n

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.n))

    def __len__(self) -> int:
        return self.n


@functools.cache
def _array_lda_class() -> type:
    from gensim.models import LdaModel

    class _ArrayLda(LdaModel):
        """gensim's LdaModel (online VB, same updates) with the E step over row chunks done by
        an :class:`_EStepEngine`. After training the instance is turned back into a plain
        ``LdaModel`` (see :func:`_train_lda`)."""

        _engine: _EStepEngine

        def do_estep(self, chunk, state=None):  # gensim's signature
            if state is None:
                state = self.state
            lo, hi = int(chunk[0]), int(chunk[-1]) + 1
            assert hi - lo == len(chunk), "row chunks must be contiguous"
            gamma, sstats = self._engine.inference(self, lo, hi, collect_sstats=True)
            state.sstats += sstats
            state.numdocs += gamma.shape[0]
            return gamma

    return _ArrayLda


def _train_lda(prep: PreparedCorpus, k: int, seed: int, passes: int, iterations: int, alpha: Any, eta: Any,
               chunksize: int, engine: _EStepEngine | None) -> Any:
    """A gensim ``LdaModel``: trained on ``prep.bow`` by gensim itself (``engine=None``), or
    on the corpus arrays through ``engine`` (possibly several processes) — the same model either
    way, since the engine repeats gensim's E step exactly."""
    from gensim.models import LdaModel

    logging.getLogger("gensim").setLevel(logging.WARNING)
    kw = {"id2word": prep.dictionary, "num_topics": k, "random_state": seed, "passes": passes,
          "iterations": iterations, "alpha": alpha, "eta": eta, "chunksize": chunksize, "eval_every": None,
          "minimum_probability": 0.0}
    if engine is None:
        return LdaModel(corpus=prep.bow, **kw)
    model = _array_lda_class()(corpus=None, **kw)
    model._engine = engine
    try:
        model.update(_RowNumbers(prep.arrays().n_units))
    finally:
        del model._engine
        model.__class__ = LdaModel
    return model


def _lda_doc_topics(model: Any, prep: PreparedCorpus, engine: _EStepEngine | None, chunksize: int) -> np.ndarray:
    """Each unit's topic distribution, as ``model.get_document_topics(bow, minimum_probability=0)``
    gives it unit by unit (same random draws; weights below 1e-8 are 0)."""
    n, k = len(prep.units), model.num_topics
    doc_topic = np.zeros((n, k))
    if engine is None:
        for i, bow in enumerate(prep.bow):
            for t, w in model.get_document_topics(bow, minimum_probability=0.0):
                doc_topic[i, t] = w
        return doc_topic
    for lo in range(0, n, max(1, chunksize)):
        hi = min(n, lo + max(1, chunksize))
        gamma, _ = engine.inference(model, lo, hi, collect_sstats=False)
        for j in range(hi - lo):
            dist = gamma[j] / sum(gamma[j])
            for t in range(k):
                if dist[t] >= 1e-8:
                    doc_topic[lo + j, t] = dist[t]
    return doc_topic


# --------------------------------------------------------------------------- coherence

@dataclass
class WindowStats:
    """Sliding-window document frequencies of a set of terms, counted once and shared by every
    topic set that uses only those terms (what gensim's ``WordOccurrenceAccumulator`` counts
    for c_v / c_npmi, including its treatment of a term leaving the window: see
    :func:`window_stats`)."""

    window: int
    term_ids: np.ndarray        # dictionary ids, ascending
    occurrences: np.ndarray     # windows containing each term
    co_occurrences: np.ndarray  # windows containing both (diagonal = occurrences)
    num_windows: int
    seconds: float = 0.0

    def accumulator(self, dictionary: Any) -> Any:
        """A gensim ``WordOccurrenceAccumulator`` holding these counts (no pass over texts)."""
        from gensim.topic_coherence.text_analysis import WordOccurrenceAccumulator

        ids = [int(i) for i in self.term_ids]
        acc = WordOccurrenceAccumulator(set(ids), dictionary)
        perm = np.array([acc.id2contiguous[i] for i in ids], dtype=np.int64)
        occ = np.zeros(len(ids), dtype=np.uint32)
        occ[perm] = self.occurrences
        co = np.zeros((len(ids), len(ids)), dtype=np.uint32)
        co[np.ix_(perm, perm)] = self.co_occurrences
        acc._occurrences, acc._co_occurrences, acc._num_docs = occ, co, int(self.num_windows)
        return acc


_MAX_BLOCK_CELLS = 4_000_000


def window_stats(arrays: CorpusArrays, term_ids: Iterable[int], window: int, workers: int = 1) -> WindowStats:
    """Count, for the given terms, in how many sliding windows of ``window`` tokens each term
    and each pair of terms occur — the statistics behind c_v (window 110) and c_npmi (window
    10) — with numpy over the token-id sequences instead of gensim's per-window Python loop.

    Reproduces gensim's ``WordOccurrenceAccumulator`` exactly: a unit of ``n >= window``
    tokens has ``n - window + 1`` windows, a shorter (or empty) one counts as one window; the
    window's term set starts as the set of the first window and at each slide gensim *removes*
    the token leaving the window (even when it still occurs inside it) and then adds the
    token entering it. Per unit this is a step x term membership matrix M (the state carried
    forward from the last add / remove event); co-occurrences are ``M.T @ M``. Units are
    independent and the counts integers: ``workers`` processes count runs of whole units
    (:data:`WINDOW_CHUNK_TOKENS` tokens each) and the sums are the same for any number.
    """
    t0 = time.perf_counter()
    term_ids = np.unique(np.asarray(list(term_ids), dtype=np.int64))
    R = len(term_ids)
    n_terms = int(max(int(arrays.seq.max(initial=-1)), int(term_ids.max(initial=-1)))) + 1
    lookup = np.full(n_terms + 1, -1, dtype=np.int32)   # last cell: id -1 (filtered token)
    lookup[term_ids] = np.arange(R, dtype=np.int32)
    rel = lookup[arrays.seq]
    ptr = arrays.seq_ptr
    co = np.zeros((R, R), dtype=np.int64)
    num_windows = 0
    if workers > 1 and len(ptr) > 2 and R:
        from ..engine import run_tasks

        cuts = [0]  # runs of whole units, ~WINDOW_CHUNK_TOKENS tokens each
        while cuts[-1] < len(ptr) - 1:
            nxt = int(np.searchsorted(ptr, ptr[cuts[-1]] + WINDOW_CHUNK_TOKENS, side="right")) - 1
            cuts.append(min(len(ptr) - 1, max(cuts[-1] + 1, nxt)))
        tasks = ((rel[ptr[a]:ptr[b]], ptr[a:b + 1] - ptr[a], R, window) for a, b in itertools.pairwise(cuts))
        for part_co, part_windows in run_tasks(_window_task, tasks, workers=workers):
            co += part_co
            num_windows += part_windows
    else:
        with _blas_single_thread():
            co, num_windows = _window_counts(rel, ptr, R, window)
    return WindowStats(window, term_ids, np.diag(co).copy(), co, num_windows, time.perf_counter() - t0)


WINDOW_CHUNK_TOKENS = 2_000_000  # tokens of whole units per window-statistics task


def _window_task(args: tuple) -> tuple[np.ndarray, int]:
    with _blas_single_thread():
        return _window_counts(*args)


def _window_counts(rel: np.ndarray, ptr: np.ndarray, R: int, window: int) -> tuple[np.ndarray, int]:
    """(co-occurrence matrix, number of windows) of the units ``ptr`` delimits in ``rel``
    (token positions in the term list, -1 for other tokens): see :func:`window_stats`."""
    co = np.zeros((R, R), dtype=np.int64)
    num_windows = 0
    for d in range(len(ptr) - 1):
        a, b = int(ptr[d]), int(ptr[d + 1])
        n = b - a
        nw = n - window + 1 if n >= window else 1
        num_windows += nw
        x = rel[a:b]
        pos = np.flatnonzero(x >= 0)
        if not len(pos):
            continue
        cols, local = np.unique(x[pos], return_inverse=True)
        add_step = np.maximum(0, pos - window + 1)
        rm_step = pos + 1                     # the token at pos leaves the window at step pos+1
        block = max(1, _MAX_BLOCK_CELLS // len(cols))
        state = np.zeros(len(cols), dtype=np.int8)
        for s0 in range(0, nw, block):
            s1 = min(nw, s0 + block)
            ev = np.full((s1 - s0, len(cols)), -1, dtype=np.int8)
            ev[0] = state                     # carried in (0 = absent at the start)
            m = (rm_step >= s0) & (rm_step < s1)
            ev[rm_step[m] - s0, local[m]] = 0
            m = (add_step >= s0) & (add_step < s1)
            ev[add_step[m] - s0, local[m]] = 1  # an add after a remove at the same step wins
            last = np.where(ev >= 0, np.arange(s1 - s0)[:, None], 0)
            np.maximum.accumulate(last, axis=0, out=last)
            member = np.take_along_axis(ev, last, axis=0)
            state = member[-1].copy()
            mf = member.astype(np.float32)    # exact: counts per block < 2**24
            co[np.ix_(cols, cols)] += np.rint(mf.T @ mf).astype(np.int64)
    return co, num_windows


def _coherence_gensim(top_words: list[list[str]], texts: Any, dictionary: Any, measure: str, topn: int) -> list[float]:
    """gensim's own CoherenceModel (one pass over the texts per call): the reference."""
    from gensim.models.coherencemodel import CoherenceModel

    cm = CoherenceModel(topics=top_words, texts=texts, dictionary=dictionary, coherence=measure, topn=topn,
                        processes=1)
    return [float(x) for x in cm.get_coherence_per_topic()]


_FAST_MEASURES = {"c_v", "c_npmi", "c_uci"}


def _measure_window(measure: str) -> int:
    from gensim.models.coherencemodel import SLIDING_WINDOW_SIZES

    return int(SLIDING_WINDOW_SIZES[measure])


def _coherence(top_words: list[list[str]], prep: PreparedCorpus, measures: Sequence[str] = ("c_v", "c_npmi"),
               topn: int = 10, stats: dict[int, WindowStats] | None = None, workers: int = 1) -> pd.DataFrame:
    """Per-topic coherence: gensim's measures (``CoherenceModel`` segmentation, confirmation and
    aggregation) on window statistics counted by :func:`window_stats` — ``stats`` (window size
    -> :class:`WindowStats`) when shared by several models, else counted here for these words
    (on ``workers`` processes)."""
    from gensim.models.coherencemodel import CoherenceModel

    out = pd.DataFrame({"topic": list(range(len(top_words)))})
    words = [[w for w in ws[:topn]] for ws in top_words]
    if not words or any(len(w) < 2 for w in words):
        for m in measures:
            out[m] = np.nan
        return out
    stats = {} if stats is None else stats
    t2i = prep.dictionary.token2id
    ids = {t2i[w] for ws in words for w in ws if w in t2i}
    for m in measures:
        if m not in _FAST_MEASURES:
            out[m] = _coherence_gensim(words, prep.texts, prep.dictionary, m, topn)
            continue
        w = _measure_window(m)
        st = stats.get(w)
        if st is None or not ids <= set(st.term_ids.tolist()):
            st = stats[w] = window_stats(prep.arrays(), ids, w, workers)
        cm = CoherenceModel(topics=words, texts=[[]], dictionary=prep.dictionary, coherence=m, topn=topn,
                            processes=1)
        cm._accumulator = st.accumulator(prep.dictionary)
        out[m] = [float(x) for x in cm.get_coherence_per_topic()]
    return out


# --------------------------------------------------------------------------- fitting

def _tables(method: str, k: int, topic_term: np.ndarray, doc_topic: np.ndarray | None, prep: PreparedCorpus,
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
    if doc_topic is None:
        return topics, pd.DataFrame({"unit_id": [], "topic": [], "weight": []}), top_words
    unit_ids = prep.units["unit_id"].tolist()
    dt = pd.DataFrame(doc_topic, columns=list(range(k)))
    dt.insert(0, "unit_id", unit_ids)
    doc_topics = dt.melt(id_vars="unit_id", var_name="topic", value_name="weight")
    doc_topics["topic"] = doc_topics["topic"].astype(int)
    doc_topics = doc_topics.sort_values(["unit_id", "topic"], kind="stable")
    order = {u: i for i, u in enumerate(unit_ids)}
    doc_topics = doc_topics.iloc[np.argsort(doc_topics["unit_id"].map(order).to_numpy(), kind="stable")]
    return topics, doc_topics.reset_index(drop=True), top_words


LARGE_CORPUS = 2000   # units; from here on "auto" settings switch to the at-scale ones


def resolve_lda_settings(n_units: int, passes: Any = "auto", iterations: Any = "auto", chunksize: Any = "auto",
                         workers: Any = "auto") -> dict[str, int]:
    """The LDA settings ``"auto"`` stands for.

    Below :data:`LARGE_CORPUS` units: 10 passes, 200 iterations, chunks of 2000, 1 process
    (the historical settings; identical results). From :data:`LARGE_CORPUS` units: online
    training with chunks of 1000 units and about 20,000 unit-visits in all (``passes =
    clamp(ceil(20000 / n_units), 1, 10)``: 2 passes over 10,000 units = 20 updates), at most
    50 inner iterations per unit and E step (gensim's default; with long units the 1e-3
    convergence threshold is rarely reached, so the iteration cap is what the E step costs),
    and one E-step process per core (up to 4). ``workers`` never changes the result.
    """
    large = n_units >= LARGE_CORPUS

    def pick(value: Any, small: int, big: int) -> int:
        return (big if large else small) if value is None or value == "auto" else int(value)

    return {"passes": pick(passes, 10, min(10, max(1, -(-20000 // max(n_units, 1))))),
            "iterations": pick(iterations, 200, 50),
            "chunksize": pick(chunksize, 2000, 1000),
            "workers": max(1, pick(workers, 1, min(4, _usable_cpus())))}


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def _fit(prep: PreparedCorpus, k: int, method: str, seed: int, topn: int, passes: int, iterations: int, alpha: Any,
         seeded: Any, seed_weight: float, max_iter: int, chunksize: int, engine: _EStepEngine | None,
         with_doc_topics: bool, params: dict) -> tuple[TopicModelResult, list[list[str]]]:
    """Fit one model on a prepared corpus; coherence is left to the caller."""
    V = len(prep.dictionary)
    model: Any
    doc_topic: np.ndarray | None = None
    t0 = time.perf_counter()
    if method == "lda":
        eta: Any = None
        if seeded is not False and seeded is not None:
            eta, labels = seed_eta(prep.dictionary, k, None if seeded is True else seeded, seed_weight)
            params["seed_themes"] = {str(t): th for t, th in labels.items()}
        # OpenBLAS may raise the "invalid" flag in gensim's E-step dot products with no NaN in
        # the result; what matters is whether the weights are finite: _check_finite below
        with np.errstate(invalid="ignore"):
            model = _train_lda(prep, k, seed, passes, iterations, alpha, eta, chunksize, engine)
            topic_term = model.get_topics()
            params["seconds_train"] = round(time.perf_counter() - t0, 3)
            if with_doc_topics:
                t1 = time.perf_counter()
                doc_topic = _lda_doc_topics(model, prep, engine, chunksize)
                params["seconds_doc_topics"] = round(time.perf_counter() - t1, 3)
        params.update(passes=passes, iterations=iterations, chunksize=chunksize, alpha=str(alpha))
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
        params["seconds_train"] = round(time.perf_counter() - t0, 3)
        if seeded:
            log.warning("seeded topics are only supported for LDA; ignored for NMF")
    _check_finite(method, k, topic_term, doc_topic)
    topics, doc_topics, top_words = _tables(method, k, topic_term, doc_topic, prep, topn)
    cfs = prep.dictionary.cfs
    term_frequency = np.array([cfs.get(i, 0) for i in range(V)], dtype=np.float64)
    res = TopicModelResult(method=method, k=k, seed=seed, topics=topics, doc_topics=doc_topics,
                           coherence=pd.DataFrame({"topic": range(k)}), units=prep.units, topic_term=topic_term,
                           vocab=[prep.dictionary[i] for i in range(V)], term_frequency=term_frequency,
                           doc_lengths=prep.arrays().doc_lengths(), params=params, model=model,
                           dictionary=prep.dictionary)
    return res, top_words


def _check_finite(method: str, k: int, topic_term: np.ndarray, doc_topic: np.ndarray | None) -> None:
    """Fail loudly on NaN or infinite weights instead of ranking terms by them. (Some full
    test runs printed numpy's "invalid value encountered in dot" from gensim's E step, 0-7
    times a run and never alone, while every model stayed finite — this check was in place
    for three of them — and equal across worker counts: OpenBLAS can raise that flag without
    a NaN in the result, numpy#24067. So the flag is ignored while LDA trains and infers, and
    this check decides.)"""
    for name, arr in (("topic-term", topic_term), ("document-topic", doc_topic)):
        if arr is not None and not np.isfinite(arr).all():
            bad = int(arr.size - np.isfinite(arr).sum())
            raise FloatingPointError(f"{method} k={k}: {bad} of {arr.size} {name} weights are not finite "
                                     "(NaN or inf); the model is unusable")


def _measures(coherence: Sequence[str] | bool) -> list[str]:
    return list(coherence) if coherence and coherence is not True else (["c_v", "c_npmi"] if coherence else [])


def fit_topics(data: Any = None, k: int = 10, method: str = "lda", unit: str = "document", seed: int = 13,
               topn: int = 10, passes: Any = 10, iterations: Any = 200, alpha: Any = "symmetric",
               seeded: Any = False, seed_weight: float = 1.0, no_below: int = 2, no_above: float = 0.5,
               keep_n: int | None = 100000, stream: bool = False, coherence: Sequence[str] | bool = ("c_v", "c_npmi"),
               prepared: PreparedCorpus | None = None, max_iter: int = 500, workers: Any = 1,
               chunksize: Any = 2000, **tokenize_kwargs: Any) -> TopicModelResult:
    """Fit one topic model.

    ``method="lda"`` (gensim ``LdaModel``: ``passes``, ``iterations``, ``alpha``,
    ``chunksize``) or ``"nmf"`` (scikit-learn NMF on TF-IDF of the same vocabulary,
    ``max_iter``). ``unit="document"`` or ``"section"``. ``seeded=True`` (or a lexicon
    path/dict) seeds LDA topic i with theme i of the theme lexicon through gensim's ``eta``
    prior (see :func:`seed_eta`); the theme of each seeded topic is in
    ``params["seed_themes"]``. ``stream=True`` reads the token cache once into compact arrays
    (see :func:`prepare_corpus`). ``workers=N`` (LDA) runs the E step in N processes — the
    model is the same as with 1 (see the module docstring); ``passes`` / ``iterations`` /
    ``chunksize`` / ``workers`` also accept ``"auto"`` (:func:`resolve_lda_settings`).
    Remaining keyword arguments go to the tokenizer (e.g. ``stopwords=``, ``userdict=``,
    ``min_len=``; ``tokenize_workers=``). ``prepared=`` reuses a :func:`prepare_corpus`
    result (as :func:`sweep_k` does).
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
    s = resolve_lda_settings(len(prep.units), passes, iterations, chunksize, workers)
    params: dict[str, Any] = {"unit": unit, "topn": topn, "no_below": no_below, "no_above": no_above,
                              "n_units": len(prep.units), "n_terms": V, "stream": prep.streaming,
                              "tokenize": {**TOKEN_DEFAULTS, **tokenize_kwargs}, "workers": s["workers"]}
    engine = _EStepEngine(prep.arrays(), s["workers"]) if method == "lda" and s["workers"] > 1 else None
    try:
        res, top_words = _fit(prep, k, method, seed, topn, s["passes"], s["iterations"], alpha, seeded, seed_weight,
                              max_iter, s["chunksize"], engine, True, params)
    finally:
        if engine is not None:
            engine.close()
    measures = _measures(coherence)
    if measures:
        res.coherence = _coherence(top_words, prep, measures, topn, workers=s["workers"])
    params["seconds"] = round(time.perf_counter() - t0, 3)
    return res


def sweep_k(data: Any = None, ks: Iterable[int] = range(4, 21, 2), method: str = "lda", seed: int = 13,
            unit: str = "document", topn: int = 10, prepared: PreparedCorpus | None = None,
            keep_results: bool = False, passes: Any = "auto", iterations: Any = "auto", chunksize: Any = "auto",
            workers: Any = "auto", coherence: Sequence[str] | bool = ("c_v", "c_npmi"), **kwargs: Any) -> pd.DataFrame:
    """Fit one model per K and compare: columns ``k, c_v, c_npmi, c_v_min, c_npmi_min,
    diversity, seconds, rank``.

    ``diversity`` is the share of distinct terms among all topics' top ``topn`` terms (low =
    topics repeat each other). ``rank`` orders K by mean ``c_npmi`` (1 = best) — deliberately
    not by ``c_v``, which alone is an unreliable guide (see the module docstring); look at
    both, at diversity, and at the topics themselves.

    Shared by all K: tokenisation, the dictionary and bag-of-words (one
    :func:`prepare_corpus`), the E-step worker processes, and the coherence statistics —
    the sliding-window counts are made once, after all fits, for the union of all models' top
    words (:func:`window_stats`), and each model's c_v / c_npmi is computed from them with
    gensim's formulas (same values as one ``CoherenceModel`` per model). ``seconds`` is the
    fit of that K plus its coherence step from the shared counts (the counting itself is in
    ``df.attrs["timings"]["coherence_stats"]``); ``df.attrs["timings"]`` has all phases
    (prepare, each fit, window statistics) and ``df.attrs["settings"]`` the resolved
    ``passes`` / ``iterations`` / ``chunksize`` / ``workers`` (``"auto"``: see
    :func:`resolve_lda_settings` — the historical 10 passes x 200 iterations below 2000 units,
    lighter online settings and one process per core above). With ``keep_results=True`` the
    fitted results (with doc-topic tables and per-topic coherence) are in
    ``df.attrs["results"]`` (k -> :class:`TopicModelResult`); without it the doc-topic
    inference is skipped.
    """
    t_start = time.perf_counter()
    tok = {k: kwargs.pop(k) for k in list(kwargs) if k in _TOKENIZE_KEYS}
    no_below, no_above = kwargs.pop("no_below", 2), kwargs.pop("no_above", 0.5)
    keep_n, stream = kwargs.pop("keep_n", 100000), kwargs.pop("stream", False)
    if prepared is None:
        prep = prepare_corpus(data, unit, no_below, no_above, keep_n, stream, **tok)
        timings: dict[str, Any] = {"prepare": round(time.perf_counter() - t_start, 3),
                                   **{k: round(v, 3) for k, v in prep.timings.items()}}
    else:
        prep, timings = prepared, {"prepare": 0.0}
    if len(prep.dictionary) == 0:
        raise ValueError("empty vocabulary after filtering: too few units or too strict no_below/no_above")
    t0 = time.perf_counter()
    prep.arrays()
    timings["arrays"] = round(time.perf_counter() - t0, 3)
    s = resolve_lda_settings(len(prep.units), passes, iterations, chunksize, workers)
    kw = {"alpha": kwargs.pop("alpha", "symmetric"), "seeded": kwargs.pop("seeded", False),
          "seed_weight": kwargs.pop("seed_weight", 1.0), "max_iter": kwargs.pop("max_iter", 500)}
    if kwargs:
        raise TypeError(f"sweep_k() got unexpected keyword arguments: {', '.join(sorted(kwargs))}")
    measures = _measures(coherence)
    fits: list[tuple[int, TopicModelResult, list[list[str]], float]] = []
    timings["fits"] = {}
    engine = _EStepEngine(prep.arrays(), s["workers"]) if method == "lda" and s["workers"] > 1 else None
    try:
        for k in ks:
            t0 = time.perf_counter()
            params = {"unit": unit, "topn": topn, "n_units": len(prep.units), "n_terms": len(prep.dictionary),
                      "stream": prep.streaming, "workers": s["workers"]}
            res, top_words = _fit(prep, int(k), method, seed, topn, s["passes"], s["iterations"], kw["alpha"],
                                  kw["seeded"], kw["seed_weight"], kw["max_iter"], s["chunksize"], engine,
                                  keep_results, params)
            dt = time.perf_counter() - t0
            timings["fits"][int(k)] = round(dt, 3)
            fits.append((int(k), res, top_words, dt))
    finally:
        if engine is not None:
            engine.close()
    # one window-statistics pass per window size for the union of every model's top words
    t0 = time.perf_counter()
    stats: dict[int, WindowStats] = {}
    t2i = prep.dictionary.token2id
    union = {t2i[w] for _, _, tw, _ in fits for ws in tw for w in ws[:topn] if w in t2i}
    for m in measures:
        if m in _FAST_MEASURES and _measure_window(m) not in stats and union:
            stats[_measure_window(m)] = window_stats(prep.arrays(), union, _measure_window(m), s["workers"])
    timings["coherence_stats"] = {f"window_{w}": round(st.seconds, 3) for w, st in stats.items()}
    timings["coherence_terms"] = len(union)
    rows, results = [], {}
    timings["coherence"] = {}
    for k, res, top_words, dt in fits:
        t1 = time.perf_counter()
        coh = _coherence(top_words, prep, measures, topn, stats) if measures else pd.DataFrame({"topic": range(k)})
        res.coherence = coh
        dc = time.perf_counter() - t1
        timings["coherence"][k] = round(dc, 3)
        terms = res.topics[res.topics["rank"] <= topn]["term"]
        row = {"k": k, "diversity": float(terms.nunique() / max(len(terms), 1)), "seconds": round(dt + dc, 3)}
        for m in ("c_v", "c_npmi"):
            col = coh[m] if m in coh.columns else pd.Series([np.nan])
            row[m], row[f"{m}_min"] = float(col.mean()), float(col.min())
        rows.append(row)
        if keep_results:
            results[k] = res
    timings["coherence_total"] = round(time.perf_counter() - t0, 3)
    timings["total"] = round(time.perf_counter() - t_start, 3)
    out = pd.DataFrame(rows, columns=["k", "c_v", "c_npmi", "c_v_min", "c_npmi_min", "diversity", "seconds"])
    rank = out["c_npmi"].rank(ascending=False, method="min")
    out["rank"] = rank.astype(int) if rank.notna().all() else rank.astype("Int64")   # no c_npmi: <NA>
    out.attrs["method"] = method
    out.attrs["timings"] = timings
    out.attrs["settings"] = {**s, "measures": measures} if method == "lda" else {"measures": measures}
    if keep_results:
        out.attrs["results"] = results
    return out


_TOKENIZE_KEYS = {"stopwords", "userdict", "add_words", "hmm", "backend", "keep_punct", "keep_numbers",
                  "min_len", "tokenize_workers", "cache_dir", "batch_size"}


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
