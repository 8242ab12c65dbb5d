"""`corpus-tools themes`: theme frequency table per document / page / year / section role."""
from __future__ import annotations

import argparse

from ..cli import UsageError
from ..tables import add_output_options, emit


def add_theme_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("corpus", help="corpus directory (written by `corpus-tools ingest`)")
    p.add_argument("--by", default="year",
                   help="group by: document, page, year, section_role, genre, org_type, all, or any column "
                        "(default: year)")
    p.add_argument("--unit", choices=["document", "section"], default="document")
    p.add_argument("--lexicon", default=None, help="a themes TOML file that replaces the shipped lexicon")
    p.add_argument("--extend", default=None, help="a themes TOML file whose themes/terms are added to the lexicon")
    p.add_argument("--wide", metavar="VALUE", default=None,
                   help="pivot to one column per theme with this value (e.g. hits_per_10k_chars)")
    p.add_argument("--terms", action="store_true", help="per-term hit counts instead (which terms drive a theme)")
    p.add_argument("--list", action="store_true", help="print the lexicon (themes, labels, terms) and exit")


def register(sub) -> None:
    p = sub.add_parser(
        "themes", help="how often each area of union work is mentioned, per year/page/document",
        description="Count theme terms (resources/themes.toml: rights, democratic management, ideology, "
                    "welfare, culture & sports, skills & competitions, organisation, women workers, safety, "
                    "finance) in the clean text — substring matches, longest term first — and print a tidy "
                    "table: group, theme, hits, hits_per_10k_chars, share_of_documents, n_units, n_chars.",
        epilog="Examples:\n  corpus-tools themes corpus/ --by year -o themes_by_year.csv\n"
               "  corpus-tools themes corpus/ --by page --wide hits_per_10k_chars\n"
               "  corpus-tools themes corpus/ --by section_role\n"
               "  corpus-tools themes corpus/ --extend my_terms.toml --by genre\n"
               "  corpus-tools themes corpus/ --list",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_theme_options(p)
    add_output_options(p)
    p.set_defaults(func=run)


def build_table(args: argparse.Namespace):
    from ..analysis.themes import lexicon_table, term_frequencies, theme_frequencies

    by = None if args.by in ("all", "none") else args.by
    if args.list:
        return lexicon_table(args.lexicon, args.extend), "theme lexicon"
    try:
        if args.terms:
            df = term_frequencies(args.corpus, by=by, lexicon=args.lexicon, extend=args.extend, unit=args.unit)
            return df[df["hits"] > 0].reset_index(drop=True), "theme term hits"
        df = theme_frequencies(args.corpus, by=by, lexicon=args.lexicon, extend=args.extend, unit=args.unit)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if args.wide:
        if args.wide not in df.columns:
            raise UsageError(f"--wide: no column {args.wide!r}")
        group = df.columns[0]
        df = df.pivot(index=group, columns="theme", values=args.wide)[list(dict.fromkeys(df["theme"]))].reset_index()
        df.columns.name = None
    return df, f"theme frequencies by {args.by}"


def run(args: argparse.Namespace) -> int:
    df, title = build_table(args)
    emit(df, args, title=title)
    return 0
