"""`corpus-tools sections CORPUS_DIR`: find the numbered outline of every document."""
from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from ..cli import UsageError
from ..store import read_table, write_table

DESCRIPTION = """\
Find the numbered headings of every document (第一部分, 一、, （一）, 1、/1., （1）/1), ①/⑴),
nest them into an outline and write one row per heading to CORPUS_DIR/sections.parquet
(columns doc_id, section_id, parent_id, level, style, marker, number, heading, start, end,
inline, role, issues). Levels follow the order in which marker styles first appear in each
document; numbering anomalies (skipped/repeated numbers, mixed marker shapes) go to `issues`.
Cue words for top-level roles live in corpus_tools/resources/section_roles.toml."""

EPILOG = """\
Examples:
  corpus-tools sections corpus/
  corpus-tools outline corpus/ DOC_ID      # show one document's outline"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sections", help="find the numbered outline of every document",
                       description=DESCRIPTION, epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("corpus", metavar="CORPUS_DIR", help="a corpus directory written by `corpus-tools ingest`")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..sections import sections_table

    docs_path = Path(args.corpus) / "documents.parquet"
    if not docs_path.exists():
        raise UsageError(f"{docs_path} does not exist (run `corpus-tools ingest … -o {args.corpus}` first)")
    docs = read_table(docs_path)
    table = sections_table(docs)
    write_table(Path(args.corpus) / "sections.parquet", table)
    levels = Counter(table["level"].tolist())
    per_level = ", ".join(f"level {lv}: {n}" for lv, n in sorted(levels.items())) or "none"
    with_issues = int((table["issues"] != "").sum())
    print(f"{len(docs)} documents, {len(table)} sections ({per_level}); "
          f"{with_issues} with numbering issues -> {Path(args.corpus) / 'sections.parquet'}")
    return 0
