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


_CJK_RUN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def _n_changed(a: str, b: str) -> int:
    if a == b:
        return 0
    if len(a) != len(b):
        return abs(len(a) - len(b)) + 1
    return sum(x != y for x, y in zip(a, b))


def detect_script(text: str, sample: int = 6000) -> str:
    """``traditional`` / ``simplified`` / ``mixed`` from the share of characters t2s changes
    versus characters that only exist in simplified form (s2t changes them), measured on
    (up to) ``sample`` Chinese characters spread over the page."""
    cjk = "".join(_CJK_RUN.findall(text))
    if len(cjk) > sample:
        step = len(cjk) // 3
        cjk = cjk[:sample // 3] + cjk[step:step + sample // 3] + cjk[-(sample // 3):]
    if not cjk:
        return "simplified"
    n_trad = _n_changed(cjk, _converter("t2s").convert(cjk))
    n_simp = _n_changed(cjk, _converter("s2t").convert(cjk))
    if n_trad + n_simp < 5:
        return "simplified"
    share = n_trad / (n_trad + n_simp)
    if share > 0.8:
        return "traditional"
    if share < 0.2:
        return "simplified"
    return "mixed"


def convert(tt: TrackedText, configs: tuple[str, ...] = CONFIGS, particle_zhe: bool = False) -> int:
    """Convert the tracked text to simplified, recording each changed run as a ``convert``
    edit. Works line by line; where a line's length changes, the differing middle of the
    line becomes one edit. Returns the number of characters changed."""
    text = tt.text
    edits = []
    changed = 0
    pos = 0
    for line in text.split("\n"):
        if line:
            new = to_simplified(line, configs, particle_zhe)
            if new != line:
                if len(new) == len(line):
                    i = 0
                    n = len(line)
                    while i < n:
                        if line[i] != new[i]:
                            j = i
                            while j < n and line[j] != new[j]:
                                j += 1
                            edits.append((pos + i, pos + j, new[i:j], "opencc", "convert"))
                            changed += j - i
                            i = j
                        else:
                            i += 1
                else:
                    a = 0
                    while a < min(len(line), len(new)) and line[a] == new[a]:
                        a += 1
                    b = 0
                    while b < min(len(line), len(new)) - a and line[-1 - b] == new[-1 - b]:
                        b += 1
                    edits.append((pos + a, pos + len(line) - b, new[a:len(new) - b], "opencc", "convert"))
                    changed += len(line) - a - b
        pos += len(line) + 1
    tt.edit(edits)
    return changed
