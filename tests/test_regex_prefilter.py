"""Patterns compiled with ``starting_with`` (a lookahead on their possible first characters,
for speed) must match exactly what the plain pattern matches."""
from __future__ import annotations

import re
import pytest

from corpus_tools import sections
from corpus_tools.ingest import boilerplate, repair, split
from corpus_tools.ingest.sources import decode

from conftest import RAW, REPORTS

GUARDED = {
    "sections.MARKER_RE": sections.MARKER_RE,
    "repair.PLACEHOLDER_RE": repair.PLACEHOLDER_RE,
    "repair.PINYIN_RE": repair.PINYIN_RE,
    "repair.SPLIT_WORD_RE": repair.SPLIT_WORD_RE,
    "boilerplate.BREADCRUMB_SPLIT_RE": boilerplate.BREADCRUMB_SPLIT_RE,
    "split.NAME_YEAR_RE": split.NAME_YEAR_RE,
}
# every kind of character the patterns care about, in hostile combinations
SYNTHETIC = ("第一部分 一、二. 三，（一）(2) ３、12) ①⑴ 五、是 十一、 二十、 xx年 XX ＸＸ __ ＿＿ ** ＊＊ 某某 ○○ □□ "
             "創(chuàng)新 ?shù) 工 1 作 民-主 首页 > 工作 » 总结 / 文章 → 更多 1949年 2023 20231 "
             "\u3000工\u3000会 a-b 9-9 (ab) 1.5 A.1 第3节 第十二章课\n一、\n(\n")


def _plain(rx: re.Pattern) -> re.Pattern:
    m = re.match(r"\(\?=(\[.*?\])\)\(\?:", rx.pattern, re.S)
    assert m, "not compiled with starting_with"
    return re.compile(rx.pattern[m.end():-1], rx.flags)


def _texts() -> list[str]:
    paths = sorted(RAW.glob("*.txt")) + sorted(REPORTS.glob("*.txt"))[:10]
    return [decode(p.read_bytes())[0] for p in paths] + [SYNTHETIC, SYNTHETIC * 3]


@pytest.mark.parametrize("name", sorted(GUARDED))
def test_guarded_pattern_matches_like_the_plain_one(name):
    fast = GUARDED[name]
    plain = _plain(fast)
    for text in _texts():
        got = [(m.span(), m.groups()) for m in fast.finditer(text)]
        want = [(m.span(), m.groups()) for m in plain.finditer(text)]
        assert got == want
    # and the synthetic line really exercises it
    assert plain.search(SYNTHETIC)


HOSTILE = ["", "(", "x" * 300, "創(chuàng)" * 100, "\ud800(chuàng)" + "工" * 300 + "\U00020000xx",
           "工" * 255 + "某某", "工" * 256 + "某某", "某" * 1000, "（一）" * 200 + "\n" + "1、" * 300]


@pytest.mark.parametrize("name", ["sections.MARKER_RE", "repair.PLACEHOLDER_RE", "repair.PINYIN_RE",
                                  "repair.SPLIT_WORD_RE"])
def test_scanner_finds_what_re_finds_on_hostile_text(name):
    """Scanners try the pattern only at table-lookup candidates (long texts) or scan with re
    (short ones): either way the same matches, also around lone surrogates, astral
    characters, the short/long threshold and runs of back-to-back matches."""
    fast = GUARDED[name]
    plain = _plain(fast)
    for text in HOSTILE + [t * 2 for t in HOSTILE]:
        assert [(m.span(), m.groups()) for m in fast.finditer(text)] == \
               [(m.span(), m.groups()) for m in plain.finditer(text)], text[:40]
        assert fast.findall(text) == plain.findall(text)


def test_prefilter_sets_cover_their_patterns():
    """A stage skips its scan when the page has none of the prefilter's characters: the set
    must hold every character the patterns can match (checked over the whole BMP)."""
    table = repair.INVISIBLE_OR_PUA.table()
    for c in range(0x10000):
        ch = chr(c)
        if repair.INVISIBLE_RE.match(ch) or repair.PUA_RE.match(ch):
            assert table[c], hex(c)
    assert not repair.INVISIBLE_OR_PUA.found_in("工会工作总结（一）abc 123\n")
    assert repair.INVISIBLE_OR_PUA.found_in("工会\u200b工作") and repair.INVISIBLE_OR_PUA.found_in("\ue123")
    # every pinyin annotation carries a tone mark, so pages without one skip both scans
    assert repair.pinyin_edits("創(chuang)新") == [] and repair.pinyin_edits("創(chuàng)新") == [(1, 9, "", "pinyin_annotation")]


def test_mangled_pinyin_matches_the_lookbehind_form():
    """The mangled-annotation pattern matches its leading '?' (a literal prefix scans fast);
    the removed span is its group, exactly what the lookbehind form matched."""
    old = re.compile(rf"(?<=\?)[a-zü]{{0,6}}[{repair.TONE}][a-zü]{{0,6}}[)）]")
    for text in _texts() + ["??shù)膸", "?shù)?lì)", "a?ǎ)", "?shù?lì)", "?" * 50 + "zhǔ)"]:
        assert [m.span(1) for m in repair.PINYIN_MANGLED_RE.finditer(text)] == [m.span() for m in old.finditer(text)]
