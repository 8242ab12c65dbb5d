"""`corpus-tools ingest` and `corpus-tools tokenize` never import pandas (~0.4 s a process),
and write the same tables as the library in a process that has pandas."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from corpus_tools.ingest.pipeline import ingest
from corpus_tools.tables import plain_table

from conftest import RAW

SCRIPT = """
import sys
from corpus_tools.cli import main
rc1 = main(["ingest", sys.argv[1], "-o", sys.argv[2], "--workers", sys.argv[3]])
rc2 = main(["tokenize", sys.argv[2], "--workers", sys.argv[3], "--format", "json"])
print("PANDAS", "pandas" in sys.modules, rc1, rc2)
"""


def _cli(raw: Path, out: Path, workers: int) -> str:
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(raw), str(out), str(workers)],
                          capture_output=True, text=True, check=True)
    return proc.stdout


def test_commands_without_pandas_write_the_library_tables(tmp_path):
    lib = ingest(RAW, tmp_path / "lib", workers=1)  # this process has pandas
    assert "pandas" in sys.modules
    for workers in (1, 2):
        out = _cli(RAW, tmp_path / f"cli{workers}", workers)
        assert out.strip().endswith("PANDAS False 0 0"), out
        assert "documents per page: 10, 5, 13, 5, 2" in out  # the summary, from the page rows
        assert "characters kept: 94,649; removed: 6,786; traditional/mixed pages converted: 1" in out
        manifest = json.loads((tmp_path / f"cli{workers}" / "manifest.json").read_text())
        assert manifest["tables"] == json.loads((lib.out / "manifest.json").read_text())["tables"]
        row = json.loads(out[out.index("["):out.rindex("]") + 1])[0]
        assert row["units"] == 35 and row["segmented"] + row["from_cache"] == 35 and row["backend"]


def test_plain_table_aligns_wide_characters():
    text = plain_table([{"a": 1, "name": "工会"}, {"a": 123, "name": "x"}], ["a", "name"])
    assert text.splitlines() == ["  a  name", "  1  工会", "123     x"]
