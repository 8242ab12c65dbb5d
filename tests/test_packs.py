"""Packs: the one file per task that holds its page results, found again by cache key."""
from __future__ import annotations

import shutil

import pandas as pd
import pytest

from corpus_tools.ingest.pipeline import ingest, stored_results
from corpus_tools.ingest.results import PACK_SUFFIX, read_pack_index, read_result, release_packs, write_pack

from conftest import RAW

TABLES = ("pages", "documents", "removed", "sections")


def _rows(i: int) -> dict:
    return {"pages": [{"page_id": f"p{i}", "source": f"f{i}.txt", "status": "ok", "n_chars_raw": i}],
            "documents": [{"doc_id": f"p{i}-01", "text": "工会" * i, "index": 1}],
            "removed": {"page_id": ["p"], "raw_start": [0], "raw_end": [1], "text": ["x"], "replacement": [""],
                        "kind": ["removed"], "reason": ["r"], "rules": ["r"]},
            "sections": []}


def test_pack_round_trip(tmp_path):
    """Pages go in with rows or columns and come out as their own slices of the pack's tables."""
    path = tmp_path / f"a{PACK_SUFFIX}"
    write_pack(path, [("k1", _rows(1)), ("", _rows(2)), ("k3", {**_rows(3), "documents": []})])
    index = read_pack_index(path)
    assert [k for k, *_ in index] == ["k1", "", "k3"] and [tuple(e[1:]) for e in index] == [(1, 1, 0), (1, 1, 0),
                                                                                           (0, 1, 0)]
    for i, n in enumerate((1, 2, 3)):
        tabs = read_result(path, i)
        assert tabs["pages"].column("n_chars_raw").to_pylist() == [n]
        assert tabs["documents"].column("text").to_pylist() == ([] if n == 3 else ["工会" * n])
        assert tabs["removed"].num_rows == 1 and tabs["sections"].num_rows == 0
    with pytest.raises(ValueError):
        read_result(path, 3)
    release_packs()
    assert not list(tmp_path.glob(".*.tmp"))  # written through a temporary file, renamed into place


@pytest.mark.parametrize("damage", ["truncated", "no_trailer", "garbage", "empty", "bad_index_length"])
def test_damaged_packs_are_not_packs(tmp_path, damage):
    path = tmp_path / f"a{PACK_SUFFIX}"
    write_pack(path, [("k1", _rows(1))])
    data = path.read_bytes()
    bad = {"truncated": data[:len(data) // 2], "no_trailer": data[:-3], "garbage": b"\x00\xff" * 100,
           "empty": b"", "bad_index_length": data[:-15] + (10**9).to_bytes(8, "little") + data[-7:]}[damage]
    path.write_bytes(bad)
    assert read_pack_index(path) is None


def test_a_damaged_pack_is_recomputed(tmp_path):
    """A pack cut short (a disk that filled up, a copy that stopped) is ignored: its pages
    are cleaned again and the tables equal a fresh run."""
    inp = tmp_path / "in"
    shutil.copytree(RAW, inp)
    out, fresh = tmp_path / "out", tmp_path / "fresh"
    ingest([inp], out, workers=1)
    packs = sorted((out / ".work" / "packs").glob(f"*{PACK_SUFFIX}"))
    assert packs and len(stored_results(out / ".work")) == 5
    packs[0].write_bytes(packs[0].read_bytes()[:100])
    assert len(stored_results(out / ".work")) < 5
    ingest([inp], out, workers=1)
    assert len(stored_results(out / ".work")) == 5
    ingest([inp], fresh, workers=1)
    for name in TABLES:
        assert (out / f"{name}.parquet").read_bytes() == (fresh / f"{name}.parquet").read_bytes(), name


def test_result_files_of_the_old_layout_are_removed(tmp_path):
    """Before packs, page results were one file each under .work/pages and .work/errors:
    a cache that is never read again, so ingestion deletes it."""
    inp = tmp_path / "in"
    shutil.copytree(RAW, inp)
    out = tmp_path / "out"
    for old in ("pages/ab/x.arrow", "errors/y.arrow"):
        (out / ".work" / old).parent.mkdir(parents=True, exist_ok=True)
        (out / ".work" / old).write_bytes(b"CTPAGE3\n")
    ingest([inp], out, workers=1)
    assert not (out / ".work" / "pages").exists() and not (out / ".work" / "errors").exists()
    assert len(stored_results(out / ".work")) == 5


def test_runs_of_a_pack_merge_as_page_by_page(tmp_path, monkeypatch):
    """The merge takes consecutive pages of a pack as one run (one slice per table); with
    identical files (in one shard and across shards), file-name years and a metadata sidecar
    the tables are the bytes the page-by-page merge writes."""
    import json

    from corpus_tools.ingest import pipeline
    from test_kill_resume import make_pages

    pages = tmp_path / "in"
    make_pages(pages, n=120, seed=3)
    (pages / "p0" / "page_007.txt").rename(pages / "p0" / "2019年page_007.txt")
    (pages / "p0" / "index.jsonl").write_text("".join(
        json.dumps({"file": f"page_{i:03d}.txt", "year": 2016, "title": f"T{i}"}) + "\n" for i in range(10, 40, 3)),
        encoding="utf-8")
    monkeypatch.setattr(pipeline, "BATCH_PAGES", 16)  # runs are cut at row-group ends too
    runs = tmp_path / "runs"
    ingest(pages, runs, workers=1)
    assert max(len(s) for _, _, s in pipeline._runs_of_pages(
        iter([(("a", i), i) for i in range(40)]), lambda: 16)) == 16

    def one_by_one(pairs, room):
        for (path, i), src in pairs:
            yield path, i, [src]

    monkeypatch.setattr(pipeline, "_runs_of_pages", one_by_one)
    single = tmp_path / "single"
    ingest(pages, single, workers=1)
    for name in ("pages", "documents", "removed", "sections"):
        assert (runs / f"{name}.parquet").read_bytes() == (single / f"{name}.parquet").read_bytes(), name
    docs = pd.read_parquet(runs / "documents.parquet")
    assert (docs["page_id"].str.contains("~")).any()  # duplicates were renamed
    assert {"file_name", "metadata"} <= set(docs["year_source"])
