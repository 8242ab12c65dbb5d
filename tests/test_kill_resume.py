"""SIGKILL `corpus-tools ingest` at random points, resume, and get the same bytes.

300 pages are generated from the seeds (slices, perturbations, duplicates). A clean run
writes one reference corpus; a second output directory is killed several times (seeded
random delays) and then run to completion (resume is the default). Every table and the
manifest must be byte-identical to the reference, and at every kill point the directory
holds either no table or complete, readable Parquet tables.
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from corpus_tools.ingest.pipeline import stored_results

REPO = Path(__file__).resolve().parents[1]
SEEDS = sorted((REPO / "data" / "raw").glob("*.txt"))
TABLES = ("pages", "documents", "removed", "sections")
CLI = [str(Path(sys.executable).with_name("corpus-tools"))]
if not Path(CLI[0]).exists():  # pragma: no cover
    CLI = [sys.executable, "-m", "corpus_tools.cli"]


def make_pages(folder: Path, n: int = 300, seed: int = 7) -> None:
    """Deterministic pages: line slices of the seed pages (004 has no line breaks: character
    slices), some with a perturbed line, plus exact duplicates under other names."""
    rng = random.Random(seed)
    texts = [p.read_text(encoding="utf-8") for p in SEEDS]
    folder.mkdir(parents=True)
    made: list[bytes] = []
    for i in range(n):
        if made and i % 25 == 0:  # duplicates: identical bytes, another name
            data = made[rng.randrange(len(made))]
        else:
            t = texts[rng.randrange(len(texts))]
            lines = t.split("\n")
            if len(lines) > 5:
                a = rng.randrange(len(lines) - 3)
                chunk = "\n".join(lines[a:a + rng.randint(10, 60)])
            else:
                a = rng.randrange(max(1, len(t) - 2000))
                chunk = t[a:a + rng.randint(1000, 4000)]
            if rng.random() < 0.3:  # perturb: an extra numbered line and some spaces
                chunk = f"工会工作材料第{i}份\n" + chunk.replace("，", " ，", 1)
            data = chunk.encode("utf-8")
        made.append(data)
        (folder / f"p{i // 100}" / f"page_{i:03d}.txt").parent.mkdir(exist_ok=True)
        (folder / f"p{i // 100}" / f"page_{i:03d}.txt").write_bytes(data)


def _cmd(inp: Path, out: Path, workers: int = 2) -> list[str]:
    return [*CLI, "ingest", str(inp), "-o", str(out), "--workers", str(workers), "--quiet"]


def _check_tables_complete(out: Path) -> int:
    """Every visible table in ``out`` is a complete Parquet file. Returns how many exist."""
    n = 0
    for name in TABLES:
        p = out / f"{name}.parquet"
        if p.exists():
            pd.read_parquet(p)  # raises on a truncated file
            n += 1
    if (out / "manifest.json").exists():
        import json

        json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return n


def _n_results(out: Path) -> int:
    return len(stored_results(out / ".work"))  # page results in complete packs


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("kill")
    inp = tmp / "in"
    make_pages(inp)
    clean, killed = tmp / "clean", tmp / "killed"

    t0 = time.monotonic()
    res = subprocess.run(_cmd(inp, clean, workers=1), capture_output=True, text=True, timeout=120)
    t_clean = time.monotonic() - t0
    assert res.returncode == 0, res.stderr

    # killed runs use 2 workers (the reference used 1: the output must not depend on it).
    # The first kill comes at a random early moment; the others once a given number of page
    # results exist (a timing-free way to land mid-run however fast the pipeline gets)
    rng = random.Random(2024)
    outcomes = []
    for k, target in enumerate((None, 40, 150, 260)):
        proc = subprocess.Popen(_cmd(inp, killed), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        if target is None:
            time.sleep(rng.uniform(0.2, 0.5) * t_clean)
        else:
            deadline = time.monotonic() + 60
            while proc.poll() is None and _n_results(killed) < target and time.monotonic() < deadline:
                time.sleep(0.01)
        finished = proc.poll() is not None
        if not finished:
            os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its worker processes
        proc.wait(timeout=30)
        n_tables = _check_tables_complete(killed)  # never a truncated table
        outcomes.append({"target": target, "state": "finished" if finished else "killed",
                         "tables": n_tables, "page_results": _n_results(killed)})
    print(f"clean run {t_clean:.2f}s; kill points: {outcomes}")
    res = subprocess.run(_cmd(inp, killed), capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return {"clean": clean, "killed": killed, "outcomes": outcomes, "inp": inp}


@pytest.mark.slow
def test_kills_happened_mid_run(runs):
    killed = [o for o in runs["outcomes"] if o["state"] == "killed"]
    assert killed, runs["outcomes"]
    # at least one kill after some page results were written (resume has work to reuse)
    assert any(o["page_results"] > 0 for o in killed), runs["outcomes"]


@pytest.mark.slow
def test_resumed_tables_are_byte_identical(runs):
    clean, killed = runs["clean"], runs["killed"]
    for name in TABLES:
        assert (clean / f"{name}.parquet").read_bytes() == (killed / f"{name}.parquet").read_bytes(), name
    assert (clean / "manifest.json").read_bytes() == (killed / "manifest.json").read_bytes()


@pytest.mark.slow
def test_resumed_tables_are_equal_up_to_duplicate_titles(runs):
    """Everything but the title of byte-duplicate pages is identical (see the xfail above)."""
    clean, killed = runs["clean"], runs["killed"]
    for name in TABLES:
        a, b = pd.read_parquet(clean / f"{name}.parquet"), pd.read_parquet(killed / f"{name}.parquet")
        if name == "documents":
            dup = a["page_id"].str.contains("~") | a["page_id"].isin(
                a.loc[a["page_id"].str.contains("~"), "page_id"].str.split("~").str[0])
            a.loc[dup, "title"] = b.loc[dup, "title"] = None
        pd.testing.assert_frame_equal(a, b, obj=name)
    pages = pd.read_parquet(killed / "pages.parquet")
    assert len(pages) == 300 and (pages.status == "ok").sum() >= 290


def test_generated_pages_are_deterministic(tmp_path):
    make_pages(tmp_path / "a")
    make_pages(tmp_path / "b")
    fa = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.txt"))
    assert len(fa) == 300
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in fa)
