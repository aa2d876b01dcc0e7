"""Fixtures: a private FENGHUO_HOME, the shared data when present, and shared expensive objects."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from fenghuo.checks.classifier.features import NATIVE
from fenghuo.platform.paths import shared_data_dir

# The classifier's C kernel (``_clfnative``), which the classifier and the answer judge share:
# without it their kernel tests skip, unless it is required (then they fail) and not switched off.
NATIVE_REQUIRED = os.environ.get("FENGHUO_REQUIRE_NATIVE") == "1"
NATIVE_FORCED_OFF = os.environ.get("FENGHUO_NATIVE", "").strip() == "0"
needs_native = pytest.mark.skipif(NATIVE is None and (NATIVE_FORCED_OFF or not NATIVE_REQUIRED),
                                  reason="C kernel not built (make native) or FENGHUO_NATIVE=0")


_PACKAGED: dict = {}


def outside_rules_memo(build):
    """``build()`` with RulesCheck's in-process memo of compiled states set aside. The memo keeps
    the 3 states last used; a test fixture that holds its check for the whole process needs no
    entry, and taking one pushes out the shipped rules' state that the next load_pipeline()
    would otherwise reuse (a recompile of ~3-5 s of CPU)."""
    from fenghuo.checks import rules
    from fenghuo.checks.reloading import CompiledMemo

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(rules, "_MEMO", CompiledMemo())
        return build()


# The rule files of solicitations and trades (ads, fraud, drugs, porn, gambling, illicit trade) with
# the shared defines they use: what the trade and notice tests load.
TRADE_RULE_FILES = ["common.yaml", "contact.yaml", "ads.yaml", "fraud.yaml", "fraud_impersonate.yaml", "fraud_invest.yaml", "fraud_trade.yaml", "drugs.yaml",
                    "trade.yaml", "porn.yaml", "gambling.yaml", "weapons.yaml", "exam.yaml", "crime.yaml"]


@pytest.fixture(scope="module", params=["hyperscan", "re"])
def check(request, tmp_path_factory):
    """For the rule test modules (``test_rules_*.py``): a rules check over the packaged rule files
    the module names in ``FILES``, once on each engine."""
    return packaged_rules_check(request.module.FILES, request.param, tmp_path_factory)


def rules_fired(check, text: str) -> set[str]:
    """The rule names (``rules:<id>``) a rules check's findings on ``text`` carry."""
    return {f.rule for f in check.scan(text).findings}


def rule_table_tests(hits: dict, near_misses: dict):
    """The two tests each per-session rules file runs on sentences of its own: every rule fires on
    its hits and stays quiet on its near misses (``check`` is the module's rules check, built from
    its ``FILES`` on both engines). Assign the pair to module-level names so pytest collects them:
    ``test_rule_fires, test_near_miss_is_quiet = rule_table_tests(HITS, NEAR_MISSES)``."""
    import pytest

    @pytest.mark.parametrize(("rule", "text"), [(r, t) for r, ts in hits.items() for t in ts])
    def test_rule_fires(check, rule, text):
        assert f"rules:{rule}" in rules_fired(check, text), text

    @pytest.mark.parametrize(("rule", "text"), [(r, t) for r, ts in near_misses.items() for t in ts])
    def test_near_miss_is_quiet(check, rule, text):
        assert f"rules:{rule}" not in rules_fired(check, text), text

    return test_rule_fires, test_near_miss_is_quiet


def topic_finding(text: str, word: str, category: str):
    """A lexicon topic word's unsettled finding at ``word``'s first place in ``text`` (the
    corroboration tests' input)."""
    from fenghuo.checks.base import Action, Finding

    i = text.index(word)
    return Finding(category, i, i + len(word), f"lexicon:{word}", Action.CONTEXT_FLAG)


def packaged_rules_check(files: list[str], engine: str, tmp_path_factory):
    """A rules check over the named packaged rule files on ``engine``; skips where that engine is
    not installed (hyperscan). One per process for each file list and engine: a rules check only
    reads its compiled state, and compiling even a few rule files costs ~1-3 s of CPU."""
    from fenghuo.checks.rules import RulesCheck, packaged_rules_dir

    key = (tuple(files), engine)
    if key not in _PACKAGED:
        try:
            _PACKAGED[key] = outside_rules_memo(lambda: RulesCheck(
                paths=[packaged_rules_dir() / f for f in files], engine=engine,
                cache_dir=tmp_path_factory.getbasetemp() / "packaged-rules-cache"))
        except ValueError as exc:  # hyperscan not installed
            pytest.skip(str(exc))
    return _PACKAGED[key]


@pytest.fixture
def private_rules_memo(monkeypatch):
    """RulesCheck's in-process memo, a fresh one for this test (for tests that build throwaway
    rules checks: each would otherwise take one of the memo's 3 places and push out the shipped
    rules' state, which the next load_pipeline() then compiles again, ~3 s of CPU)."""
    from fenghuo.checks import rules
    from fenghuo.checks.reloading import CompiledMemo

    monkeypatch.setattr(rules, "_MEMO", CompiledMemo())


@pytest.fixture(scope="session")
def shipped_rules(derived_cache_dir):
    """The shipped rules (all packaged files) on hyperscan, compiled once per test process
    (~4-5 s of CPU each time otherwise). Its cache directory is the one the shipped pipeline's
    rules check gets under the tests (FENGHUO_CACHE_DIR, tests/conftest.py), so RulesCheck's
    in-process memo can hand a load_pipeline() this same compiled state. Read only: do not
    reload() it."""
    from fenghuo.checks.rules import RulesCheck

    return RulesCheck(engine="hyperscan", cache_dir=derived_cache_dir)


@pytest.fixture(scope="session")
def shipped_rules_re():
    """The shipped rules on engine re (every rule over the whole text, no prefilter), compiled
    once per test process (~2.5 s of CPU), outside the in-process memo (which the shipped
    pipeline's rules use). Read only."""
    from fenghuo.checks.rules import RulesCheck

    return outside_rules_memo(lambda: RulesCheck(engine="re"))


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("FENGHUO_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("FENGHUO_CHECKS_CONFIG", raising=False)


@pytest.fixture(scope="session")
def shared() -> Path:
    d = shared_data_dir()
    if d is None:
        pytest.skip("shared data not available (set FENGHUO_DATA)")
    return d


@pytest.fixture(scope="session")
def shared_lexicon(shared, tmp_path_factory):
    from fenghuo.checks.lexicon import LexiconCheck

    lx = shared / "lexicon"
    return LexiconCheck(
        files=[lx / "sensitive_word_dict.txt", lx / "sensitive_word_tags.txt"],
        allow_files=[lx / "sensitive_word_allow.txt"],
        cache_dir=tmp_path_factory.mktemp("hscache"),
    )


def write(path: Path, text: str | bytes) -> Path:
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


os.environ.setdefault("FENGHUO_TEST", "1")


def answer_pairs(shared: Path) -> list[tuple[str, str]]:
    """(prompt, answer) pairs the answer judge is checked on: JADE v3 medium (each question with
    its unsafe and its safe answer) and the XSTest completions of the three shared models."""
    out = []
    with open(shared / "traffic/jade_v3/jade_alignment_medium_zh.csv", encoding="gb18030", newline="") as fh:
        for r in csv.DictReader(fh):
            out += [(r["问题"], r["违规回答"]), (r["问题"], r["安全有用回答"])]
    for path in sorted((shared / "banks/xstest/completions").glob("*.csv")):
        out += [(r["prompt"], r["completion"]) for r in csv.DictReader(path.open(encoding="utf-8"))]
    return out


@pytest.fixture(params=[2, 1, 0], ids=["avx512", "avx2", "plain"])
def level(request):
    """Each SIMD path of the classifier's kernel the CPU has (a level it lacks runs the next lower one)."""
    assert NATIVE is not None, "the classifier's C kernel did not load"
    got = NATIVE.set_simd(request.param)
    yield got
    NATIVE.set_simd(2)
