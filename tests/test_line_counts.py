"""The compact cross-page line statistics (count → merge) behind learned templates."""
from __future__ import annotations

from collections import Counter

import numpy as np

from corpus_tools.ingest import boilerplate


def _pages() -> list[str]:
    chrome = "首页 > 工作总结 > 工会工作总结\n本文由网友投稿，仅供参考\n"
    bodies = [f"第{i}篇正文内容，写了一些工会的工作。\n今年共慰问职工{i * 3}人次。\n" for i in range(12)]
    return [chrome + b + ("相关文章推荐\n" if i % 2 else "") for i, b in enumerate(bodies)]


def test_counter_matches_a_plain_counter_across_shards_and_reductions():
    pages = _pages()
    expected: Counter = Counter()
    for p in pages:
        expected.update(boilerplate.page_line_keys(p))
    counter = boilerplate.LineCounter()
    for shard in (pages[:5], pages[5:6], pages[6:]):
        counter.add(*boilerplate.shard_key_counts(shard))
        counter._reduce()  # force the merge path between shards
    got = {int(k).to_bytes(8, "big"): int(c) for k, c in zip(counter.keys, counter.counts)}
    assert got == dict(expected)
    # digits fold: "今年共慰问职工N人次" is one key seen on every page
    assert max(got.values()) == len(pages)
    assert counter.at_least(3) == frozenset(k for k, c in expected.items() if c >= 3)
    assert boilerplate.template_keys(counter, len(pages), 3) == counter.at_least(3)


def test_counter_is_compact_and_empty_shards_are_fine():
    counter = boilerplate.LineCounter()
    counter.add(*boilerplate.shard_key_counts([]))
    assert len(counter) == 0 and counter.at_least(1) == frozenset()
    keys = np.arange(100_000, dtype=np.uint64)
    counter.add(keys)
    counter.add(keys[:10])
    assert len(counter) == 100_000
    assert counter.keys.nbytes + counter.counts.nbytes == 100_000 * 16
    assert len(counter.at_least(2)) == 10


def _one_line_key(line: str) -> bytes | None:
    """The key of one line, line by line (the definition line_keys implements page-wide)."""
    import hashlib
    import re

    s = "".join(line.split())  # str.split() splits on exactly what \s matches
    if not (2 <= len(s) <= 50):
        return None
    return hashlib.blake2b(re.sub(r"\d+", "0", s).encode("utf-8"), digest_size=8).digest()


def test_page_wide_line_keys_equal_line_by_line_keys():
    """line_keys (which dismisses long printable lines before normalising) gives the same key
    as the line by line definition for every line, with every whitespace character, digit
    runs, long lines that whitespace brings under 50 characters, and the length bounds
    checked before digits fold ("24" is two characters, a key; folded it would be one);
    line_key is the key of its one line."""
    import random
    import sys

    rng = random.Random(1)
    alphabet = list("工会12３4 \t\r\x0b\x0c\x1c\x85\u2028\u3000\u00a0ab。") + ["\n"] * 3 + ["1234567890"] * 3
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 120)))
        assert boilerplate.line_keys(text) == [_one_line_key(ln) for ln in text.split("\n")], repr(text)
        assert [boilerplate.line_key(ln) for ln in text.split("\n")] == [_one_line_key(ln) for ln in text.split("\n")]
    for c in (chr(i) for i in range(sys.maxunicode + 1)):
        if c.isspace() and c != "\n":
            assert c == " " or not c.isprintable(), hex(ord(c))  # what the long-line shortcut relies on
            text = f"工{c}会{c}{c}总结\nx{c}y\n24\n{c}2{c}\n{'工' * 49}{c * 3}\n{'工' * 50}{c}会\n{'工' * 51}"
            assert boilerplate.line_keys(text) == [_one_line_key(ln) for ln in text.split("\n")], hex(ord(c))
