"""The benchmark runner's report: the committed results render to the committed RESULTS.md."""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _bench_run():
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "benchmarks" / "run.py")
    mod = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        spec.loader.exec_module(mod)
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return mod


def test_committed_results_render_to_the_committed_markdown():
    """RESULTS.md is what `render` makes of results.json (header command included), so a
    change to the renderer that would change the committed table shows here."""
    run = _bench_run()
    results = json.loads((ROOT / "benchmarks" / "results.json").read_text(encoding="utf-8"))
    assert run.render(results) == (ROOT / "benchmarks" / "RESULTS.md").read_text(encoding="utf-8")


def test_speed_probe_and_its_paragraph():
    run = _bench_run()
    assert 0 < run.speed_probe(20_000) < 5
    runs = [{"probe_s": 0.08}, {"probe_s": 0.06}, {"probe_s": 0.12}, {}]
    (line, blank) = run._probe_lines({"runs": runs})
    assert "median 0.080 s" in line and "0.060–0.120 s" in line and "2.00" in line and blank == ""
    assert run._probe_lines({"runs": [{}]}) == []  # results from before the probe: no paragraph


def test_ingest_and_tokenize_steps_run_the_commands(tmp_path):
    """The measured steps are the user's commands (`corpus-tools ingest` / `tokenize`)."""
    run = _bench_run()
    out = tmp_path / "corpus"
    r = run.step_ingest({"data": str(ROOT / "data" / "raw"), "out": str(out), "workers": 1, "engine": "local"})
    assert r["counts"]["pages"] == 5 and r["counts"]["documents"] == 35 and len(r["tables"]) == 4
    assert set(r["timings"]) >= {"templates", "clean_split", "merge_sections"}
    t = run.step_tokenize({"corpus": str(out), "workers": 1})
    assert t["units"] == 35 and t["n_tokens"] > 10_000 and t["warm_from_cache"] == 35
    assert t["seconds_cold"] > 0 and t["text_bytes"] > 200_000
    assert not (out / "cache").exists()  # the step leaves the corpus as it found it
