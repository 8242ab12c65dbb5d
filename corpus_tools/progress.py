"""One progress display for a whole run, plus a per-stage timing/count summary.

>>> from corpus_tools.progress import Progress
>>> with Progress(quiet=False) as p:                              # doctest: +SKIP
...     summary = ingest(["data/raw"], "build", progress=p.stage("ingest", unit="pages"))
...     with p.timed("report"):
...         build_report("build")
>>> p.print_summary()                                             # doctest: +SKIP
ingest   5 pages   1.2s   4.2 pages/s
report             3.4s

:meth:`Progress.stage` returns a callback ``(stage, done, total)`` — the signature of
``ingest(..., progress=cb)`` — that drives one rich bar per stage (the stage name comes from
the call, so one callback serves every stage a function reports). The bars are drawn on
stderr only when it is a terminal and ``quiet`` is false; timings and counts are recorded
either way, so :meth:`Progress.print_summary` / :meth:`Progress.summary` always work.
"""
from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator, TextIO

__all__ = ["Progress", "StageStats", "ProgressCallback", "format_summary", "print_summary"]

ProgressCallback = Callable[[str, int, int], None]


@dataclass
class StageStats:
    """Timing and count of one stage."""

    name: str
    unit: str = "items"
    done: int = 0
    total: int | None = None
    started: float = field(default_factory=time.perf_counter)
    finished: float | None = None

    @property
    def seconds(self) -> float:
        return (self.finished if self.finished is not None else time.perf_counter()) - self.started

    @property
    def rate(self) -> float | None:
        s = self.seconds
        return self.done / s if self.done and s > 0 else None

    def as_dict(self) -> dict:
        return {"stage": self.name, "unit": self.unit, "done": self.done, "total": self.total,
                "seconds": round(self.seconds, 3), "rate": round(self.rate, 3) if self.rate else None}


def _make_rate_column():
    from rich.progress import ProgressColumn
    from rich.text import Text

    class RateColumn(ProgressColumn):
        """``12.3 pages/s`` (rich's smoothed speed, else done / elapsed)."""

        def render(self, task) -> Text:
            speed = task.speed
            if speed is None and task.elapsed and task.completed:
                speed = task.completed / task.elapsed
            unit = task.fields.get("unit", "items")
            if not unit:
                return Text("")
            return Text(f"{speed:,.1f} {unit}/s" if speed else f"– {unit}/s", style="progress.data.speed")

    return RateColumn()


class Progress:
    """A progress display for a whole run: one bar per stage, shown on stderr.

    ``quiet=True`` or a non-terminal stderr (pipes, CI logs, tests) draws nothing; ``enabled``
    forces the decision either way. Use as a context manager; stages are added with
    :meth:`stage` (counted work, returns an ``ingest``-compatible callback) or :meth:`timed`
    (a block of work without counts).
    """

    def __init__(self, quiet: bool = False, file: TextIO | None = None, enabled: bool | None = None):
        self.file = file if file is not None else sys.stderr
        if enabled is None:
            enabled = not quiet and bool(getattr(self.file, "isatty", lambda: False)())
        self.enabled = enabled
        self.quiet = quiet
        self.stages: dict[str, StageStats] = {}
        self._rich = None
        self._tasks: dict[str, int] = {}
        self._owner = True

    # ---- context
    _active: "Progress | None" = None  # the Progress currently drawing in this process

    def __enter__(self) -> "Progress":
        outer = Progress._active
        if outer is not None and outer._rich is not None:
            # nested (e.g. build_report inside `run`): add our bars to the outer display
            self._rich = outer._rich if self.enabled else None
            self._owner = False
            return self
        self._owner = True
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress as RichProgress, TextColumn, \
                TimeElapsedColumn

            console = Console(file=self.file, stderr=self.file is sys.stderr)
            self._rich = RichProgress(TextColumn("[bold]{task.description:<10}"), BarColumn(), MofNCompleteColumn(),
                                      _make_rate_column(), TimeElapsedColumn(), console=console, transient=False)
            try:
                self._rich.__enter__()
                Progress._active = self
            except Exception:  # another live display is active (e.g. the caller's own rich Live)
                self._rich, self.enabled = None, False
        return self

    def __exit__(self, *exc) -> None:
        for st in self.stages.values():
            if st.finished is None:
                st.finished = time.perf_counter()
        if self._rich is not None and getattr(self, "_owner", True):
            self._rich.__exit__(*exc)
            if Progress._active is self:
                Progress._active = None
        self._rich = None

    # ---- stages
    def _get(self, name: str, total: int | None = None, unit: str = "items") -> StageStats:
        st = self.stages.get(name)
        if st is None:
            st = self.stages[name] = StageStats(name, unit=unit, total=total)
            if self._rich is not None:
                self._tasks[name] = self._rich.add_task(name, total=total, unit=unit)
        elif total is not None and st.total != total:
            st.total = total
            if self._rich is not None:
                self._rich.update(self._tasks[name], total=total)
        return st

    def update(self, stage: str, done: int, total: int | None = None) -> None:
        """Record that ``done`` of ``total`` items of ``stage`` are finished."""
        st = self._get(stage, total)
        st.done = int(done)
        if st.total is not None and st.done >= st.total:
            st.finished = time.perf_counter()
        elif st.finished is not None:
            st.finished = None
        if self._rich is not None:
            self._rich.update(self._tasks[stage], completed=st.done)

    def stage(self, name: str, total: int | None = None, unit: str = "pages") -> ProgressCallback:
        """Start (or resume) stage ``name`` and return a callback ``(stage, done, total)``.

        The callback updates the bar of the stage it is called with, so a function reporting
        several stages (``progress("ingest", ...)``, ``progress("sections", ...)``) gets one bar each.
        """
        self._get(name, total, unit)

        def callback(stage: str, done: int, total_: int) -> None:
            if stage not in self.stages:
                self._get(stage, total_, unit)
            self.update(stage, done, total_)

        return callback

    def finish(self, name: str, done: int | None = None) -> None:
        """Mark a stage finished now (optionally with its final count)."""
        st = self._get(name)
        if done is not None:
            st.done = int(done)
            if st.total is None:
                st.total = st.done
        st.finished = time.perf_counter()
        if self._rich is not None:
            total = st.total or st.done or 1
            self._rich.update(self._tasks[name], completed=st.done or total, total=total)

    @contextmanager
    def timed(self, name: str, unit: str = "") -> Iterator[StageStats]:
        """Time a block as a stage without a count (the bar spins until it ends)."""
        st = self._get(name, None, unit)
        st.started = time.perf_counter()
        try:
            yield st
        finally:
            self.finish(name)

    # ---- summary
    def summary(self) -> list[dict]:
        """One dict per stage in start order: stage, unit, done, total, seconds, rate."""
        return [st.as_dict() for st in self.stages.values()]

    def print_summary(self, file: TextIO | None = None) -> None:
        """Print the per-stage timing/count table (unless ``quiet``)."""
        if self.quiet:
            return
        print_summary(self.summary(), file=file if file is not None else self.file)


def format_summary(stages: list[dict] | dict[str, float]) -> str:
    """Text table of stage timings: a :meth:`Progress.summary` list or a ``{stage: seconds}`` dict."""
    if isinstance(stages, dict):
        stages = [{"stage": k, "seconds": v, "done": 0, "unit": ""} for k, v in stages.items()]
    if not stages:
        return ""
    width = max(len(s["stage"]) for s in stages)
    lines = []
    for s in stages:
        count = f"{s['done']:>7,} {s.get('unit') or '':<7}" if s.get("done") else " " * 15
        rate = f"{s['rate']:>9,.1f} {s.get('unit')}/s" if s.get("rate") else ""
        lines.append(f"{s['stage']:<{width}}  {count}  {s['seconds']:>7.2f}s{rate}".rstrip())
    total = sum(s["seconds"] for s in stages)
    lines.append(f"{'total':<{width}}  {' ' * 15}  {total:>7.2f}s")
    return "\n".join(lines)


def print_summary(stages: list[dict] | dict[str, float], file: TextIO | None = None) -> None:
    text = format_summary(stages)
    if text:
        print(text, file=file if file is not None else sys.stderr)
