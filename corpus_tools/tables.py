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


def _format(args: argparse.Namespace) -> tuple[str, str | None]:
    """(format, output file): ``--format``, else a table on stdout, else from -o's suffix."""
    fmt, out = args.format, args.output
    if fmt is None:
        fmt = "table"
        if out:
            suffix = out.rsplit(".", 1)[-1].lower()
            fmt = {"csv": "csv", "json": "json", "jsonl": "json", "parquet": "parquet"}.get(suffix, "csv")
    return fmt, out


def emit(df: pd.DataFrame, args: argparse.Namespace, title: str | None = None) -> None:
    """Print ``df`` readably, or write it as csv/json/parquet to ``args.output``."""
    fmt, out = _format(args)
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


def emit_rows(rows: list[dict], args: argparse.Namespace, title: str | None = None) -> None:
    """:func:`emit` for a few summary rows, without pandas for a table, csv or json (a
    command that needs nothing else from pandas does not pay its ~0.4 s import to print
    one line); parquet goes through :func:`emit`."""
    fmt, out = _format(args)
    if fmt == "parquet":
        import pandas as pd

        emit(pd.DataFrame(rows), args, title)
        return
    columns = list(rows[0]) if rows else []
    if fmt == "csv":
        import csv
        import io

        buf = io.StringIO()
        w = csv.DictWriter(buf, columns, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
        text = buf.getvalue()
    elif fmt == "json":
        import json

        text = json.dumps(rows, ensure_ascii=False, indent=1) + "\n"
    else:
        text = (f"{title}\n" if title else "") + plain_table(rows, columns)
    if out:
        atomic_write_text(out, text)
        print(f"wrote {len(rows)} rows to {out}", file=sys.stderr)
    else:
        sys.stdout.write(text)


def _width(s: str) -> int:
    from unicodedata import east_asian_width

    return sum(2 if east_asian_width(c) in "WF" else 1 for c in s)


def plain_table(rows: list[dict], columns: list[str]) -> str:
    """Rows as right-aligned columns under their names (as pandas prints a small frame)."""
    cells = [columns] + [["" if r.get(c) is None else str(r.get(c)) for c in columns] for r in rows]
    widths = [max(_width(row[i]) for row in cells) for i in range(len(columns))]
    return "".join("  ".join(" " * (w - _width(v)) + v for v, w in zip(row, widths)) + "\n" for row in cells)

