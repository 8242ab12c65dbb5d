"""Shared fixtures: the seed corpus ingested once per test session."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "data" / "raw"
REPORTS = ROOT.parent / "shared" / "corpus" / "reports"


@pytest.fixture(scope="session")
def seed_corpus_dir(tmp_path_factory) -> Path:
    from corpus_tools import ingest

    out = tmp_path_factory.mktemp("seed_corpus")
    ingest([RAW], out)
    return out


@pytest.fixture(scope="session")
def seed(seed_corpus_dir):
    from corpus_tools import load_corpus

    return load_corpus(seed_corpus_dir)


@pytest.fixture(scope="session")
def reports_corpus_dir(tmp_path_factory) -> Path:
    if not REPORTS.exists():
        pytest.skip("../shared/corpus/reports not available")
    from corpus_tools import ingest

    out = tmp_path_factory.mktemp("reports_corpus")
    ingest([REPORTS], out)
    return out
