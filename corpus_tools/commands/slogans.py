"""`corpus-tools slogans`: recurring slogans and formulas (and their timeline)."""
from __future__ import annotations

import argparse

from ..cli import UsageError
from ..tables import add_output_options, emit


def register(sub) -> None:
    p = sub.add_parser(
        "slogans", help="recurring slogans: quoted phrases, numeric formulas, enumerations, MWEs",
        description="Find the genre's recurring slogans and formulas: phrases in “…”, numeric formulas "
                    "(三个代表, 五小, 五建五促), parallel enumerations (比、学、赶、帮、超 → 比学赶帮超) and "
                    "statistical multi-word expressions. Counts are given raw and with near-duplicate "
                    "documents counted once (count_dedup, n_clusters).",
        epilog="Examples:\n  corpus-tools slogans corpus/ --top 50\n"
               "  corpus-tools slogans corpus/ --kinds quoted,numeric -o slogans.csv\n"
               "  corpus-tools slogans corpus/ --timeline --slogans 三个代表,科学发展观",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("corpus", help="corpus directory (written by `corpus-tools ingest`)")
    p.add_argument("--top", type=int, default=50, help="rows to show (known slogans always kept; default 50; 0 = all)")
    p.add_argument("--unit", choices=["document", "section"], default="document")
    p.add_argument("--min-documents", type=int, default=2,
                   help="minimum number of (de-duplicated) documents a slogan occurs in (default 2)")
    p.add_argument("--kinds", default="quoted,numeric,enumeration,mwe", help="comma-separated kinds to look for")
    p.add_argument("--timeline", action="store_true", help="print occurrences per year instead")
    p.add_argument("--slogans", default=None, help="with --timeline: comma-separated slogans (default: found ones)")
    add_output_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..analysis.slogans import KINDS, find_slogans, slogan_timeline

    kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        raise UsageError(f"unknown kind(s) {', '.join(bad)}; choose from {', '.join(KINDS)}")
    if args.top < 0 or args.min_documents < 1:
        raise UsageError("--top must be >= 0 and --min-documents >= 1")
    if args.timeline:
        slogans = [s.strip() for s in args.slogans.split(",") if s.strip()] if args.slogans else None
        emit(slogan_timeline(args.corpus, slogans=slogans, unit=args.unit), args, title="slogans per year")
        return 0
    df = find_slogans(args.corpus, unit=args.unit, top=args.top or None, min_documents=args.min_documents,
                      kinds=kinds)
    emit(df, args, title=f"top {len(df)} slogans")
    return 0
