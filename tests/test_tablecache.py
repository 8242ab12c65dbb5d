"""The on-disk cache of derived lookup tables (jieba counts, common characters, script tables)."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from corpus_tools.ingest import convert, repair, tablecache, textutil


@pytest.fixture
def cache(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv(tablecache.ENV, str(d))
    return d


def _counting_build(value):
    calls = []

    def build():
        calls.append(1)
        return value
    return build, calls


def test_built_once_then_loaded(cache):
    build, calls = _counting_build({"工会": 3, "a": 1})
    assert tablecache.cached("t", ("src-1",), build) == {"工会": 3, "a": 1}
    assert tablecache.cached("t", ("src-1",), build) == {"工会": 3, "a": 1}
    assert len(calls) == 1
    assert len(list(cache.glob("t-*.marshal"))) == 1
    assert not list(cache.glob(".*tmp"))  # written atomically: no temp file left


def test_a_changed_source_builds_again(cache):
    build, calls = _counting_build(frozenset("ab"))
    tablecache.cached("t", ("v1",), build)
    tablecache.cached("t", ("v2",), build)
    assert len(calls) == 2


def test_a_damaged_file_is_rebuilt(cache):
    build, calls = _counting_build(("x", b"\x00\x01"))
    tablecache.cached("t", ("s",), build)
    (path,) = cache.glob("t-*.marshal")
    path.write_bytes(path.read_bytes()[:3])  # cut short
    assert tablecache.cached("t", ("s",), build) == ("x", b"\x00\x01")
    assert len(calls) == 2
    assert tablecache.cached("t", ("s",), build) == ("x", b"\x00\x01")  # and stored again, whole
    assert len(calls) == 2


def test_off_and_unwritable(tmp_path, monkeypatch):
    build, calls = _counting_build([1, 2])
    monkeypatch.setenv(tablecache.ENV, "off")
    assert tablecache.cache_dir() is None
    assert tablecache.cached("t", ("s",), build) == [1, 2]
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv(tablecache.ENV, str(blocker / "sub"))
    assert tablecache.cached("t", ("s",), build) == [1, 2]  # cannot write: computed, no error
    assert len(calls) == 2


def test_no_home_no_disk_cache(monkeypatch):
    monkeypatch.delenv(tablecache.ENV, raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(os.path, "expanduser", lambda p: p)  # HOME unset, no passwd entry
    assert tablecache.cache_dir() is None
    monkeypatch.setenv("XDG_CACHE_HOME", "/somewhere")
    assert str(tablecache.cache_dir()) == "/somewhere/corpus-tools"


def test_package_stamp_follows_the_data_file():
    stamp = tablecache.package_stamp("jieba", "dict.txt")
    assert "dict.txt:" in stamp and not stamp.endswith("dict.txt:-")
    assert tablecache.package_stamp("no_such_package_xyz", "x").endswith("x:-")


def test_cached_tables_equal_the_built_ones(cache):
    """What a second process loads from disk is exactly what the builders make."""
    code = ("from corpus_tools.ingest import convert, repair, textutil\n"
            "import marshal, sys\n"
            "t, s = convert._script_tables()\n"
            "sys.stdout.buffer.write(marshal.dumps((repair._dictionary_counts(), textutil.common_chars(),"
            " t.tobytes(), s.tobytes())))\n")
    env = {**os.environ, tablecache.ENV: str(cache)}
    first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, check=True).stdout
    assert len(list(cache.glob("*.marshal"))) == 3
    second = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, check=True).stdout
    assert first == second
    import marshal

    counts, common, trad, simp = marshal.loads(second)
    assert counts == repair._read_dictionary_counts()
    assert common == textutil._build_common_chars()
    bt, bs = convert._build_script_tables()
    assert np.array_equal(np.frombuffer(trad, bool), np.unpackbits(np.frombuffer(bt, np.uint8)).astype(bool))
    assert np.array_equal(np.frombuffer(simp, bool), np.unpackbits(np.frombuffer(bs, np.uint8)).astype(bool))
    assert np.frombuffer(trad, bool)[ord("會")] and not np.frombuffer(trad, bool)[ord("会")]
