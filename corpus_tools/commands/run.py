"""`corpus-tools run INPUT... -o OUT_DIR`: the main job, every stage end to end."""
from __future__ import annotations

import argparse
import sys
import time

from .ingest import add_ingest_options, print_summary, run_ingest

EPILOG = """examples:
  corpus-tools run data/raw -o build/
  corpus-tools run pages/ -o out/ --workers 2 --quiet"""


def run(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    summary = run_ingest(args)
    if not args.quiet:
        print_summary(summary)
    stages = {"ingest": time.perf_counter() - t0}
    if summary.n_documents:
        try:
            from ..report import build_report  # added by the report stage
        except ImportError:
            build_report = None
        if build_report is not None:
            t1 = time.perf_counter()
            path = build_report(args.out, quiet=args.quiet)
            stages["report"] = time.perf_counter() - t1
            if not args.quiet:
                print(f"report: {path}")
    if not args.quiet:
        print("stages: " + ", ".join(f"{k} {v:.1f}s" for k, v in stages.items()), file=sys.stderr)
    return summary.exit_code


def register(sub) -> None:
    p = sub.add_parser("run", help="the main job: ingest → sections → analysis → report",
                       description="Run the whole pipeline on raw pages and write the corpus, analysis tables "
                                   "and an HTML report to OUT_DIR.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_ingest_options(p)
    p.set_defaults(func=run)
