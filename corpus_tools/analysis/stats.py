"""Descriptive statistics per document and per corpus.

>>> from corpus_tools.analysis.stats import document_stats, corpus_stats
>>> document_stats("build").head()                     # doctest: +SKIP
>>> corpus_stats("build", by="genre")                   # doctest: +SKIP

Per unit: characters, paragraphs, sentences, tokens and distinct tokens (jieba, via the token
cache), numbered sections per level and outline depth (from the sections table when the
corpus has one), year, genre detected from the title (the page title when the essay title has
no genre cue), organisation type detected from the text, and template placeholders (``__``, ``xx``, ``某某``). Cue words for genre and
organisation type live in ``resources/genres.toml``.
"""
from __future__ import annotations

import os
import re
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

import pandas as pd

from .units import as_units

__all__ = ["detect_genre", "detect_org_type", "count_sentences", "count_placeholders",
           "document_stats", "corpus_stats", "load_cues"]

_SENT_END = re.compile(r"(?<=[。！？!?])|\n")
_WORD = re.compile(r"[\w\u4e00-\u9fff]")
PLACEHOLDER_RE = re.compile(r"_{2,}|＿{2,}|(?<![A-Za-z])[xX×]{2,}(?![A-Za-z])|某某|ＸＸ")


@lru_cache(maxsize=8)
def _load_cues_cached(path: str) -> dict:
    with open(path, "rb") as fh:
        return tomllib.load(fh)


def load_cues(path: str | os.PathLike | None = None) -> dict:
    """The genre and organisation-type cues (``resources/genres.toml`` unless ``path``)."""
    if path is None:
        from ..tokenize import resource_path

        path = resource_path("genres.toml")
    return _load_cues_cached(str(Path(path)))


def detect_genre(title: Any, cues: dict | None = None) -> str:
    """Genre label (工作总结, 工作计划, 心得体会, 交流材料, 述职报告, 讲话, 工作报告, 论述) or
    ``"other"``: the genre whose cue ends last in the title wins (the genre noun closes a
    Chinese title); ties go to the longer cue."""
    if not isinstance(title, str) or not title:
        return "other"
    cues = cues or load_cues()
    best: tuple[int, int, int] | None = None
    label = "other"
    for order, g in enumerate(cues.get("genre", [])):
        for cue in g.get("cues", []):
            pos = title.rfind(cue)
            if pos < 0:
                continue
            key = (pos + len(cue), len(cue), -order)
            if best is None or key > best:
                best, label = key, g.get("label_zh") or g["id"]
    return label


def detect_org_type(text: Any, cues: dict | None = None, title: str | None = None) -> str:
    """Organisation type (``school``, ``enterprise``, ``hospital``, ``government``) from cue
    counts in the text, or ``"other"`` when no type reaches ``min_hits`` cue hits."""
    if not isinstance(text, str):
        text = ""
    if title:
        text = title + "\n" + text
    cues = cues or load_cues()
    org = cues.get("org", {})
    min_hits = int(org.get("min_hits", 2))
    best, best_n = "other", 0
    for t in org.get("type", []):
        n = sum(text.count(c) for c in t.get("cues", []))
        if n > best_n:
            best, best_n = t["id"], n
    return best if best_n >= min_hits else "other"


def count_sentences(text: Any) -> int:
    """Sentences = segments ending in 。！？!? or a line break that contain a word character."""
    if not isinstance(text, str):
        return 0
    return sum(1 for s in _SENT_END.split(text) if _WORD.search(s))


def count_placeholders(text: Any) -> int:
    """Template placeholders left in scraped model essays: ``__``, ``xx``/``XX``, ``某某``."""
    return len(PLACEHOLDER_RE.findall(text)) if isinstance(text, str) else 0


def _sections_for(data: Any, sections: pd.DataFrame | None) -> pd.DataFrame | None:
    if sections is not None:
        return sections
    from ..store import Corpus, load_corpus

    corpus = data if isinstance(data, Corpus) else load_corpus(data) if isinstance(data, (str, os.PathLike)) else None
    if corpus is None:
        return None
    try:
        return corpus.sections
    except FileNotFoundError:
        return None


def _page_titles(data: Any) -> dict:
    from ..store import Corpus, load_corpus

    try:
        corpus = data if isinstance(data, Corpus) else load_corpus(data) if isinstance(data, (str, os.PathLike)) else None
        if corpus is None:
            return {}
        pages = corpus.pages
    except (FileNotFoundError, OSError):
        return {}
    if "title" not in pages.columns:
        return {}
    return {p: t for p, t in zip(pages["page_id"], pages["title"]) if isinstance(t, str)}


def _unit_tokens(data: Any, units: pd.DataFrame, kwargs: dict, batch_size: int = 2000) -> Iterator[list[str]]:
    """Tokens of each unit, in order, read from (or written to) the token cache
    ``batch_size`` units at a time: memory holds one batch of token lists, not the corpus's
    (all of them took ~1.5 GB at 100 MB of text)."""
    from ..tokenize import token_cache_dir, tokenize_texts

    kw = {"stopwords": None, **kwargs}
    cache = token_cache_dir(data, kw.pop("cache_dir", "auto"))
    texts = units["text"].tolist()
    for start in range(0, len(texts), batch_size):
        yield from tokenize_texts(texts[start:start + batch_size], cache, **kw)[0]


def document_stats(data: Any, sections: pd.DataFrame | None = None, tokens: bool = True,
                   unit: str = "document", max_level: int = 4, **tokenize_kwargs: Any) -> pd.DataFrame:
    """One row per unit: ``unit_id, doc_id, page_id, title, year, genre, org_type, n_chars,
    n_paragraphs, n_sentences, n_tokens, n_types, n_placeholders`` and, when a sections table
    is available (a corpus with ``sections.parquet`` or ``sections=``), ``n_sections``,
    ``n_sections_l1 … n_sections_l<max_level>`` and ``section_depth`` (deepest level, 0 = no
    numbered outline).

    ``tokens=False`` skips segmentation; otherwise tokens are counted without stopword removal
    (punctuation, numbers and placeholders excluded) and cached like every tokenisation, and
    ``attrs["n_types_all"]`` holds the vocabulary size of all units (for :func:`corpus_stats`).
    """
    units = as_units(data, unit)
    texts = units["text"].fillna("").astype(str)
    cues = load_cues()
    out = pd.DataFrame({
        "unit_id": units["unit_id"].values,
        "doc_id": units["doc_id"].values,
        "page_id": units["page_id"].values,
        "title": units["title"].values,
        "year": pd.array(pd.to_numeric(units["year"], errors="coerce"), dtype="Int64"),
        "genre": [detect_genre(t, cues) for t in units["title"]],
        "org_type": [detect_org_type(x, cues, t if isinstance(t, str) else None)
                     for x, t in zip(texts, units["title"])],
        "n_chars": texts.str.len().values,
        "n_paragraphs": [sum(1 for p in x.split("\n") if p.strip()) for x in texts],
        "n_sentences": [count_sentences(x) for x in texts],
    })
    page_titles = _page_titles(data)
    if page_titles:  # essays titled only by their slogan: fall back to the page's title
        other = out["genre"] == "other"
        out.loc[other, "genre"] = [detect_genre(page_titles.get(p), cues) for p in out.loc[other, "page_id"]]
    vocabulary: set[str] = set()
    if tokens:
        n_tokens, n_types = [], []
        for t in _unit_tokens(data, units, tokenize_kwargs):
            types = set(t)
            n_tokens.append(len(t))
            n_types.append(len(types))
            vocabulary |= types
        out["n_tokens"] = n_tokens
        out["n_types"] = n_types
    if "n_placeholders" in units.columns and unit == "document":
        out["n_placeholders"] = pd.to_numeric(units["n_placeholders"], errors="coerce").fillna(0).astype(int).values
    else:
        out["n_placeholders"] = [count_placeholders(x) for x in texts]

    secs = _sections_for(data, sections) if unit == "document" else None
    if secs is not None and len(secs) and {"doc_id", "level"} <= set(secs.columns):
        lv = secs.groupby(["doc_id", "level"]).size().unstack(fill_value=0)
        out["n_sections"] = out["doc_id"].map(secs.groupby("doc_id").size()).fillna(0).astype(int)
        for level in range(1, max_level + 1):
            col = lv[level] if level in lv.columns else pd.Series(dtype=int)
            out[f"n_sections_l{level}"] = out["doc_id"].map(col).fillna(0).astype(int)
        out["section_depth"] = out["doc_id"].map(secs.groupby("doc_id")["level"].max()).fillna(0).astype(int)
    if tokens:  # for corpus_stats(doc_stats=out): the whole corpus's vocabulary without a second token pass
        out.attrs["n_types_all"] = len(vocabulary)
    return out


def corpus_stats(data: Any, by: str | None = None, sections: pd.DataFrame | None = None,
                 tokens: bool = True, unit: str = "document", doc_stats: pd.DataFrame | None = None,
                 **tokenize_kwargs: Any) -> pd.DataFrame:
    """Corpus totals, one row (``by=None``) or one row per group (``by="genre"``, ``"year"``,
    ``"org_type"``, ``"page_id"`` …): n_units, n_pages, chars (total/mean/median/min/max),
    sentences, tokens, vocabulary size, sections, mean outline depth, placeholders, year range,
    share of units with a year. Pass ``doc_stats=`` to reuse a :func:`document_stats` frame
    of the same data and tokenisation; for the whole corpus (``by=None``) its
    ``attrs["n_types_all"]`` (the vocabulary size, counted in the same token pass) is used
    too, so the tokens are not read again."""
    ds = doc_stats if doc_stats is not None else document_stats(
        data, sections=sections, tokens=tokens, unit=unit, **tokenize_kwargs)
    if by and by not in ds.columns:
        raise ValueError(f"cannot group by {by!r}; columns: {', '.join(ds.columns)}")
    vocab: dict[Any, int] | None = None
    if tokens and "n_tokens" in ds.columns and not by and "n_types_all" in ds.attrs:
        vocab = {"all": int(ds.attrs["n_types_all"])}  # counted by document_stats in its token pass
    elif tokens and "n_tokens" in ds.columns:
        units = as_units(data, unit)
        groups = ds.groupby(by, dropna=False)["unit_id"] if by else [("all", ds["unit_id"])]
        group_of: dict[Any, Any] = {}
        words: dict[Any, set[str]] = {}
        for g, ids in groups:
            words[g] = set()
            for u in ids:
                group_of.setdefault(u, []).append(g)
        for u, toks in zip(units["unit_id"], _unit_tokens(data, units, tokenize_kwargs)):  # streamed
            for g in group_of.get(u, ()):
                words[g].update(toks)
        vocab = {g: len(w) for g, w in words.items()}

    def summarise(df: pd.DataFrame) -> dict:
        r = {"n_units": len(df), "n_pages": int(df["page_id"].nunique()),
             "n_chars": int(df["n_chars"].sum()), "mean_chars": float(df["n_chars"].mean()) if len(df) else 0.0,
             "median_chars": float(df["n_chars"].median()) if len(df) else 0.0,
             "min_chars": int(df["n_chars"].min()) if len(df) else 0,
             "max_chars": int(df["n_chars"].max()) if len(df) else 0,
             "n_sentences": int(df["n_sentences"].sum())}
        if "n_tokens" in df.columns:
            r["n_tokens"] = int(df["n_tokens"].sum())
        if "n_sections" in df.columns:
            r["n_sections"] = int(df["n_sections"].sum())
            r["mean_section_depth"] = float(df["section_depth"].mean()) if len(df) else 0.0
        r["n_placeholders"] = int(df["n_placeholders"].sum())
        years = df["year"].dropna()
        r["year_min"] = int(years.min()) if len(years) else None
        r["year_max"] = int(years.max()) if len(years) else None
        r["share_with_year"] = float(df["year"].notna().mean()) if len(df) else 0.0
        return r

    rows = []
    if by:
        for g, df in ds.groupby(by, dropna=False, sort=True):
            rows.append({by: g, **summarise(df), **({"n_types": vocab[g]} if vocab else {})})
    else:
        rows.append({"corpus": "all", **summarise(ds), **({"n_types": vocab["all"]} if vocab else {})})
    out = pd.DataFrame(rows)
    for c in ("year_min", "year_max"):
        out[c] = pd.array(out[c], dtype="Int64")
    return out
