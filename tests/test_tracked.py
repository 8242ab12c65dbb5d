"""TrackedText: random edit batches against a plain-string model, and the accounting
invariant (kept segments + logged edits rebuild the raw text)."""
from __future__ import annotations

import random

import pytest

from corpus_tools.ingest.tracked import TrackedText, reconstruct_raw, span_to_raw


def _random_edit_batch(rng: random.Random, tt: TrackedText, rule: str) -> None:
    """Apply a random batch of non-overlapping edits and check it against the string model."""
    text = tt.text
    edits, pos = [], 0
    while pos < len(text):
        a = pos + rng.randint(0, 5)
        b = a + rng.randint(1, 4)
        if b > len(text):
            break
        edits.append((a, b, rng.choice(["", "", "X", "YZ"]), rule))
        pos = b
    expected = text
    for a, b, r, _ in reversed(edits):
        expected = expected[:a] + r + expected[b:]
    tt.edit(edits)
    tt.check()
    assert tt.text == expected


def _assert_log_rebuilds(tt: TrackedText, raw: str) -> None:
    rows = [dict(raw_start=s.raw_start, raw_end=s.raw_end, text=raw[s.raw_start:s.raw_end],
                 replacement=s.text) for s in tt.log()]
    assert reconstruct_raw(tt.text, rows) == raw


@pytest.mark.parametrize("seed", range(3))
def test_random_edit_batches_match_string_model(seed):
    rng = random.Random(seed)
    for _ in range(1500):
        raw = "".join(rng.choice("ab\ncd") for _ in range(rng.randint(0, 30)))
        tt = TrackedText(raw)
        for rnd in range(5):
            _random_edit_batch(rng, tt, f"r{rnd}")
            _assert_log_rebuilds(tt, raw)


def test_removal_over_earlier_removals_keeps_their_rules():
    tt = TrackedText("a>b>c\ntitle\nbody")
    tt.edit([(0, 6, "", "breadcrumb")])
    tt.edit([(0, 6, "", "preamble")])
    assert [s.rule for s in tt.log()] == ["breadcrumb", "preamble"]
    assert tt.text == "body"


def test_span_to_raw_maps_through_edits():
    tt = TrackedText("xx hello yy")
    tt.edit([(0, 3, "", "junk"), (8, 11, "", "junk")])
    assert tt.text == "hello"
    assert span_to_raw(tt, 0, 5) == (3, 8)


def test_overlapping_edits_rejected():
    tt = TrackedText("abcdef")
    with pytest.raises(ValueError):
        tt.edit([(0, 3, "", "a"), (2, 4, "", "b")])


@pytest.mark.parametrize("seed", range(3))
def test_substitution_between_edit_batches_matches_string_model(seed):
    """A same-length substitution (how OpenCC conversion is applied: no segment is split)
    among random edit batches: the text follows the string model, the accounting invariant
    holds, and the log still rebuilds the raw text."""
    from corpus_tools.ingest.convert import _diff_runs, _edit_edges

    rng = random.Random(seed)
    for _ in range(600):
        raw = "".join(rng.choice("ab\ncd") for _ in range(rng.randint(0, 30)))
        tt = TrackedText(raw)
        sub_round = rng.randint(0, 3)
        for rnd in range(4):
            text = tt.text
            if rnd == sub_round:
                new = "".join(c.upper() if c != "\n" and rng.random() < 0.4 else c for c in text)
                tt.substitute(new, _diff_runs(text, new, rng.choice([0, 3, 40]), _edit_edges(tt), "line"),
                              "sub", "convert")
                tt.check()
                assert tt.text == new
            else:
                _random_edit_batch(rng, tt, f"r{rnd}")
        log = tt.log()
        assert [s.raw_start for s in log] == sorted(s.raw_start for s in log)
        _assert_log_rebuilds(tt, raw)


def test_removal_across_a_conversion_is_logged_as_removed():
    """Site spam glued to converted words (``稅務局編輯提醒：…``): the removal is a removal,
    the kept words' conversion a conversion (both used to become one ``repair`` row), and
    the text's raw end is exact."""
    from corpus_tools.ingest import convert

    raw = "稅務局編輯提醒：請注意\n工會"
    tt = TrackedText(raw)
    convert.convert(tt)
    assert tt.text == "税务局编辑提醒：请注意\n工会"
    tt.edit([(3, 11, "", "inline_spam")])
    tt.check()
    assert tt.text == "税务局\n工会"
    log = [(s.raw_start, s.raw_end, s.text, s.rule, s.kind) for s in tt.log()]
    assert log == [(0, 2, "税务", "opencc", "convert"), (3, 11, "", "inline_spam", "removed"),
                   (13, 14, "会", "opencc", "convert")]
    assert span_to_raw(tt, 0, 3) == (0, 3)
