"""Word segmentation for the corpus: jieba + a trade-union user dictionary + stopwords.

>>> from corpus_tools.tokenize import tokenize, tokenize_documents
>>> tokenize("开展工资集体协商，建设职工之家")
['开展', '工资集体协商', '建设', '职工之家']
>>> toks = tokenize_documents("build")            # doctest: +SKIP  (DataFrame unit_id, tokens)

Segmenters
----------
* :class:`Segmenter` wraps one dictionary + settings. It is built lazily, once per process
  per distinct setting (:func:`get_segmenter` keeps them in a module-level registry), so
  ``jieba``'s 0.5 s dictionary load happens once.
* ``backend="auto"`` uses ``rjieba`` (jieba-rs, ~10x faster) when it imports and falls back to
  ``jieba`` otherwise. rjieba loads the same default dictionary as jieba; the user dictionary
  is added word by word with ``add_word(word, freq, tag)`` on both backends, and the one
  known difference (jieba's HMM path splits non-Han runs such as ``qq.com``/``1-6`` at
  punctuation, jieba-rs does not) is repaired after the cut. On the seed pages and the 39
  government reports the two backends give identical tokens (the test requires >= 99.9 %
  boundary agreement).
* The user dictionary is ``resources/userdict.txt`` in jieba's format (``word freq tag``, one
  per line, no comments). Replace it with ``userdict=PATH`` (or a list of words /
  ``(word, freq, tag)`` tuples), disable it with ``userdict=None``, or extend it with
  ``add_words=[...]``. Entries without a frequency get a fixed one (300 for two characters,
  2000 for longer words) rather than jieba's ``suggest_freq``, so both backends agree.

Stopwords
---------
``stopwords=`` takes ``"default"`` (general function words, ``resources/stopwords.txt``),
``"default+filler"`` (plus formulaic report vocabulary, ``resources/report_filler.txt``:
进一步, 积极, 认真, 切实 ...), ``"filler"``, ``None`` (keep everything), a path, any ``+``-joined
combination of these (``"default+my_stop.txt"``), or an iterable of words.

Token cache
-----------
:func:`tokenize_documents` caches the *raw* segmentation of every unit (before stopword and
length filtering, so changing stopwords never re-segments) under
``CORPUS_DIR/cache/tokens/<settings-fingerprint>/part-*.parquet``: one row per distinct text,
keyed by the SHA-256 of the text; the directory name is the SHA-256 of the dictionary
contents + segmentation settings + backend. Parquet only, never pickle.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from importlib import resources
from pathlib import Path
from typing import Any, Union

import pandas as pd

__all__ = [
    "Segmenter", "get_segmenter", "tokenize", "segment", "load_stopwords", "load_userdict",
    "filter_tokens", "tokenize_texts", "tokenize_documents", "iter_unit_tokens", "TokenCache", "resource_path",
    "token_cache_dir",
]

UserDictSpec = Union[str, os.PathLike, Iterable, None]
StopwordSpec = Union[str, os.PathLike, Iterable[str], None]

CACHE_FORMAT_VERSION = 1
_HAN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")
_WORDCHAR = re.compile(r"[\w\u4e00-\u9fff\u3400-\u4dbf]")
_NUMBER = re.compile(r"^[\d０-９.．,，%％+\-]+$|^[零〇一二三四五六七八九十百千万亿两]+$")
_PLACEHOLDER = re.compile(r"^(?:[_＿]+|[xX×]+|\d*[xX]{2,}\d*|某某+)$")
# jieba's finalseg splits non-Han runs with this pattern; jieba-rs keeps them whole
_RE_SKIP = re.compile(r"([a-zA-Z0-9]+(?:\.\d+)?%?)")


def resource_path(name: str) -> Path:
    """Path of a file shipped in ``corpus_tools/resources``."""
    return Path(str(resources.files("corpus_tools") / "resources" / name))


# --------------------------------------------------------------------------- dictionaries

def _default_freq(word: str) -> int:
    return 300 if len(word) <= 2 else 2000


def _parse_userdict_line(line: str) -> tuple[str, int, str | None] | None:
    """``word [freq] [tag]`` -> (word, freq, tag); blank lines and ``#`` comments -> None."""
    parts = line.strip().lstrip("\ufeff").split()
    if not parts or parts[0].startswith("#"):
        return None
    word, rest = parts[0], parts[1:]
    freq = int(rest.pop(0)) if rest and rest[0].isdigit() else None
    tag = rest[0] if rest else None
    return word, freq if freq is not None else _default_freq(word), tag


def load_userdict(spec: UserDictSpec = "default") -> tuple[tuple[str, int, str | None], ...]:
    """Entries ``(word, freq, tag)`` of a user dictionary.

    ``spec``: ``"default"`` (the shipped ``userdict.txt``), ``None`` (no user dictionary),
    a path to a jieba-format file, or an iterable of words / ``(word, freq[, tag])`` tuples.
    """
    if spec is None:
        return ()
    if isinstance(spec, (str, os.PathLike)):
        path = resource_path("userdict.txt") if str(spec) == "default" else Path(spec)
        if not path.exists():
            raise FileNotFoundError(f"user dictionary {path} does not exist")
        entries = [e for e in map(_parse_userdict_line, path.read_text(encoding="utf-8").splitlines()) if e]
        return tuple(entries)
    out = []
    for item in spec:
        if isinstance(item, str):
            e = _parse_userdict_line(item)
            if e:
                out.append(e)
        else:
            item = tuple(item)
            word = item[0]
            freq = int(item[1]) if len(item) > 1 and item[1] is not None else _default_freq(word)
            tag = item[2] if len(item) > 2 else None
            out.append((word, freq, tag))
    return tuple(out)


def _read_wordlist(path: Path) -> set[str]:
    words = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip().lstrip("\ufeff")
        if line and not line.startswith("#"):
            words.add(line.split()[0])
    return words


_STOP_CACHE: dict[str, frozenset[str]] = {}


def load_stopwords(spec: StopwordSpec = "default") -> frozenset[str]:
    """The stopword set for ``spec`` (see the module docstring)."""
    if spec is None:
        return frozenset()
    if isinstance(spec, (str, os.PathLike)):
        key = str(spec)
        if key in _STOP_CACHE:
            return _STOP_CACHE[key]
        words: set[str] = set()
        parts = [key] if os.path.exists(key) else key.split("+")
        for part in parts:
            part = part.strip()
            if part in ("", "none"):
                continue
            if part == "default":
                words |= _read_wordlist(resource_path("stopwords.txt"))
            elif part == "filler":
                words |= _read_wordlist(resource_path("report_filler.txt"))
            elif os.path.exists(part):
                words |= _read_wordlist(Path(part))
            else:
                raise FileNotFoundError(
                    f"stopwords: {part!r} is neither 'default', 'filler' nor an existing file")
        _STOP_CACHE[key] = frozenset(words)
        return _STOP_CACHE[key]
    return frozenset(spec)


# --------------------------------------------------------------------------- segmenters

def _rjieba_available() -> bool:
    try:
        import rjieba  # noqa: F401
    except ImportError:
        return False
    return True


def _resolve_backend(backend: str) -> str:
    if backend not in ("auto", "jieba", "rjieba"):
        raise ValueError(f"backend must be 'auto', 'jieba' or 'rjieba', not {backend!r}")
    if backend == "auto":
        return "rjieba" if _rjieba_available() else "jieba"
    if backend == "rjieba" and not _rjieba_available():
        raise ImportError("backend='rjieba' needs `pip install rjieba` (or corpus-tools[fast])")
    return backend


def _split_non_han(tokens: list[str]) -> list[str]:
    """Split non-Han tokens the way jieba's HMM path does (``qq.com`` -> qq . com)."""
    out: list[str] = []
    for t in tokens:
        if (len(t) > 1 and not _HAN.search(t) and not t.isspace()
                and _RE_SKIP.search(t) and not _RE_SKIP.fullmatch(t)):
            out.extend(x for x in _RE_SKIP.split(t) if x)
        else:
            out.append(t)
    return out


class Segmenter:
    """One jieba (or rjieba) tokenizer with a user dictionary; built on first use.

    ``cut(text)`` returns every token including punctuation and whitespace, so
    ``"".join(seg.cut(text)) == text``.
    """

    def __init__(self, userdict: UserDictSpec = "default", add_words: Iterable | None = None,
                 hmm: bool = True, backend: str = "auto"):
        self.entries = load_userdict(userdict) + (load_userdict(list(add_words)) if add_words else ())
        self.hmm = bool(hmm)
        self.backend = _resolve_backend(backend)
        self._tok: Any = None
        self._lock = threading.Lock()

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the dictionary contents + settings: the token-cache key."""
        import jieba

        payload = {
            "v": CACHE_FORMAT_VERSION, "backend": self.backend, "hmm": self.hmm,
            "jieba": getattr(jieba, "__version__", "?"),
            "entries": [list(e) for e in self.entries],
        }
        return hashlib.sha256(json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()).hexdigest()

    def _build(self) -> Any:
        if self.backend == "rjieba":
            import rjieba

            tok = rjieba.Jieba()
            for word, freq, tag in self.entries:
                tok.add_word(word, freq, tag)
        else:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            tok = jieba.Tokenizer()
            tok.initialize()
            for word, freq, tag in self.entries:
                tok.add_word(word, freq, tag)
        return tok

    def _get(self) -> Any:
        if self._tok is None:
            with self._lock:
                if self._tok is None:
                    self._tok = self._build()
        return self._tok

    def cut(self, text: str) -> list[str]:
        tok = self._get()
        if self.backend == "rjieba":
            out = tok.cut(text, self.hmm)
            return _split_non_han(out) if self.hmm else out
        return tok.lcut(text, HMM=self.hmm)

    def __getstate__(self) -> dict:  # picklable for process pools: rebuild in the worker
        d = self.__dict__.copy()
        d["_tok"] = None
        d["_lock"] = None
        return d

    def __setstate__(self, d: dict) -> None:
        self.__dict__.update(d)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Segmenter(backend={self.backend!r}, hmm={self.hmm}, {len(self.entries)} user words)"


_SEGMENTERS: dict[tuple, Segmenter] = {}


def _spec_key(spec: Any) -> Any:
    if spec is None or isinstance(spec, (str, os.PathLike)):
        return str(spec) if spec is not None else None
    return tuple(tuple(x) if not isinstance(x, str) else x for x in spec)


def get_segmenter(userdict: UserDictSpec = "default", add_words: Iterable | None = None,
                  hmm: bool = True, backend: str = "auto") -> Segmenter:
    """The process-wide :class:`Segmenter` for these settings (created once, lazily)."""
    if isinstance(userdict, Segmenter):
        return userdict
    key = (_spec_key(userdict), _spec_key(add_words) if add_words else None, bool(hmm), _resolve_backend(backend))
    seg = _SEGMENTERS.get(key)
    if seg is None:
        seg = _SEGMENTERS[key] = Segmenter(userdict, add_words, hmm, backend)
    return seg


# --------------------------------------------------------------------------- tokens

def filter_tokens(tokens: Iterable[str], stopwords: frozenset[str] | set[str] = frozenset(),
                  keep_punct: bool = False, keep_numbers: bool = False, min_len: int = 1) -> list[str]:
    """Drop whitespace, punctuation (unless ``keep_punct``), numbers and placeholders such as
    ``20xx``/``__`` (unless ``keep_numbers``), stopwords and tokens shorter than ``min_len``."""
    out = []
    for t in tokens:
        t = t.strip()
        if not t:
            continue
        if not _WORDCHAR.search(t):
            if keep_punct:
                out.append(t)
            continue
        if not keep_numbers and (_NUMBER.match(t) or _PLACEHOLDER.match(t)):
            continue
        if len(t) < min_len or t in stopwords:
            continue
        out.append(t)
    return out


def segment(text: str, userdict: UserDictSpec = "default", hmm: bool = True, backend: str = "auto") -> list[str]:
    """All tokens of ``text`` (punctuation and whitespace included)."""
    return get_segmenter(userdict, hmm=hmm, backend=backend).cut(text)


def tokenize(text: str, stopwords: StopwordSpec = "default", userdict: UserDictSpec = "default",
             add_words: Iterable | None = None, hmm: bool = True, backend: str = "auto",
             keep_punct: bool = False, keep_numbers: bool = False, min_len: int = 1) -> list[str]:
    """Segment ``text`` and filter the tokens (see :func:`filter_tokens`)."""
    seg = get_segmenter(userdict, add_words, hmm, backend)
    return filter_tokens(seg.cut(text), load_stopwords(stopwords), keep_punct, keep_numbers, min_len)


# --------------------------------------------------------------------------- cache

def token_boundaries(tokens: Sequence[str]) -> set[int]:
    """End offsets of the tokens in their text."""
    out, pos = set(), 0
    for t in tokens:
        pos += len(t)
        out.add(pos)
    return out


def boundary_counts(a: Iterable[Sequence[str]], b: Iterable[Sequence[str]]) -> tuple[int, int]:
    """(|A∩B|, |A∪B|) of token boundaries over pairs of segmentations of the same texts:
    agreement = first / second (how the rjieba path is checked against jieba)."""
    inter = union = 0
    for x, y in zip(a, b):
        bx, by = token_boundaries(x), token_boundaries(y)
        inter += len(bx & by)
        union += len(bx | by)
    return inter, union


def text_sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class TokenCache:
    """Raw segmentations keyed by text SHA-256, stored as Parquet parts in one directory per
    segmenter fingerprint. Parts are written atomically; concurrent writers only add parts."""

    MAX_PARTS = 64

    def __init__(self, root: str | os.PathLike, segmenter: Segmenter):
        self.root = Path(root)
        self.dir = self.root / segmenter.fingerprint[:24]
        self.segmenter = segmenter

    def parts(self) -> list[Path]:
        return sorted(self.dir.glob("part-*.parquet")) if self.dir.exists() else []

    def get_many(self, shas: Iterable[str]) -> dict[str, list[str]]:
        import pyarrow.parquet as pq

        wanted = set(shas)
        found: dict[str, list[str]] = {}
        for part in self.parts():
            if len(found) == len(wanted):
                break
            table = pq.read_table(part)
            for sha, toks in zip(table.column("text_sha").to_pylist(), table.column("tokens").to_pylist()):
                if sha in wanted and sha not in found:
                    found[sha] = toks
        return found

    def put_many(self, items: dict[str, list[str]]) -> None:
        if not items:
            return
        import pyarrow as pa
        import pyarrow.parquet as pq
        from .store import atomic_write_bytes, atomic_write_json
        import io

        self.dir.mkdir(parents=True, exist_ok=True)
        meta = self.dir / "settings.json"
        if not meta.exists():
            atomic_write_json(meta, {
                "format": CACHE_FORMAT_VERSION, "backend": self.segmenter.backend, "hmm": self.segmenter.hmm,
                "n_user_words": len(self.segmenter.entries), "fingerprint": self.segmenter.fingerprint,
            })
        keys = sorted(items)
        table = pa.table({"text_sha": pa.array(keys, pa.string()),
                          "tokens": pa.array([items[k] for k in keys], pa.list_(pa.string()))})
        buf = io.BytesIO()
        pq.write_table(table, buf, compression="zstd")
        name = hashlib.sha256("\n".join(keys).encode()).hexdigest()[:20]
        atomic_write_bytes(self.dir / f"part-{name}.parquet", buf.getvalue())
        if len(self.parts()) > self.MAX_PARTS:
            self.compact()

    def compact(self) -> None:
        """Merge all parts into one (drops duplicate texts)."""
        import pyarrow as pa
        import pyarrow.parquet as pq
        from .store import atomic_write_bytes
        import io

        parts = self.parts()
        if len(parts) <= 1:
            return
        table = pa.concat_tables([pq.read_table(p) for p in parts])
        df = table.to_pandas().drop_duplicates("text_sha").sort_values("text_sha")
        merged = pa.table({"text_sha": pa.array(df["text_sha"].tolist(), pa.string()),
                           "tokens": pa.array(df["tokens"].map(list).tolist(), pa.list_(pa.string()))})
        buf = io.BytesIO()
        pq.write_table(merged, buf, compression="zstd")
        name = hashlib.sha256("\n".join(df["text_sha"]).encode()).hexdigest()[:20]
        target = self.dir / f"part-{name}.parquet"
        atomic_write_bytes(target, buf.getvalue())
        for p in parts:
            if p != target:
                p.unlink(missing_ok=True)


def token_cache_dir(data: Any, cache_dir: Any = "auto") -> Path | None:
    """Where tokens of ``data`` are cached: ``CORPUS_DIR/cache/tokens`` for a corpus (path),
    ``cache_dir`` when given, ``None`` (no cache) for DataFrames with ``cache_dir="auto"``."""
    from .store import Corpus

    if cache_dir is None or cache_dir is False:
        return None
    if cache_dir != "auto":
        return Path(cache_dir)
    if isinstance(data, Corpus):
        return Path(data.path) / "cache" / "tokens"
    if isinstance(data, (str, os.PathLike)):
        return Path(data) / "cache" / "tokens"
    return None


# --------------------------------------------------------------------------- workers

_WORKER_SEG: Segmenter | None = None


def _worker_init(seg: Segmenter) -> None:
    global _WORKER_SEG
    _WORKER_SEG = seg
    seg._get()  # load the dictionary once per worker


def _worker_cut(texts: list[str]) -> list[list[str]]:
    assert _WORKER_SEG is not None
    return [_WORKER_SEG.cut(t) for t in texts]


def _segment_many(seg: Segmenter, texts: Sequence[str], workers: int = 1) -> list[list[str]]:
    if workers <= 1 or len(texts) < 2:
        return [seg.cut(t) for t in texts]
    import multiprocessing as mp

    chunk = max(1, min(64, len(texts) // (workers * 4) or 1))
    chunks = [list(texts[i:i + chunk]) for i in range(0, len(texts), chunk)]
    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"),
                             initializer=_worker_init, initargs=(seg,)) as pool:
        results = list(pool.map(_worker_cut, chunks))  # map keeps input order: deterministic
    return [toks for part in results for toks in part]


def segment_texts(texts: Sequence[str], segmenter: Segmenter, cache_root: str | os.PathLike | None = None,
                  workers: int = 1) -> tuple[list[list[str]], dict]:
    """Raw segmentation of ``texts`` using (and filling) the cache; returns (tokens, info)."""
    shas = [text_sha(t) for t in texts]
    cache = TokenCache(cache_root, segmenter) if cache_root is not None else None
    known = cache.get_many(shas) if cache else {}
    todo: dict[str, str] = {}
    for sha, t in zip(shas, texts):
        if sha not in known and sha not in todo:
            todo[sha] = t
    if todo:
        cut = _segment_many(segmenter, list(todo.values()), workers)
        new = dict(zip(todo.keys(), cut))
        if cache:
            cache.put_many(new)
        known.update(new)
    info = {"n_units": len(texts), "n_segmented": len(todo), "n_cached": len(set(shas)) - len(todo),
            "cache_dir": str(cache.dir) if cache else None, "backend": segmenter.backend}
    return [known[s] for s in shas], info


def tokenize_texts(texts: Sequence[str], cache_root: str | os.PathLike | None = None,
                   stopwords: StopwordSpec = "default", userdict: UserDictSpec = "default",
                   add_words: Iterable | None = None, hmm: bool = True, backend: str = "auto",
                   keep_punct: bool = False, keep_numbers: bool = False, min_len: int = 1,
                   workers: int = 1) -> tuple[list[list[str]], dict]:
    """Filtered tokens of many texts, using the token cache in ``cache_root`` when given;
    returns ``(tokens, info)`` where info counts segmented vs cached texts."""
    seg = get_segmenter(userdict, add_words, hmm, backend)
    texts = ["" if t is None or (isinstance(t, float) and t != t) else str(t) for t in texts]
    raw, info = segment_texts(texts, seg, cache_root, workers)
    stop = load_stopwords(stopwords)
    return [filter_tokens(r, stop, keep_punct, keep_numbers, min_len) for r in raw], info


def tokenize_documents(data: Any, unit: str = "document", cache_dir: Any = "auto",
                       stopwords: StopwordSpec = "default", userdict: UserDictSpec = "default",
                       add_words: Iterable | None = None, hmm: bool = True, backend: str = "auto",
                       keep_punct: bool = False, keep_numbers: bool = False, min_len: int = 1,
                       workers: int = 1, with_info: bool = False) -> pd.DataFrame:
    """Tokens of every analysis unit: ``DataFrame(unit_id, tokens)`` (tokens = list of str).

    ``data``: a Corpus, corpus path, documents DataFrame or sections DataFrame (see
    :func:`corpus_tools.analysis.units.as_units`). ``cache_dir="auto"`` caches under
    ``CORPUS_DIR/cache/tokens`` when ``data`` is a corpus; pass a directory to cache elsewhere
    (e.g. for DataFrames) or ``None`` to disable. With ``with_info=True`` the frame's
    ``attrs["tokenize"]`` holds counts of segmented vs cached units.
    """
    from .analysis.units import as_units

    units = as_units(data, unit)
    toks, info = tokenize_texts(units["text"].tolist(), token_cache_dir(data, cache_dir), stopwords, userdict,
                                add_words, hmm, backend, keep_punct, keep_numbers, min_len, workers)
    out = pd.DataFrame({"unit_id": units["unit_id"].tolist(), "tokens": toks})
    out.attrs["tokenize"] = info
    return out


def fill_token_cache(data: Any, unit: str = "document", cache_dir: Any = "auto", userdict: UserDictSpec = "default",
                     add_words: Iterable | None = None, hmm: bool = True, backend: str = "auto", workers: int = 1,
                     batch_size: int = 2000) -> dict:
    """Segment every unit into the token cache without keeping the tokens in memory
    (batches of ``batch_size`` units): what ``corpus-tools tokenize`` runs. Returns counts
    (units, segmented, from cache, tokens, backend, cache dir)."""
    from .analysis.units import as_units

    root = token_cache_dir(data, cache_dir)
    if root is None:
        raise ValueError("fill_token_cache needs a cache directory (a corpus, or cache_dir=PATH)")
    units = as_units(data, unit)
    seg = get_segmenter(userdict, add_words, hmm, backend)
    texts = units["text"].tolist()
    del units
    total = {"n_units": 0, "n_segmented": 0, "n_cached": 0, "n_tokens": 0, "backend": seg.backend,
             "cache_dir": str(root)}
    for start in range(0, len(texts), batch_size):
        batch = ["" if t is None else str(t) for t in texts[start:start + batch_size]]
        toks, info = segment_texts(batch, seg, root, workers)
        for k in ("n_units", "n_segmented", "n_cached"):
            total[k] += info[k]
        total["n_tokens"] += sum(len(t) for t in toks)
    return total


def iter_unit_tokens(data: Any, unit: str = "document", batch_size: int = 500, cache_dir: Any = "auto",
                     stopwords: StopwordSpec = "default", userdict: UserDictSpec = "default",
                     add_words: Iterable | None = None, hmm: bool = True, backend: str = "auto",
                     keep_punct: bool = False, keep_numbers: bool = False, min_len: int = 1) -> Iterator[list[str]]:
    """Yield filtered token lists unit by unit, segmenting / reading the cache ``batch_size``
    units at a time, so memory holds one batch of tokens (plus the unit texts). Used by the
    streaming bag-of-words corpus in :mod:`corpus_tools.analysis.topics`."""
    from .analysis.units import as_units

    units = as_units(data, unit)
    seg = get_segmenter(userdict, add_words, hmm, backend)
    root = token_cache_dir(data, cache_dir)
    stop = load_stopwords(stopwords)
    texts = units["text"].tolist()
    for start in range(0, len(texts), batch_size):
        batch = ["" if t is None else str(t) for t in texts[start:start + batch_size]]
        raw, _ = segment_texts(batch, seg, root)
        for r in raw:
            yield filter_tokens(r, stop, keep_punct, keep_numbers, min_len)
