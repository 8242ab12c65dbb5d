"""Printing and saving result tables from the CLI (`--format csv|json|parquet -o FILE`)."""
from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from .store import atomic_write_bytes, atomic_write_text, parquet_bytes

if TYPE_CHECKING:  # pandas is imported on first use: `corpus-tools ingest` never needs it
    import pandas as pd


def add_output_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=["table", "csv", "json", "parquet"], default=None,
                   help="output format (default: a readable table on stdout; inferred from -o's suffix)")
    p.add_argument("-o", "--output", default=None, help="write the table to this file instead of stdout")


def emit(df: pd.DataFrame, args: argparse.Namespace, title: str | None = None) -> None:
    """Print ``df`` readably, or write it as csv/json/parquet to ``args.output``."""
    fmt = args.format
    out = args.output
    if fmt is None:
        fmt = "table"
        if out:
            suffix = out.rsplit(".", 1)[-1].lower()
            fmt = {"csv": "csv", "json": "json", "jsonl": "json", "parquet": "parquet"}.get(suffix, "csv")
    if fmt == "parquet":
        if not out:
            raise SystemExit("--format parquet needs -o FILE")
        atomic_write_bytes(out, parquet_bytes(df))
    else:
        if fmt == "csv":
            text = df.to_csv(index=False)
        elif fmt == "json":
            text = df.to_json(orient="records", force_ascii=False, indent=1)
        else:
            import pandas as pd

            with pd.option_context("display.max_rows", 200, "display.max_columns", 20,
                                   "display.width", 200, "display.unicode.east_asian_width", True):
                text = (f"{title}\n" if title else "") + df.to_string(index=False) + "\n"
        if out:
            atomic_write_text(out, text)
        else:
            sys.stdout.write(text)
    if out:
        print(f"wrote {len(df)} rows to {out}", file=sys.stderr)
