"""`corpus-tools stats`: descriptive statistics per corpus (or per group / per document)."""
from __future__ import annotations

import argparse

from ..cli import UsageError
from ..tables import add_output_options, emit


def register(sub) -> None:
    p = sub.add_parser(
        "stats", help="corpus statistics: sizes, sentences, tokens, sections, years, genres, org types",
        description="Descriptive statistics. By default one row for the whole corpus; --by groups (genre, "
                    "org_type, year, page_id …); --documents prints one row per document (characters, "
                    "sentences, tokens, sections per level and outline depth, year, genre from the title, "
                    "organisation type from the text, placeholders).",
        epilog="Examples:\n  corpus-tools stats corpus/\n  corpus-tools stats corpus/ --by genre\n"
               "  corpus-tools stats corpus/ --documents -o doc_stats.csv\n"
               "  corpus-tools stats corpus/ --no-tokens --by year",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("corpus", help="corpus directory (written by `corpus-tools ingest`)")
    p.add_argument("--by", default=None, help="group column: genre, org_type, year, page_id … (default: whole corpus)")
    p.add_argument("--documents", action="store_true", help="one row per document instead of totals")
    p.add_argument("--unit", choices=["document", "section"], default="document")
    p.add_argument("--no-tokens", action="store_true", help="skip segmentation (no token counts)")
    add_output_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..analysis.stats import corpus_stats, document_stats

    ds = document_stats(args.corpus, tokens=not args.no_tokens, unit=args.unit)
    if args.documents:
        emit(ds, args, title="document statistics")
        return 0
    try:
        df = corpus_stats(args.corpus, by=args.by, tokens=not args.no_tokens, unit=args.unit, doc_stats=ds)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if args.by is None and args.format in (None, "table") and not args.output:
        df = df.drop(columns=["corpus"]).T.reset_index()
        df.columns = ["statistic", "value"]
    emit(df, args, title="corpus statistics" + (f" by {args.by}" if args.by else ""))
    return 0
