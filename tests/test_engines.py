"""The engines and worker counts never change the output: local with 1 worker, local with
2 worker processes and Ray (``engine="ray"``, which starts a 2-CPU local Ray) write
byte-identical tables and manifest from the same input."""
from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

from corpus_tools.engine import run_tasks, session
from corpus_tools.ingest.pipeline import ingest

ROOT = Path(__file__).resolve().parent.parent
OUTPUTS = ("pages.parquet", "documents.parquet", "removed.parquet", "sections.parquet", "manifest.json")


def _load_generate():
    spec = importlib.util.spec_from_file_location("bench_generate", ROOT / "benchmarks" / "generate.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory) -> Path:
    """The five seed pages plus a dozen generated pages (traditional, near-duplicate,
    no-line-break and GB18030 pages included by the generator's mix)."""
    gen = _load_generate()
    root = tmp_path_factory.mktemp("engines")
    data = root / "pages"
    # seeds are ~280 KB; ask for a bit more so that generated pages follow them
    gen.generate(400_000, seed=7, out=data, page_min=6_000, page_max=15_000)
    pages = sorted(p for p in data.rglob("*.txt"))
    assert sum(1 for p in pages if p.name.startswith("seed_")) == 5
    assert len(pages) >= 12
    return data


def _outputs(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in OUTPUTS}


@pytest.fixture(scope="module")
def local_one(small_corpus, tmp_path_factory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("local1") / "corpus"
    summary = ingest(small_corpus, out, workers=1, engine="local", resume=False)
    assert summary.counts["ok"] >= 12
    assert summary.n_documents > 30
    return _outputs(out)


def test_local_two_workers_identical(small_corpus, local_one, tmp_path):
    out = tmp_path / "corpus"
    ingest(small_corpus, out, workers=2, engine="local", resume=False)
    got = _outputs(out)
    for name in OUTPUTS:
        assert got[name] == local_one[name], f"{name} differs between 1 and 2 local workers"


def test_resume_identical(small_corpus, local_one, tmp_path):
    """A second run over kept per-page results (resume) writes the same bytes."""
    out = tmp_path / "corpus"
    ingest(small_corpus, out, workers=1, resume=False)
    shutil.copytree(out / ".work", tmp_path / "work-copy")
    (out / "manifest.json").unlink()
    ingest(small_corpus, out, workers=2, resume=True)
    got = _outputs(out)
    for name in OUTPUTS:
        assert got[name] == local_one[name], f"{name} differs after resuming"


def _arrow_imported_pandas(_: int) -> bool:
    import pyarrow as pa

    pa.array([1, 2])
    return "pandas" in sys.modules


def test_ray_identical(small_corpus, local_one, tmp_path):
    ray = pytest.importorskip("ray")
    if ray.is_initialized():  # pragma: no cover - another test left Ray running
        ray.shutdown()
    out = tmp_path / "corpus"
    with session("ray", workers=2):
        ingest(small_corpus, out, workers=2, engine="ray", resume=False)
        assert ray.is_initialized(), "a Ray that was running is left running"
        # Ray workers settle pyarrow's pandas check without importing pandas (~0.2 s each);
        # the probe is pickled by value (Ray's workers cannot import this test module)
        ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
        assert list(run_tasks(_arrow_imported_pandas, range(4), engine="ray", workers=2)) == [False] * 4
        # the shared argument is put in the object store once and reaches every task
        assert list(run_tasks(_scaled, range(5), engine="ray", workers=2, shared={"factor": 2, "bonus": {}})) \
            == [0, 2, 4, 6, 8]
    assert not ray.is_initialized(), "the engine shuts down the Ray it started"
    got = _outputs(out)
    for name in OUTPUTS:
        assert got[name] == local_one[name], f"{name} differs between local and Ray"


def _square(x: int) -> int:
    return x * x


@pytest.mark.parametrize("workers", [1, 2])
def test_while_running_is_called_once_and_results_stay_in_order(workers):
    calls = []
    got = list(run_tasks(_square, range(7), workers=workers, while_running=lambda: calls.append(1)))
    assert got == [x * x for x in range(7)] and calls == [1]


def _scaled(x: int, shared: dict) -> int:
    return x * shared["factor"] + shared["bonus"].get(x, 0)


@pytest.mark.parametrize("workers", [1, 2])
def test_shared_argument_reaches_every_task(workers):
    """``shared`` is handed to each worker once and every task gets it as its second argument."""
    shared = {"factor": 3, "bonus": {5: 100}}
    got = list(run_tasks(_scaled, range(9), workers=workers, shared=shared))
    assert got == [x * 3 + (100 if x == 5 else 0) for x in range(9)]


@pytest.mark.parametrize("workers", [2, 3])
def test_tasks_in_flight_are_bounded(monkeypatch, workers):
    """Only a window of tasks is submitted ahead of the results taken (Executor.map would
    submit them all and hold every task's arguments, e.g. chunks of texts, until its result
    is taken); the results are still all there, in order."""
    import corpus_tools.engine as eng

    monkeypatch.setattr(eng, "IN_FLIGHT_PER_WORKER", 2)
    made: list[int] = []

    def items():
        for i in range(40):
            made.append(i)
            yield i

    it = run_tasks(_square, items(), workers=workers)
    got = [next(it)]
    assert len(made) <= 2 * workers + 1  # the window, plus the one submitted as the first was taken
    got += list(it)
    assert got == [x * x for x in range(40)] and len(made) == 40


def _touch(path: str) -> str:
    Path(path).write_text("done")
    return path


def test_tasks_start_while_the_caller_still_makes_them(tmp_path):
    """A generator of tasks is handed over item by item: here the third task is only made
    once the first has run in a worker, which would never happen if run_tasks listed the
    items before submitting them (the token cache fill relies on this to overlap its
    reading and hashing with the segmenting)."""
    import time

    first = tmp_path / "first"

    def items():
        yield str(first)
        yield str(tmp_path / "second")
        deadline = time.monotonic() + 60
        while not first.exists():
            assert time.monotonic() < deadline, "the first task did not run before the rest was made"
            time.sleep(0.01)
        yield str(tmp_path / "third")

    got = list(run_tasks(_touch, items(), workers=2))
    assert got == [str(first), str(tmp_path / "second"), str(tmp_path / "third")]


def test_warm_up_loads_what_workers_would_load():
    """The driver warms up while pool workers count line keys, so that the apply pass's
    pool, forked afterwards, inherits the loaded resources."""
    from corpus_tools.ingest import convert, repair
    from corpus_tools.ingest.pipeline import warm_up

    warm_up()
    assert repair._dictionary_counts.cache_info().currsize == 1
    assert repair._char_rank.cache_info().currsize == 1
    assert convert._script_tables.cache_info().currsize == 1
    assert repair._invisible_classes.cache_info().currsize == 1 and repair.TONE_CHARS._table is not None


_POOL_PANDAS_CHECK = """
import sys
from corpus_tools.engine import run_tasks

def task(_):
    import pyarrow as pa
    before = "pandas" in sys.modules
    pa.array(["a", None], pa.string())          # what the ingest and tokenize tasks do
    after_list = "pandas" in sys.modules
    df = pa.table({"a": [1, 2]}).to_pandas()    # a pandas API imports it for real
    import pandas as pd
    series = str(pa.array(pd.Series(["x", None])).type)  # and pandas objects convert as usual
    return before, after_list, len(df), series

print(list(run_tasks(task, [0, 1], workers=2)))
"""


def test_pool_workers_convert_lists_without_importing_pandas():
    """pyarrow would import pandas (~0.35 s a process) on a worker's first pa.array(list);
    the pool's initializer settles that check with pandas blocked, and pandas still works
    in the worker once something asks for it."""
    import subprocess

    out = subprocess.run([sys.executable, "-c", _POOL_PANDAS_CHECK], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str([(False, False, 2, "large_string")] * 2)


def test_ray_workers_of_a_job_the_caller_started_are_left_as_they_are(monkeypatch):
    """Only in a Ray job this package connected do the workers settle pyarrow's pandas check
    without pandas; a caller's own ``ray.init`` job runs the caller's tasks on the same
    workers, where ``pa.array(Series)`` must keep converting as pandas."""
    import corpus_tools.engine as eng

    settled: list[int] = []
    monkeypatch.setattr(eng, "arrow_without_pandas", lambda: settled.append(1))
    assert eng._in_ray_worker(_square, 3, False) == 9 and settled == []
    assert eng._in_ray_worker(_square, 3, True) == 9 and settled == [1]


def test_ray_without_address_joins_a_cluster_already_running():
    """``ray.init(num_cpus=...)`` raises when `ray start --head` already runs on this machine
    (Ray then joins that cluster, which refuses num_cpus): the engine joins it as it is."""
    import corpus_tools.engine as eng

    calls: list[dict] = []

    class FakeRay:
        @staticmethod
        def init(**kw):
            calls.append(kw)
            if "num_cpus" in kw:
                raise ValueError("When connecting to an existing cluster, num_cpus and num_gpus must not be provided.")

    eng._ray_init(FakeRay, 2, None)
    assert calls[0]["num_cpus"] == 2 and "num_cpus" not in calls[1] and "address" not in calls[1]

    class OtherError(FakeRay):
        @staticmethod
        def init(**kw):
            raise ValueError("object_store_memory too small")

    with pytest.raises(ValueError, match="too small"):
        eng._ray_init(OtherError, 2, None)
