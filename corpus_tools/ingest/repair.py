"""Repairs of scraping artifacts. Each function returns edits ``(start, end, replacement,
rule)`` in current-text coordinates, to be applied with :meth:`TrackedText.edit`.

Order matters and is fixed by :mod:`corpus_tools.ingest.pipeline`:
pinyin annotations → mojibake → invisible characters  (before OpenCC: mojibake is not text)
then, on simplified text: link-keyword rejoin, spacing, quotes, punctuation.
"""
from __future__ import annotations

import re
from functools import lru_cache

from .textutil import CJK_RANGES, CharSet, Scanner, code_points, common_chars, common_share, is_cjk, is_pua

Edits = list[tuple]

# ----------------------------------------------------------------------------- pinyin
TONE = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
PINYIN_RE = Scanner(
    "[(（]", rf"(?<=[{CJK_RANGES}?A-Za-z\ue000-\uf8ff])[(（]([a-zü]{{0,6}}[{TONE}][a-zü]{{0,6}})[)）]"
)


# the mangled form where the opening parenthesis was eaten by mojibake: ``?shù)膸…``
# (the '?' is matched, not looked behind at: a literal first character lets re skip ahead fast)
PINYIN_MANGLED_RE = re.compile(rf"\?([a-zü]{{0,6}}[{TONE}][a-zü]{{0,6}}[)）])")
TONE_CHARS = CharSet(TONE)  # every annotation carries a tone mark: pages without one skip both scans


def pinyin_edits(text: str) -> Edits:
    """``創(chuàng)新`` → ``創新``: tone-marked pinyin in parentheses glued after a character
    (also the mangled ``?shù)`` whose opening parenthesis was lost). Genuine parentheses
    such as ``(一)``, ``(精选)``, ``(Q)`` never carry tone marks."""
    if not TONE_CHARS.found_in(text):
        return []
    edits = [(m.start(), m.end(), "", "pinyin_annotation") for m in PINYIN_RE.finditer(text)]
    edits += [(m.start(1), m.end(1), "", "pinyin_annotation") for m in PINYIN_MANGLED_RE.finditer(text)]
    return sorted(edits)


# ----------------------------------------------------------------------------- mojibake
_ASCII_TO_FULL = {",": "，", ";": "；", ":": "：", "!": "！", "(": "（", ")": "）"}
_TOP_PUNCT = "。，、：；！？"


@lru_cache(maxsize=1)
def _dictionary_counts() -> tuple[dict[str, int], dict[str, int]]:
    """(one-character, two-character) word frequencies from jieba's dictionary (shipped with
    jieba; offline). Read with one regex pass and without importing jieba (0.17 s instead of
    0.94 s), once per machine: kept by :mod:`.tablecache` (a load takes ~0.04 s)."""
    from .tablecache import cached, package_stamp

    return cached("jieba-counts", (package_stamp("jieba", "dict.txt"),), _read_dictionary_counts)


def _read_dictionary_counts() -> tuple[dict[str, int], dict[str, int]]:
    import importlib.util
    import os

    one: dict[str, int] = {}
    two: dict[str, int] = {}
    try:
        spec = importlib.util.find_spec("jieba")
        with open(os.path.join(os.path.dirname(spec.origin), "dict.txt"), encoding="utf-8") as fh:
            data = fh.read()
    except (AttributeError, TypeError, OSError):  # pragma: no cover - jieba is a core dependency
        return one, two
    for word, n in _DICT_LINE_RE.findall(data):
        (one if len(word) == 1 else two)[word] = int(n)
    return one, two


_DICT_LINE_RE = re.compile(r"^(\S\S?) (\d+)", re.M)


@lru_cache(maxsize=1)
def _char_rank() -> dict[str, int]:
    """Single-character frequencies, with the commonest punctuation ranked first."""
    ranks = dict(_dictionary_counts()[0])
    for i, p in enumerate(_TOP_PUNCT):
        ranks[p] = 10**9 - i
    return ranks


def _guess_lead(trail: int) -> str:
    """The most frequent GBK character whose second byte is ``trail`` (the lost first byte
    of a run that was read one byte out of step)."""
    ranks = _char_rank()
    best, best_rank = "?", -1
    for lead in range(0x81, 0xFF):
        try:
            c = bytes([lead, trail]).decode("gbk")
        except UnicodeDecodeError:
            continue
        r = ranks.get(c, -1) if c in _TOP_PUNCT or c in common_chars() else -1
        if r < 5000:  # only a confident guess (的, 。, 在 …); otherwise the character stays lost
            continue
        if r > best_rank:
            best, best_rank = c, r
    return best if best_rank > 0 else "?"


def _suspicious(window: str) -> bool:
    body = window[:-1]
    if any(is_pua(c) for c in window):
        return True
    if body and common_share(body) < 0.75:
        return True
    return window[-1:].isascii() and window[-1:].isalnum() and len(body) <= 12


def _unshift(window: str) -> str | None:
    """The text a one-byte-shifted GBK stretch stood for, or None when the shifted decoding
    is not clean Chinese (see :func:`mojibake_edits`)."""
    body = "".join(_ASCII_TO_FULL.get(c, c) for c in window)
    try:
        raw = body.encode("gb18030")
    except UnicodeEncodeError:
        return None
    dangling = raw.endswith(b"?")
    if dangling:
        raw = raw[:-1]
    shifted = raw[1:]
    tail = ""
    if dangling and shifted:
        # the last lead byte lost its trail byte ('?'): keep a '?' for it
        shifted, tail = shifted[:-1], "?"
    try:
        decoded = shifted.decode("gbk")
    except UnicodeDecodeError:
        return None
    if (not decoded or any(is_pua(c) for c in decoded) or common_share(decoded) < 0.95
            or not any(is_cjk(c) for c in decoded)):
        return None
    return _guess_lead(raw[0]) + decoded + tail


def mojibake_edits(text: str, max_window: int = 60) -> tuple[Edits, list[int]]:
    """Repair stretches where the page's GBK byte stream was read one byte out of step.

    Such a stretch starts at a ``?`` (the orphaned byte) and ends at the ASCII byte that
    resynchronised the decoder (``a`` in ``?shù)膸…⑸a(chǎn)``) or at a ``?`` standing for a
    lost trail byte. Re-encoding the stretch and decoding it shifted by one byte gives the
    original text; the lost first character is guessed from the orphaned trail byte (most
    frequent candidate). Where the shifted decoding is not clean Chinese, nothing is
    changed and the stretch is counted as unresolved. Returns ``(edits, positions of unresolved stretches)``.
    """
    edits: Edits = []
    unresolved: list[int] = []
    n = len(text)
    i = 0
    while True:
        i = text.find("?", i)
        if i < 0:
            break
        j = i
        while j < n and text[j] == "?":
            j += 1
        # window after the run of '?'
        k = j
        term = None
        while k < n and k - j < max_window:
            c = text[k]
            if c in "\n \t":
                break
            if c == "?" or (c.isascii() and c.isalnum()):
                term = k
                break
            if not (is_cjk(c) or is_pua(c) or c in _ASCII_TO_FULL or not c.isascii()):
                break
            k += 1
        if term is None or term == j:
            i = j
            continue
        window = text[j:term + 1]
        if not _suspicious(window):
            i = j
            continue
        fixed = _unshift(window)
        if fixed is None:
            unresolved.append(j - 1)
            i = term + 1
            continue
        edits.append((j - 1, term + 1, fixed, "mojibake"))
        unresolved.extend(range(i, j - 1))  # extra '?' before the run stay as lost characters
        i = term + 1
    return edits, unresolved


# ----------------------------------------------------------------------------- invisible
_INVISIBLE = "\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\ufeff\u00ad\x00-\x08\x0b\x0c\x0e-\x1f\x7f\r\ufffd"
INVISIBLE_RE = re.compile(f"[{_INVISIBLE}]+")
PUA_RE = re.compile("[\ue000-\uf8ff]+")
# the same classes as tables (built from the classes above, so they cannot drift): the
# runs come from one lookup over the page's code points, not two regex scans
INVISIBLE = CharSet(bmp_class=f"[{_INVISIBLE}]")
PUA = CharSet(ranges=((0xE000, 0xF900),))


@lru_cache(maxsize=1)
def _invisible_classes():
    """``table[code point]``: 1 invisible, 2 private use, else 0 (one lookup for both)."""
    import numpy as np

    return INVISIBLE.table().astype(np.uint8) | (PUA.table().astype(np.uint8) << 1)


_INVISIBLE_RULES = ("", "invisible_char", "private_use_glyph")


def invisible_edits(text: str) -> Edits:
    """Zero-width characters, controls, stray CRs, U+FFFD and private-use glyphs: the runs
    ``INVISIBLE_RE`` and ``PUA_RE`` match, found with one table lookup over the page."""
    import numpy as np

    if not text:
        return []
    cls = _invisible_classes()[code_points(text)]
    pos = np.flatnonzero(cls)
    if not len(pos):
        return []
    kind = cls[pos]
    cut = np.flatnonzero((np.diff(pos) != 1) | (np.diff(kind) != 0))  # a run ends at a gap or a class change
    starts = np.concatenate((pos[:1], pos[cut + 1]))
    ends = np.concatenate((pos[cut], pos[-1:])) + 1
    rules = [_INVISIBLE_RULES[k] for k in kind[np.concatenate(([0], cut + 1))].tolist()]
    return [(a, b, "", r) for a, b, r in zip(starts.tolist(), ends.tolist(), rules)]


# ----------------------------------------------------------------------------- spacing
def _word_freq() -> dict[str, int]:
    """Two-character word frequencies (a split word is rejoined only if it is a word)."""
    return _dictionary_counts()[1]


SPACED_LINE_RE = re.compile(rf"^(?:[{CJK_RANGES}][ \u3000]){{2,200}}[{CJK_RANGES}]$", re.M)
SPLIT_WORD_RE = Scanner(
    "[ \u30000-9-]", rf"(?<=[{CJK_RANGES}])(?:[ \u3000]|[ \u3000]?\d{{1,3}}[ \u3000]|-)(?=[{CJK_RANGES}])")


def spacing_edits(text: str, min_freq: int = 50) -> Edits:
    """Spaced-out headings (``商 务 分 工 会``) and words split by a stray space, a page
    number (``工 1 作``) or a filter-dodging hyphen (``民-主``, ``邓-小-平``)."""
    edits: Edits = []
    spaced: list[tuple[int, int]] = []
    for m in SPACED_LINE_RE.finditer(text):
        spaced.append((m.start(), m.end()))
        for k in range(m.start() + 1, m.end(), 2):
            edits.append((k, k + 1, "", "spaced_heading"))
    freq = _word_freq()
    si = 0
    for m in SPLIT_WORD_RE.finditer(text):
        while si < len(spaced) and spaced[si][1] <= m.start():
            si += 1
        if si < len(spaced) and spaced[si][0] <= m.start() < spaced[si][1]:
            continue
        gap = m.group()
        left, right = text[m.start() - 1], text[m.end()]
        if gap == "-":
            edits.append((m.start(), m.end(), "", "filter_hyphen"))
        elif freq.get(left + right, 0) >= min_freq:
            rule = "stray_space" if not any(c.isdigit() for c in gap) else "page_number_in_word"
            edits.append((m.start(), m.end(), "", rule))
    return sorted(edits)


# ----------------------------------------------------------------------------- quotes & punctuation
QUOTE_MAP = {"‚": "“", "‛": "”", "„": "“", "‟": "”", "〝": "“", "〞": "”", "＂": '"'}
_ODD_QUOTE_RE = re.compile("[‚‛„‟〝〞]")
SEMI_QUOTE_RE = re.compile(r";([^;；，,。！？!?\n]{1,20});")
ASCII_DQ_RE = re.compile(r'"([^"\n]{1,200})"')


def quote_edits(text: str) -> Edits:
    """Mis-encoded quote marks → “…”: ‚…‛, „…‟, ``;…;`` around a short phrase (real
    semicolons separate clauses, which are longer and carry commas), and ASCII "…"."""
    edits: Edits = [(m.start(), m.end(), QUOTE_MAP[m.group()], "quote_marks") for m in _ODD_QUOTE_RE.finditer(text)]
    taken = {e[0] for e in edits}
    for m in SEMI_QUOTE_RE.finditer(text):
        inner = m.group(1)
        before = text[m.start() - 1] if m.start() else ""
        if not inner.strip() or (before and not (is_cjk(before) or before in "，、。：（(“")):
            continue
        if not any(is_cjk(c) or c.isdigit() for c in inner):
            continue
        edits.append((m.start(), m.start() + 1, "“", "quote_marks"))
        edits.append((m.end() - 1, m.end(), "”", "quote_marks"))
    for m in ASCII_DQ_RE.finditer(text):
        if any(is_cjk(c) for c in m.group(1)) and m.start() not in taken:
            edits.append((m.start(), m.start() + 1, "“", "quote_marks"))
            edits.append((m.end() - 1, m.end(), "”", "quote_marks"))
    # drop overlaps (first wins)
    edits.sort()
    out: Edits = []
    last = -1
    for e in edits:
        if e[0] >= last:
            out.append(e)
            last = e[1]
    return out


_PUNCT_CANDIDATE_RE = re.compile("[,:;!?()\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")
_FULL = {",": "，", ":": "：", ";": "；", "!": "！", "?": "？", "(": "（", ")": "）"}
_CJKISH = set("，。、：；！？（）“”‘’《》〈〉【】…—")


def _cjkish(c: str) -> bool:
    return bool(c) and (is_cjk(c) or c in _CJKISH)


def punctuation_edits(text: str) -> Edits:
    """One normal form: Chinese punctuation full-width next to Chinese text; full-width
    ASCII letters and digits half-width (``１．`` → ``1．``). Colons and commas between
    digits (``1:50``, ``1,000``) and question marks after '?' runs (unresolved mojibake,
    placeholders) are left alone."""
    edits: Edits = []
    n = len(text)
    for m in _PUNCT_CANDIDATE_RE.finditer(text):
        i = m.start()
        c = m.group()
        o = ord(c)
        if 0xFF10 <= o <= 0xFF19 or 0xFF21 <= o <= 0xFF3A or 0xFF41 <= o <= 0xFF5A:
            edits.append((i, i + 1, chr(o - 0xFEE0), "fullwidth_alnum"))
            continue
        prev = text[i - 1] if i else ""
        nxt = text[i + 1] if i + 1 < n else ""
        if c in ",:" and prev.isdigit() and nxt.isdigit():
            continue
        if c == "?" and (prev in "?？" or nxt in "?？。！，、；" or not is_cjk(prev)):
            continue
        if c == "(":
            ok = _cjkish(nxt) or (_cjkish(prev) and nxt != "" and not nxt.isascii()) or (
                _cjkish(prev) and _closing_cjk(text, i))
        elif c == ")":
            ok = _cjkish(prev) or _cjkish(nxt) or _opening_cjk(text, i)
        else:
            ok = _cjkish(prev) or (_cjkish(nxt) and c not in ":?")
        if ok:
            edits.append((i, i + 1, _FULL[c], "punctuation"))
    return edits


def _closing_cjk(text: str, i: int) -> bool:
    j = text.find(")", i, i + 30)
    return j > 0 and any(is_cjk(ch) for ch in text[i:j])


def _opening_cjk(text: str, i: int) -> bool:
    j = text.rfind("(", max(0, i - 30), i)
    return j >= 0 and any(is_cjk(ch) for ch in text[j:i])


# ----------------------------------------------------------------------------- placeholders
PLACEHOLDER_RE = Scanner("[xX×Ｘｘ_＿*＊某○□]",
                               r"[xX×Ｘｘ]{2,}|_{2,}|＿{2,}|\*{2,}|＊{2,}|某某|○○|□{2,}|XX")


def count_placeholders(text: str) -> int:
    """``xx年``, ``__年``, ``***公司``, ``某某``: left in place, counted per document."""
    return sum(1 for _ in PLACEHOLDER_RE.finditer(text))
