"""Property tests of the cleaner, the essay splitter and the section segmenter.

* no exception on arbitrary Unicode text, nor on text built from the seed pages' alphabet
  (CJK, 、，。（）一二三, digits, 篇/第, newlines, spaces, '?', pinyin like ``(chuàng)``);
* the raw-text accounting invariant: ``tt.check()`` and ``reconstruct_raw(clean, log) == raw``
  after cleaning and after splitting;
* idempotence: a seed document cleaned again as its own page is unchanged;
* sections nest: a child's span lies inside its parent's, siblings do not overlap.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpus_tools.ingest.pipeline import IngestConfig, clean_page, split_page
from corpus_tools.ingest.tracked import reconstruct_raw

try:
    from corpus_tools.sections import segment
except ImportError:  # pragma: no cover - segmenter not built
    segment = None

REPO = Path(__file__).resolve().parents[1]
CONFIG = IngestConfig()

TOKENS = (list("工会职工组织开展活动加强建设學習貫徹執行創新規範的是了在和")
          + list("、，。（）()一二三四五六七八九十") + list("0123456789") + ["篇", "第", "\n", "\n\n", " ", "\u3000", "?"]
          + ["(chuàng)", "（guī）", "篇一", "第一篇", "第二篇", "【第一篇】", "篇2", "一、", "（一）", "1、", "1.", "①",
             "2010年", "二〇一〇年", "工会委员会", "版权所有", "下载", "首页 > 范文 > ", "<p>", "&nbsp;", "“", "”",
             ";", '"', "xx", "__", "\t", "\r\n", "\ufeff", "\u200b", "\ue000", "—1—", "?膸", "a", "Copyright",
             "打坏", "回覆", "乾淨", "著名", "隨著", "稅務局編輯提醒：請注意查看"])
seed_like = st.lists(st.sampled_from(TOKENS), max_size=300).map("".join)
any_text = st.text(max_size=300)
texts = st.one_of(any_text, seed_like)

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _rows(tt) -> list[dict]:
    return [{"raw_start": s.raw_start, "raw_end": s.raw_end, "text": tt.raw[s.raw_start:s.raw_end],
             "replacement": s.text} for s in tt.log()]


def _check_accounting(tt, raw: str) -> None:
    tt.check()
    assert reconstruct_raw(tt.text, _rows(tt)) == raw


@pytest.fixture(scope="module", autouse=True)
def _warm():
    clean_page("工会(chuàng)新。\n一、学习\n", config=CONFIG)  # load OpenCC/jieba outside the deadline


@settings(max_examples=2000, **SETTINGS)
@given(texts)
def test_clean_and_split_never_raise_and_account_for_raw(raw):
    tt, facts = clean_page(raw, config=CONFIG)
    _check_accounting(tt, raw)
    assert facts["script"] in ("simplified", "traditional", "mixed")
    docs, sfacts = split_page(tt)
    _check_accounting(tt, raw)
    clean = tt.text
    prev_end = 0
    for d in docs:
        assert prev_end <= d["new_start"] <= d["new_end"] <= len(clean)
        assert clean[d["new_start"]:d["new_end"]].strip()
        prev_end = d["new_end"]


@settings(max_examples=300, **SETTINGS)
@given(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=60).map("".join),
       st.frozensets(st.sampled_from(["工会工作总结", "版权所有", "第一篇", "一、"]), max_size=3))
def test_templates_keep_accounting(raw, template_lines):
    from corpus_tools.ingest.boilerplate import line_key

    templates = frozenset(k for k in map(line_key, template_lines) if k)
    tt, _ = clean_page(raw + "\n" + "\n".join(template_lines), templates, CONFIG)
    split_page(tt)
    _check_accounting(tt, tt.raw)


@lru_cache(maxsize=1)
def _seed_documents() -> list[str]:
    from corpus_tools.ingest.pipeline import process_page

    docs = []
    for p in sorted((REPO / "data" / "raw").glob("*.txt")):
        res = process_page(p.read_bytes(), p.name, False, frozenset(), CONFIG)
        docs.extend(d["text"] for d in res.documents)
    return docs


def test_seed_documents_exist():
    assert len(_seed_documents()) >= 30


@pytest.mark.parametrize("i", range(35))
def test_cleaning_is_idempotent_on_seed_documents(i):
    docs = _seed_documents()
    if i >= len(docs):
        pytest.skip("fewer seed documents")
    text = docs[i]
    tt, _ = clean_page(text, config=CONFIG)
    assert tt.text == text
    # as its own page, the essay splitter leaves it whole too
    split_docs, _ = split_page(tt)
    assert len(split_docs) == 1


@pytest.mark.skipif(segment is None, reason="corpus_tools.sections not available")
@settings(max_examples=2000, **SETTINGS)
@given(texts)
def test_sections_nest(text):
    secs = segment(text)
    by_id = {s.section_id: s for s in secs}
    assert len(by_id) == len(secs)
    for s in secs:
        assert 0 <= s.start < s.end <= len(text), s
        if s.parent_id is not None:
            p = by_id[s.parent_id]
            assert p.level < s.level
            assert p.start <= s.start and s.end <= p.end, (p, s)
    # siblings (same parent) are ordered and disjoint
    groups: dict = {}
    for s in secs:
        groups.setdefault(s.parent_id, []).append(s)
    for sibs in groups.values():
        sibs.sort(key=lambda s: s.start)
        for a, b in zip(sibs, sibs[1:]):
            assert a.end <= b.start, (a, b)
