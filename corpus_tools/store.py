"""The corpus directory: Parquet tables + manifest.json, written atomically.

Every writer goes through :func:`atomic_write_bytes` (write to a temporary file in
the same directory, fsync, ``os.replace``) so a killed run leaves either the previous
complete file or the new complete file, never a half-written one.
"""
from __future__ import annotations

import io
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas loads on first use (~0.3 s a process: the CLI and ingest workers need none)
    import pandas as pd

TABLES = ("pages", "documents", "sections", "removed")
_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file + fsync + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; outputs get the usual permissions
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True) + "\n")


def parquet_bytes(df: pd.DataFrame) -> bytes:
    """Serialise a DataFrame to Parquet deterministically (no pandas index, no timestamps)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df.reset_index(drop=True), preserve_index=False)
    # drop pandas metadata: it embeds library versions, which would break byte-identity
    table = table.replace_schema_metadata(None)
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd", write_statistics=False)
    return buf.getvalue()


def write_table(path: str | os.PathLike, df: pd.DataFrame) -> None:
    atomic_write_bytes(path, parquet_bytes(df))


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    import pandas as pd

    return pd.read_parquet(path)


@dataclass
class Corpus:
    """A corpus directory opened for analysis. Tables are loaded lazily as DataFrames.

    >>> corpus = load_corpus("build")          # doctest: +SKIP
    >>> corpus.documents[["doc_id", "title", "year"]].head()   # doctest: +SKIP
    """

    path: Path
    _cache: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    def _table(self, name: str) -> pd.DataFrame:
        if name not in self._cache:
            p = self.path / f"{name}.parquet"
            if not p.exists():
                raise FileNotFoundError(f"{p} does not exist (run `corpus-tools ingest` or `corpus-tools sections` first)")
            self._cache[name] = read_table(p)
        return self._cache[name]

    @property
    def pages(self) -> pd.DataFrame:
        return self._table("pages")

    @property
    def documents(self) -> pd.DataFrame:
        return self._table("documents")

    @property
    def sections(self) -> pd.DataFrame:
        return self._table("sections")

    @property
    def removed(self) -> pd.DataFrame:
        return self._table("removed")

    @property
    def manifest(self) -> dict:
        return json.loads((self.path / "manifest.json").read_text(encoding="utf-8"))

    def outline(self, doc_id: str):
        """The numbered outline of one document as a tree (see :mod:`corpus_tools.sections`)."""
        from .sections import outline_tree

        return outline_tree(self.sections, doc_id, self.documents)

    def __repr__(self) -> str:  # pragma: no cover - cosmetic
        return f"Corpus({str(self.path)!r})"


def load_corpus(path: str | os.PathLike) -> Corpus:
    """Open a corpus directory written by :func:`corpus_tools.ingest`."""
    p = Path(path)
    if not (p / "manifest.json").exists() and not (p / "documents.parquet").exists():
        raise FileNotFoundError(f"{p} is not a corpus directory (no manifest.json)")
    return Corpus(p)
