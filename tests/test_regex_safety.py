"""No cleaning rule backtracks catastrophically on adversarial input.

Every regex of ``resources/boilerplate.toml`` and every module-level compiled regex of
``corpus_tools/ingest/*.py`` (and of the section segmenter), found by introspection, is run
over 1 MB adversarial strings with a generous time bound; then the whole cleaner
(:func:`clean_page` + :func:`split_page`) runs on 1 MB adversarial pages.
"""
from __future__ import annotations

import importlib
import pkgutil
import re
import time

import pytest

from corpus_tools.ingest import boilerplate
from corpus_tools.ingest.textutil import Scanner
from corpus_tools.ingest.pipeline import IngestConfig, clean_page, split_page

MB = 2**20
PER_RULE_SECONDS = 2.0
PAGE_SECONDS = 30.0


def _fill(unit: str, n: int = MB) -> str:
    return (unit * (n // len(unit) + 1))[:n]


class Gen:
    """An adversarial text of any size: ``head`` + ``unit`` repeated + ``tail`` (so the
    structure that makes it hostile, e.g. text after a whitespace run, exists at every size)."""

    def __init__(self, unit: str, head: str = "", tail: str = ""):
        self.unit, self.head, self.tail = unit, head, tail

    def __call__(self, n: int = MB) -> str:
        return self.head + _fill(self.unit, max(0, n - len(self.head) - len(self.tail))) + self.tail


#: adversarial inputs: runs of one risky character, separators and markers without end,
#: long prefixes that almost match
ADVERSARIAL = {
    "open_paren": Gen("("),
    "fullwidth_open_paren": Gen("（"),
    "di_yi_pian": Gen("第一篇"),
    "bracket_di_pian": Gen("【第一篇"),
    "pian_title": Gen("工会工作总结篇"),
    "dunhao": Gen("、"),
    "question": Gen("?"),
    "cjk_question": Gen("工?会"),
    "cjk_space": Gen("工 会 "),
    "cjk_ideographic_space": Gen("工\u3000"),
    "spaces": Gen(" "),
    "ideographic_spaces": Gen("\u3000"),
    "cjk_then_spaces": Gen(" ", head="工会", tail="工会"),
    "tabs_nbsp": Gen("\t\xa0"),
    "lt": Gen("<"),
    "tag_no_close": Gen("a", head="<p "),
    "comment_no_close": Gen("-", head="<!--"),
    "newlines": Gen("\n"),
    "crlf_blank": Gen(" \r\n"),
    "digits": Gen("1234567890"),
    "digit_dunhao": Gen("1、"),
    "cn_number_marker": Gen("一二三四五六七八九十"),
    "paren_number": Gen("（一"),
    "year": Gen("2010年"),
    "pinyin_open": Gen("創(chuàng"),
    "semicolons": Gen("；;工"),
    "quotes": Gen('"工'),
    "hyphens": Gen("工-"),
    "page_dash": Gen("—1"),
    "colon_runs": Gen("时间：:"),
    "download": Gen("下载"),
    "breadcrumb": Gen("首页 > "),
    "entity": Gen("&nbsp"),
    "x_placeholder": Gen("xX×"),
    "long_word": Gen("工会"),
    "latin": Gen("Copyright "),
}


def _patterns():
    """(id, compiled regex) for every rule and module-level regex."""
    found: dict[str, re.Pattern] = {}
    for i, rule in enumerate(boilerplate.load_rules()):
        found[f"boilerplate.toml:{i}:{rule.name}"] = rule.regex
    modules = [f"corpus_tools.ingest.{m.name}" for m in pkgutil.iter_modules(importlib.import_module("corpus_tools.ingest").__path__)]
    modules.append("corpus_tools.sections")
    for modname in modules:
        try:
            mod = importlib.import_module(modname)
        except ImportError:  # pragma: no cover - optional module not built yet
            continue
        short = modname.rsplit(".", 1)[-1]
        for name, value in vars(mod).items():
            if isinstance(value, (re.Pattern, Scanner)):  # a Scanner is run as it is used: finditer + match
                found.setdefault(f"{short}.{name}", value)
            elif isinstance(value, (list, tuple)):  # e.g. split.SEP_PATTERNS = [(kind, regex), ...]
                for j, item in enumerate(value):
                    items = item if isinstance(item, tuple) else (item,)
                    for x in items:
                        if isinstance(x, re.Pattern):
                            found.setdefault(f"{short}.{name}[{j}]", x)
    return sorted(found.items())


PATTERNS = _patterns()


def test_patterns_discovered():
    ids = [pid for pid, _ in PATTERNS]
    assert len(PATTERNS) >= 30
    for must in ("split.SEP_PATTERNS[0]", "repair.PINYIN_RE", "boilerplate.MARKER_START_RE",
                 "textutil.SENTENCE_RE", "sections.MARKER_RE", "repair.PLACEHOLDER_RE"):
        assert must in ids
    assert sum(pid.startswith("boilerplate.toml:") for pid in ids) == len(boilerplate.load_rules())


#: rules known to be superlinear (bug reports in docs/reliability.md)
KNOWN_SLOW_RULES: dict[str, str] = {}  # none left (keep the hook for future findings)
SIZES = (16 * 1024, 64 * 1024, 256 * 1024, MB)


def _bounded(run, gen, budget: float, what: str, n: int = MB) -> float:
    """Time ``run(gen(size))`` on growing sizes up to ``n``; fail as soon as the time,
    extrapolated linearly to ``n``, exceeds twice the budget (so a quadratic rule fails in
    seconds instead of hanging the test)."""
    dt = prev = 0.0
    for size in SIZES:
        text = gen(size)
        t0 = time.perf_counter()
        run(text)
        dt = time.perf_counter() - t0
        predicted = dt * n / size
        assert predicted < 2 * budget, (f"{what}: {dt:.2f}s on {size:,} chars, "
                                        f"~{predicted:.0f}s expected on {n:,} (superlinear)")
        # 4x the input taking > 10x the time (and long enough to measure): quadratic
        assert not (size < n and dt > 0.25 * budget / 4 and prev and dt / prev > 10), (
            f"{what}: {prev:.2f}s → {dt:.2f}s for 4x the input (superlinear)")
        prev = dt
    assert dt < budget, f"{what}: {dt:.2f}s on {n:,} chars"
    return dt


def _scan(rx: re.Pattern):
    def run(text: str) -> None:
        for _ in rx.finditer(text):  # search semantics over the whole text
            pass
        rx.match(text)
    return run


def _rule_params():
    for pid, rx in PATTERNS:
        marks = [pytest.mark.xfail(reason=KNOWN_SLOW_RULES[pid], strict=False)] if pid in KNOWN_SLOW_RULES else []
        yield pytest.param(pid, rx, id=pid, marks=marks)


@pytest.mark.parametrize("pid,rx", list(_rule_params()))
def test_rule_is_linear_on_adversarial_input(pid, rx):
    for name, gen in ADVERSARIAL.items():
        _bounded(_scan(rx), gen, PER_RULE_SECONDS, f"{pid} on {name!r}")


PAGES = {
    "question": ADVERSARIAL["question"],
    "cjk_question": ADVERSARIAL["cjk_question"],
    "di_yi_pian_lines": Gen("第一篇\n"),
    "separators_numbered": lambda n=MB: "".join(f"工会工作总结篇{i}\n工会工作开展情况良好。\n" for i in range(1, n // 20 + 2))[:n],
    "dunhao": ADVERSARIAL["dunhao"],
    "cjk_space": ADVERSARIAL["cjk_space"],
    "lt": ADVERSARIAL["lt"],
    "newlines": ADVERSARIAL["newlines"],
    "digits": ADVERSARIAL["digits"],
    "open_paren": ADVERSARIAL["open_paren"],
    "pinyin_open": ADVERSARIAL["pinyin_open"],
    "semicolons": ADVERSARIAL["semicolons"],
    "short_lines": Gen("工会\n"),
    "markers": Gen("一、工作\n（一）学习\n1、计划\n"),
    "inline_separators": Gen("工会工作【第一篇】一、总结。"),
    "cjk_then_spaces": ADVERSARIAL["cjk_then_spaces"],
    "pinyin_annotations": Gen("工會創(chuàng)新規(guī)範"),
    "traditional": Gen("學習貫徹執行《工會法》，開拓創新。"),
}


KNOWN_SLOW_PAGES: dict[str, str] = {}  # none left: breadcrumb split and essay-run search are linear now


@pytest.fixture(scope="module")
def warm():
    """Load OpenCC, jieba's dictionary and the rules once, outside the timings."""
    clean_page("工会工作总结。\n一、加强学习\n工 会 工作(chuàng)新?膸\n" * 3)


def _page_params():
    for name in sorted(PAGES):
        marks = [pytest.mark.xfail(reason=KNOWN_SLOW_PAGES[name], strict=False)] if name in KNOWN_SLOW_PAGES else []
        yield pytest.param(name, id=name, marks=marks)


def _clean_and_split(text: str) -> None:
    tt, _facts = clean_page(text, config=IngestConfig())
    split_page(tt)
    tt.check()


@pytest.mark.parametrize("name", list(_page_params()))
def test_clean_page_bounded_on_adversarial_page(warm, name):
    _bounded(_clean_and_split, PAGES[name], PAGE_SECONDS, f"clean_page+split_page on {name!r}")
