"""Patterns compiled with ``starting_with`` (a lookahead on their possible first characters,
for speed) must match exactly what the plain pattern matches."""
from __future__ import annotations

import re
import pytest

from corpus_tools import sections
from corpus_tools.ingest import boilerplate, repair, split
from corpus_tools.ingest.sources import decode
from corpus_tools.ingest.textutil import compile_guarded, first_chars

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
           "工" * 255 + "某某", "工" * 256 + "某某", "某" * 1000, "（一）" * 200 + "\n" + "1、" * 300,
           "工" * 300 + "一", "工" * 300 + "①", "①" + "工" * 300 + "⑳", "工" * 300 + "十一、二十、第十二章（３）１２．2)⑴",
           "一个一些十分第三" * 60 + "三、", ("工" * 299 + "\n") * 3 + "二十一、"]


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


def test_invisible_runs_from_tables_equal_the_regex_runs():
    """invisible_edits takes its runs from one table lookup: the same spans as
    INVISIBLE_RE / PUA_RE find, on random text mixing both classes, CJK, surrogates and
    astral characters, and the tables hold exactly the classes' characters (whole BMP)."""
    import random

    for charset, regex in ((repair.INVISIBLE, repair.INVISIBLE_RE), (repair.PUA, repair.PUA_RE)):
        table = charset.table()
        assert all(bool(table[c]) == bool(regex.match(chr(c))) for c in range(0x10000))
        assert not table[0x10000:].any()
    rng = random.Random(5)
    alphabet = list("工会\u200b\u200f\r\x00\x7f\ufffd\ue000\uf8ff\uf900\n a") + ["\ud800", "\U0001F600", "\U000F0000"]
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        want = sorted([(m.start(), m.end(), "", "invisible_char") for m in repair.INVISIBLE_RE.finditer(text)]
                      + [(m.start(), m.end(), "", "private_use_glyph") for m in repair.PUA_RE.finditer(text)])
        assert repair.invisible_edits(text) == want, repr(text)


def test_prefilter_sets_cover_their_patterns():
    """A stage skips its scan when the page has none of the prefilter's characters: the set
    must hold every character the patterns can match (checked over the whole BMP)."""
    assert repair.invisible_edits("工会工作总结（一）abc 123\n") == []
    assert repair.invisible_edits("工会\u200b工作\ue123") == [(2, 3, "", "invisible_char"), (5, 6, "", "private_use_glyph")]
    # every pinyin annotation carries a tone mark, so pages without one skip both scans
    assert repair.pinyin_edits("創(chuang)新") == [] and repair.pinyin_edits("創(chuàng)新") == [(1, 9, "", "pinyin_annotation")]


def test_mangled_pinyin_matches_the_lookbehind_form():
    """The mangled-annotation pattern matches its leading '?' (a literal prefix scans fast);
    the removed span is its group, exactly what the lookbehind form matched."""
    old = re.compile(rf"(?<=\?)[a-zü]{{0,6}}[{repair.TONE}][a-zü]{{0,6}}[)）]")
    for text in _texts() + ["??shù)膸", "?shù)?lì)", "a?ǎ)", "?shù?lì)", "?" * 50 + "zhǔ)"]:
        assert [m.span(1) for m in repair.PINYIN_MANGLED_RE.finditer(text)] == [m.span() for m in old.finditer(text)]


@pytest.mark.parametrize("pattern,want", [
    (r"(^声明[:：]|版权|侵犯.{0,6}版权|[a-c]x|(?=a)b)", "[a-c侵声版b]"),
    (r"a?b", "[ab]"),
    (r"^[【\[]?(时间|日期)", "[\\[【日时]"),
    (r"\d+", None), (r"a*", None), (r"(?i)ab", None), (r"x|.", None), (r"[^a]", None), (r"", None),
])
def test_first_chars(pattern, want):
    got = first_chars(pattern)
    if want is None:
        assert got is None
    else:  # same set of characters
        chars = lambda cls: {chr(c) for c in range(0x10000) if re.fullmatch(cls, chr(c))}
        assert chars(got) == chars(want)


@pytest.mark.parametrize("name", sorted(GUARDED))
def test_hand_written_guards_cover_the_first_characters(name):
    """The guard classes written by hand (starting_with / Scanner) hold every character
    the plain pattern can start with, as read from the parsed pattern."""
    fast = GUARDED[name]
    plain = _plain(fast)
    guard = re.match(r"\(\?=(\[.*?\])\)\(\?:", fast.pattern, re.S).group(1)
    first = first_chars(plain.pattern, plain.flags)
    if first is None:  # the reader gives up (a category like \s or \d): nothing to compare
        return
    for c in range(0x10000):
        if re.fullmatch(first, chr(c)):
            assert re.fullmatch(guard, chr(c)), f"{name}: {chr(c)!r} can start a match but is not in {guard}"


def test_guarded_rules_match_like_plain_rules():
    """Boilerplate rules (also a user's) get a first-character guard when re cannot skip
    ahead by itself; each line of the seeds and reports gets the same verdict either way."""
    rules = boilerplate.load_rules()
    assert any(r.regex.pattern.startswith("(?=") for r in rules), "the copyright rule should be guarded"
    lines = [ln.strip() for t in _texts() for ln in t.split("\n")] + SYNTHETIC.split()
    lines += ["声明：本站", "转载请注明出处", "本作品是", "版权所有 © 2020", "Copyright 2019", "侵犯了他人版权"]
    for r in rules:
        plain = re.compile(_plain(r.regex).pattern if r.regex.pattern.startswith("(?=") else r.regex.pattern)
        for ln in lines:
            a, b = r.regex.search(ln), plain.search(ln)
            assert (a and a.span()) == (b and b.span()), (r.name, ln)
    assert compile_guarded("(?m)^a|b").search("xb")  # global flags: falls back to the plain pattern
