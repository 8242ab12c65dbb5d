"""`corpus-tools report CORPUS_DIR [-o report.html]`: one self-contained HTML report."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ..cli import UsageError

DESCRIPTION = """\
Write one self-contained HTML report of a corpus directory: inline CSS, every plot an
embedded PNG (Chinese labels in a CJK font), no JavaScript, nothing fetched from the
network — open it in any browser or mail it around.

Contents: the corpus at a glance (pages, documents, characters, scripts, encodings,
errors) and what cleaning removed, by rule; documents per year and genre; numbered
section depth and top-level section roles; theme frequencies (theme x year, or x genre
when few documents are dated); a small LDA topic model with coherence; the top slogans
and their timeline; near-duplicate clusters; and every page with its status.
All scraped text is HTML-escaped. A section whose analysis fails says
"not available: <reason>" and the rest of the report still renders.

Defaults come from the [report] section of ./corpus-tools.toml when present
(see docs/config.md); options given here override it."""

EPILOG = """examples:
  corpus-tools report build/                      # writes build/report.html
  corpus-tools report build/ -o ~/reports/unions.html
  corpus-tools report build/ --topics 12 --slogans 50 --seed 7
  corpus-tools report build/ --no-embed-font --quiet"""


def register(sub) -> None:
    p = sub.add_parser("report", help="a self-contained HTML report with plots (no scripts, no network)",
                       description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("corpus", metavar="CORPUS_DIR", help="corpus directory (written by `corpus-tools ingest`)")
    p.add_argument("-o", "--output", default=None, metavar="FILE",
                   help="HTML file to write (default: CORPUS_DIR/report.html, or [report] output)")
    p.add_argument("--topics", type=int, default=None, metavar="K",
                   help="topics in the report's LDA model (default 8)")
    p.add_argument("--slogans", type=int, default=None, metavar="N", help="slogans to list (default 30)")
    p.add_argument("--seed", type=int, default=None, help="random seed of the topic model (default 13)")
    p.add_argument("--no-embed-font", action="store_true",
                   help="do not embed a subset of the CJK font (smaller file; Chinese text then uses "
                        "the viewer's fonts)")
    p.add_argument("--config", default=None, metavar="TOML",
                   help="config file (default: ./corpus-tools.toml if present)")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..config import ConfigError, load_config
    from ..report import build_report

    corpus = Path(args.corpus)
    if not corpus.is_dir():
        raise UsageError(f"corpus directory not found: {corpus}")
    if not (corpus / "documents.parquet").exists() or not (corpus / "pages.parquet").exists():
        raise UsageError(f"{corpus} is not a corpus directory (no pages.parquet/documents.parquet; "
                         "run `corpus-tools ingest` first)")
    try:
        cfg = load_config(args.config)["report"]
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc
    for name, value in (("--topics", args.topics), ("--slogans", args.slogans)):
        if value is not None and value < 1:
            raise UsageError(f"{name} must be at least 1, not {value}")
    out = Path(args.output) if args.output else corpus / cfg["output"]
    if out.exists() and out.is_dir():
        raise UsageError(f"-o {out} is a directory; give a file name such as {out / 'report.html'}")
    t0 = time.perf_counter()
    path = build_report(corpus, out, quiet=args.quiet,
                        top_slogans=args.slogans if args.slogans is not None else cfg["top_slogans"],
                        k_topics=args.topics if args.topics is not None else cfg["k_topics"],
                        seed=args.seed if args.seed is not None else cfg["seed"],
                        topic_passes=cfg["topic_passes"], max_pages_listed=cfg["max_pages_listed"],
                        min_years_for_timeline=cfg["min_years_for_timeline"],
                        embed_font=cfg["embed_font"] and not args.no_embed_font)
    if not args.quiet:
        size = path.stat().st_size
        print(f"report written to {path} ({size / 1024:,.0f} KB, {time.perf_counter() - t0:.1f}s)", file=sys.stderr)
    return 0
