"""`corpus-tools export`: a deduplicated, leak-free, documented dataset."""
from __future__ import annotations

import argparse
import sys

from ..cli import UsageError


def register(sub) -> None:
    p = sub.add_parser(
        "export", help="export a deduplicated dataset (JSONL / Parquet / Hugging Face) with a data card",
        description="Filter, deduplicate (exact + MinHash near-duplicates, repeated paragraphs), split by "
                    "near-duplicate cluster and page, and write the records with provenance, a "
                    "clusters.parquet that accounts for every document, and a README.md data card.",
        epilog="Examples:\n  corpus-tools export corpus/ -o dataset/\n"
               "  corpus-tools export corpus/ -o dataset/ --format hf --unit section\n"
               "  corpus-tools export corpus/ -o dataset/ --split 0.9,0,0.1 --seed 7 --min-chars 500",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("corpus", help="corpus directory (written by `corpus-tools ingest`)")
    p.add_argument("-o", "--output", required=True, help="output directory")
    p.add_argument("--format", choices=["jsonl", "parquet", "hf"], default="jsonl")
    p.add_argument("--unit", choices=["document", "section"], default="document")
    p.add_argument("--split", default="0.8,0.1,0.1", help="train,validation,test fractions (default 0.8,0.1,0.1)")
    p.add_argument("--seed", type=int, default=13, help="seed of the split assignment (default 13)")
    p.add_argument("--no-drop-repeated-paragraphs", dest="drop_repeated_paragraphs", action="store_false",
                   help="keep repeated paragraphs (they are still counted and logged)")
    p.add_argument("--min-chars", type=int, default=200, help="drop documents shorter than this (default 200)")
    p.add_argument("--max-placeholder-density", type=float, default=5.0,
                   help="drop documents with more placeholders (xx, __, ***, 某某) per 1000 characters (default 5; <0 = off)")
    p.add_argument("--drop-truncated", action="store_true", help="drop documents of truncated pages")
    p.add_argument("--threshold", type=float, default=0.8, help="near-duplicate similarity threshold (default 0.8)")
    p.add_argument("--section-level", type=int, default=1, help="with --unit section: outline depth to export")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..export.dataset import _check_split, export

    try:
        split = _check_split(args.split)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if not 0 < args.threshold <= 1:
        raise UsageError("--threshold must be in (0, 1]")
    density = None if args.max_placeholder_density < 0 else args.max_placeholder_density
    res = export(args.corpus, args.output, format=args.format, unit=args.unit, split=split, seed=args.seed,
                 drop_repeated_paragraphs=args.drop_repeated_paragraphs, min_chars=args.min_chars,
                 max_placeholder_density=density, drop_truncated=args.drop_truncated,
                 threshold=args.threshold, section_level=args.section_level)
    s = dict(zip(res.stats["metric"], res.stats["value"]))
    sizes = ", ".join(f"{k[8:]} {v}" for k, v in s.items() if k.startswith("records_"))
    print(f"exported {s['records']} records ({sizes}) from {s['documents_kept']}/{s['documents_in']} documents "
          f"to {res.out_dir}", file=sys.stderr)
    return 0
