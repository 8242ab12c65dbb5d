"""Executors: run independent tasks locally (one process or a process pool) or on Ray.

The executor only schedules; every task is a pure function of its arguments that writes
its own output part (atomically) and returns small facts, as in datatrove. Results come
back in task order, so the engines give byte-identical outputs.
"""
from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable, Iterable, Iterator

ENGINES = ("local", "ray")


def default_workers() -> int:
    return os.cpu_count() or 1


def run_tasks(fn: Callable[[Any], Any], items: Iterable[Any], *, engine: str = "local", workers: int = 1,
              address: str | None = None) -> Iterator[Any]:
    """Yield ``fn(item)`` for every item, in order."""
    items = list(items)
    if engine == "local":
        if workers <= 1 or len(items) <= 1:
            yield from map(fn, items)
            return
        with ProcessPoolExecutor(max_workers=workers) as ex:
            yield from ex.map(fn, items)
        return
    if engine == "ray":
        yield from _run_ray(fn, items, workers, address)
        return
    raise ValueError(f"unknown engine {engine!r} (choose from {', '.join(ENGINES)})")


def _run_ray(fn, items, workers, address):
    try:
        import ray
    except ImportError as exc:  # pragma: no cover - optional extra
        raise RuntimeError("the Ray engine needs the `ray` extra: pip install 'corpus-tools[ray]'") from exc
    started = False
    if not ray.is_initialized():
        if address:
            ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
        else:
            ray.init(num_cpus=max(1, workers), ignore_reinit_error=True, log_to_driver=False,
                     include_dashboard=False)
        started = True
    try:
        remote = ray.remote(fn)
        refs = [remote.remote(it) for it in items]
        for ref in refs:  # in order; tasks run concurrently on the cluster
            yield ray.get(ref)
    finally:
        if started:
            ray.shutdown()
