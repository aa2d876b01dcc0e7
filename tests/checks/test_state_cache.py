"""The store of compiled states (``state_cache.py``) on its own: what it reads back, what it
refuses, an unwritable directory and the clean-up. The rules' and the lexicon's use of it are
tested in test_rules_cache.py and test_lexicon_state_cache.py."""

from __future__ import annotations

import logging
import os
import time

from fenghuo.checks import derived_cache as dc
from fenghuo.checks import state_cache as sc
from fenghuo.checks.base import Action

ALLOWED = frozenset({("fenghuo.checks.base", "Action")})
FIELDS = ("a", "b")


def test_a_state_reads_back_equal_and_shares_objects(tmp_path):
    shared = (1, "x")
    sc.store(tmp_path, "demo", "k1", {"a": [shared, shared], "b": {frozenset({2, 3}): Action.BLOCK}})
    got = sc.load(tmp_path, "demo", "k1", ALLOWED, FIELDS)
    assert got == {"a": [(1, "x"), (1, "x")], "b": {frozenset({2, 3}): Action.BLOCK}}
    assert got["a"][0] is got["a"][1]
    assert sc.load(tmp_path, "demo", "k2", ALLOWED, FIELDS) is None  # another key: nothing, no warning


def test_a_class_not_listed_is_refused(tmp_path, caplog):
    sc.store(tmp_path, "demo", "k1", {"a": os.getcwd, "b": 1})  # a function: pickled by reference
    with caplog.at_level(logging.WARNING, logger="fenghuo.checks.cache"):
        assert sc.load(tmp_path, "demo", "k1", ALLOWED, FIELDS) is None
    assert "not allowed" in caplog.text
    sc.store(tmp_path, "demo", "k3", {"a": 1})  # fields other than the caller's
    assert sc.load(tmp_path, "demo", "k3", ALLOWED, FIELDS) is None


def test_an_unwritable_directory_costs_only_a_warning(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    sc._warned.clear()  # the warning is once per process
    with caplog.at_level(logging.WARNING, logger="fenghuo.checks.cache"):
        sc.store(blocker, "demo", "k1", {"a": 1, "b": 2})
        assert sc.load(blocker, "demo", "k1", ALLOWED, FIELDS) is None
    assert "cannot write" in caplog.text and "unusable" not in caplog.text


def test_only_the_newest_few_of_a_name_are_kept(tmp_path):
    for i in range(dc.KEEP_PER_NAME + 2):
        sc.store(tmp_path, "demo", f"k{i}", {"a": i, "b": i})
        time.sleep(0.01)  # distinct modification times
    sc.store(tmp_path, "other", "k", {"a": 0, "b": 0})
    names = sorted(p.name for p in (tmp_path / "derived").iterdir())
    assert names == sorted([f"demo-k{i}.pickle" for i in range(2, dc.KEEP_PER_NAME + 2)] + ["other-k.pickle"])
