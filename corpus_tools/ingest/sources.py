"""Discover input files and decode them to text, with a status for every file.

Encodings: UTF-8 (with or without BOM), UTF-16 (with BOM, or detected from the NUL
pattern), GB18030/GBK, Big5, and anything charset-normalizer recognises; a page whose
lines are in different encodings (a Big5 page with a GBK footer) is decoded line by line.
Binary files (NUL bytes, known magic numbers, control characters) get ``status=error``.
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .textutil import CJK_RE, common_share, is_cjk

TEXT_SUFFIXES = {".txt", ".text", ".html", ".htm", ".xhtml", ".md", ".dat"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
MAGIC = {
    b"%PDF": "PDF document", b"\x89PNG": "PNG image", b"\xff\xd8\xff": "JPEG image", b"GIF8": "GIF image",
    b"PK\x03\x04": "ZIP archive (docx/xlsx?)", b"\x7fELF": "ELF binary", b"\xd0\xcf\x11\xe0": "OLE document (doc/xls)",
    b"\x1f\x8b": "gzip archive", b"Rar!": "RAR archive", b"BM": None,
}


class PageError(Exception):
    """A page that cannot be ingested; the message is the one-line reason."""


@dataclass
class Source:
    path: Path  # absolute path
    rel: str  # path relative to its input root (posix), the ``source`` column
    meta: dict | None = None  # from a metadata sidecar (index.jsonl / metadata.jsonl)


SIDECARS = ("index.jsonl", "metadata.jsonl")


def read_sidecar(folder: Path) -> dict[str, dict]:
    """``{file name: {"year": …, "title": …}}`` from a JSON-lines sidecar in ``folder``.
    Rows name their file with ``file``, ``source`` or ``path``; bad rows are ignored."""
    import json

    out: dict[str, dict] = {}
    for name in SIDECARS:
        p = folder / name
        if not p.is_file():
            continue
        for line in p.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                row = json.loads(line)
            except ValueError:
                continue
            if not isinstance(row, dict):
                continue
            key = row.get("file") or row.get("source") or row.get("path")
            if not isinstance(key, str):
                continue
            meta = {}
            if isinstance(row.get("year"), int) and 1800 < row["year"] < 2100:
                meta["year"] = row["year"]
            if isinstance(row.get("title"), str) and row["title"].strip():
                meta["title"] = row["title"].strip()
            if meta:
                out[key] = meta
    return out


def discover(inputs: list[str | os.PathLike], skipped: list[str] | None = None) -> list[Source]:
    """Files under the inputs (recursive), sorted by relative path so input order never
    changes the output. Inside folders, hidden files and files whose suffix is not a page
    type (.txt .html .htm .md, or none) are not pages: their names go to ``skipped`` (and
    the manifest). Files named explicitly are always ingested."""
    found: dict[str, Source] = {}
    skipped = skipped if skipped is not None else []
    for inp in inputs:
        p = Path(inp)
        if p.is_dir():
            for root, dirs, files in os.walk(p, followlinks=False):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                sidecar = read_sidecar(Path(root)) if any(f in SIDECARS for f in files) else {}
                for f in files:
                    if f.startswith("."):
                        continue
                    fp = Path(root) / f
                    rel = storable_name(fp.relative_to(p).as_posix())
                    if fp.suffix and fp.suffix.lower() not in TEXT_SUFFIXES:
                        skipped.append(rel)  # metadata next to the pages (index.jsonl, .csv, .py ...)
                        continue
                    found.setdefault(rel, Source(fp, rel, sidecar.get(f)))
        elif p.exists() or p.is_symlink():
            found.setdefault(storable_name(p.name), Source(p, storable_name(p.name)))
        else:
            raise FileNotFoundError(f"input not found: {inp}")
    return [found[k] for k in sorted(found)]


def storable_name(name: str) -> str:
    """A file name as valid Unicode: names in GBK (or other) bytes decode from their
    bytes instead of carrying surrogate escapes that cannot be stored."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        raw = os.fsencode(name)
        for enc in ("gb18030", "big5"):
            try:
                return raw.decode(enc)
            except UnicodeDecodeError:
                pass
        return raw.decode("utf-8", "backslashreplace")


def read_bytes(src: Source, max_bytes: int) -> bytes:
    p = src.path
    if p.is_symlink() and not p.exists():
        raise PageError("broken symbolic link")
    if not p.is_file():
        raise PageError("not a regular file")
    size = p.stat().st_size
    if size > max_bytes:
        raise PageError(f"page is {size / 2**20:.1f} MiB, over the limit max_page_bytes={max_bytes / 2**20:.0f} MiB")
    try:
        return p.read_bytes()
    except PermissionError:
        raise PageError("permission denied") from None
    except OSError as exc:
        raise PageError(f"unreadable: {exc.strerror or exc}") from None


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _score(text: str) -> float:
    """How much ``text`` looks like Chinese prose: common-character share of CJK chars,
    penalised by replacement and control characters."""
    if not text:
        return 0.0
    bad = text.count("\ufffd") + len(_CTRL_RE.findall(text))
    sample = text[:20000]
    base = common_share(sample) if CJK_RE.search(sample) else 0.5
    return base - 5 * bad / len(text)


def _looks_utf16(data: bytes) -> str | None:
    sample = data[:4000]
    if len(sample) < 4:
        return None
    even = sample[0::2].count(0)
    odd = sample[1::2].count(0)
    half = len(sample) / 2
    if odd > 0.2 * half and even < 0.05 * half:
        return "utf-16-le"
    if even > 0.2 * half and odd < 0.05 * half:
        return "utf-16-be"
    # CJK-heavy UTF-16 has few NULs; decide by decoding
    for enc in ("utf-16-le", "utf-16-be"):
        try:
            t = sample[: len(sample) // 2 * 2].decode(enc)
        except UnicodeDecodeError:
            continue
        if sum(is_cjk(c) for c in t) > 0.5 * len(t) and _score(t) > 0.9:
            return enc
    return None


def decode(data: bytes) -> tuple[str, str]:
    """Bytes → (text, encoding name). Raises :class:`PageError` for binary/undecodable."""
    for magic, what in MAGIC.items():
        if what and data.startswith(magic):
            raise PageError(f"binary file ({what}), not text")
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            pass
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise PageError("UTF-16 byte-order mark but undecodable content") from None
    if b"\x00" in data:
        enc = _looks_utf16(data)
        if enc:
            try:
                return data.decode(enc), enc
            except UnicodeDecodeError:
                pass
        raise PageError(f"binary file ({data.count(0)} NUL bytes), not text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:  # a control character is a control byte in UTF-8: ≤ 10 such bytes cannot fail the check
        return (text if len(data) - len(data.translate(None, _CTRL_BYTES)) <= 10 else _check_text(text)), "utf-8"
    # UTF-8 with a few broken sequences: keep it (U+FFFD is removed and logged later)
    lenient = data.decode("utf-8", errors="replace")
    n_bad = lenient.count("\ufffd")
    if n_bad <= max(8, len(lenient) // 1000) and _score(lenient) > 0.9:
        return _check_text(lenient), "utf-8(invalid bytes replaced)"
    candidates = []
    for enc in ("gb18030", "big5"):
        try:
            t = data.decode(enc)
        except UnicodeDecodeError:
            continue
        candidates.append((_score(t), enc, t))
    best = max(candidates) if candidates else None
    if best is None or best[0] < 0.97:
        # maybe a page assembled from parts in different encodings
        mixed = _decode_by_line(data)
        if mixed and (best is None or _score(mixed[0]) > best[0] + 0.02):
            return mixed
    if best is not None and best[0] > 0.6:
        return _check_text(best[2]), best[1]
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
    except Exception:  # pragma: no cover
        best = None
    if best is not None and best.encoding:
        t = str(best)
        if _score(t) > 0.3:
            return _check_text(t), best.encoding
    raise PageError("undecodable: not UTF-8, GB18030, Big5 or UTF-16 text")


def _decode_by_line(data: bytes) -> tuple[str, str] | None:
    """Pages assembled from parts in different encodings: decode each line on its own."""
    out, used = [], set()
    for line in data.split(b"\n"):
        best = None
        for enc in ("utf-8", "big5", "gb18030"):
            try:
                t = line.decode(enc)
            except UnicodeDecodeError:
                continue
            s = _score(t)
            if best is None or s > best[0] + 0.05:
                best = (s, enc, t)
        if best is None:
            return None
        out.append(best[2])
        if line.strip():
            used.add(best[1])
    if len(used) < 2:
        return None
    return _check_text("\n".join(out)), "mixed(" + "+".join(sorted(used)) + ")"


_CTRL_RE = re.compile("[\x00-\x08\x0e-\x1f]")
_CTRL_BYTES = bytes(range(0x00, 0x09)) + bytes(range(0x0E, 0x20))


def _check_text(text: str) -> str:
    ctrl = len(_CTRL_RE.findall(text, 0, 100000))
    if ctrl > max(10, len(text[:100000]) // 100):
        raise PageError(f"binary file ({ctrl} control characters), not text")
    return text


def html_to_text(html: str) -> str:
    """Main text of an HTML page with paragraph breaks (trafilatura; stdlib fallback)."""
    try:
        import trafilatura

        text = trafilatura.extract(html, include_comments=False, include_tables=True, favor_recall=True,
                                   deduplicate=False, output_format="txt")
    except Exception:
        text = None
    if text and text.strip():
        return text
    return _strip_tags(html)


def _strip_tags(html: str) -> str:
    from html.parser import HTMLParser

    class _P(HTMLParser):
        BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "table"}

        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []
            self.skip = 0

        def handle_starttag(self, tag, attrs):
            if tag in ("script", "style", "noscript", "template"):
                self.skip += 1
            elif tag in self.BLOCK:
                self.parts.append("\n")

        def handle_endtag(self, tag):
            if tag in ("script", "style", "noscript", "template"):
                self.skip = max(0, self.skip - 1)
            elif tag in self.BLOCK:
                self.parts.append("\n")

        def handle_data(self, data):
            if not self.skip:
                self.parts.append(data)

    p = _P()
    p.feed(html)
    return "".join(p.parts)
