"""Rules checks of one process built from the same files share one compiled state until a file
changes (``RulesCheck._compile``), and the word shares that choose each clause's key come back
equal from the disk cache (``rules_clauses._frequencies``)."""

from __future__ import annotations

import pytest

from fenghuo.checks import rules_clauses
from fenghuo.checks.rules import RulesCheck
from tests.checks.test_rules_file import GOOD_RULE, rules_file

# A fresh memo for each test (conftest): what is shared is decided within the test, whatever
# other tests left in the process's memo, and their throwaway checks do not push out the shipped rules.
pytestmark = pytest.mark.usefixtures("private_rules_memo")


def test_checks_of_one_process_share_the_compiled_rules_until_a_file_changes(tmp_path):
    f = rules_file(tmp_path, GOOD_RULE)
    a = RulesCheck([f], cache_dir=tmp_path / "c1")
    b = RulesCheck([f], cache_dir=tmp_path / "c1")
    assert a._compiled is b._compiled
    only = a.rules[0].id
    assert RulesCheck([f], disable=[only] if len(a) > 1 else None, engine="re")._compiled is not a._compiled  # other options
    text = f.read_text(encoding="utf-8")
    f.write_text(text.replace("version: 1\n", "version: 1\nrevision: '2'\n", 1), encoding="utf-8")
    c = RulesCheck([f], cache_dir=tmp_path / "c1")
    assert c._compiled is not a._compiled and c.files[0].revision == "2"
    a.reload()
    assert a._compiled is c._compiled


def test_a_broken_file_is_reported_every_time_not_memoised(tmp_path):
    f = rules_file(tmp_path, GOOD_RULE)
    RulesCheck([f])
    f.write_text("version: 1\nrules: [", encoding="utf-8")
    for _ in range(2):
        try:
            RulesCheck([f])
        except Exception as exc:  # noqa: BLE001 - the rules' own error type, whatever it is
            assert str(f) in str(exc) or f.name in str(exc)
        else:
            raise AssertionError("a broken rules file loaded")


def test_word_shares_from_the_disk_cache_equal_the_dictionary_folded(tmp_path, monkeypatch):
    monkeypatch.setenv("FENGHUO_CACHE_DIR", str(tmp_path / "cache"))
    rules_clauses._frequencies.cache_clear()
    rules_clauses._share.cache_clear()
    rules_clauses._cost.cache_clear()
    try:
        built = rules_clauses._frequencies()  # folds and stores
        rules_clauses._frequencies.cache_clear()
        read = rules_clauses._frequencies()  # reads
        assert list((tmp_path / "cache" / "derived").glob("wordshares-*.npz"))
        assert read == built and len(read[0]) > 300_000
        assert read[0]["垃圾"] < read[1]["你"]  # a word is rarer than a common character
    finally:
        rules_clauses._frequencies.cache_clear()
        rules_clauses._share.cache_clear()
        rules_clauses._cost.cache_clear()
