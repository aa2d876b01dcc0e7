"""A configured check that cannot load: the gateway and the SDK refuse to start unless told to
run degraded (issue 12 item 1); they never start silently without it."""

import logging

import pytest
from click.testing import CliRunner

from fenghuo.cli import root
from fenghuo.guard.checking import DegradedChecks, load_default_checks

from .conftest import write


@pytest.fixture
def degraded_config(tmp_path, monkeypatch):
    cfg = write(tmp_path / "c.yaml", "checks:\n  - {type: classifier, model: gone.npz, optional: true}\n  - {type: pii}\n")
    monkeypatch.setenv("FENGHUO_CHECKS_CONFIG", str(cfg))
    return cfg


def test_load_default_checks_refuses_a_degraded_pipeline_unless_allowed(degraded_config, caplog):
    with pytest.raises(DegradedChecks) as err:
        load_default_checks()
    msg = str(err.value)
    assert "gone.npz" in msg and "--allow-degraded-checks" in msg and "Errno" not in msg
    with caplog.at_level(logging.WARNING, logger="fenghuo.guard.checking"):
        pipe = load_default_checks(allow_degraded=True)
    assert pipe.names == ("pii",) and any("gone.npz" in r.getMessage() for r in caplog.records)


def test_sdk_guard_refuses_then_runs_degraded_when_allowed(degraded_config):
    from fenghuo.guard.core import Guard

    with pytest.raises(DegradedChecks):
        Guard("svc", sink=None, spool_dir=False, follow=False)
    g = Guard("svc", sink=None, spool_dir=False, follow=False, allow_degraded_checks=True)
    try:
        assert g.checks.names == ("pii",)
    finally:
        g.close()


def test_gateway_refuses_to_start_and_says_why(degraded_config, tmp_path):
    args = ["--db", str(tmp_path / "db.sqlite"), "gateway", "--service", "svc", "--upstream", "http://127.0.0.1:9",
            "--checks", str(degraded_config), "--port", "1"]
    r = CliRunner().invoke(root, args)
    assert r.exit_code == 1 and "refusing to start" in r.output and "gone.npz" in r.output
    assert "Traceback" not in r.output


def test_a_pipeline_that_loads_fully_starts_without_the_flag(tmp_path):
    cfg = write(tmp_path / "ok.yaml", "checks:\n  - {type: pii}\n")
    assert load_default_checks(str(cfg)).names == ("pii",)
