"""Theme lexicon and theme frequencies (corpus_tools.analysis.themes)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from corpus_tools.analysis.themes import (
    count_themes, load_lexicon, term_frequencies, theme_frequencies,
)
from corpus_tools.cli import main
from test_tokenize import reports_dir, seed_dir, seed_docs  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[1]
SNIPPET = ("我们开展送温暖活动，慰问困难职工12户，看望生病住院职工3人。"
           "召开职代会，推行厂务公开，签订集体合同和工资集体协商协议。")


def test_shipped_lexicon_is_documented():
    themes = load_lexicon()
    ids = [t.id for t in themes]
    assert ids == ["rights", "democratic_management", "ideology_study", "welfare", "culture_sports",
                   "skills_competition", "organisation", "women", "safety", "finance"]
    for t in themes:
        assert t.label_zh and t.label_en and t.description and len(t.terms) >= 8, t.id


def test_hand_checked_snippet():
    c = count_themes(SNIPPET)
    # welfare: 送温暖, 慰问, 困难职工, 看望, 生病住院 (住院 inside it is not counted again)
    assert c["welfare"] == 5
    # democratic management: 职代会, 厂务公开
    assert c["democratic_management"] == 2
    # rights: 集体合同, 工资集体协商 (集体协商 inside it not counted again)
    assert c["rights"] == 2
    assert c["safety"] == 0 and c["finance"] == 0


def test_longest_match_first_within_a_theme_only():
    lex = {"a": ["困难", "困难职工"], "b": ["职工"]}
    c = count_themes("困难职工和困难群众，职工", lexicon=lex)
    assert c == {"a": 2, "b": 2}  # 困难职工 + 困难 ; themes are independent: 职工 counted in b twice


def test_theme_frequencies_by_document_and_page(seed_dir):
    docs = seed_docs(seed_dir)
    f = theme_frequencies(docs, by="document")
    assert list(f.columns) == ["document", "theme", "hits", "hits_per_10k_chars", "share_of_documents",
                               "n_units", "n_chars"]
    assert len(f) == len(docs) * 10
    one = docs.iloc[0]
    row = f[(f["document"] == one["doc_id"])].set_index("theme")
    assert row.loc["welfare", "hits"] == count_themes(one["text"])["welfare"]
    assert row["n_chars"].iloc[0] == len(one["text"])
    p = theme_frequencies(seed_dir, by="page")
    assert set(p["page"]) == set(docs["page_id"])
    assert (p.groupby("theme")["hits"].sum() == f.groupby("theme")["hits"].sum()).all()
    assert p["share_of_documents"].between(0, 1).all()
    assert p["hits"].sum() > 1000


def test_by_year_groups_and_rates(reports_dir):
    docs = pd.read_parquet(reports_dir / "documents.parquet")
    f = theme_frequencies(reports_dir, by="year")
    assert f["year"].tolist() == sorted(f["year"].tolist())
    assert sorted(f["year"].unique()) == sorted(docs["year"].unique())
    sizes = docs.groupby("year").size()
    for year, g in f.groupby("year"):
        assert (g["n_units"] == sizes[year]).all()
        assert (g["n_chars"] == docs.loc[docs["year"] == year, "text"].str.len().sum()).all()
    r = f.iloc[0]
    assert r["hits_per_10k_chars"] == pytest.approx(r["hits"] * 10000 / r["n_chars"])
    # share_of_documents is the share of units with >= 1 hit
    y = docs["year"].mode().iloc[0]
    in_year = docs[docs["year"] == y]
    share = sum(count_themes(t)["safety"] > 0 for t in in_year["text"]) / len(in_year)
    assert f[(f["year"] == y) & (f["theme"] == "safety")]["share_of_documents"].iloc[0] == pytest.approx(share)
    # whole-corpus totals
    tot = theme_frequencies(reports_dir, by=None)
    assert tot.set_index("theme")["hits"].to_dict() == f.groupby("theme")["hits"].sum().to_dict()


def test_user_lexicon_replaces_or_extends(tmp_path):
    docs = pd.DataFrame({"doc_id": ["d1"], "text": [SNIPPET + "推进欠薪治理。"], "year": [2020]})
    extended = theme_frequencies(docs, by="year", extend={"rights": ["欠薪"], "pay": ["协议"]}).set_index("theme")
    assert extended.loc["rights", "hits"] == 3 and extended.loc["pay", "hits"] == 1
    assert len(extended) == 11
    toml = tmp_path / "lex.toml"
    toml.write_text('[[theme]]\nid = "care"\nlabel_zh = "关怀"\nlabel_en = "Care"\ndescription = "x"\n'
                    'terms = ["慰问", "看望"]\n', encoding="utf-8")
    only = theme_frequencies(docs, by="year", lexicon=toml)
    assert only["theme"].tolist() == ["care"] and only["hits"].tolist() == [2]
    assert only.attrs["labels"] == {"care": "关怀"}


def test_section_role_and_term_table(seed_dir):
    f = theme_frequencies(seed_dir, by="section_role")
    assert "section_role" in f.columns and len(f) >= 10
    t = term_frequencies(seed_dir, by=None)
    per_theme = t.groupby("theme")["hits"].sum()
    total = theme_frequencies(seed_dir, by=None).set_index("theme")["hits"]
    assert (per_theme.reindex(total.index) == total).all()


def test_cli_and_script_write_tables(reports_dir, tmp_path):
    out = tmp_path / "themes.csv"
    assert main(["themes", str(reports_dir), "--by", "year", "-o", str(out)]) == 0
    df = pd.read_csv(out)
    assert list(df.columns)[:3] == ["year", "theme", "hits"] and df["year"].nunique() > 20
    pq = tmp_path / "table.parquet"
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "theme_frequency_table.py"), str(reports_dir),
                        "--by", "year", "-o", str(pq)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    pd.testing.assert_frame_equal(pd.read_parquet(pq), df, check_dtype=False)
    assert main(["themes", str(reports_dir), "--by", "nonexistent"]) == 2


def test_precomputed_hits_give_the_same_tables(seed_dir, reports_dir):
    """`corpus-tools run` counts theme hits once for its three tables (hits=): same tables;
    hits of other units are refused."""
    from corpus_tools.analysis.themes import theme_hits

    for data in (seed_dir, reports_dir):
        hits = theme_hits(data)
        for by in ("document", "page", "year", None):
            pd.testing.assert_frame_equal(theme_frequencies(data, by=by, hits=hits), theme_frequencies(data, by=by))
    with pytest.raises(ValueError, match="same data"):
        theme_frequencies(seed_dir, hits=theme_hits(reports_dir))
