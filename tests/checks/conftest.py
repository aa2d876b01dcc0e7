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


def packaged_rules_check(files: list[str], engine: str, tmp_path_factory):
    """A rules check over the named packaged rule files on ``engine``; skips where that engine is
    not installed (hyperscan)."""
    from fenghuo.checks.rules import RulesCheck, packaged_rules_dir

    try:
        return RulesCheck(paths=[packaged_rules_dir() / f for f in files], engine=engine,
                          cache_dir=tmp_path_factory.mktemp("rules-cache"))
    except ValueError as exc:  # hyperscan not installed
        pytest.skip(str(exc))


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
