"""`fenghuo checks coverage`: derived from the configured checks and the policy, not a table."""

import json

from click.testing import CliRunner

from fenghuo.checks.coverage import coverage
from fenghuo.checks.pipeline import load_pipeline
from fenghuo.checks.risks import RISKS
from fenghuo.cli import root

from .conftest import write


def _config(tmp_path, categories: str = ""):
    write(tmp_path / "w.txt", "赌博词\tgambling\n翻墙词\tpolitics\n")
    return write(tmp_path / "c.yaml", "checks:\n  - {type: lexicon, files: [w.txt]}\n  - {type: pii, types: [mobile]}\n" + categories)


def test_coverage_follows_the_configured_checks_and_policy(tmp_path):
    cov = coverage(load_pipeline(_config(tmp_path)))
    assert cov.covered == ["A1a", "A1h", "A4f"]
    assert len(cov.covered) + len(cov.missing) == len(RISKS) == 31
    assert cov.checks["pii"] == ["pii.mobile"] and cov.checks["lexicon"] == ["gambling", "politics"]
    # Re-map a category in the config: coverage moves with it (nothing hand-written to drift).
    cov = coverage(load_pipeline(_config(tmp_path / "b" if (tmp_path / "b").mkdir() is None else tmp_path,
                                         "categories:\n  gambling: {action: block, risk: A3e}\n")))
    assert "A3e" in cov.covered and "A1h" not in cov.covered


def test_a_category_without_a_risk_code_is_reported_not_counted(tmp_path):
    write(tmp_path / "w.txt", "某词\tsensitive\n")
    cov = coverage(load_pipeline(write(tmp_path / "c.yaml", "checks:\n  - {type: lexicon, files: [w.txt]}\n")))
    assert cov.covered == [] and cov.unmapped == {"lexicon": ["sensitive"]}


def test_coverage_cli_text_and_json(tmp_path):
    cfg = _config(tmp_path)
    r = CliRunner().invoke(root, ["checks", "coverage", "--config", str(cfg), "--without-judge", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output[r.output.index("{"):])
    assert d["covered"] == 3 and d["total"] == 31
    by_code = {x["code"]: x for x in d["risks"]}
    assert by_code["A1h"]["detected"] and by_code["A1h"]["by"] == [{"check": "lexicon", "category": "gambling"}]
    assert not by_code["A5a"]["detected"]
    r = CliRunner().invoke(root, ["checks", "coverage", "--config", str(cfg), "--without-judge"])
    assert "3 of 31" in r.output and "✗ A5a" in r.output and "✓ A4f" in r.output


def test_packaged_default_covers_what_its_checks_report():
    cov = coverage(load_pipeline())
    assert "A4f" in cov.covered  # PII
    for name, cats in cov.checks.items():
        assert cats is not None, f"check {name} cannot say which categories it reports"


def test_the_answer_judge_counts_with_its_own_risk_codes(tmp_path):
    from fenghuo.checks.pairs import load_judge

    try:
        judge = load_judge()
    except ValueError as exc:
        import pytest

        pytest.skip(str(exc))
    pipe = load_pipeline(_config(tmp_path))
    without, with_judge = coverage(pipe), coverage(pipe, [judge])
    assert set(without.covered) < set(with_judge.covered)
    assert with_judge.checks[judge.name] == ["compliance"]
    assert set(with_judge.covered) - set(without.covered) <= set(judge.model.risk_codes)
