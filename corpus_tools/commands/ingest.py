"""`corpus-tools ingest INPUT... -o CORPUS_DIR`."""
from __future__ import annotations

import argparse
import os
import sys

from ..cli import UsageError

EPILOG = """examples:
  corpus-tools ingest data/raw -o build/corpus
  corpus-tools ingest page1.txt pages/ -o corpus --workers 2
  corpus-tools ingest data/raw -o corpus --no-templates --strict

exit codes: 0 every page ok or empty, 1 some pages had errors (partial),
            2 usage error, 3 nothing could be ingested"""


def add_ingest_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="files or folders (searched recursively)")
    p.add_argument("-o", "--out", required=True, metavar="CORPUS_DIR", help="corpus directory to write")
    p.add_argument("--workers", type=int, default=1, help="worker processes (default 1; 0 = one per core)")
    p.add_argument("--boilerplate", metavar="TOML", help="your own boilerplate rules (same layout as resources/boilerplate.toml)")
    p.add_argument("--no-templates", action="store_true", help="do not learn repeated lines across pages")
    p.add_argument("--template-min-pages", type=int, default=3, help="pages a line must recur in to count as template (default 3)")
    p.add_argument("--max-page-mb", type=float, default=64, help="pages larger than this get status=error (default 64)")
    p.add_argument("--strict", action="store_true", help="any page error makes the run fail (exit 1)")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors (and no progress display)")


def config_from_args(args: argparse.Namespace):
    from ..ingest.pipeline import IngestConfig

    if args.boilerplate and not os.path.exists(args.boilerplate):
        raise UsageError(f"boilerplate file not found: {args.boilerplate}")
    return IngestConfig(boilerplate=args.boilerplate, learn_templates=not args.no_templates,
                        template_min_pages=args.template_min_pages,
                        max_page_bytes=int(args.max_page_mb * 2**20))


def run_ingest(args: argparse.Namespace, progress=None):
    from ..ingest.pipeline import ingest

    for inp in args.inputs:
        if not os.path.exists(inp) and not os.path.islink(inp):
            raise UsageError(f"input not found: {inp}")
    workers = args.workers or os.cpu_count() or 1
    return ingest(args.inputs, args.out, config=config_from_args(args), workers=workers, progress=progress)


def print_summary(summary, file=sys.stdout) -> None:
    pages = summary.pages
    c = summary.counts
    kept = int(pages["n_chars_kept"].sum())
    removed = int(pages["n_chars_removed"].sum())
    conv = int((pages["script"].isin(["traditional", "mixed"])).sum())
    print(f"corpus written to {summary.out}/", file=file)
    print(f"pages: {len(pages)} (ok {c['ok']}, empty {c['empty']}, error {c['error']}); documents: {summary.n_documents}", file=file)
    per_page = ", ".join(str(int(n)) for n in pages.loc[pages.status == "ok", "n_documents"])
    print(f"documents per page: {per_page}", file=file)
    print(f"characters kept: {kept:,}; removed: {removed:,}; traditional/mixed pages converted: {conv}", file=file)
    for row in pages[pages.status == "error"].itertuples():
        print(f"error: {row.source}: {row.error}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    summary = run_ingest(args)
    if not args.quiet:
        print_summary(summary)
    else:
        for row in summary.pages[summary.pages.status == "error"].itertuples():
            print(f"error: {row.source}: {row.error}", file=sys.stderr)
    code = summary.exit_code
    if args.strict and summary.counts["error"]:
        code = max(code, 1)
    return code


def register(sub) -> None:
    p = sub.add_parser("ingest", help="clean and split raw pages into a corpus directory",
                       description="Read raw scraped pages (.txt/.html, any common Chinese encoding), remove site "
                                   "chrome, repair scraping artifacts, convert to simplified characters, split "
                                   "multi-essay pages and write pages/documents/removed/sections tables.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_ingest_options(p)
    p.set_defaults(func=run)
