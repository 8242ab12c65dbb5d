"""Derived lookup tables kept on disk between runs.

A few tables the cleaning stages need are computed from other packages' data: word counts
from jieba's dictionary (``repair``), the common-character set (GB2312 plus its OpenCC
traditional forms, ``textutil``) and which characters OpenCC's ``t2s`` / ``s2t`` change
(``convert``). Building them costs ~0.3 s per process, more than cleaning 1 MB of pages, and
every ingestion run paid it again. They are built once per machine and stored with
:mod:`marshal` (a load takes ~0.05 s), under a key made of everything they are derived from
(this format's version, the Python version, the source packages' locations and the size and
modification time of their data files), so an upgrade of jieba or OpenCC builds them anew.

Where: ``$CORPUS_TOOLS_CACHE`` if set (``off`` disables the disk cache), else
``$XDG_CACHE_HOME/corpus-tools``, else ``~/.cache/corpus-tools``. The cache is only ever an
optimisation: a directory that cannot be written, or a file that cannot be read (cut short,
from another version), means the table is built in memory as before, and written again when
possible (atomically, by ``store.atomic_write_bytes``: concurrent workers never see half a
file).
"""
from __future__ import annotations

import hashlib
import marshal
import os
import sys
from pathlib import Path
from typing import Any, Callable

FORMAT = 1  # bump when a table's layout changes
ENV = "CORPUS_TOOLS_CACHE"


def cache_dir() -> Path | None:
    """The directory derived tables are kept in, or None when the disk cache is off."""
    env = os.environ.get(ENV)
    if env is not None:
        return None if env.strip().lower() in ("", "0", "off", "false", "no") else Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        home = os.path.expanduser("~")
        if home.startswith("~"):  # no home directory to be found: no disk cache (not a "~" folder here)
            return None
        base = os.path.join(home, ".cache")
    return Path(base) / "corpus-tools"


def package_stamp(dist: str, *files: str) -> str:
    """What a table built from package ``dist`` depends on: the size and modification time
    of the data files named (paths relative to the package's directory; installing another
    version rewrites them). File stats, not the package metadata: a metadata lookup scans
    every installed distribution (~35 ms), a stat takes microseconds."""
    from importlib.util import find_spec

    try:
        spec = find_spec(dist)
        root = os.path.dirname(spec.origin) if spec and spec.origin else None
    except (ImportError, ValueError):
        root = None
    stamp = [dist, root or "-"]
    for name in files:
        try:
            st = os.stat(os.path.join(root, name)) if root else None
            stamp.append(f"{name}:{st.st_size}:{st.st_mtime_ns}" if st else f"{name}:-")
        except OSError:
            stamp.append(f"{name}:-")
    return "|".join(stamp)


def _path(name: str, sources: tuple[str, ...]) -> Path | None:
    root = cache_dir()
    if root is None:
        return None
    key = "\n".join([str(FORMAT), sys.version, name, *sources])
    return root / f"{name}-{hashlib.sha256(key.encode()).hexdigest()[:20]}.marshal"


def cached(name: str, sources: tuple[str, ...], build: Callable[[], Any]) -> Any:
    """``build()``, or its result stored earlier under ``name`` and the same ``sources``
    (strings naming everything the result is derived from, e.g. :func:`package_stamp`).
    The result must be marshal-able (dicts, sets, str, bytes, numbers, tuples)."""
    path = _path(name, sources)
    if path is not None:
        try:
            with open(path, "rb") as fh:
                return marshal.loads(fh.read())  # 4× faster than marshal.load(fh), which reads item by item
        except (OSError, EOFError, ValueError, TypeError):
            pass  # not there yet, or unreadable: build it
    value = build()
    if path is not None:
        _store(path, value)
    return value


def _store(path: Path, value: Any) -> None:
    from ..store import atomic_write_bytes

    try:
        atomic_write_bytes(path, marshal.dumps(value))
    except (OSError, ValueError):  # read-only home, full disk, a value marshal cannot store
        pass
