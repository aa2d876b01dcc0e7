"""The disk cache of derived tables (``checks.derived_cache``): a table read back equals the one
built, a changed input misses, a broken file is rebuilt, and an unwritable directory costs only
the rebuild."""

from __future__ import annotations

import logging
import subprocess
import sys

import numpy as np
import pytest

from fenghuo.checks import derived_cache as dc
from fenghuo.checks import normalize_table, variants


def _fresh_tables_and_readings():
    normalize_table.build_tables.cache_clear()
    variants.readings.cache_clear()
    return normalize_table.build_tables(), variants.readings()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("FENGHUO_CACHE_DIR", str(d))
    yield d
    normalize_table.build_tables.cache_clear()  # later tests get tables keyed to their own settings
    variants.readings.cache_clear()


def test_tables_and_readings_read_back_equal_the_ones_built(cache, monkeypatch):
    monkeypatch.setenv("FENGHUO_CACHE_DIR", "off")
    built_t, built_r = _fresh_tables_and_readings()
    assert not cache.exists()
    monkeypatch.setenv("FENGHUO_CACHE_DIR", str(cache))
    _fresh_tables_and_readings()  # builds and stores
    stored = sorted(p.name.split("-")[0] for p in (cache / "derived").glob("*.npz"))
    assert stored == ["normalise", "readings"]
    read_t, read_r = _fresh_tables_and_readings()  # reads
    assert read_t.single.dtype == built_t.single.dtype and np.array_equal(read_t.single, built_t.single)
    assert read_t.multi == built_t.multi and read_t.key == built_t.key
    assert read_r.syllable == built_r.syllable and read_r.polyphonic == built_r.polyphonic
    assert np.array_equal(read_r.canon, built_r.canon)
    # The fused table derived from both reads back equal too.
    assert np.array_equal(variants._fused_bytes(read_t), variants._fuse(built_t))


def test_another_option_is_another_key(cache):
    normalize_table.build_tables.cache_clear()
    a = normalize_table.build_tables(True, True, True)
    b = normalize_table.build_tables(False, True, True)
    assert a.key != b.key
    assert not np.array_equal(a.single, b.single)  # 車 folds to 车 only with t2s
    assert len(list((cache / "derived").glob("normalise-*.npz"))) == 2


def test_a_broken_file_is_rebuilt_with_a_warning(cache, caplog):
    calls = []

    def build():
        calls.append(1)
        return {"x": np.arange(5, dtype=np.int64)}

    dc.load_or_build("demo", "k1", build)
    (path,) = (cache / "derived").glob("demo-k1.npz")
    path.write_bytes(path.read_bytes()[:40])  # truncated mid-archive
    with caplog.at_level(logging.WARNING, logger="fenghuo.checks.cache"):
        got = dc.load_or_build("demo", "k1", build)
    assert len(calls) == 2 and got["x"].tolist() == [0, 1, 2, 3, 4]
    assert "unreadable" in caplog.text
    assert dc.load_or_build("demo", "k1", build)["x"].tolist() == [0, 1, 2, 3, 4] and len(calls) == 2  # rewritten


def test_a_pickled_array_is_refused_not_loaded(cache):
    # An object array needs pickle to load; the cache reads with allow_pickle=False and rebuilds.
    (cache / "derived").mkdir(parents=True)
    with open(cache / "derived" / "demo-k2.npz", "wb") as f:
        np.savez(f, x=np.array([{"a": 1}], dtype=object))
    got = dc.load_or_build("demo", "k2", lambda: {"x": np.zeros(2)})
    assert got["x"].dtype == np.float64


def test_an_unwritable_directory_costs_only_the_rebuild(tmp_path, monkeypatch, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("FENGHUO_CACHE_DIR", str(blocker))
    dc._warned.clear()  # the warning is once per process
    with caplog.at_level(logging.WARNING, logger="fenghuo.checks.cache"):
        got = dc.load_or_build("demo", "k3", lambda: {"x": np.ones(3)})
    assert got["x"].tolist() == [1.0, 1.0, 1.0]
    assert "cannot write" in caplog.text and "unreadable" not in caplog.text


def test_only_the_newest_few_of_a_name_are_kept(cache):
    for i in range(dc.KEEP_PER_NAME + 3):
        dc.load_or_build("demo", f"k{i}", lambda: {"x": np.zeros(1)})
    assert len(list((cache / "derived").glob("demo-*.npz"))) == dc.KEEP_PER_NAME
    dc.load_or_build("other", "k", lambda: {"x": np.zeros(1)})
    assert len(list((cache / "derived").glob("*.npz"))) == dc.KEEP_PER_NAME + 1


CHILD = """
import json, sys
from fenghuo.checks.lexicon import LexiconCheck
c = LexiconCheck(words={"法轮功": ("politics",), "赌博网站": ("gambling",)})
st = c._state
print(json.dumps([st.words, [list(x) for x in st.categories], sorted((k, sorted(v)) for k, v in st.spaced.items())]))
"""


def test_a_lexicon_compiled_from_the_cache_equals_one_compiled_without(cache, monkeypatch):
    # Two processes: the first builds and stores every table, the second reads them all back.
    def run(setting):
        env = {**__import__("os").environ, "FENGHUO_CACHE_DIR": setting}
        out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr
        return out.stdout

    without = run("off")
    first, second = run(str(cache)), run(str(cache))
    assert {p.name.split("-")[0] for p in (cache / "derived").glob("*.npz")} == {"normalise", "readings", "fused", "variants"}
    assert first == without and second == without
    assert "falungong" in without  # the pinyin variant is among the words
