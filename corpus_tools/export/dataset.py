"""Export a corpus as a deduplicated, leak-free, documented dataset (JSONL / Parquet / HF).

Steps, in order (every dropped document or paragraph is logged in OUT_DIR):

1. filters — ``truncated_page`` (only with ``drop_truncated``), ``placeholder_density``
   (placeholders per 1000 characters above ``max_placeholder_density``), ``too_short``
   (fewer than ``min_chars`` characters);
2. exact + near-duplicate clustering of *all* documents (:mod:`.dedup`); each cluster keeps
   one representative among the documents that passed the filters (longest, ties → smallest
   doc_id); the others get reason ``exact_duplicate`` / ``near_duplicate``;
3. repeated paragraphs (``drop_repeated_paragraphs``) among kept documents, in corpus order
   (source, index): later copies are cut and logged in ``removed_paragraphs.parquet``;
4. splits by group: a group is a connected component of documents linked by the same
   near-duplicate cluster or the same page; groups are ordered by SHA-256 of
   ``f"{seed}:{group_id}"`` and each goes to the split furthest below its target size;
5. records (document or section units) written per split, plus ``clusters.parquet``,
   ``stats.json`` and the data card ``README.md``.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..store import Corpus, atomic_write_json, atomic_write_text, load_corpus, write_table
from . import dedup

SPLIT_NAMES = ("train", "validation", "test")
FORMATS = ("jsonl", "parquet", "hf")
PLACEHOLDER_RE = re.compile(r"[xX×Ｘｘ]{2,4}|_{2,}|＿{2,}|\*{2,}|＊{2,}|某某|○{2,}")
DEFAULT_MAX_PLACEHOLDER_DENSITY = 5.0  # per 1000 characters
GENRES = [("工作总结", ("总结",)), ("工作计划", ("计划", "打算", "要点")), ("心得体会", ("心得", "体会", "感想")),
          ("交流材料", ("交流", "经验", "汇报")), ("述职报告", ("述职",)), ("讲话", ("讲话", "致辞", "发言"))]
RECORD_FIELDS = ["id", "doc_id", "source", "page_id", "title", "year", "genre", "text", "n_chars",
                 "cluster_id", "n_repeated_paragraphs"]
SECTION_FIELDS = ["section_id", "section_path", "heading"]


@dataclass
class ExportResult:
    """What :func:`export` wrote: records (all splits, ``split`` column), every document's
    cluster and fate, removed paragraphs, summary statistics and the files."""

    out_dir: Path
    records: pd.DataFrame
    clusters: pd.DataFrame
    removed_paragraphs: pd.DataFrame
    stats: pd.DataFrame
    files: list[str] = field(default_factory=list)


def genre_of(title: str | None) -> str:
    """Genre from a title: ``corpus_tools.analysis.stats.genre_of`` if present, else a local rule."""
    try:
        from ..analysis.stats import genre_of as shared
    except ImportError:
        shared = None
    if shared is not None:
        return shared(title)
    t = title or ""
    for name, keys in GENRES:
        if any(k in t for k in keys):
            return name
    return "other"


def count_placeholders(text: str) -> int:
    """Template placeholders (xx年, __年, ***, 某某, ○○)."""
    return len(PLACEHOLDER_RE.findall(text or ""))


def _documents(corpus: Corpus) -> pd.DataFrame:
    docs = corpus.documents.copy()
    docs["doc_id"] = docs["doc_id"].astype(str)
    for col in ("source", "page_id", "title", "year", "index"):
        if col not in docs.columns:
            docs[col] = None
    docs["text"] = docs["text"].fillna("").astype(str)
    order = [c for c in ("source", "index", "doc_id") if docs[c].notna().all()]
    return docs.sort_values(order, kind="mergesort").reset_index(drop=True)


def _filter_reasons(docs: pd.DataFrame, pages: pd.DataFrame | None, min_chars: int,
                    max_placeholder_density: float | None, drop_truncated: bool) -> list[str | None]:
    truncated: set = set()
    if drop_truncated and pages is not None and "truncated" in pages.columns:
        truncated = set(pages.loc[pages["truncated"].fillna(False).astype(bool), "page_id"].astype(str))
    if "n_placeholders" in docs.columns:
        ph = docs["n_placeholders"].fillna(0).astype(int).tolist()
    else:
        ph = [count_placeholders(t) for t in docs["text"]]
    reasons = []
    for text, page, n_ph in zip(docs["text"], docs["page_id"].astype(str), ph):
        n = len(text)
        if page in truncated:
            reasons.append("truncated_page")
        elif max_placeholder_density is not None and n and n_ph * 1000 / n > max_placeholder_density:
            reasons.append("placeholder_density")
        elif n < min_chars:
            reasons.append("too_short")
        else:
            reasons.append(None)
    return reasons


def _assign_splits(kept: pd.DataFrame, split: tuple[float, ...], seed: int,
                   weights: dict[str, int] | None = None) -> dict[str, str]:
    """doc_id → split name; groups = components of same cluster_id or same page_id.
    ``weights`` (records per document, default 1) are what the split fractions apply to."""
    uf = dedup._UnionFind(sorted(kept["doc_id"]))
    for key in ("cluster_id", "page_id"):
        for _, grp in kept.groupby(kept[key].astype(str), sort=True):
            ids = sorted(grp["doc_id"])
            for other in ids[1:]:
                uf.union(ids[0], other)
    groups: dict[str, list[str]] = {}
    for d in sorted(kept["doc_id"]):
        groups.setdefault(uf.find(d), []).append(d)
    names = [n for n, f in zip(SPLIT_NAMES, split) if f > 0]
    fracs = [f for f in split if f > 0]
    w = {d: (1 if weights is None else weights.get(d, 0)) for d in kept["doc_id"]}
    total = sum(w.values())
    sizes = {n: 0 for n in names}
    out = {}
    key = lambda g: hashlib.sha256(f"{seed}:{g}".encode()).hexdigest()  # noqa: E731
    for gid in sorted(groups, key=key):
        deficits = [(fr * total - sizes[n], -i) for i, (n, fr) in enumerate(zip(names, fracs))]
        name = names[-max(deficits)[1]]
        sizes[name] += sum(w[d] for d in groups[gid])
        for d in groups[gid]:
            out[d] = name
    return out


def _section_units(corpus: Corpus, docs: pd.DataFrame, level: int) -> pd.DataFrame:
    secs = corpus.sections.copy()
    secs["doc_id"] = secs["doc_id"].astype(str)
    by_id = secs.set_index("section_id")
    rows = []
    texts = dict(zip(docs["doc_id"], docs["text"]))
    for s in secs[secs["level"] == level].sort_values(["doc_id", "start", "section_id"]).itertuples(index=False):
        if s.doc_id not in texts:
            continue
        path, cur = [], s.section_id
        while cur is not None and not pd.isna(cur) and cur in by_id.index and len(path) < 12:
            path.append(str(by_id.loc[cur, "marker"]).strip())
            cur = by_id.loc[cur, "parent_id"]
        rows.append({"doc_id": s.doc_id, "section_id": s.section_id, "section_path": ">".join(reversed(path)),
                     "heading": s.heading, "start": int(s.start), "end": int(s.end)})
    return pd.DataFrame(rows, columns=["doc_id", "section_id", "section_path", "heading", "start", "end"])


def _check_split(split) -> tuple[float, float, float]:
    if isinstance(split, str):
        split = [float(x) for x in split.split(",")]
    split = tuple(float(x) for x in split)
    if len(split) != 3 or any(x < 0 for x in split) or abs(sum(split) - 1) > 1e-6:
        raise ValueError(f"split must be three non-negative fractions summing to 1, not {split}")
    return split


def export(corpus_or_path: Corpus | str | os.PathLike, out_dir: str | os.PathLike, format: str = "jsonl",
           unit: str = "document", split=(0.8, 0.1, 0.1), seed: int = 13,
           drop_repeated_paragraphs: bool = True, min_chars: int = 200,
           max_placeholder_density: float | None = DEFAULT_MAX_PLACEHOLDER_DENSITY,
           drop_truncated: bool = False, threshold: float = dedup.DEFAULT_THRESHOLD,
           ngram: int = dedup.DEFAULT_NGRAM, num_perm: int = dedup.DEFAULT_NUM_PERM,
           min_paragraph_chars: int = 20, section_level: int = 1, card: bool = True) -> ExportResult:
    """Export ``corpus_or_path`` to ``out_dir`` (see the module doc for the steps).

    Files: ``{train,validation,test}.jsonl`` (or ``.parquet``, or ``hf/`` for
    ``datasets.load_from_disk``), ``clusters.parquet``, ``removed_paragraphs.parquet``,
    ``stats.json``, ``README.md``. Same corpus + options → byte-identical files.
    """
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, not {format!r}")
    if unit not in ("document", "section"):
        raise ValueError(f"unit must be 'document' or 'section', not {unit!r}")
    split = _check_split(split)
    corpus = corpus_or_path if isinstance(corpus_or_path, Corpus) else load_corpus(corpus_or_path)
    out = Path(out_dir)
    docs = _documents(corpus)
    try:
        pages = corpus.pages
    except FileNotFoundError:
        pages = None

    # 1-2. filters and clusters
    reasons = _filter_reasons(docs, pages, min_chars, max_placeholder_density, drop_truncated)
    clusters, report = dedup.near_duplicate_clusters(docs, threshold=threshold, ngram=ngram,
                                                     num_perm=num_perm, return_report=True)
    eligible = pd.Series([r is None for r in reasons])
    clusters = dedup.choose_representatives(clusters, docs, eligible)
    fate = clusters.set_index("doc_id")
    reason_of = {}
    for d, r in zip(docs["doc_id"], reasons):
        if r is None:
            r = "kept" if fate.loc[d, "kept"] else f"{fate.loc[d, 'dup_type']}_duplicate"
        reason_of[d] = r
    clusters["reason"] = clusters["doc_id"].map(reason_of)
    meta = docs.set_index("doc_id")
    clusters.insert(1, "page_id", clusters["doc_id"].map(meta["page_id"]).astype(str))
    clusters.insert(2, "title", clusters["doc_id"].map(meta["title"]))
    clusters["n_chars"] = clusters["doc_id"].map(meta["text"].str.len()).astype(int)
    kept_docs = docs[docs["doc_id"].map(reason_of) == "kept"].reset_index(drop=True)

    # 3. repeated paragraphs among kept documents, corpus order
    removed = dedup.repeated_paragraphs(kept_docs, min_chars=min_paragraph_chars)
    removed = removed[["doc_id", "paragraph", "start", "end", "n_chars", "first_doc_id", "first_paragraph",
                       "reason", "hash"]]
    n_rep = removed.groupby("doc_id").size().to_dict()
    clusters["n_repeated_paragraphs"] = clusters["doc_id"].map(n_rep).fillna(0).astype(int)
    spans = {d: list(zip(g["start"], g["end"])) for d, g in removed.groupby("doc_id")} if drop_repeated_paragraphs else {}

    # 4. splits
    kept_docs["cluster_id"] = kept_docs["doc_id"].map(fate["cluster_id"])
    secs = _section_units(corpus, kept_docs, section_level) if unit == "section" else None
    weights = secs.groupby("doc_id").size().to_dict() if secs is not None else None
    assign = _assign_splits(kept_docs, split, seed, weights)
    clusters["split"] = clusters["doc_id"].map(assign)

    # 5. records
    base = []
    for d in kept_docs.itertuples(index=False):
        base.append({"doc_id": d.doc_id, "source": d.source, "page_id": str(d.page_id), "title": d.title,
                     "year": None if d.year is None or pd.isna(d.year) else int(d.year),
                     "genre": genre_of(d.title), "cluster_id": d.cluster_id,
                     "n_repeated_paragraphs": int(n_rep.get(d.doc_id, 0)), "split": assign[d.doc_id],
                     "_text": d.text})
    rows = []
    if unit == "document":
        for b in base:
            text = dedup.drop_spans(b["_text"], spans.get(b["doc_id"], []))
            rows.append({**b, "id": b["doc_id"], "text": text, "n_chars": len(text)})
    else:
        by_doc = {d: g for d, g in secs.groupby("doc_id", sort=False)}
        for b in base:
            for s in by_doc.get(b["doc_id"], pd.DataFrame()).itertuples(index=False):
                text = dedup.drop_spans(b["_text"][s.start:s.end], spans.get(b["doc_id"], []), base=s.start)
                rows.append({**b, "id": s.section_id, "section_id": s.section_id, "section_path": s.section_path,
                             "heading": s.heading, "text": text, "n_chars": len(text)})
    fields = RECORD_FIELDS + (SECTION_FIELDS if unit == "section" else [])
    records = pd.DataFrame(rows, columns=fields + ["split"])
    records["year"] = records["year"].astype("Int64")
    split_names = [n for n, f in zip(SPLIT_NAMES, split) if f > 0]

    files = _write_records(out, records, fields, split_names, format)
    write_table(out / "clusters.parquet", clusters)
    write_table(out / "removed_paragraphs.parquet", removed.reset_index(drop=True))
    files += ["clusters.parquet", "removed_paragraphs.parquet"]
    stats = _stats(docs, clusters, removed, records, split_names, report, drop_repeated_paragraphs)
    stats_dict = dict(zip(stats["metric"], stats["value"]))
    atomic_write_json(out / "stats.json", {
        "stats": stats_dict,
        "options": {"format": format, "unit": unit, "split": list(split), "seed": seed,
                    "drop_repeated_paragraphs": drop_repeated_paragraphs, "min_chars": min_chars,
                    "max_placeholder_density": max_placeholder_density, "drop_truncated": drop_truncated,
                    "threshold": threshold, "ngram": ngram, "num_perm": num_perm,
                    "min_paragraph_chars": min_paragraph_chars, "section_level": section_level},
        "dedup": report.__dict__,
    })
    files.append("stats.json")
    if card:
        from .card import data_card

        atomic_write_text(out / "README.md", data_card(corpus, records, clusters, removed, stats_dict,
                                                       report, fields, split_names, format, unit))
        files.append("README.md")
    return ExportResult(out, records, clusters, removed, stats, sorted(files))


def _write_records(out: Path, records: pd.DataFrame, fields: list[str], split_names: list[str],
                   format: str) -> list[str]:
    files = []
    if format == "hf":
        _write_hf(out / "hf", records, fields, split_names)
        return ["hf"]
    for name in split_names:
        part = records[records["split"] == name][fields].reset_index(drop=True)
        if format == "jsonl":
            lines = []
            for rec in part.to_dict(orient="records"):
                rec = {k: (None if not isinstance(v, str) and pd.isna(v) else v) for k, v in rec.items()}
                rec["year"] = None if rec["year"] is None else int(rec["year"])
                lines.append(json.dumps(rec, ensure_ascii=False, sort_keys=True))
            atomic_write_text(out / f"{name}.jsonl", "".join(line + "\n" for line in lines))
            files.append(f"{name}.jsonl")
        else:
            write_table(out / f"{name}.parquet", part)
            files.append(f"{name}.parquet")
    return files


def _write_hf(path: Path, records: pd.DataFrame, fields: list[str], split_names: list[str]) -> None:
    try:
        import datasets
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("format='hf' needs the Hugging Face `datasets` package: "
                          "pip install 'corpus-tools[hf]'") from exc
    feats = datasets.Features({f: datasets.Value("int64" if f in ("year", "n_chars", "n_repeated_paragraphs")
                                                 else "string") for f in fields})
    parts = {}
    for name in split_names:
        part = records[records["split"] == name][fields].reset_index(drop=True)
        if part.empty:
            continue  # datasets cannot load a saved 0-row split; the card lists it with 0 records
        data = {f: [None if not isinstance(v, str) and pd.isna(v) else v for v in part[f]] for f in fields}
        parts[name] = datasets.Dataset.from_dict(data, features=feats)
    dd = datasets.DatasetDict(parts)
    tmp = path.with_name(f".{path.name}.tmp")
    if tmp.exists():
        import shutil

        shutil.rmtree(tmp)
    bars = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    try:
        dd.save_to_disk(str(tmp))
    finally:
        if bars:
            datasets.enable_progress_bars()
    if path.exists():  # replace the previous export as a whole
        import shutil

        shutil.rmtree(path)
    os.replace(tmp, path)


def _stats(docs, clusters, removed, records, split_names, report, dropped_paragraphs) -> pd.DataFrame:
    rows = [("documents_in", len(docs)), ("documents_kept", int((clusters["reason"] == "kept").sum()))]
    for reason, n in sorted(clusters["reason"].value_counts().items()):
        if reason != "kept":
            rows.append((f"dropped_{reason}", int(n)))
    rows += [("clusters", report.n_clusters), ("clusters_with_duplicates", report.n_multi_clusters),
             ("repeated_paragraphs", len(removed)),
             ("repeated_paragraphs_removed", len(removed) if dropped_paragraphs else 0),
             ("repeated_paragraph_chars_removed", int(removed["n_chars"].sum()) if dropped_paragraphs else 0),
             ("records", len(records))]
    for name in split_names:
        part = records[records["split"] == name]
        rows += [(f"records_{name}", len(part)), (f"chars_{name}", int(part["n_chars"].sum()))]
    return pd.DataFrame(rows, columns=["metric", "value"])
