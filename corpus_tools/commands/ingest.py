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
    """Options shared by `ingest` and `run`. Defaults (None here) come from
    ``corpus-tools.toml`` [ingest] when present, else the documented defaults."""
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="files or folders (searched recursively)")
    p.add_argument("-o", "--out", required=True, metavar="OUT_DIR", help="directory to write the corpus to")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default 1; 0 = one per core)")
    p.add_argument("--engine", choices=["local", "ray"], default="local",
                   help="local process pool (default) or Ray (needs the `ray` extra)")
    p.add_argument("--address", default=None, help="Ray cluster address (with --engine ray), e.g. auto")
    p.add_argument("--boilerplate", metavar="TOML", default=None,
                   help="your own boilerplate rules (same layout as resources/boilerplate.toml)")
    p.add_argument("--no-templates", action="store_true", default=None,
                   help="do not learn lines repeated across pages as site chrome")
    p.add_argument("--template-min-pages", type=int, default=None,
                   help="pages a line must recur in to count as template (default 3)")
    p.add_argument("--max-page-mb", type=float, default=None, help="pages larger than this get status=error (default 64)")
    p.add_argument("--max-page-seconds", type=float, default=None, help="per-page time limit (default 300)")
    p.add_argument("--no-resume", action="store_true", help="ignore page results kept from earlier runs in OUT_DIR/.work")
    p.add_argument("--strict", action="store_true", default=None, help="every input must yield documents: empty pages fail the run too (exit 1); "
                        "with `run`, a failed page also stops the run before analysis")
    p.add_argument("--config", metavar="TOML", default=None, help="configuration file (default ./corpus-tools.toml if present)")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors (and no progress display)")


def _resolve(args: argparse.Namespace, cfg: dict) -> dict:
    """Command-line values where given, else the config file's [ingest] values."""
    ing = cfg["ingest"]
    pick = lambda flag, key: getattr(args, flag) if getattr(args, flag) is not None else ing[key]  # noqa: E731
    no_templates = args.no_templates if args.no_templates is not None else not ing["learn_templates"]
    args.strict = pick("strict", "strict")
    return dict(workers=pick("workers", "workers"), boilerplate=pick("boilerplate", "boilerplate"),
                learn_templates=not no_templates, template_min_pages=pick("template_min_pages", "template_min_pages"),
                max_page_mb=pick("max_page_mb", "max_page_mb"), max_page_seconds=pick("max_page_seconds", "max_page_seconds"))


def resolved_workers(workers: int | None) -> int:
    """``--workers`` / ``[ingest] workers`` as a process count (0 or unset = one per core)."""
    return workers or os.cpu_count() or 1


def run_ingest(args: argparse.Namespace, progress=None, cfg: dict | None = None):
    from ..config import ConfigError, load_config
    from ..ingest.pipeline import IngestConfig, ingest

    if cfg is None:
        try:
            cfg = load_config(args.config)
        except (ConfigError, FileNotFoundError) as exc:
            raise UsageError(str(exc)) from None
    o = _resolve(args, cfg)
    for inp in args.inputs:
        if not os.path.exists(inp) and not os.path.islink(inp):
            raise UsageError(f"input not found: {inp}")
    if o["boilerplate"] and not os.path.exists(o["boilerplate"]):
        raise UsageError(f"boilerplate file not found: {o['boilerplate']}")
    if o["workers"] is not None and o["workers"] < 0:
        raise UsageError("--workers must be 0 (one per core) or more")
    config = IngestConfig(boilerplate=o["boilerplate"], learn_templates=o["learn_templates"],
                          template_min_pages=o["template_min_pages"], max_page_bytes=int(o["max_page_mb"] * 2**20),
                          max_page_seconds=o["max_page_seconds"])
    workers = resolved_workers(o["workers"])
    try:
        return ingest(args.inputs, args.out, config=config, workers=workers, engine=args.engine,
                      address=args.address, progress=progress, resume=not args.no_resume)
    except RuntimeError as exc:  # e.g. the Ray extra is missing
        raise UsageError(str(exc)) from None


def print_summary(summary, file=sys.stdout) -> None:
    """The run in a few lines, from the page rows (not the ``pages`` DataFrame: the
    `ingest` command never imports pandas, see :func:`corpus_tools.engine.arrow_without_pandas`)."""
    pages = summary.page_rows
    c = summary.counts
    kept = sum(int(p["n_chars_kept"] or 0) for p in pages)
    removed = sum(int(p["n_chars_removed"] or 0) for p in pages)
    conv = sum(p["script"] in ("traditional", "mixed") for p in pages)
    print(f"corpus written to {summary.out}/", file=file)
    print(f"pages: {len(pages)} (ok {c['ok']}, empty {c['empty']}, error {c['error']}); documents: {summary.n_documents}", file=file)
    counts = [int(p["n_documents"]) for p in pages if p["status"] == "ok"]
    if len(counts) <= 20:
        per_page = ", ".join(map(str, counts))
    else:  # a distribution, not thousands of numbers
        from collections import Counter

        per_page = "; ".join(f"{k} docs: {v} pages" for k, v in sorted(Counter(counts).items()))
    print(f"documents per page: {per_page}", file=file)
    print(f"characters kept: {kept:,}; removed: {removed:,}; traditional/mixed pages converted: {conv}", file=file)
    errors = summary.errors()
    for source, error in errors[:20]:
        print(f"error: {source}: {error}", file=sys.stderr)
    n_err = len(errors)
    if n_err > 20:
        print(f"... and {n_err - 20} more errors (see pages.parquet, status == 'error')", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from ..engine import arrow_without_pandas
    from ..progress import Progress

    arrow_without_pandas()  # this command hands pyarrow no pandas objects: saves importing pandas
    with Progress(args.quiet) as p:
        summary = run_ingest(args, progress=p.stage("ingest", unit="pages"))
        p.finish("ingest")
    if not args.quiet:
        print_summary(summary)
    else:
        for source, error in summary.errors():
            print(f"error: {source}: {error}", file=sys.stderr)
    return exit_code(summary, args.strict)


def exit_code(summary, strict: bool) -> int:
    """0 ok, 1 partial (some pages had errors), 3 nothing ingested. With ``--strict`` an empty
    page fails the run too (every input must yield documents)."""
    code = summary.exit_code
    if strict and code == 0 and summary.counts["empty"]:
        code = 1
    return code


def register(sub) -> None:
    p = sub.add_parser("ingest", help="clean and split raw pages into a corpus directory",
                       description="Read raw scraped pages (.txt/.html, any common Chinese encoding), remove site "
                                   "chrome, repair scraping artifacts, convert to simplified characters, split "
                                   "multi-essay pages and write pages/documents/removed/sections tables.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_ingest_options(p)
    p.set_defaults(func=run)
