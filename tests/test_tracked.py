"""TrackedText: random edit batches against a plain-string model, and the accounting
invariant (kept segments + logged edits rebuild the raw text)."""
from __future__ import annotations

import random

import pytest

from corpus_tools.ingest.tracked import TrackedText, reconstruct_raw, span_to_raw


@pytest.mark.parametrize("seed", range(3))
def test_random_edit_batches_match_string_model(seed):
    rng = random.Random(seed)
    for _ in range(1500):
        raw = "".join(rng.choice("ab\ncd") for _ in range(rng.randint(0, 30)))
        tt = TrackedText(raw)
        for rnd in range(5):
            text = tt.text
            edits, pos = [], 0
            while pos < len(text):
                a = pos + rng.randint(0, 5)
                b = a + rng.randint(1, 4)
                if b > len(text):
                    break
                edits.append((a, b, rng.choice(["", "", "X", "YZ"]), f"r{rnd}"))
                pos = b
            expected = text
            for a, b, r, _ in reversed(edits):
                expected = expected[:a] + r + expected[b:]
            tt.edit(edits)
            tt.check()
            assert tt.text == expected
            rows = [dict(raw_start=s.raw_start, raw_end=s.raw_end, text=raw[s.raw_start:s.raw_end],
                         replacement=s.text) for s in tt.log()]
            assert reconstruct_raw(tt.text, rows) == raw


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
