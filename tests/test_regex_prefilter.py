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
