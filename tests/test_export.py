"""Dataset export (corpus_tools.export.dataset, card, CLI)."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from corpus_tools.cli import main
from corpus_tools.export.dataset import export, genre_of
from test_dedup import seed_corpus, seed_documents  # noqa: F401  (fixture)

FIELDS = {"id", "doc_id", "source", "page_id", "title", "year", "genre", "text", "n_chars", "cluster_id",
          "n_repeated_paragraphs"}


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_jsonl_export_traces_everything(seed_corpus, tmp_path):
    res = export(seed_corpus, tmp_path / "a")
    docs = seed_documents(seed_corpus)
    cl = pd.read_parquet(tmp_path / "a" / "clusters.parquet")
    assert sorted(cl["doc_id"]) == sorted(docs["doc_id"])  # nothing dropped without a trace
    assert cl["reason"].notna().all()
    # page 003's first two essays: one near-duplicate cluster, one kept
    p3 = docs[docs["source"].str.startswith("003")].sort_values("index")["doc_id"].tolist()
    c = cl.set_index("doc_id")
    assert c.loc[p3[0], "cluster_id"] == c.loc[p3[1], "cluster_id"]
    assert c.loc[p3[:2], "kept"].sum() == 1
    assert set(c.loc[p3[:2], "reason"]) == {"kept", "near_duplicate"}
    # records: provenance fields, one line per record, sorted keys
    lines = (tmp_path / "a" / "train.jsonl").read_text(encoding="utf-8").splitlines()
    rec = json.loads(lines[0])
    assert set(rec) == FIELDS and list(rec) == sorted(rec)
    n = sum(len((tmp_path / "a" / f"{s}.jsonl").read_text(encoding="utf-8").splitlines())
            for s in ("train", "validation", "test"))
    assert n == len(res.records) == int((cl["reason"] == "kept").sum())
    assert (res.records["n_chars"] >= 1).all()
    # repeated paragraphs were logged and removed
    rp = pd.read_parquet(tmp_path / "a" / "removed_paragraphs.parquet")
    assert len(rp) > 0 and {"doc_id", "paragraph", "start", "end", "reason"} <= set(rp.columns)
    kept_text = res.records.set_index("doc_id")["text"]
    for r in rp.itertuples():
        full = docs.set_index("doc_id").loc[r.doc_id, "text"]
        assert kept_text[r.doc_id].count(full[r.start:r.end]) < full.count(full[r.start:r.end])
    card = (tmp_path / "a" / "README.md").read_text(encoding="utf-8")
    assert card.startswith("---\nlanguage:\n- zh\nlicense: other\n")
    assert "split: train" in card and "## Known issues" in card


def test_no_cluster_or_page_spans_two_splits(seed_corpus, tmp_path):
    res = export(seed_corpus, tmp_path / "s", split=(0.6, 0.2, 0.2), seed=5)
    cl = res.clusters
    members = cl[cl["split"].notna()]
    assert members.groupby("cluster_id")["split"].nunique().max() == 1
    assert members.groupby("page_id")["split"].nunique().max() == 1
    # the dropped near-copy's cluster has its kept member in exactly one split
    assert set(res.records["split"]) == {"train", "validation", "test"}


def test_deterministic_bytes(seed_corpus, tmp_path):
    for fmt in ("jsonl", "parquet"):
        export(seed_corpus, tmp_path / f"{fmt}1", format=fmt)
        export(seed_corpus, tmp_path / f"{fmt}2", format=fmt)
        a, b = _files(tmp_path / f"{fmt}1"), _files(tmp_path / f"{fmt}2")
        assert a.keys() == b.keys() and a == b


def test_hf_export_loads(seed_corpus, tmp_path):
    datasets = pytest.importorskip("datasets")
    res = export(seed_corpus, tmp_path / "h", format="hf", unit="section", split=(0.6, 0.2, 0.2))
    dd = datasets.load_from_disk(str(tmp_path / "h" / "hf"))
    assert isinstance(dd, datasets.DatasetDict)
    assert set(dd) == set(res.records["split"]) and "train" in dd and len(dd) >= 2
    for s in dd:
        assert len(dd[s]) == int((res.records["split"] == s).sum())
    assert set(dd["train"].column_names) == FIELDS | {"section_id", "section_path", "heading"}
    assert sum(len(dd[s]) for s in dd) == len(res.records)
    row = dd["train"][0]
    assert row["section_path"] and row["text"]
    # hf metadata may differ between runs (fingerprints); the loaded data must not
    export(seed_corpus, tmp_path / "h2", format="hf", unit="section", split=(0.6, 0.2, 0.2))
    dd2 = datasets.load_from_disk(str(tmp_path / "h2" / "hf"))
    for s in dd:
        assert list(dd[s]) == list(dd2[s])


def test_filters_and_options(seed_corpus, tmp_path):
    res = export(seed_corpus, tmp_path / "f", min_chars=3000, max_placeholder_density=None,
                 drop_repeated_paragraphs=False)
    assert (res.clusters.loc[res.clusters["n_chars"] < 3000, "reason"] == "too_short").all()
    assert res.records["n_chars"].min() >= 3000 - 1
    stats = json.loads((tmp_path / "f" / "stats.json").read_text(encoding="utf-8"))
    assert stats["stats"]["repeated_paragraphs_removed"] == 0
    assert genre_of("2010年工会工作总结") == "工作总结" or genre_of("2010年工会工作总结")


def test_cli(seed_corpus, tmp_path):
    out = tmp_path / "c"
    assert main(["export", str(seed_corpus), "-o", str(out), "--format", "parquet", "--split", "0.8,0.1,0.1",
                 "--seed", "13", "--min-chars", "100"]) == 0
    assert (out / "train.parquet").exists() and (out / "clusters.parquet").exists()
    assert main(["export", str(seed_corpus), "-o", str(out), "--split", "0.5,0.5"]) == 2
