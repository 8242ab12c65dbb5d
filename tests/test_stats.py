"""Descriptive statistics (corpus_tools.analysis.stats)."""
from __future__ import annotations

import pandas as pd
import pytest

from corpus_tools.analysis.stats import (
    corpus_stats, count_placeholders, count_sentences, detect_genre, detect_org_type, document_stats,
)
from corpus_tools.cli import main
from test_tokenize import reports_dir, seed_dir, seed_docs  # noqa: F401  (fixtures)


@pytest.mark.parametrize("title,genre", [
    ("2019年学校工会工作总结", "工作总结"),
    ("工会2020年工作计划", "工作计划"),
    ("工会工作要点", "工作计划"),
    ("工会创新工作心得体会篇3", "心得体会"),
    ("教育系统工会工作经验交流材料[定稿]", "交流材料"),
    ("工会主席述职报告", "述职报告"),
    ("在公司工会总结表彰大会上的讲话", "讲话"),
    ("工会工作亮点做法【精选5篇】", "交流材料"),
    ("2023年政府工作报告", "工作报告"),
    ("创新工会工作", "other"),
    (None, "other"),
])
def test_detect_genre(title, genre):
    assert detect_genre(title) == genre


@pytest.mark.parametrize("text,org", [
    ("我校工会组织教职工学习，召开教代会，推进校务公开，关心教师生活。", "school"),
    ("公司工会深入车间班组，推行厂务公开，开展劳动竞赛，为企业生产经营服务。", "enterprise"),
    ("医院工会组织医护人员开展活动，推进院务公开，提升医疗服务。", "hospital"),
    ("局工会在机关党委领导下，配合政府部门开展工作。", "government"),
    ("工会组织开展了活动。", "other"),
])
def test_detect_org_type(text, org):
    assert detect_org_type(text) == org


def test_counters():
    assert count_sentences("一、总体情况\n我们做了工作。取得了成绩！还有问题？\n\n") == 4
    assert count_placeholders("__年年分公司工会，20xx年，某某同志，XX单位，taxi") == 4


def test_document_stats_on_seed_corpus(seed_dir):
    docs = seed_docs(seed_dir)
    ds = document_stats(seed_dir)
    assert len(ds) == len(docs) and ds["unit_id"].tolist() == docs["doc_id"].tolist()
    for col in ("n_chars", "n_sentences", "n_tokens", "n_types", "genre", "org_type", "n_placeholders",
                "n_sections", "n_sections_l1", "n_sections_l2", "section_depth", "year"):
        assert col in ds.columns, col
    assert (ds["n_chars"] == docs["text"].str.len().values).all()
    assert (ds["n_tokens"] > ds["n_types"]).all() and (ds["n_sentences"] > 0).all()
    secs = pd.read_parquet(seed_dir / "sections.parquet")
    d0 = docs["doc_id"].iloc[0]
    assert ds.set_index("unit_id").loc[d0, "n_sections"] == (secs["doc_id"] == d0).sum()
    assert (ds["section_depth"] <= ds["n_sections"].clip(upper=10)).all()
    assert {"心得体会", "工作计划", "交流材料"} <= set(ds["genre"])
    assert {"school", "enterprise"} <= set(ds["org_type"])
    assert ds["n_placeholders"].sum() > 0
    plain = document_stats(docs, tokens=False)
    assert "n_tokens" not in plain.columns and "n_sections" not in plain.columns


def test_corpus_stats(reports_dir):
    total = corpus_stats(reports_dir)
    docs = pd.read_parquet(reports_dir / "documents.parquet")
    r = total.iloc[0]
    assert r["n_units"] == len(docs) and r["n_chars"] == docs["text"].str.len().sum()
    assert r["year_min"] == docs["year"].min() and r["year_max"] == docs["year"].max()
    assert r["share_with_year"] == 1.0 and r["n_types"] > 1000
    by = corpus_stats(reports_dir, by="genre", tokens=False)
    assert by["n_units"].sum() == len(docs) and "工作报告" in set(by["genre"])


def test_corpus_stats_reuses_the_vocabulary_of_document_stats(reports_dir, monkeypatch):
    """document_stats counts the corpus vocabulary in its token pass: corpus_stats given
    that frame reads no tokens and gives the table it computes alone; per group it still
    counts the groups' vocabularies itself."""
    import corpus_tools.analysis.stats as stats_mod

    alone = corpus_stats(reports_dir)
    by_alone = corpus_stats(reports_dir, by="genre")
    ds = document_stats(reports_dir)
    assert ds.attrs["n_types_all"] == alone.iloc[0]["n_types"] > 1000
    real = stats_mod._unit_tokens

    def boom(*a, **k):
        raise AssertionError("tokens read again")

    monkeypatch.setattr(stats_mod, "_unit_tokens", boom)
    pd.testing.assert_frame_equal(corpus_stats(reports_dir, doc_stats=ds), alone)
    monkeypatch.setattr(stats_mod, "_unit_tokens", real)
    pd.testing.assert_frame_equal(corpus_stats(reports_dir, by="genre", doc_stats=ds), by_alone)


def test_cli_stats(seed_dir, capsys, tmp_path):
    assert main(["stats", str(seed_dir)]) == 0
    out = capsys.readouterr().out
    assert "n_units" in out and "n_tokens" in out
    f = tmp_path / "docs.csv"
    assert main(["stats", str(seed_dir), "--documents", "-o", str(f)]) == 0
    assert len(pd.read_csv(f)) == len(seed_docs(seed_dir))
    assert main(["stats", str(seed_dir), "--by", "genre", "--no-tokens", "--format", "csv"]) == 0
    assert "genre" in capsys.readouterr().out
    assert main(["stats", str(seed_dir), "--by", "nope"]) == 2
