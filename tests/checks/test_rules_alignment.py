"""The rules prefilter on the normalised side scans a three-bytes-per-character form, where a
literal's bytes can occur straddling two characters ("䂜中" holds 丁's three bytes from its second
byte on). Such a match is not there; it must not hide the real occurrence after it (it did while
the prefilter reported one match per literal). The hyperscan engine must find what ``re`` finds."""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fenghuo.checks.matcher import pack3
from fenghuo.checks.normalize import default_normaliser
from fenghuo.checks.rules import RulesCheck
from tests.checks.conftest import outside_rules_memo

RULES = """
  - id: t.ding
    category: ads
    risk: A3e
    action: flag
    description: {zh: 测试, en: test}
    any: ['丁']
    examples: {hit: ['丁'], near_miss: ['中']}
  - id: t.offer
    category: ads
    risk: A3e
    action: flag
    description: {zh: 测试, en: test}
    all: ['兼职', '日结']
    within: 10
    examples: {hit: ['兼职日结'], near_miss: ['兼职']}
"""


@pytest.fixture(scope="module")
def checks(tmp_path_factory):
    d = tmp_path_factory.mktemp("rules")
    (d / "t.yaml").write_text("version: 1\nrules:\n" + textwrap.dedent(RULES), encoding="utf-8")
    return outside_rules_memo(lambda: (RulesCheck([d / "t.yaml"], cache_dir=d / "c"), RulesCheck([d / "t.yaml"], engine="re")))


def _found(check, text):
    return [(f.rule, f.start, f.end) for f in check.scan(text).findings]


def test_the_straddling_bytes_are_really_there():
    """The premise, so the test below tests something: 丁's bytes occur inside 䂜中's."""
    packed = lambda t: pack3(default_normaliser().normalise(t).codes).tobytes()  # noqa: E731
    assert packed("丁") in packed("䂜中")


def test_a_straddling_match_does_not_hide_the_real_one(checks):
    fast, ref = checks
    for text in ("䂜中丁", "䂜中丁丁", "䂜中兼职日结丁", "䂜中"):
        assert _found(fast, text) == _found(ref, text), text
    assert _found(fast, "䂜中丁") == [("rules:t.ding", 2, 3)]
    assert _found(fast, "䂜中") == []


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=list("䂜中丁兼职日结a 。"), max_size=30))
def test_hyperscan_finds_what_re_finds(checks, text):
    fast, ref = checks
    assert _found(fast, text) == _found(ref, text)
