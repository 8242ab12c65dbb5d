"""Ingestion pipeline: raw files → pages, documents, removed spans (+ sections).

The stages read like the design card::

    decode → repair artifacts (pinyin, mojibake, invisible) → OpenCC → boilerplate
    → whitespace → rejoin link keywords → learned templates → spacing, quotes, punctuation
    → split essays (titles, sign-offs, years)

Every stage is a plain function over text returning edits; :func:`clean_page` runs them on
one page and :func:`ingest` runs pages in order (optionally in worker processes) and writes
the corpus directory atomically. Cross-page template statistics are a separate pass
(count → merge → apply) so workers never need to talk to each other.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from .. import __version__
from ..store import _UMASK, atomic_write_json
from . import boilerplate, convert, repair, split
from .sources import HTML_SUFFIXES, PageError, Source, decode, discover, html_to_text, read_bytes, sha256
from .results import (PACK_SUFFIX, PAGE_COLUMNS, TABLES, read_pack_index, read_results, release_packs, schema,
                      write_pack)
from .tracked import TrackedText, span_to_raw

if TYPE_CHECKING:  # pandas loads on first use (~0.3 s a process: ingest workers need none)
    import pandas as pd

RESULT_FORMAT = 6  # bump when page results change, in shape or content (it is part of the cache key)


@dataclass(frozen=True)
class IngestConfig:
    """Everything that changes the output. Its hash keys resumable work."""

    boilerplate: str | None = None  # path to a user boilerplate.toml
    opencc: tuple[str, ...] = convert.CONFIGS
    learn_templates: bool = True
    template_min_pages: int = 3
    max_page_bytes: int = 64 * 2**20
    max_page_seconds: float = 300.0
    sections: bool = True

    def digest(self) -> str:
        return _config_digest(self)


@lru_cache(maxsize=64)
def _config_digest(config: IngestConfig) -> str:  # once per config, not once per page
    blob = json.dumps({**asdict(config), "result_format": RESULT_FORMAT}, sort_keys=True, default=list).encode()
    return hashlib.sha256(blob + __version__.encode()).hexdigest()[:16]


@dataclass
class PageResult:
    """One page's rows of the corpus tables (``removed`` and ``sections`` as columns: the long ones)."""

    page: dict
    documents: list[dict] = field(default_factory=list)
    removed: dict[str, list] | list[dict] = field(default_factory=list)
    sections: dict[str, list] | list[dict] = field(default_factory=list)


class _Clock:
    def __init__(self, limit: float):
        self.t0, self.limit = time.monotonic(), limit

    def check(self, stage: str) -> None:
        if time.monotonic() - self.t0 > self.limit:
            raise PageError(f"page took over max_page_seconds={self.limit:g}s (stopped at {stage})")


# ----------------------------------------------------------------------------- one page
def clean_page(text: str, templates: frozenset[bytes] = frozenset(), config: IngestConfig = IngestConfig(),
               clock: _Clock | None = None) -> tuple[TrackedText, dict]:
    """Run every cleaning stage on decoded page text. Returns the tracked text (clean text +
    edit log) and page facts (script, unresolved mojibake raw offsets)."""
    clock = clock or _Clock(config.max_page_seconds)
    rules = boilerplate.load_rules(config.boilerplate)
    tt = TrackedText(text)
    tt.edit(repair.pinyin_edits(tt.text))
    edits, unresolved = repair.mojibake_edits(tt.text)
    moji_raw = [tt.to_raw(p) for p in unresolved]
    tt.edit(edits)
    tt.edit(repair.invisible_edits(tt.text))
    clock.check("repair")
    script = convert.detect_script(tt.text)
    convert.convert(tt, config.opencc, particle_zhe=script != "simplified", simplified_page=script == "simplified")
    clock.check("opencc")
    tt.edit(boilerplate.line_edits(tt.text, rules))
    tt.edit(boilerplate.inline_edits(tt.text, rules))
    tt.edit(boilerplate.whitespace_edits(tt.text))
    tt.edit(boilerplate.rejoin_edits(tt.text))
    tt.edit(boilerplate.template_edits(tt.text, templates))
    tt.edit(boilerplate.whitespace_edits(tt.text))
    clock.check("boilerplate")
    tt.edit(repair.spacing_edits(tt.text))
    tt.edit(repair.quote_edits(tt.text))
    for _ in range(3):  # to a fixed point: a comma after a bracket converted in the same pass
        edits = repair.punctuation_edits(tt.text)
        if not edits:
            break
        tt.edit(edits)
    clock.check("punctuation")
    return tt, {"script": script, "mojibake_raw": moji_raw}


def split_page(tt: TrackedText) -> tuple[list[dict], dict]:
    """Split the clean page into essays, removing separators, title lines, sign-offs and the
    preamble as ``structure`` edits so that the documents tile the final clean text."""
    text = tt.text
    seps = split.find_separators(text)
    spans: list[tuple] = []
    docs: list[dict] = []
    n = len(text)

    def line_span(a: int, b: int, rule: str) -> tuple:
        # include one adjacent newline so no blank line remains
        if b < n and text[b] == "\n":
            b += 1
        elif a > 0 and text[a - 1] == "\n":
            a -= 1
        return (a, b, "", rule, "structure")

    if seps:
        preamble = text[:seps[0].start]
        first_line = next((ln.strip() for ln in preamble.split("\n") if ln.strip()), None)
        page_title = first_line
        announced = split.announced_count(preamble)
        if seps[0].start > 0:
            spans.append((0, seps[0].start, "", "preamble", "structure"))
        for k, sep in enumerate(seps):
            a = sep.start - 1 if sep.start > 0 and text[sep.start - 1] == "\n" else sep.start
            b = sep.end + 1 if sep.end < n and text[sep.end] == "\n" else sep.end
            spans.append((a, b, "", "essay_separator", "structure"))
            body_start = b
            body_end = seps[k + 1].start if k + 1 < len(seps) else n
            docs.append({"start": body_start, "end": body_end, "sep_title": sep.title or None})
    else:
        first_line = next((ln.strip() for ln in text.split("\n") if ln.strip()), None)
        page_title = first_line if first_line and len(first_line) <= 60 and first_line[-1] not in "。！？!?；;，,：:" else None
        announced = split.announced_count(text[:200])
        docs.append({"start": 0, "end": n, "sep_title": None})
    for d in docs:
        body = text[d["start"]:d["end"]]
        parts = split.essay_parts(body, extract_title=bool(seps))
        for a, b in parts.title_lines:
            spans.append(line_span(d["start"] + a, d["start"] + b, "essay_title"))
        if parts.signoff:
            a = d["start"] + parts.signoff[0]
            if a > 0 and text[a - 1] == "\n":
                a -= 1
            spans.append((a, d["start"] + parts.signoff[1], "", "signoff", "structure"))
        d["title"] = parts.title or d["sep_title"] or page_title
        d["signoff"] = parts.signoff_text
        d["year"] = parts.year
    spans = _merge_spans(spans)
    tt.edit(spans)
    remap = _remapper(spans)
    new = tt.text
    for d in docs:  # the documents tile the edited text: map their bounds through the edits
        d["new_start"], d["new_end"] = remap(d["start"]), remap(d["end"])
    facts = {"title": page_title, "announced": announced}
    return [d for d in docs if new[d["new_start"]:d["new_end"]].strip()], facts


def _merge_spans(spans: list[tuple]) -> list[tuple]:
    spans = sorted(spans)
    out: list[tuple] = []
    for s in spans:
        if s[0] >= s[1]:
            continue
        if out and s[0] <= out[-1][1]:
            prev = out[-1]
            if s[1] > prev[1]:
                rule = prev[3] if s[3] in prev[3].split("+") else f"{prev[3]}+{s[3]}"
                out[-1] = (prev[0], s[1], "", rule, "structure")
            continue
        out.append(s)
    return out


def _remapper(spans: list[tuple]) -> Callable[[int], int]:
    import bisect

    starts = [s[0] for s in spans]
    cum = [0]
    for s in spans:
        cum.append(cum[-1] + (s[1] - s[0]))

    def remap(p: int) -> int:
        i = bisect.bisect_right(starts, p) - 1
        if i < 0:
            return p
        a, b = spans[i][0], spans[i][1]
        if p < b:
            return a - cum[i]
        return p - cum[i + 1]

    return remap


def process_page(data: bytes, source: str, is_html: bool, templates: frozenset[bytes],
                 config: IngestConfig, decoded: tuple[str, str] | None = None) -> PageResult:
    """Bytes of one file → its page row, document rows and removed rows. Never raises for a
    bad page: errors become ``status=error`` with a one-line reason."""
    digest = sha256(data)
    page = {c: None for c in PAGE_COLUMNS}
    page.update(page_id=digest[:16], source=source, sha256=digest, format="html" if is_html else "text",
                n_chars_raw=0, n_chars_kept=0, n_chars_removed=0, n_documents=0, truncated=False,
                n_repairs=0, n_mojibake=0, error="")
    clock = _Clock(config.max_page_seconds)
    try:
        text, enc = decoded or decode(data)
        page["encoding"] = enc
        if is_html:
            text = html_to_text(text)
        page["n_chars_raw"] = len(text)
        if not text.strip():
            page["status"] = "empty"
            return PageResult(page)
        tt, facts = clean_page(text, templates, config, clock)
        docs, sfacts = split_page(tt)
        clock.check("split")
    except PageError as exc:
        page["status"], page["error"] = "error", str(exc)
        return PageResult(page)
    except (MemoryError, RecursionError) as exc:  # pragma: no cover - resource exhaustion
        page["status"], page["error"] = "error", f"resource limit: {type(exc).__name__}"
        return PageResult(page)
    clean = tt.text
    page.update(script=facts["script"], title=sfacts["title"], announced_documents=sfacts["announced"])
    log = tt.log()
    removed = _removed_columns(_log_rows(log, text), text, page["page_id"])
    moji = sorted(facts["mojibake_raw"])
    doc_rows = []
    for i, d in enumerate(docs, 1):
        body = clean[d["new_start"]:d["new_end"]]
        raw_start, raw_end = span_to_raw(tt, d["new_start"], d["new_end"])
        year, year_source = split.document_year(d["year"], d["title"], body)
        doc_rows.append({
            "doc_id": f"{page['page_id']}-{i:02d}", "page_id": page["page_id"], "source": source, "index": i,
            "title": d["title"], "text": body, "raw_start": raw_start, "raw_end": raw_end,
            "signoff": d["signoff"], "year": year, "year_source": year_source, "n_chars": len(body),
            "n_placeholders": repair.count_placeholders(body),
            "n_mojibake": sum(raw_start <= p < raw_end for p in moji), "script": facts["script"],
        })
    n_removed = sum(s.raw_end - s.raw_start for s in log if s.kind in ("removed", "structure"))
    announced = page["announced_documents"]
    last = doc_rows[-1]["text"] if doc_rows else ""
    cut = bool(last) and not doc_rows[-1]["signoff"] and last.rstrip()[-1] not in split.TERMINAL + "》"
    page.update(status="ok" if doc_rows else "empty", n_chars_kept=len(clean), n_chars_removed=n_removed,
                n_documents=len(doc_rows), n_repairs=sum(1 for s in log if s.kind == "repair"),
                n_mojibake=len(moji),
                truncated=bool((announced and len(doc_rows) < announced) or cut))
    if not doc_rows:
        page["error"] = "nothing left after cleaning (boilerplate only)"
    sec_cols: dict[str, list] | list = []
    if config.sections:  # here, in the worker, not on the driver at merge time
        from ..sections import section_columns

        sec_cols = section_columns((d["doc_id"], d["text"]) for d in doc_rows)
    return PageResult(page, doc_rows, removed, sec_cols)




def _log_rows(log: list, raw: str) -> list[tuple]:
    """(raw_start, raw_end, replacement, rule, kind) per logged segment, with nearby pure
    OpenCC conversions on one line logged as one row (the kept characters between them are
    part of both its raw text and its replacement, so the row still rebuilds the raw page):
    a traditional page logs a few dozen rows instead of a thousand."""
    rows: list[tuple] = []
    pend: list | None = None  # an open conversion row: [raw_start, raw_end, replacement]
    for s in log:
        if s.kind == "convert" and s.rule == "opencc":
            if pend is not None and s.raw_start - pend[1] <= convert.CONVERT_JOIN and "\n" not in raw[pend[1]:s.raw_start]:
                pend[2] += raw[pend[1]:s.raw_start] + s.text
                pend[1] = s.raw_end
                continue
            if pend is not None:
                rows.append((pend[0], pend[1], pend[2], "opencc", "convert"))
            pend = [s.raw_start, s.raw_end, s.text]
            continue
        if pend is not None:
            rows.append((pend[0], pend[1], pend[2], "opencc", "convert"))
            pend = None
        rows.append((s.raw_start, s.raw_end, s.text, s.rule, s.kind))
    if pend is not None:
        rows.append((pend[0], pend[1], pend[2], "opencc", "convert"))
    return rows


def _removed_columns(rows: list[tuple], raw: str, page_id: str) -> dict[str, list]:
    """The page's removed.parquet rows as columns, one row per contiguous removal under one
    reason (a breadcrumb whose characters were converted by OpenCC first would otherwise be
    logged in pieces). ``rows``: (raw_start, raw_end, replacement, rule, kind) in raw order."""
    out: list[list] = []  # [raw_start, raw_end, replacement, rules, kind, reason]
    for a, b, repl, rule, kind in rows:
        reason = _reason(rule)
        if out:
            p = out[-1]
            if repl == "" and p[2] == "" and p[1] == a and p[5] == reason and p[4] == kind:
                p[1] = b  # contiguous: the raw text is the joined slice
                if rule != p[3]:
                    p[3] = "+".join(dict.fromkeys(p[3].split("+") + rule.split("+")))
                continue
        out.append([a, b, repl, rule, kind, reason])
    starts, ends, repls, rules, kinds, reasons = (list(c) for c in zip(*out)) if out else ([],) * 6
    return {"page_id": [page_id] * len(out), "raw_start": starts, "raw_end": ends,
            "text": [raw[a:b] for a, b in zip(starts, ends)], "replacement": repls, "kind": kinds,
            "reason": reasons, "rules": rules}


_GENERIC_RULES = {"opencc", "blank_line", "whitespace", "punctuation"}


@lru_cache(maxsize=4096)
def _reason(chain: str) -> str:
    """The rule a span is reported under: the last specific rule in its chain."""
    rules = chain.split("+")
    return next((r for r in reversed(rules) if r not in _GENERIC_RULES), rules[-1])


# ----------------------------------------------------------------------------- the corpus
SHARD_PAGES = 32  # pages per task at most
BATCH_PAGES = 512  # pages per Parquet row group (fixed, so outputs don't depend on workers)


def shard_size(n_pages: int, workers: int) -> int:
    """Pages per task: at most :data:`SHARD_PAGES`, fewer for a small input so that every
    worker gets ~16 tasks (272 pages on 2 workers: 9 shards of 32 left one worker idle for
    the last shard; 31 shards of 9 do not). Results are per page, so the shard size never
    changes the output."""
    return max(1, min(SHARD_PAGES, -(-n_pages // (16 * max(1, workers)))))


def _read(src: Source, config: IngestConfig) -> tuple[bytes | None, str | None]:
    try:
        return read_bytes(src, config.max_page_bytes), None
    except PageError as exc:
        return None, str(exc)


def _page_text_for_keys(src: Source, config: IngestConfig) -> str | None:
    data, _ = _read(src, config)
    if data is None:
        return None
    try:
        text, _ = decode(data)
    except PageError:
        return None
    if src.path.suffix.lower() in HTML_SUFFIXES:
        text = html_to_text(text)
    return text


_WARM_PAGE = ("工會組織創(chuàng)新，加強學習。\n一、总体要求\n（一）学习 工 1 作 民-主 xx年 某某\n"
              "首页 > 工作总结 > 工会\n下载本文 ‚引号‛ ;短语; 1:50\n—6—\n") * 8


def warm_up(config: IngestConfig | None = None) -> None:
    """Load every per-process resource of the cleaning stages now — jieba's dictionary
    counts, OpenCC, the script and character tables, the Scanner/CharSet tables, the rules
    — by touching them and cleaning a small page that reaches every stage. A process pool
    forked afterwards inherits them instead of loading them in every worker. Never raises:
    a resource that fails to load fails later, in the page that needs it."""
    from .. import sections
    from . import textutil

    try:
        for mod in (repair, boilerplate, convert, split, textutil, sections):
            for value in list(vars(mod).values()):
                if isinstance(value, textutil.Scanner):
                    value.first.table()
                    if value.then is not None:
                        value._bits()
                elif isinstance(value, textutil.CharSet):
                    value.table()
        repair._char_rank()
        repair._invisible_classes()
        repair._word_freq()
        textutil.common_share("工会")
        process_page(_WARM_PAGE.encode(), "warm-up.txt", False, frozenset(), config or IngestConfig())
    except Exception:  # pragma: no cover - best effort
        pass


def _count_shard(shard: list[Source], config: IngestConfig):
    """Task of the count pass: (line keys, pages) arrays over a shard (compact: 16 bytes a
    line). ``config`` is the same for every task: handed to each worker once."""
    texts = (_page_text_for_keys(src, config) for src in shard)
    return boilerplate.shard_key_counts(t for t in texts if t is not None)


def _error_page(src: Source, err: str) -> PageResult:
    page = {c: None for c in PAGE_COLUMNS}
    page.update(page_id=hashlib.sha256(src.rel.encode()).hexdigest()[:16], source=src.rel, status="error",
                error=err, n_chars_raw=0, n_chars_kept=0, n_chars_removed=0, n_documents=0,
                truncated=False, n_repairs=0, n_mojibake=0)
    return PageResult(page)


def _cache_key(digest: str, config: IngestConfig, tdigest: str, is_html: bool) -> str:
    """What a page result depends on: the bytes, the configuration, the learned template
    lines the page contains, and whether it is parsed as HTML."""
    return f"{digest}-{config.digest()}-{tdigest}{'-h' if is_html else ''}"


Locator = tuple[str, int]  # (pack path, page number in the pack) of one page result


def stored_results(work: str | os.PathLike) -> dict[str, Locator]:
    """Every page result kept under ``work/packs``: cache key → locator (the first pack in
    name order wins when two hold the same key)."""
    out: dict[str, Locator] = {}
    for path in sorted(Path(work, "packs").glob(f"*{PACK_SUFFIX}")):
        for key, loc in _pack_entries(path):
            out.setdefault(key, loc)
    return out


def _pack_entries(path: Path) -> Iterator[tuple[str, Locator]]:
    """(cache key, locator) of the pages of a complete pack that may be looked up again."""
    for i, entry in enumerate(read_pack_index(path) or ()):
        if entry[0]:
            yield entry[0], (str(path), i)


_KNOWN: dict[str, tuple[frozenset, dict[str, Locator]]] = {}  # per work dir: packs read, their keys


def _known_results(work: Path) -> dict[str, Locator]:
    """:func:`stored_results`, kept per process and refreshed by reading only the packs that
    appeared since the last task. A pack is known by name, size and mtime: one that changed
    or vanished (damaged, or ``resume=False``) resets the index."""
    packs_dir = work / "packs"
    now = frozenset((e.name, st.st_size, st.st_mtime_ns) for e in os.scandir(packs_dir)
                    if e.name.endswith(PACK_SUFFIX) for st in (e.stat(),)) if packs_dir.is_dir() else frozenset()
    seen, keys = _KNOWN.get(str(work), (frozenset(), {}))
    if not seen <= now:
        seen, keys = frozenset(), {}
    for name, _, _ in sorted(now - seen):
        for key, loc in _pack_entries(packs_dir / name):
            keys.setdefault(key, loc)
    _KNOWN[str(work)] = (now, keys)
    return keys


def _process_shard(shard: list[Source], shared: tuple[frozenset[bytes], IngestConfig, str]) -> list[Locator]:
    """Task of the apply pass: clean a shard of pages and write the results of those not
    already kept (from an earlier or interrupted run) into one pack. Returns each page's
    locator, in shard order. ``shared`` (templates, config, work directory) is the same for
    every task: handed to each worker once."""
    templates, config, work = shared
    work_p = Path(work)
    known = _known_results(work_p)
    fresh: list[tuple[str, dict]] = []  # (key, rows) for this task's pack
    names: list[str] = []  # what the pack is named after
    where: list[Locator | int] = []  # a kept locator, or an index into ``fresh``
    mine: dict[str, int] = {}  # keys computed in this task (identical files in one shard)
    for src in shard:
        data, err = _read(src, config)
        if data is None:
            fresh.append(("", _rows(_error_page(src, err))))  # never looked up: re-read next run
            names.append(f"error:{src.rel}")
            where.append(len(fresh) - 1)
            continue
        digest = sha256(data)
        is_html = src.path.suffix.lower() in HTML_SUFFIXES
        tdigest = "0"
        decoded = None
        if templates:
            try:
                decoded = decode(data)
                text = html_to_text(decoded[0]) if is_html else decoded[0]
                lines = sorted(boilerplate.page_line_keys(text) & templates)
            except PageError:
                lines = []
            tdigest = hashlib.blake2b(b"".join(lines), digest_size=8).hexdigest() if lines else "0"
        key = _cache_key(digest, config, tdigest, is_html)
        if key in known:
            where.append(known[key])
        elif key in mine:
            where.append(mine[key])
        else:
            res = process_page(data, src.rel, is_html, templates, config, decoded=decoded)
            fresh.append((key, _rows(res)))
            names.append(key)
            mine[key] = len(fresh) - 1
            where.append(len(fresh) - 1)
    if not fresh:
        return where  # type: ignore[return-value]
    name = hashlib.sha256("\n".join(names).encode()).hexdigest()[:32]
    pack = work_p / "packs" / f"{name}{PACK_SUFFIX}"
    write_pack(pack, fresh)
    return [w if isinstance(w, tuple) else (str(pack), w) for w in where]


def _rows(res: PageResult) -> dict:
    return {"pages": [res.page], "documents": res.documents, "removed": res.removed, "sections": res.sections}


def apply_metadata(docs: list[dict], src: Source) -> None:
    """Years and titles from outside the text: a metadata sidecar next to the pages
    (``index.jsonl``/``metadata.jsonl`` rows with ``file`` and ``year``/``title``) beats
    years guessed from the text; a year in the file name beats a year merely mentioned
    early in the text. Sign-off dates always win. ``docs``: dicts with ``year``,
    ``year_source`` and ``title``, changed in place."""
    meta = src.meta or {}
    fyear = split.year_in_name(src.rel)
    single = len(docs) == 1
    for doc in docs:
        if meta.get("year") and doc.get("year_source") != "signoff":
            doc["year"], doc["year_source"] = int(meta["year"]), "metadata"
        elif fyear and doc.get("year_source") in (None, "text"):
            doc["year"], doc["year_source"] = fyear, "file_name"
        if single and meta.get("title"):
            doc["title"] = str(meta["title"])
        if not doc.get("title"):  # last resort, per file (results are shared by identical files)
            doc["title"] = Path(src.rel).stem


def _set_columns(table, values: dict[str, list]):
    """``table`` with some columns replaced (same types)."""
    import pyarrow as pa

    for name, vals in values.items():
        i = table.schema.get_field_index(name)
        table = table.set_column(i, table.schema.field(i), pa.array(vals, table.schema.field(i).type))
    return table


def _load_result(loc: Locator, src: Source, page_id: str | None = None) -> tuple[dict, dict]:
    """One page result ready for the merge: (page row, {table: Arrow table}). Content-keyed
    results are shared by identical files, so the source (and file-based metadata) is this
    file's (:func:`_load_run`); ``page_id`` renames a second copy of identical bytes."""
    pages, tabs = _load_run(loc[0], loc[1], [src])
    page = pages[0]
    old = page["page_id"]
    if page_id is None or page_id == old:
        return page, tabs
    new = page["page_id"] = page_id
    docs = tabs["documents"]
    tabs["documents"] = _set_columns(docs, {
        "page_id": [new] * docs.num_rows,
        "doc_id": [f"{new}{d[len(old):]}" for d in docs.column("doc_id").to_pylist()]})
    tabs["removed"] = _set_columns(tabs["removed"], {"page_id": [new] * tabs["removed"].num_rows})
    secs = tabs["sections"]
    tabs["sections"] = _set_columns(secs, {c: [v if v is None else f"{new}{v[len(old):]}"
                                               for v in secs.column(c).to_pylist()]
                                           for c in ("doc_id", "section_id", "parent_id")})
    return page, tabs


def _load_run(path: str, i: int, srcs: list[Source]) -> tuple[list[dict], dict]:
    """Consecutive pages ``i``, ``i + 1``, … of one pack for the files ``srcs``: (page rows,
    {table: Arrow table}), each page's source (and its file-based metadata) set to its file's.
    One slice and one column conversion per table for the run, not per page (a pack is
    usually one shard's pages in order)."""
    tabs, offsets = read_results(path, i, len(srcs))
    pages = tabs["pages"].to_pylist()
    docs = tabs["documents"]
    have = {c: docs.column(c).to_pylist() for c in ("source", "title", "year", "year_source")}
    meta = [dict(zip(("title", "year", "year_source"), row)) for row in
            zip(have["title"], have["year"], have["year_source"])]
    source: list[str] = []
    for k, (page, src) in enumerate(zip(pages, srcs)):
        page["source"] = src.rel
        a, b = offsets[k], offsets[k + 1]
        apply_metadata(meta[a:b], src)
        source += [src.rel] * (b - a)
    fix = {"source": source, **{c: [m[c] for m in meta] for c in ("title", "year", "year_source")}}
    # usually only what the files add (a year in the name): unchanged columns are not rebuilt
    tabs["documents"] = _set_columns(docs, {c: v for c, v in fix.items() if v != have[c]})
    return pages, tabs


def _runs_of_pages(pairs: Iterator[tuple[Locator, Source]], room: Callable[[], int]
                   ) -> Iterator[tuple[str, int, list[Source]]]:
    """(pack, first page, files) for runs of consecutive pages of one pack, each at most
    ``room()`` pages long (what is left of the current row group)."""
    cur: tuple[str, int, list[Source]] | None = None
    for (path, i), src in pairs:
        if cur is not None and (path != cur[0] or i != cur[1] + len(cur[2]) or len(cur[2]) >= room()):
            yield cur
            cur = None
        if cur is None:
            cur = (path, i, [])
        cur[2].append(src)
    if cur is not None:
        yield cur


PAGE_SUMMARY_COLUMNS = ["source", "sha256", "status", "error", "n_chars_raw", "n_chars_kept", "n_chars_removed",
                        "n_documents", "script"]


@dataclass
class IngestSummary:
    """What :func:`ingest` did: one row per input page (``pages``, a DataFrame built on
    first use from ``page_rows``, so the command line never imports pandas), counts by
    status, stage timings and the files skipped."""
    out: Path
    page_rows: list[dict]
    n_documents: int
    counts: dict
    timings: dict
    skipped: list = field(default_factory=list)

    @cached_property
    def pages(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.page_rows, columns=PAGE_SUMMARY_COLUMNS)

    def errors(self) -> list[tuple[str, str]]:
        """(source, error) of every page with status ``error``, in input order."""
        return [(p["source"], p["error"]) for p in self.page_rows if p["status"] == "error"]

    @property
    def exit_code(self) -> int:
        c = self.counts
        if c["ok"] == 0:
            return 3
        return 1 if c["error"] else 0


class _TableWriter:
    """Stream row batches into one Parquet file with a fixed schema; renamed into place on
    close(). Row groups are the batches, so the bytes depend only on the input."""

    def __init__(self, path: Path, columns: list[str], types: dict[str, str]):
        import pyarrow.parquet as pq

        self.path, self.columns = path, columns
        self.schema = schema(columns, types)
        self.tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        self.writer = pq.ParquetWriter(self.tmp, self.schema, compression="zstd", write_statistics=False)

    def write(self, rows: list[dict]) -> None:
        import pyarrow as pa

        self.writer.write_table(pa.Table.from_pylist(rows, schema=self.schema))  # missing keys → null

    def write_tables(self, tables: list) -> None:
        import pyarrow as pa

        # one chunk per column: pages encode in fewer, larger runs (documents.parquet 12 % smaller)
        self.writer.write_table(pa.concat_tables(tables).combine_chunks())

    def close(self) -> None:
        self.writer.close()
        with open(self.tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(self.tmp, 0o666 & ~_UMASK)
        os.replace(self.tmp, self.path)


def ingest(paths: list[str | os.PathLike] | str | os.PathLike, out: str | os.PathLike, *,
           config: IngestConfig | None = None, workers: int = 1, engine: str = "local", address: str | None = None,
           progress: Callable[[str, int, int], None] | None = None, resume: bool = True,
           **overrides) -> IngestSummary:
    """Ingest files/folders into the corpus directory ``out``.

    Writes ``pages.parquet``, ``documents.parquet``, ``removed.parquet``,
    ``sections.parquet`` and ``manifest.json`` (each atomically, manifest last). The work is
    independent tasks over shards of input files (``engine="local"`` with ``workers``
    processes, or ``engine="ray"``); each page's result is kept under ``out/.work`` keyed by
    content hash + configuration + the learned template lines it contains, so an
    interrupted or repeated run resumes, and adding pages re-processes only the new ones
    (and pages whose template lines changed). Input order, ``workers`` and ``engine`` never
    change the output.
    """
    from ..engine import session

    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    config = config or IngestConfig(**overrides)
    out = Path(out)
    work = out / ".work"
    import shutil

    if not resume and work.exists():
        shutil.rmtree(work)
    for old in ("pages", "errors"):  # per-page result files of corpus-tools before packs: never read again
        shutil.rmtree(work / old, ignore_errors=True)
    timings: dict[str, float] = {}
    skipped: list[str] = []
    if out.is_dir():  # temp files of a run that was killed while writing its tables or packs
        for stale in [*out.glob(".*.tmp"), *work.glob("packs/.*.tmp")]:
            stale.unlink(missing_ok=True)
    sources = discover(list(paths), skipped)
    size = shard_size(len(sources), workers)
    shards = [sources[i:i + size] for i in range(0, len(sources), size)]
    with session(engine, workers, address):
        templates = _learn_templates(sources, shards, config, engine, workers, address, timings)
        out.mkdir(parents=True, exist_ok=True)
        # the driver merges each shard's results while the workers clean the next shards
        result_locs = _apply_pass(sources, shards, templates, config, work, engine, workers, address,
                                   progress, timings)
        return _write_corpus(sources, result_locs, templates, config, out, work, skipped, timings)


def _learn_templates(sources, shards, config, engine, workers, address, timings) -> frozenset[bytes]:
    """Pass 1: cross-page line statistics (count per shard → merge → keys seen on enough pages)."""
    from ..engine import run_tasks

    t0 = time.perf_counter()
    templates: frozenset[bytes] = frozenset()
    if config.learn_templates and len(sources) >= max(3, config.template_min_pages):
        counts = boilerplate.LineCounter()
        # while pool workers count, this process loads what cleaning needs: the apply pass's
        # pool is forked afterwards and inherits it (each worker loading it took ~0.35 s)
        warm = (lambda: warm_up(config)) if engine == "local" and workers > 1 else None
        for keys, pages in run_tasks(_count_shard, shards, shared=config, engine=engine,
                                     workers=workers, address=address, while_running=warm):
            counts.add(keys, pages)
        templates = boilerplate.template_keys(counts, len(sources), config.template_min_pages)
    timings["templates"] = round(time.perf_counter() - t0, 3)
    return templates


def _apply_pass(sources, shards, templates, config, work, engine, workers, address, progress,
                timings) -> Iterator[str]:
    """Pass 2: each task cleans a shard and writes its pages' result files; yields the result
    paths in source order as the shards finish (``timings["clean_split"]``: until the last)."""
    from ..engine import run_tasks

    t0 = time.perf_counter()
    done = 0
    for paths_ in run_tasks(_process_shard, shards, shared=(templates, config, str(work)),
                            engine=engine, workers=workers, address=address):
        yield from paths_
        done += len(paths_)
        if progress:
            progress("ingest", done, len(sources))
    timings["clean_split"] = round(time.perf_counter() - t0, 3)
    timings["_results_done"] = time.perf_counter()


def _write_corpus(sources, result_locs, templates, config, out, work, skipped, timings) -> IngestSummary:
    """Stream the page results in source order into the tables; manifest last."""
    t0 = time.perf_counter()
    names = [n for n in TABLES if n != "sections" or config.sections]
    writers = {name: _TableWriter(out / f"{name}.parquet", *TABLES[name]) for name in names}
    all_pages: list[dict] = []
    seen_ids: Counter = Counter()
    pages_batch: list[dict] = []
    batch: dict[str, list] = {name: [] for name in names if name != "pages"}
    n = {name: 0 for name in names}

    def flush() -> None:
        if not pages_batch:
            return
        writers["pages"].write(pages_batch)
        pages_batch.clear()
        for name, tabs in batch.items():
            writers[name].write_tables(tabs)
            tabs.clear()

    def add(pages: list[dict], tabs: dict) -> None:
        pages_batch.extend(pages)
        for name in batch:
            batch[name].append(tabs[name])
            n[name] += tabs[name].num_rows
        all_pages.extend({k: page[k] for k in PAGE_SUMMARY_COLUMNS} for page in pages)
        if len(pages_batch) >= BATCH_PAGES:
            flush()

    # results first: the generator runs to its end. Runs of one pack's consecutive pages are
    # merged at once, up to the end of the current row group (so row groups stay BATCH_PAGES)
    for path, first, srcs in _runs_of_pages(zip(result_locs, sources), lambda: BATCH_PAGES - len(pages_batch)):
        pages, tabs = _load_run(path, first, srcs)
        ids = [p["page_id"] for p in pages]
        if len(set(ids)) == len(ids) and not any(pid in seen_ids for pid in ids):
            seen_ids.update(ids)
            add(pages, tabs)
            continue
        for k, (src, pid) in enumerate(zip(srcs, ids)):  # identical bytes under two names: page by page
            seen_ids[pid] += 1
            renamed = f"{pid}~{seen_ids[pid]}" if seen_ids[pid] > 1 else None  # unique, deterministic ids
            page, tabs = _load_result((path, first + k), src, renamed)
            add([page], tabs)
    flush()
    release_packs()
    for w in writers.values():
        w.close()
    # the merge after the last result arrived (the part that does not overlap the workers)
    timings["merge_sections"] = round(time.perf_counter() - timings.pop("_results_done", t0), 3)
    status_counts = dict.fromkeys(("ok", "empty", "error"), 0)
    for page in all_pages:
        if page["status"] in status_counts:
            status_counts[page["status"]] += 1
    manifest = {
        "tool": "corpus-tools", "version": __version__, "config": asdict(config), "config_digest": config.digest(),
        "inputs": [{"source": p["source"], "sha256": p["sha256"], "status": p["status"]} for p in all_pages],
        "skipped_files": sorted(skipped),
        "counts": {"pages": len(all_pages), **status_counts, "documents": n["documents"],
                   "removed_spans": n["removed"], "sections": n["sections"] if config.sections else None,
                   "chars_raw": sum(p["n_chars_raw"] or 0 for p in all_pages),
                   "chars_kept": sum(p["n_chars_kept"] or 0 for p in all_pages),
                   "templates_learned": len(templates)},
        "tables": {name: sha256((out / f"{name}.parquet").read_bytes())
                   for name in ("pages", "documents", "removed", "sections") if (out / f"{name}.parquet").exists()},
    }
    # timings vary run to run: they go to a separate file so the manifest is byte-identical
    atomic_write_json(out / "manifest.json", manifest)
    atomic_write_json(work / "timings.json", timings)
    return IngestSummary(out, all_pages, n["documents"], status_counts, timings, sorted(skipped))
