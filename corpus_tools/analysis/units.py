"""Turn whatever the user holds (a Corpus, a corpus path, a documents DataFrame, a sections
DataFrame) into one DataFrame of analysis units with a ``text`` column.

Every analysis function calls :func:`as_units` first, so each works on a whole corpus, a
filtered DataFrame of documents, or sections (``unit="document" | "section"``).
"""
from __future__ import annotations

import os
from typing import Union

import pandas as pd

from ..store import Corpus, load_corpus

UnitSource = Union[Corpus, str, os.PathLike, pd.DataFrame]

UNIT_COLUMNS = ["unit_id", "doc_id", "page_id", "source", "year", "title", "text"]


def _as_corpus(data: UnitSource) -> Corpus | None:
    if isinstance(data, Corpus):
        return data
    if isinstance(data, (str, os.PathLike)):
        return load_corpus(data)
    return None


def as_units(data: UnitSource, unit: str = "document", documents: pd.DataFrame | None = None) -> pd.DataFrame:
    """Return a DataFrame with at least ``UNIT_COLUMNS`` (+ section columns for sections).

    - ``unit="document"``: one row per document (``unit_id == doc_id``).
    - ``unit="section"``: one row per *top-level* section (level 1) with its text span,
      plus ``heading``, ``role``, ``section_id``; documents without sections contribute no row.
      Passing a sections DataFrame (it has ``section_id``) implies ``unit="section"``; then
      ``documents`` (or a corpus) must provide the document texts.
    """
    corpus = _as_corpus(data)
    if unit not in ("document", "section"):
        raise ValueError(f"unit must be 'document' or 'section', not {unit!r}")
    if corpus is not None:
        docs = corpus.documents
        secs = corpus.sections if unit == "section" else None
    elif "section_id" in data.columns:  # a sections frame
        unit, secs = "section", data
        if documents is None:
            raise ValueError("pass documents= (or a Corpus) to analyse a sections DataFrame")
        docs = documents
    else:
        docs, secs = data, None
        if unit == "section":
            raise ValueError("unit='section' needs a Corpus, a corpus path, or a sections DataFrame")

    docs = docs.copy()
    for col in ("page_id", "source", "year", "title"):
        if col not in docs.columns:
            docs[col] = None
    if unit == "document":
        out = docs.drop(columns="unit_id") if "unit_id" in docs.columns else docs  # already units: made again
        out.insert(0, "unit_id", out["doc_id"])
        return out.reset_index(drop=True)

    secs = secs[secs["level"] == 1] if "level" in secs.columns else secs
    texts = docs.set_index("doc_id")
    rows = []
    for s in secs.itertuples(index=False):
        if s.doc_id not in texts.index:
            continue
        d = texts.loc[s.doc_id]
        rows.append({
            "unit_id": s.section_id, "doc_id": s.doc_id, "page_id": d["page_id"], "source": d["source"],
            "year": d["year"], "title": d["title"], "text": d["text"][int(s.start):int(s.end)],
            "section_id": s.section_id, "heading": s.heading,
            "role": getattr(s, "role", None), "level": s.level,
        })
    return pd.DataFrame(rows, columns=UNIT_COLUMNS + ["section_id", "heading", "role", "level"])
