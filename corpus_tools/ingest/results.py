"""Page results and the packs that hold them: the output part each ingestion task writes.

A page result holds the page's rows of the four corpus tables (pages, documents, removed,
sections) as Arrow IPC streams with the tables' fixed schemas, so the merge concatenates
Arrow data instead of re-parsing text (at 100 MB the merge went from ~4.5 s with JSON to well
under a second)::

    result = MAGIC | 4 × (uint64 length + IPC stream) | TRAILER

A task writes the results of the pages it processed into one *pack* (atomically: temp +
rename), with an index of cache keys at the end, so a page can be found again by its key
(that is how runs resume and how added pages reuse earlier work)::

    pack = PACK_MAGIC | result … result | index JSON [[key, offset, length], …] | uint64 index length | TRAILER

One file per task instead of one per page: on this machine's disk creating a file costs
~0.5 ms, a fifth of the time a page takes to clean; on a shared filesystem or object store
per-file costs are higher still. A pack without its trailer (a crash mid-write, which the
rename makes unlikely) is ignored and its pages are recomputed.
"""
from __future__ import annotations

import json
import os
import struct
from functools import lru_cache
from pathlib import Path

from ..sections import COLUMNS as SECTION_COLUMNS

PAGE_COLUMNS = ["page_id", "source", "sha256", "format", "encoding", "script", "status", "error",
                "n_chars_raw", "n_chars_kept", "n_chars_removed", "n_documents", "title",
                "announced_documents", "truncated", "n_repairs", "n_mojibake"]
DOC_COLUMNS = ["doc_id", "page_id", "source", "index", "title", "text", "raw_start", "raw_end", "signoff",
               "year", "year_source", "n_chars", "n_placeholders", "n_mojibake", "script"]
REMOVED_COLUMNS = ["page_id", "raw_start", "raw_end", "text", "replacement", "kind", "reason", "rules"]

PAGE_TYPES = {"n_chars_raw": "int", "n_chars_kept": "int", "n_chars_removed": "int", "n_documents": "int",
              "announced_documents": "int", "truncated": "bool", "n_repairs": "int", "n_mojibake": "int"}
DOC_TYPES = {"index": "int", "raw_start": "int", "raw_end": "int", "year": "int", "n_chars": "int",
             "n_placeholders": "int", "n_mojibake": "int"}
REMOVED_TYPES = {"raw_start": "int", "raw_end": "int"}
SECTION_TYPES = {"level": "int", "style": "int", "number": "int", "start": "int", "end": "int", "inline": "bool"}

TABLES = {"pages": (PAGE_COLUMNS, PAGE_TYPES), "documents": (DOC_COLUMNS, DOC_TYPES),
          "removed": (REMOVED_COLUMNS, REMOVED_TYPES), "sections": (SECTION_COLUMNS, SECTION_TYPES)}
MAGIC = b"CTPAGE3\n"
PACK_MAGIC = b"CTPACK1\n"
TRAILER = b"\nCTEND\n"
PACK_SUFFIX = ".pack"


def schema(columns: list[str], types: dict[str, str]):
    """A fixed Arrow schema (so a batch in which a column is all null still fits)."""
    import pyarrow as pa

    kinds = {"str": pa.string(), "int": pa.int64(), "bool": pa.bool_(), "float": pa.float64()}
    return pa.schema([(c, kinds[types.get(c, "str")]) for c in columns])


@lru_cache(maxsize=None)
def table_schema(name: str):
    return schema(*TABLES[name])


def encode_result(rows: dict[str, list[dict] | dict[str, list]]) -> bytes:
    """One page's rows (``{"pages": [page], "documents": [...], ...}``; a table may also be
    given as columns) as a page result."""
    import pyarrow as pa

    parts = [MAGIC]
    for name in TABLES:
        sch = table_schema(name)
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, sch) as w:
            w.write_table(_table(rows.get(name) or [], sch))
        blob = sink.getvalue()
        parts += [struct.pack("<Q", blob.size), blob.to_pybytes()]
    parts.append(TRAILER)
    return b"".join(parts)


def write_pack(path: Path, entries: list[tuple[str, bytes]]) -> list[tuple[int, int]]:
    """Write ``(cache key, page result)`` entries as one pack, atomically; returns each
    result's ``(offset, length)`` in the file. An empty key marks a result never looked up
    again (a page that could not be read)."""
    parts, index, pos = [PACK_MAGIC], [], len(PACK_MAGIC)
    for key, blob in entries:
        index.append((key, pos, len(blob)))
        parts.append(blob)
        pos += len(blob)
    footer = json.dumps(index, separators=(",", ":")).encode()
    parts += [footer, struct.pack("<Q", len(footer)), TRAILER]
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fh = open(tmp, "wb")
    except FileNotFoundError:  # the first pack of this work directory
        path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(tmp, "wb")
    with fh:
        fh.write(b"".join(parts))
    os.replace(tmp, path)
    return [(off, n) for _, off, n in index]


def read_pack_index(path: str | Path) -> list[tuple[str, int, int]] | None:
    """``(cache key, offset, length)`` of every result in a pack; None if the file is not a
    complete pack."""
    tail_len = 8 + len(TRAILER)
    try:
        with open(path, "rb") as fh:
            if fh.read(len(PACK_MAGIC)) != PACK_MAGIC:
                return None
            size = fh.seek(0, os.SEEK_END)
            if size < len(PACK_MAGIC) + tail_len:
                return None
            fh.seek(size - tail_len)
            tail = fh.read(tail_len)
            if tail[8:] != TRAILER:
                return None
            (n,) = struct.unpack("<Q", tail[:8])
            if n > size - len(PACK_MAGIC) - tail_len:
                return None
            fh.seek(size - tail_len - n)
            return [(k, int(o), int(m)) for k, o, m in json.loads(fh.read(n))]
    except (OSError, ValueError):
        return None


def _table(rows: list[dict] | dict[str, list], sch):
    """Rows (dicts; a missing key is null) or columns (``{name: values}``) → Arrow table,
    column by column (2× faster than ``Table.from_pylist``, which converts row by row)."""
    import pyarrow as pa

    if isinstance(rows, dict):
        return pa.Table.from_arrays([pa.array(rows[c], type=f.type) for c, f in zip(sch.names, sch)], schema=sch)
    return pa.Table.from_arrays([pa.array([r.get(c) for r in rows], type=f.type) for c, f in zip(sch.names, sch)],
                                schema=sch)


_PACK_CACHE: dict[str, object] = {}  # the pack being merged (its pages arrive one after another)


def read_result(path: str | Path, offset: int, length: int) -> dict:
    """``{table name: pyarrow.Table}`` of the page result at ``offset`` in a pack (zero-copy
    views of its bytes; the last pack read stays in memory)."""
    import pyarrow as pa

    key = str(path)
    data = _PACK_CACHE.get(key)
    if data is None:
        _PACK_CACHE.clear()
        data = _PACK_CACHE[key] = pa.py_buffer(Path(path).read_bytes())
    return decode_result(data.slice(offset, length), f"{path}@{offset}")


def release_packs() -> None:
    """Drop the pack kept in memory by :func:`read_result` (the merge is done)."""
    _PACK_CACHE.clear()


def decode_result(data, where: str = "page result") -> dict:
    """``{table name: pyarrow.Table}`` of one page result (a ``pyarrow.Buffer``)."""
    import pyarrow as pa

    if data.size < len(MAGIC) + len(TRAILER) or data.slice(0, len(MAGIC)).to_pybytes() != MAGIC:
        raise ValueError(f"{where}: not a corpus-tools page result")
    pos = len(MAGIC)
    out = {}
    for name in TABLES:
        (n,) = struct.unpack("<Q", data.slice(pos, 8).to_pybytes())
        pos += 8
        out[name] = pa.ipc.open_stream(data.slice(pos, n)).read_all()
        pos += n
    return out
