"""Executors: run independent tasks locally (one process or a process pool) or on Ray.

The executor only schedules; every task is a pure function of its arguments that writes
its own output part (atomically) and returns small facts, as in datatrove. Results come
back in task order, so the engines give byte-identical outputs.
"""
from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from itertools import islice
from typing import Any, Callable, Iterable, Iterator

ENGINES = ("local", "ray")
IN_FLIGHT_PER_WORKER = 16  # tasks submitted ahead per worker: busy workers (also while the caller
# runs while_running), bounded memory


def default_workers() -> int:
    return os.cpu_count() or 1


@contextmanager
def session(engine: str = "local", workers: int = 1, address: str | None = None) -> Iterator[None]:
    """Keep one engine up across several :func:`run_tasks` calls (Ray starts once per
    ingest, not once per pass). A Ray that was already running is left running."""
    if engine != "ray":
        yield
        return
    try:
        import ray
    except ImportError as exc:  # pragma: no cover - optional extra
        raise RuntimeError("the Ray engine needs the `ray` extra: pip install 'corpus-tools[ray]'") from exc
    global _OWN_RAY_JOB
    started = False
    if not ray.is_initialized():
        _ray_init(ray, workers, address)
        started = _OWN_RAY_JOB = True
    try:
        yield
    finally:
        if started:
            _OWN_RAY_JOB = False
            ray.shutdown()


def _ray_init(ray, workers: int, address: str | None) -> None:
    if address:
        ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
    else:
        # Ray 2.60, 2 CPUs: init ~2.6-4.3 s (start of the dashboard head, then agents, run
        # one after the other) and shutdown ~1.35 s (~1 s of it waiting for the autoscaler
        # monitor). No ray.init option changes this: configure_logging, small
        # object_store_memory, _temp_dir, usage stats off, enable_metrics_collection=False
        # were all measured with no effect. Worker prestart is already the default.
        try:
            ray.init(num_cpus=max(1, workers), ignore_reinit_error=True, log_to_driver=False,
                     include_dashboard=False)
        except ValueError as exc:
            # Ray's own rule: without an address, ray.init joins a cluster already running on
            # this machine (`ray start --head`), and then refuses num_cpus; join it as it is
            if "existing cluster" not in str(exc):
                raise
            ray.init(ignore_reinit_error=True, log_to_driver=False)


_NOTHING = object()


def run_tasks(fn: Callable[..., Any], items: Iterable[Any], *, engine: str = "local", workers: int = 1,
              address: str | None = None, while_running: Callable[[], None] | None = None,
              shared: Any = _NOTHING) -> Iterator[Any]:
    """Yield ``fn(item)`` for every item, in order. ``while_running`` is called once in this
    process after the tasks were handed to the workers (or before they run in-process).

    ``items`` may be a generator: each item is handed to the workers as soon as it is made,
    so they start on the first tasks while the caller is still planning the rest.

    ``shared``: one argument every task needs (e.g. the learned template keys), handed to
    each worker once instead of with every task; the tasks are then ``fn(item, shared)``.
    (A pool worker gets it at its start, by fork without pickling; on Ray it is put in the
    object store once: 864 tasks with a 145 KB argument took 2.2-2.8 s on 2 CPUs inline,
    0.75 s put once.)"""
    from itertools import chain

    extra = () if shared is _NOTHING else (shared,)
    items = iter(items)
    head = list(islice(items, 2))  # one task (or none) runs in this process: no pool to start
    if engine == "local":
        if workers <= 1 or len(head) <= 1:
            if while_running:
                while_running()
            yield from (fn(it, *extra) for it in chain(head, items))
            return
        with ProcessPoolExecutor(max_workers=workers, initializer=_pool_worker_start, initargs=(extra,)) as ex:
            yield from _windowed(lambda it: ex.submit(_in_pool_worker, fn, it), lambda fut: fut.result(),
                                 chain(head, items), IN_FLIGHT_PER_WORKER * workers, while_running)
        return
    if engine == "ray":
        yield from _run_ray(fn, chain(head, items), workers, address, while_running, extra)
        return
    raise ValueError(f"unknown engine {engine!r} (choose from {', '.join(ENGINES)})")


_POOL_SHARED: tuple = ()  # in a pool worker: run_tasks' ``shared`` argument, if any


def _pool_worker_start(extra: tuple) -> None:
    global _POOL_SHARED
    _POOL_SHARED = extra
    arrow_without_pandas()


def _in_pool_worker(fn: Callable[..., Any], item: Any) -> Any:
    return fn(item, *_POOL_SHARED)


class _NoPandas:
    """A meta-path finder under which ``import pandas`` fails."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name == "pandas":
            raise ImportError("pandas is not imported here (see arrow_without_pandas)")


def arrow_without_pandas() -> None:
    """Settle pyarrow's lazy pandas check without importing pandas, in a process that hands
    pyarrow no pandas objects: pool and Ray workers (at their start) and the `ingest` and
    `tokenize` commands (whose summaries are printed without pandas too).

    The first ``pa.array(list)`` of a process imports pandas (~0.4 s), only to ask whether
    the list is a pandas object: in a one-worker run of either command that was a sixth of
    the time at 10 MB. Here the check is made once with pandas blocked: pyarrow then treats
    nothing as a pandas object until a pandas API (``to_pandas``, ``Table.from_pandas``)
    imports it for real. (``pa.array(series)`` before such a call would convert the Series
    as a plain sequence — an object Series holding NaN fails — so a process that may do that,
    a notebook or `corpus-tools run`, must not call this; with pandas already imported it
    does nothing.)"""
    import sys

    global _ARROW_SETTLED
    if _ARROW_SETTLED or "pandas" in sys.modules:
        return
    _ARROW_SETTLED = True
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover - a core dependency
        return
    blocker = _NoPandas()
    sys.meta_path.insert(0, blocker)
    try:
        pa.array([0])
    finally:
        sys.meta_path.remove(blocker)


_ARROW_SETTLED = False
_OWN_RAY_JOB = False  # this process connected to Ray (the job's workers run only our tasks)


def _in_ray_worker(fn: Callable[..., Any], item: Any, settle_arrow: bool, *extra: Any) -> Any:
    """A task on a Ray worker (``extra``: the shared argument, resolved by Ray from the
    object store). Ray has no pool initializer, so in a job of our own the worker settles
    pyarrow's pandas check at its first task (a fresh Ray worker imported pandas there:
    ~0.2 s each). In a job the caller started (``ray.init`` in a notebook) the workers also
    run the caller's tasks, so they are left as they are."""
    if settle_arrow:
        arrow_without_pandas()
    return fn(item, *extra)


def _run_ray(fn, items, workers, address, while_running=None, extra: tuple = ()):
    import ray

    with session("ray", workers, address):  # joins a running Ray, else starts one for this call
        remote, settle = ray.remote(_in_ray_worker), _OWN_RAY_JOB
        refs = tuple(ray.put(x) for x in extra)  # once, not with every task
        cpus = int(ray.cluster_resources().get("CPU", workers) or workers)
        # in order; tasks run concurrently on the cluster, a bounded number submitted ahead
        yield from _windowed(lambda it: remote.remote(fn, it, settle, *refs), ray.get, items,
                             IN_FLIGHT_PER_WORKER * max(workers, cpus), while_running)


def batched(items: Iterable[Any], n: int) -> Iterator[list[Any]]:
    """Lists of ``n`` consecutive items (the last one shorter): the tasks of a stream."""
    it = iter(items)
    while batch := list(islice(it, n)):
        yield batch


def _windowed(submit: Callable[[Any], Any], result: Callable[[Any], Any], items: Iterator[Any], window: int,
              while_running: Callable[[], None] | None) -> Iterator[Any]:
    """Yield the results of the items' tasks in order, keeping at most ``window`` submitted
    and not yet consumed: the next task is submitted as each result is taken, before it is
    handed on. (``Executor.map`` and a list of Ray refs submit every task at once, holding
    every task's arguments — e.g. a chunk of texts each — until its result is taken.)"""
    from collections import deque

    pending: deque = deque(submit(it) for it in islice(items, max(1, window)))
    if while_running:
        while_running()
    while pending:
        done = result(pending.popleft())
        nxt = next(items, _END)
        if nxt is not _END:
            pending.append(submit(nxt))
        yield done


_END = object()
