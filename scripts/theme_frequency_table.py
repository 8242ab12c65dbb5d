#!/usr/bin/env python
"""Write the theme frequency table of a corpus.

    python scripts/theme_frequency_table.py CORPUS_DIR --by year -o table.csv
    python scripts/theme_frequency_table.py CORPUS_DIR --by page -o table.parquet
    python scripts/theme_frequency_table.py CORPUS_DIR --by year --extend my_terms.toml

Same options as `corpus-tools themes` (this script is a thin wrapper around
corpus_tools.analysis.themes.theme_frequencies); the format follows the -o suffix
(.csv, .json, .parquet) or --format.
"""
from __future__ import annotations

import argparse
import sys

from corpus_tools.cli import EXIT_USAGE, UsageError
from corpus_tools.commands.themes import add_theme_options, build_table
from corpus_tools.tables import add_output_options, emit


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="theme_frequency_table.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_theme_options(p)
    add_output_options(p)
    args = p.parse_args(argv)
    try:
        df, title = build_table(args)
    except (UsageError, FileNotFoundError) as exc:
        print(f"theme_frequency_table.py: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    emit(df, args, title=title)
    return 0


if __name__ == "__main__":
    sys.exit(main())
