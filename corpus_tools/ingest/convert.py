"""Traditional → simplified conversion with native OpenCC, and script detection.

Configuration choice (evidence in docs/cleaning.md): OpenCC ``t2s`` on every page, then, on
pages detected as traditional or mixed, the particle 著 → 着 except in the zhù words listed
in ``resources/zhu_words.txt`` (显著, 著名, 著作 …).

Why not ``tw2s``: seed 000 writes the particle 着 as 著, which ``t2s`` keeps; ``tw2s``
converts it — but ``tw2s`` converts *every* 著: on the reports it turned 显著 into 显着
140 times and 么 into 幺 once, and on the seeds it broke 显著 too. ``t2s`` alone changes
only genuine traditional remnants in simplified text (13 characters in the 39 reports).
After conversion ``t2s`` is a no-op on every document (a test checks it).
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from .textutil import HAN_RANGES, code_points, han_table
from .tracked import TrackedText

CONFIGS = ("t2s",)
ZHU_FILE = Path(__file__).resolve().parent.parent / "resources" / "zhu_words.txt"


@lru_cache(maxsize=1)
def _zhu_re() -> re.Pattern:
    words = [w.strip() for w in ZHU_FILE.read_text(encoding="utf-8").splitlines()
             if w.strip() and not w.startswith("#")]
    # a 著 that is not inside one of the zhù words
    alts = "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))
    return re.compile(f"({alts})|著")


def fix_particle_zhe(text: str) -> str:
    """著 → 着 outside the zhù words (for text that came from traditional characters)."""
    if "著" not in text:
        return text
    return _zhu_re().sub(lambda m: m.group(1) or "着", text)


@lru_cache(maxsize=None)
def _converter(config: str):
    import opencc

    if not hasattr(opencc.OpenCC, "convert") or "opencc_python_reimplemented" in (opencc.__file__ or ""):
        raise ImportError("corpus-tools needs the native `opencc` package, not opencc-python-reimplemented")
    return opencc.OpenCC(config if config.endswith(".json") else f"{config}.json")


def to_simplified(text: str, configs: tuple[str, ...] = CONFIGS, particle_zhe: bool = True) -> str:
    for cfg in configs:
        text = _converter(cfg).convert(text)
    return fix_particle_zhe(text) if particle_zhe else text


@lru_cache(maxsize=1)
def _script_tables():
    """Boolean tables over code points: which characters ``t2s`` changes (traditional-only)
    and which ``s2t`` changes (simplified-only), built from OpenCC's own character
    conversions (~0.1 s) once per machine and kept by :mod:`.tablecache` as bit arrays."""
    import numpy as np

    from .tablecache import cached, package_stamp

    packed = cached("script-tables", (package_stamp("opencc", "__init__.py"),), _build_script_tables)
    return tuple(np.unpackbits(np.frombuffer(b, np.uint8))[:0x10000].astype(bool) for b in packed)


def _build_script_tables() -> tuple[bytes, bytes]:
    import numpy as np

    chars = [chr(c) for lo, hi in HAN_RANGES for c in range(lo, hi)]
    joined = "\n".join(chars)
    trad = np.zeros(0x10000, bool)
    simp = np.zeros(0x10000, bool)
    for table, cfg in ((trad, "t2s"), (simp, "s2t")):
        conv = _converter(cfg).convert(joined).split("\n")
        for ch, out in zip(chars, conv):
            if out != ch:
                table[ord(ch)] = True
    return np.packbits(trad).tobytes(), np.packbits(simp).tobytes()


def detect_script(text: str) -> str:
    """``traditional`` / ``simplified`` / ``mixed`` from the share of traditional-only
    characters (``t2s`` changes them) among traditional-only + simplified-only characters
    (``s2t`` changes them), counted over the whole page with lookup tables."""
    import numpy as np

    trad, simp = _script_tables()
    codes = code_points(text)
    codes = codes[codes < 0x10000]
    n_trad = int(np.count_nonzero(trad[codes]))
    n_simp = int(np.count_nonzero(simp[codes]))
    if n_trad + n_simp < 5:
        return "simplified"
    share = n_trad / (n_trad + n_simp)
    if share > 0.8:
        return "traditional"
    if share < 0.2:
        return "simplified"
    return "mixed"


# Conversions substituted in place (the usual case) are logged one row per stretch of a line
# whose changes are less than CONVERT_JOIN characters apart; a later edit inside a row only
# cuts it. On a line whose length changed they are edits instead: converted characters
# separated by at most MERGE_GAP unchanged Han characters make one edit (工會組織 → one span,
# not 會 and 織 apart), never across a non-Han character, so a later line or punctuation
# edit does not land inside one.
CONVERT_JOIN = 40
MERGE_GAP = 8


def _han_mask(codes):
    """Han characters among ``codes``: :data:`HAN_RANGES` plus the supplementary ideograph planes."""
    import numpy as np

    bmp = np.zeros(len(codes), bool)
    low = codes < 0x10000
    bmp[low] = han_table()[codes[low]]
    return bmp | ((codes >= 0x20000) & (codes <= 0x3FFFF))


def _diff_runs(old: str, new: str, gap: int = MERGE_GAP, walls=(), bridge: str = "han") -> list[tuple[int, int]]:
    """Spans [a, b) where equal-length ``old`` and ``new`` differ, merged across at most
    ``gap`` unchanged characters — only Han characters (``bridge="han"``) or any but a
    newline (``bridge="line"``) — but never across a position in ``walls`` (the edges of
    earlier edits, e.g. a removed pinyin annotation, which must keep its own log row).
    Vectorised: one pass in numpy, not per character."""
    import numpy as np

    a, b = code_points(old), code_points(new)
    idx = np.flatnonzero(a != b)
    if not len(idx):
        return []
    barrier = a == 10 if bridge == "line" else ~_han_mask(a)
    barrier_cum = np.concatenate(([0], np.cumsum(barrier)))
    # consecutive changed positions i < j join when close and no barrier lies between
    i, j = idx[:-1], idx[1:]
    join = ((j - i) <= gap + 1) & (barrier_cum[j] - barrier_cum[i + 1] == 0)
    if len(walls):
        w = np.asarray(walls)
        join &= np.searchsorted(w, j, "right") == np.searchsorted(w, i, "right")
    starts = np.concatenate(([idx[0]], j[~join]))
    ends = np.concatenate((i[~join], [idx[-1]])) + 1
    return list(zip(starts.tolist(), ends.tolist()))


def _edit_edges(tt: TrackedText) -> list[int]:
    """Current-text positions where an earlier edit starts or ends (sorted)."""
    edges, pos = [], 0
    for seg in tt.segs:
        if seg.rule is not None:
            edges.append(pos)
            edges.append(pos + seg.length)
        pos += seg.length
    return edges


def keep_simplified(old: str, new: str) -> str:
    """``new`` (OpenCC's output for ``old``, same length) with its changes to characters that
    are not traditional-only undone. For simplified pages: ``t2s`` also rewrites ~110
    phrases none of whose characters is traditional (OpenCC 1.4.2), among them 打坏 → 打坯,
    一好一坏 → 一好一坯 (坏 being also an old form of 坯), 沈默 → 沉默, 瞭解 → 了解."""
    a, b = code_points(old), code_points(new)
    changed = a != b
    if not changed.any():
        return new
    trad, _ = _script_tables()
    bmp = a < 0x10000
    undo = changed & bmp
    undo[bmp] &= ~trad[a[bmp]]
    if not undo.any():
        return new
    b = b.copy()
    b[undo] = a[undo]
    return b.tobytes().decode("utf-32-le", "surrogatepass")


def _simplified_lines(text: str, configs: tuple[str, ...] = CONFIGS) -> str:
    """``text`` with OpenCC run only over the lines that hold a traditional-only character
    (or one beyond the BMP, which the tables do not cover). On a simplified page every other
    line would come back unchanged after :func:`keep_simplified` (no OpenCC entry without
    such a character changes a length, checked in the tests), so it is not converted: most
    simplified pages skip OpenCC entirely."""
    import numpy as np

    codes = code_points(text)
    trad, _ = _script_tables()
    hit = codes >= 0x10000
    bmp = ~hit
    hit[bmp] = trad[codes[bmp]]
    where = np.flatnonzero(hit)
    if not len(where):
        return text
    lines = text.split("\n")
    todo = np.unique(np.searchsorted(np.flatnonzero(codes == 10), where)).tolist()  # line numbers
    conv = to_simplified("\n".join(lines[i] for i in todo), configs, False).split("\n")
    if len(conv) != len(todo):  # pragma: no cover - OpenCC never adds or removes a newline
        return to_simplified(text, configs, False)
    for i, c in zip(todo, conv):
        lines[i] = c
    return "\n".join(lines)


def convert(tt: TrackedText, configs: tuple[str, ...] = CONFIGS, particle_zhe: bool = False,
            simplified_page: bool = False) -> int:
    """Convert the tracked text to simplified, logging each changed run as a ``convert``
    row. The page is converted in one call (OpenCC phrases never span a newline); when the
    length is unchanged (nearly always) the runs are substituted in place
    (:meth:`TrackedText.substitute`); where it changed, lines are compared one by one and a
    changed line's differing middle becomes one edit. On a ``simplified_page`` only the lines
    with a traditional-only character are converted (:func:`_simplified_lines`) and only
    traditional-only characters change (:func:`keep_simplified`). Returns the number of
    characters changed."""
    text = tt.text
    new = _simplified_lines(text, configs) if simplified_page else to_simplified(text, configs, particle_zhe)
    if simplified_page and len(new) == len(text):
        new = keep_simplified(text, new)
    if new == text:
        return 0
    edits = []
    changed = 0
    if len(new) == len(text):  # the common case: substituted in place, no segment split
        # logged as the removed table reports conversions: changes on one line less than
        # CONVERT_JOIN characters apart are one row (a few per line, not one per word)
        tt.substitute(new, _diff_runs(text, new, CONVERT_JOIN, _edit_edges(tt), "line"), "opencc", "convert")
        return int((code_points(text) != code_points(new)).sum())
    pos = 0
    for line in text.split("\n"):
        if line:
            conv = to_simplified(line, configs, particle_zhe)
            if simplified_page and len(conv) == len(line):
                conv = keep_simplified(line, conv)
            if conv != line:
                if len(conv) == len(line):
                    for a, b in _diff_runs(line, conv):
                        edits.append((pos + a, pos + b, conv[a:b], "opencc", "convert"))
                        changed += b - a
                else:
                    a = 0
                    while a < min(len(line), len(conv)) and line[a] == conv[a]:
                        a += 1
                    b = 0
                    while b < min(len(line), len(conv)) - a and line[-1 - b] == conv[-1 - b]:
                        b += 1
                    edits.append((pos + a, pos + len(line) - b, conv[a:len(conv) - b], "opencc", "convert"))
                    changed += len(line) - a - b
        pos += len(line) + 1
    tt.edit(edits)
    return changed
