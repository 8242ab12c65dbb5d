"""`corpus-tools outline CORPUS_DIR DOC_ID`: print one document's outline as a tree."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..cli import UsageError
from ..store import read_table

DESCRIPTION = """\
Print the numbered outline of one document as an indented tree: marker, heading, the role
of top-level sections in [brackets] and numbering issues after '!'. Uses
CORPUS_DIR/sections.parquet when present (see `corpus-tools sections`), else segments the
document on the fly."""

EPILOG = """\
Examples:
  corpus-tools outline corpus/ 6ad8be5d0ddd4ac3-01
  corpus-tools outline corpus/ 6ad8be5d0ddd4ac3-01 --spans   # with character offsets"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("outline", help="print one document's numbered outline as a tree",
                       description=DESCRIPTION, epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("corpus", metavar="CORPUS_DIR", help="a corpus directory written by `corpus-tools ingest`")
    p.add_argument("doc_id", metavar="DOC_ID", help="the document's id (column doc_id of documents.parquet)")
    p.add_argument("--spans", action="store_true", help="show each section's [start, end) offsets")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..sections import outline_tree, sections_table

    corpus = Path(args.corpus)
    docs_path = corpus / "documents.parquet"
    if not docs_path.exists():
        raise UsageError(f"{docs_path} does not exist (run `corpus-tools ingest … -o {args.corpus}` first)")
    docs = read_table(docs_path)
    doc = docs[docs["doc_id"] == args.doc_id]
    if doc.empty:
        raise UsageError(f"unknown DOC_ID {args.doc_id!r}: not among the {len(docs)} documents in {docs_path}")
    sec_path = corpus / "sections.parquet"
    sections = read_table(sec_path) if sec_path.exists() else sections_table(doc)
    tree = outline_tree(sections, args.doc_id, doc)
    if args.spans:
        lines = [tree.heading] + [
            "  " * n.level + f"{n.marker}{n.heading}  [{n.start}, {n.end})" for n in tree.walk() if n is not tree]
        print("\n".join(lines))
    else:
        print(tree.render())
    if not tree.children:
        print("  (no numbered headings)")
    return 0
