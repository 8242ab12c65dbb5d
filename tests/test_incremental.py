"""Adding pages re-processes only the new ones.

1,000 generated pages are ingested; 5 more are added and the same output directory is
ingested again: exactly 5 new page results appear in ``OUT/.work/packs`` (the old ones
are neither rewritten nor recomputed: same pack, same place, pack untouched), and the tables equal a fresh run over all 1,005.

The pages are built so that the learned template lines cannot change when pages are
added: every page has one unique title line, paragraphs longer than the template key limit
(50 characters, so they are never counted), and the same footer line (a template in any
run). Every page's set of template lines is therefore the same before and after.
"""
from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import pytest

from corpus_tools.ingest.pipeline import ingest, stored_results

TABLES = ("pages", "documents", "removed", "sections")
WORDS = ("工会", "职工", "组织", "开展", "活动", "加强", "建设", "服务", "发展", "提高", "民主", "管理", "维护",
         "权益", "会员", "基层", "企业", "文化", "安全", "培训", "技能", "竞赛", "帮扶", "慰问", "制度", "落实")
FOOTER = "本文由职工之家网站编辑整理发布"


def page(i: int) -> str:
    rng = random.Random(i)
    paras = []
    for _ in range(2):
        sents = ["".join(rng.choice(WORDS) for _ in range(8)) + "，" + "".join(rng.choice(WORDS) for _ in range(8)) + "。"
                 for _ in range(3)]
        paras.append("".join(sents))
    # line keys fold digits, so the unique title is made of words, not a number
    title = "".join(rng.choice(WORDS) for _ in range(6)) + "工作简报"
    return title + "\n" + "\n".join(paras) + f"\n{FOOTER}\n"


def write_pages(folder: Path, ids) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in ids:
        (folder / f"page_{i:04d}.txt").write_text(page(i), encoding="utf-8")


def results(out: Path) -> dict[str, tuple]:
    """Kept page results: cache key → (pack, offset, length, pack's mtime)."""
    return {k: (*loc, Path(loc[0]).stat().st_mtime_ns) for k, loc in stored_results(out / ".work").items()}


@pytest.mark.slow
def test_adding_pages_recomputes_only_them(tmp_path):
    inp, out, fresh = tmp_path / "in", tmp_path / "out", tmp_path / "fresh"
    write_pages(inp, range(1000))
    s1 = ingest([inp], out)
    assert s1.counts["ok"] == 1000
    before = results(out)
    assert len(before) == 1000
    manifest = (out / "manifest.json").read_text(encoding="utf-8")
    assert '"templates_learned": 1' in manifest  # only the footer

    write_pages(inp, range(1000, 1005))
    s2 = ingest([inp], out)
    assert s2.counts["ok"] == 1005
    after = results(out)
    new = set(after) - set(before)
    assert len(new) == 5, sorted(new)
    assert all(after[k] == before[k] for k in before), "old page results were rewritten"

    ingest([inp], fresh)
    for name in TABLES:
        assert (out / f"{name}.parquet").read_bytes() == (fresh / f"{name}.parquet").read_bytes(), name
    assert (out / "manifest.json").read_bytes() == (fresh / "manifest.json").read_bytes()
    docs = pd.read_parquet(out / "documents.parquet")
    assert not docs["text"].str.contains(FOOTER).any()  # the template was applied


@pytest.mark.slow
def test_unchanged_rerun_recomputes_nothing(tmp_path):
    inp, out = tmp_path / "in", tmp_path / "out"
    write_pages(inp, range(50))
    ingest([inp], out)
    before = results(out)
    tables = {n: (out / f"{n}.parquet").read_bytes() for n in TABLES}
    ingest([inp], out)
    assert results(out) == before
    assert all((out / f"{n}.parquet").read_bytes() == b for n, b in tables.items())
