"""The data card (``README.md`` with Hugging Face dataset-card YAML front matter)."""
from __future__ import annotations

import pandas as pd

from ..store import Corpus
from .dedup import PREFILTER_MISS

FIELD_DOCS = {
    "id": "record id (doc_id for documents, section_id for sections)",
    "doc_id": "stable document id (page content hash + essay index)",
    "source": "input file the document came from (relative path)",
    "page_id": "id of the scraped page",
    "title": "essay title",
    "year": "year found in the document (null when unknown)",
    "genre": "genre guessed from the title (工作总结/工作计划/心得体会/交流材料/述职报告/讲话/other)",
    "text": "clean simplified-Chinese text, paragraphs separated by \\n, repeated paragraphs removed",
    "n_chars": "characters in text",
    "cluster_id": "near-duplicate cluster (smallest doc_id of the cluster)",
    "n_repeated_paragraphs": "paragraphs of the document that repeat an earlier paragraph",
    "section_id": "section id",
    "section_path": "outline markers from the top level down, joined by >",
    "heading": "section heading",
}


def _size_category(n: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return label
    return "n>1M"


def _paths(format: str, name: str) -> str:
    return {"jsonl": f"{name}.jsonl", "parquet": f"{name}.parquet", "hf": f"hf/{name}/*.arrow"}[format]


def _table(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(str(v) for v in row) + " |")
    return "\n".join(lines)


def _removed_counts(corpus: Corpus) -> pd.DataFrame | None:
    try:
        removed = corpus.removed
    except FileNotFoundError:
        return None
    if "reason" not in removed.columns or removed.empty:
        return None
    by = ["kind", "reason"] if "kind" in removed.columns else ["reason"]
    lens = (removed["raw_end"] - removed["raw_start"]) if {"raw_start", "raw_end"} <= set(removed.columns) else 0
    g = removed.assign(chars=lens).groupby(by, sort=True).agg(spans=("reason", "size"), chars=("chars", "sum"))
    return g.reset_index()


def data_card(corpus: Corpus, records: pd.DataFrame, clusters: pd.DataFrame, removed: pd.DataFrame,
              stats: dict, report, fields: list[str], split_names: list[str], format: str, unit: str) -> str:
    """Markdown data card; deterministic (no dates, no absolute paths)."""
    yaml = ["---", "language:", "- zh", "license: other", "task_categories:", "- text-generation",
            "- text-classification", "size_categories:", f"- {_size_category(len(records))}",
            "pretty_name: Chinese trade-union work reports (corpus-tools export)", "configs:",
            "- config_name: default", "  data_files:"]
    for name in split_names:
        yaml += [f"  - split: {name}", f"    path: {_paths(format, name)}"]
    yaml += ["---", ""]

    sources = clusters.groupby("page_id", sort=True).agg(documents=("doc_id", "size"),
                                                        kept=("reason", lambda r: int((r == "kept").sum())))
    fates = clusters["reason"].value_counts().sort_index().rename_axis("reason").reset_index(name="documents")
    dup = clusters[clusters["cluster_size"] > 1].sort_values(["cluster_id", "doc_id"])
    splits = pd.DataFrame([{"split": n, "records": stats.get(f"records_{n}", 0), "characters": stats.get(f"chars_{n}", 0)}
                           for n in split_names])
    body = [
        "# Chinese trade-union work reports", "",
        "Essays scraped from Chinese model-essay sites (工会工作总结, 心得体会, 交流材料 …), cleaned, "
        "deduplicated and split by `corpus-tools export`. "
        f"Unit: **{unit}**; {len(records)} records; format: {format}.", "",
        "## Sources", "",
        f"{stats['documents_in']} documents from {len(sources)} pages; {stats['documents_kept']} kept.", "",
        _table(sources.reset_index()), "",
        "## Cleaning", "",
        "Ingestion (boilerplate lines, pinyin annotations, mojibake, traditional→simplified, punctuation) "
        "is logged span by span in the corpus's `removed.parquet`:", "",
    ]
    rc = _removed_counts(corpus)
    body += [_table(rc) if rc is not None else "(no removed.parquet in the corpus)", ""]
    body += [
        "Export filters and deduplication decided every document's fate (`clusters.parquet` lists each "
        "document with `cluster_id`, `kept`, `reason`):", "", _table(fates), "",
        "## Deduplication", "",
        "- exact: SHA-1 of the text without whitespace/punctuation/symbols (NFKC, lower-case);",
        f"- near: MinHash ({report.num_perm} permutations, seed {report.seed}) of character "
        f"{report.ngram}-gram shingles, LSH with {report.bands} bands × {report.rows} rows, candidates verified "
        f"on the actual shingle sets: similarity = {'max(Jaccard, containment)' if report.containment else 'Jaccard'} "
        f"≥ {report.threshold}; clusters by union-find;",
        "- kept per cluster: the longest document that passed the filters (ties → smallest doc_id);",
        f"- {report.n_candidate_pairs} candidate pairs ({report.n_ruled_out_pairs} ruled out by too few equal "
        f"MinHash values: a pair at the threshold shows that few with probability < {PREFILTER_MISS:g}), "
        f"{report.n_verified_pairs} verified; "
        f"{report.n_exact_duplicates} exact and {report.n_near_duplicates} near duplicates in "
        f"{report.n_multi_clusters} clusters;",
        f"- repeated paragraphs (≥ 20 normalised characters, same hash as an earlier paragraph): "
        f"{stats['repeated_paragraphs']} found, {stats['repeated_paragraphs_removed']} removed "
        f"({stats['repeated_paragraph_chars_removed']} characters), logged in `removed_paragraphs.parquet`.", "",
    ]
    if not dup.empty:
        body += ["Clusters with more than one document:", "",
                 _table(dup[["cluster_id", "doc_id", "title", "kept", "similarity", "reason"]]), ""]
    body += [
        "## Splits", "",
        "A group is a connected component of documents sharing a near-duplicate cluster or a page; "
        "groups are ordered by a seeded SHA-256 hash and assigned to the split furthest below its "
        "target, so no page and no near-duplicate cluster spans two splits.", "",
        _table(splits), "",
        "## Fields", "",
        _table(pd.DataFrame([{"field": f, "description": FIELD_DOCS.get(f, "")} for f in fields])), "",
        "## Known issues", "",
        "- Template placeholders (xx年, __年, ***, 某某) remain in many essays; documents above the "
        "placeholder-density limit were dropped (see reasons above).",
        "- Some source pages are truncated (the page announces more essays than it holds, or an essay "
        "stops mid-sentence); `pages.truncated` marks them.",
        "- Titles are the sites' titles; years are guessed from the text and often missing.",
        "- Licensing: the texts were scraped from public web pages whose copyright status is unclear "
        "(`license: other`). Use for research only; do not redistribute without checking the sources.", "",
    ]
    return "\n".join(yaml + body)
