"""Issue 18, item 11: the corpus audit's numbers written out here from regulations.md (CN-TC-01/02:
above 5 % harmful → do not use; CN-TC-26: manual sample ≥ 4,000 with ≥ 96 % passing; CN-TC-27:
technical sample ≥ 10 % of the corpus with ≥ 98 % passing)."""

from __future__ import annotations

from fenghuo.corpus import figures as f


def test_harmful_above_5_percent_is_do_not_use():
    assert f.source_figures("s", 100, 5)["verdict"] == "use"
    assert f.source_figures("s", 100, 6)["verdict"] == "do-not-use"
    assert f.source_figures("s", 10_000, 501)["verdict"] == "do-not-use"


def test_manual_sample_4000_and_96_percent():
    assert (f.MANUAL_MIN_N, f.MANUAL_PASS_MIN) == (4000, 0.96)
    assert f.pass_rate(3840, 4000, f.MANUAL_PASS_MIN, f.MANUAL_MIN_N)["status"] == "pass"  # 96.0 %
    assert f.pass_rate(3839, 4000, f.MANUAL_PASS_MIN, f.MANUAL_MIN_N)["status"] == "fail"
    assert f.pass_rate(3999, 3999, f.MANUAL_PASS_MIN, f.MANUAL_MIN_N)["status"] == "insufficient"


def test_technical_sample_10_percent_and_98_percent():
    assert (f.TECHNICAL_MIN_FRACTION, f.TECHNICAL_PASS_MIN) == (0.10, 0.98)
    assert f.pass_rate(980, 1000, f.TECHNICAL_PASS_MIN, 0)["status"] == "pass"
    assert f.pass_rate(979, 1000, f.TECHNICAL_PASS_MIN, 0)["status"] == "fail"
