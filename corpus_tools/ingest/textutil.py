"""Small character-class helpers shared by the cleaning stages."""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterator

# Han code points: CJK Extension A, the Unified Ideographs and the Compatibility Ideographs
# ([lo, hi) pairs); the regex class, is_cjk and the numpy tables all come from here
HAN_RANGES = ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00))
CJK_RANGES = "".join(f"{chr(lo)}-{chr(hi - 1)}" for lo, hi in HAN_RANGES)
CJK_RE = re.compile(f"[{CJK_RANGES}]+")
SENT_END = "。！？!?"
# a sentence: shortest run ending in a terminator (or the end of the string)
SENTENCE_RE = re.compile(r"[^。！？!?\n]*(?:[。！？!?]+[”’」』）)]?|$)")
CLOSERS = "”’」』）)》〉】"
CONTINUATION_START = "、，,。；;：:）)”」』》!！?？"
TERMINAL_END = "。！？!?；;：:…"


def starting_with(first: str, pattern: str, flags: int = 0) -> re.Pattern:
    """Compile ``pattern`` behind a lookahead for the characters its matches can start with.

    Same matches; but ``re`` then rejects most positions with one character-class test
    instead of trying every alternative (and lookbehind) at every position: 3-7x faster
    scans for the marker, placeholder and split-word patterns. ``first`` must cover every
    possible first character (tests compare against the plain pattern)."""
    return re.compile(f"(?={first})(?:{pattern})", flags)


class CharSet:
    """A set of characters looked up in a whole text at once (a numpy table over the
    text's code points, ~2 ns a character). ``re`` scans for a class of non-Latin-1
    characters at 10-15 ns a character; this is the cheap way to ask "any of these here?"
    (an exact prefilter) or "where?" (the candidates of a :class:`Scanner`)."""

    def __init__(self, chars: str = "", ranges: tuple[tuple[int, int], ...] = (), bmp_class: str = ""):
        """``chars``, plus code point ranges ``[lo, hi)``, plus the BMP characters matching the
        regex class ``bmp_class`` (e.g. ``"[(（]"``; resolved on first use)."""
        self.chars, self.ranges, self.bmp_class = chars, ranges, bmp_class
        self._table = None

    def table(self):
        if self._table is None:
            import numpy as np

            t = np.zeros(0x110000, bool)
            t[[ord(c) for c in self.chars]] = True
            for lo, hi in self.ranges:
                t[lo:hi] = True
            if self.bmp_class:
                t[code_points("".join(re.findall(self.bmp_class, _all_bmp())))] = True
            self._table = t
        return self._table

    def found_in(self, text: str) -> bool:
        """Whether ``text`` contains any character of the set."""
        return bool(text) and bool(self.table()[_codes(text)].any())

    def positions(self, text: str):
        """Where the set's characters occur in ``text`` (a sorted numpy array)."""
        import numpy as np

        return np.flatnonzero(self.table()[_codes(text)])


@lru_cache(maxsize=1)
def _all_bmp() -> str:
    return "".join(map(chr, range(0x10000)))


_last_codes: tuple = (None, None)  # (text, its code points), swapped atomically: thread-safe


def _codes(text: str):
    global _last_codes
    last = _last_codes
    if last[0] is not text:
        last = _last_codes = (text, code_points(text))
    return last[1]


class Scanner:
    """A pattern with the class of characters its matches start with (``first``, e.g.
    ``"[(（]"``): :meth:`finditer` finds candidate positions by table lookup and tries the
    pattern only there. Same matches as ``re.finditer`` (tests compare) for patterns that
    never match the empty string; 3-10x faster when candidates are rare, because ``re``
    cannot skip ahead on a class of non-Latin-1 characters. ``match``/``search`` are the
    guarded pattern's (see :func:`starting_with`)."""

    SMALL = 256  # shorter texts: plain re is cheaper than the table lookup

    def __init__(self, first: str, pattern: str, flags: int = 0, then: str = "", single: str = ""):
        """``then`` (optional): the class of the second character of every match longer than
        one character, and ``single`` the class of the characters that are a match alone:
        candidates must then also pass the second character (a numeral marker ``一、`` is
        tried where 一 is followed by 、 or another numeral, not at every 一)."""
        self.regex = starting_with(first, pattern, flags)
        self.plain = re.compile(pattern, flags)
        self.pattern, self.flags, self.groups = self.regex.pattern, self.regex.flags, self.plain.groups
        self.match, self.search = self.regex.match, self.regex.search
        self.first = CharSet(bmp_class=first)
        self.then = CharSet(bmp_class=then) if then else None
        self.single = CharSet(bmp_class=single) if single else None
        self._bit_table = None

    def candidates(self, text: str) -> list[int]:
        """Positions where a match may start (sorted)."""
        import numpy as np

        if self.then is None:
            return self.first.positions(text).tolist()
        bits = self._bits()[_codes(text)]  # one lookup for the three classes
        ok = (bits[:-1] & 1).astype(bool) & (bits[1:] & 2).astype(bool)
        return np.flatnonzero(np.append(ok, False) | (bits & 4).astype(bool)).tolist()

    def _bits(self):
        """first | then << 1 | single << 2, as one uint8 table over the code points."""
        if self._bit_table is None:
            import numpy as np

            t = self.first.table().astype(np.uint8) | (self.then.table().astype(np.uint8) << 1)
            if self.single is not None:
                t |= self.single.table().astype(np.uint8) << 2
            self._bit_table = t
        return self._bit_table

    def finditer(self, text: str) -> Iterator[re.Match]:
        if len(text) < self.SMALL:
            yield from self.regex.finditer(text)
            return
        match = self.plain.match
        end = 0
        for p in self.candidates(text):
            if p >= end:
                m = match(text, p)  # lookbehinds see text before p, as in a scan
                if m is not None:
                    yield m
                    end = m.end()

    def findall(self, text: str) -> list:
        """Like ``re.findall``: whole matches, or the group(s) when the pattern has groups."""
        if self.groups == 0:
            return [m.group() for m in self.finditer(text)]
        return [m.groups("")[0] if self.groups == 1 else m.groups("") for m in self.finditer(text)]


def first_chars(pattern: str, flags: int = 0) -> str | None:
    """The regex class (``"[...]"``) of the characters a match of ``pattern`` can start with,
    read from the parsed pattern; None when a match could start anywhere (a negated class,
    ``.``, a category like ``\\d``, case-insensitive or empty matches…). Zero-width parts
    (``^``, lookarounds) are skipped, so the class may be larger than needed, never smaller."""
    import re._constants as c
    import re._parser as parser

    if flags & re.IGNORECASE:
        return None
    try:
        parsed = parser.parse(pattern, flags)
    except re.error:
        return None
    if parsed.state.flags & re.IGNORECASE:
        return None
    ranges: list[tuple[int, int]] = []

    def seq_first(items) -> bool | None:
        """Add the sequence's first characters; True if it can match empty, None if unknown."""
        for op, av in items:
            nullable = item_first(op, av)
            if nullable is None:
                return None
            if not nullable:
                return False
        return True

    def item_first(op, av) -> bool | None:
        if op is c.LITERAL:
            ranges.append((av, av))
            return False
        if op is c.IN:
            for kind, val in av:
                if kind is c.LITERAL:
                    ranges.append((val, val))
                elif kind is c.RANGE:
                    ranges.append(val)
                else:  # NEGATE, CATEGORY: too wide to be worth it
                    return None
            return False
        if op is c.BRANCH:
            results = [seq_first(alt) for alt in av[1]]
            return None if None in results else any(results)
        if op is c.SUBPATTERN:
            if av[1] & re.IGNORECASE:
                return None
            return seq_first(av[3])
        if op is c.ATOMIC_GROUP:
            return seq_first(av)
        if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            inner = seq_first(av[2])
            return None if inner is None else (inner or av[0] == 0)
        if op in (c.AT, c.ASSERT, c.ASSERT_NOT):  # zero-width
            return True
        return None  # ANY, NOT_LITERAL, group references, ...

    if seq_first(parsed) is not False or not ranges:
        return None
    parts = []
    for lo, hi in sorted(set(ranges)):
        parts.append(re.escape(chr(lo)) if lo == hi else f"{re.escape(chr(lo))}-{re.escape(chr(hi))}")
    return "[" + "".join(parts) + "]"


def compile_guarded(pattern: str, flags: int = 0) -> re.Pattern:
    """``re.compile(pattern)``, behind a :func:`first_chars` guard when ``re`` has no way to
    skip ahead by itself (no literal or character-set prefix, not anchored at the start).
    For patterns from user files: an alternation with a ``^`` in one branch, like the
    copyright rule, scanned at 22 ns a character; guarded, 9 (same matches: tests)."""
    plain = re.compile(pattern, flags)
    first = first_chars(pattern, flags)
    if first is None or _skips_ahead(pattern, flags):
        return plain
    try:
        return starting_with(first, pattern, flags)
    except re.error:  # e.g. global inline flags, which must open the pattern
        return plain


def _skips_ahead(pattern: str, flags: int) -> bool:
    """Whether ``re`` itself finds a literal or character-set prefix (or an anchor) for the
    pattern (internal helpers of ``re``; if they change, assume it does not)."""
    try:
        import re._compiler as compiler
        import re._constants as c
        import re._parser as parser

        parsed = parser.parse(pattern, flags)
        if parsed.data and parsed.data[0] == (c.AT, c.AT_BEGINNING):
            return True
        return bool(compiler._get_literal_prefix(parsed, flags)[0] or compiler._get_charset_prefix(parsed, flags))
    except Exception:  # pragma: no cover - another Python's re internals
        return False


def is_cjk(c: str) -> bool:
    o = ord(c)
    return 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF


def is_pua(c: str) -> bool:
    return 0xE000 <= ord(c) <= 0xF8FF


def cjk_count(s: str) -> int:
    return sum(len(run) for run in CJK_RE.findall(s))


@lru_cache(maxsize=1)
def common_chars() -> frozenset[str]:
    """Commonly used characters: GB2312 hanzi plus their traditional forms (via OpenCC).

    Used to judge whether a decoded run "reads as Chinese" in the mojibake repair and the
    encoding detector. Built once per machine (kept by :mod:`.tablecache`).
    """
    from .tablecache import cached, package_stamp

    return cached("common-chars", (package_stamp("opencc", "__init__.py"),), _build_common_chars)


def _build_common_chars() -> frozenset[str]:
    chars = []
    for hi in range(0xB0, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.append(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    simp = "".join(chars)
    try:
        from .convert import _converter

        trad = _converter("s2t").convert(simp)
    except Exception:  # pragma: no cover - opencc missing
        trad = ""
    return frozenset(simp) | frozenset(trad)


@lru_cache(maxsize=1)
def _common_table():
    """``common_chars()`` as a boolean table over the BMP (vectorised lookups)."""
    import numpy as np

    table = np.zeros(0x10000, bool)
    table[[ord(c) for c in common_chars() if ord(c) < 0x10000]] = True
    return table


@lru_cache(maxsize=1)
def han_table():
    """:data:`HAN_RANGES` as a boolean table over the BMP (index it with :func:`code_points`)."""
    import numpy as np

    table = np.zeros(0x10000, bool)
    for lo, hi in HAN_RANGES:
        table[lo:hi] = True
    return table


def code_points(s: str):
    """The code points of ``s`` as a ``uint32`` numpy array (lone surrogates included), for
    vectorised character tests."""
    import numpy as np

    return np.frombuffer(s.encode("utf-32-le", "surrogatepass"), np.uint32)


def common_share(s: str) -> float:
    """Share of CJK characters in ``s`` that are common (1.0 when there are none)."""
    import numpy as np

    codes = code_points(s)
    codes = codes[codes < 0x10000]
    cjk = codes[han_table()[codes]]
    if not len(cjk):
        return 1.0
    return int(np.count_nonzero(_common_table()[cjk])) / len(cjk)
