"""`fenghuo rules check` names file, line and field of every mistake; shipped packs are valid."""

from __future__ import annotations

import subprocess
import sys

from fenghuo.alerts.packs import HERE, available
from fenghuo.alerts.rules import check_file

BAD = """rules:
  - name: Bad Name
    indicator: vibes
    window: 2m
    threshold: {op: ">", value: high}
    level: purple
  - name: ok
    indicator: error_rate
    window: 1m
    change: {zscore: 3}
    for: 5m
    min_samples: 0
    level: yellow
    description: x
  - name: two-conditions
    indicator: calls
    window: 1m
    threshold: {op: ">", value: 5}
    change: {zscore: 3}
    for: 0
    level: red
    description: x
  - name: rate-over-one
    indicator: refusal_rate
    window: 1m
    threshold: {op: ">", value: 30}
    for: "principle"
    min_samples: 5
    level: red
    description: x
"""


def run(*args):
    return subprocess.run([sys.executable, "-m", "fenghuo.cli", *args], capture_output=True, text=True, timeout=60)


def test_every_mistake_is_named_with_line_and_field(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text(BAD, encoding="utf-8")
    rules, problems = check_file(f)
    assert rules == []
    found = {(p["line"], p["field"]) for p in problems}
    assert (2, "rules.0.name") in found
    assert (3, "rules.0.indicator") in found  # unmeasurable: not an indicator
    assert (4, "rules.0.window") in found
    assert (5, "rules.0.threshold.value") in found  # "high" is not a number
    assert (6, "rules.0.level") in found
    assert (2, "rules.0.for") in found and (2, "rules.0.description") in found
    assert (12, "rules.1.min_samples") in found  # a rate needs a sample size
    assert (15, "rules.2") in found  # threshold and change both
    assert (26, "rules.3.threshold.value") in found  # a rate threshold above 1
    assert (27, "rules.3.for") in found
    r = run("rules", "check", str(f))
    assert r.returncode == 1
    assert f"{f}:3" in r.stderr and "rules.0.indicator" in r.stderr and "cannot be measured" in r.stderr


def test_yaml_syntax_error_names_the_line(tmp_path):
    f = tmp_path / "broken.yaml"
    f.write_text("rules:\n  - name: x\n    level: [red\n", encoding="utf-8")
    _, problems = check_file(f)
    assert problems and problems[0]["line"] in (3, 4)


def test_shipped_packs_are_valid_and_cover_grades_and_sectors():
    names = available()
    for want in ("grade-L1", "grade-L2", "grade-L3", "grade-L4", "sector-medical", "sector-finance",
                 "sector-education", "sector-justice"):
        assert want in names
    for n in names:
        rules, problems = check_file(HERE / f"{n}.yaml")
        assert problems == [] and rules, n
    r = run("rules", "check", *[str(HERE / f"{n}.yaml") for n in names])
    assert r.returncode == 0, r.stderr
