"""``fenghuo scale status`` / ``fenghuo scale reconcile`` against real PostgreSQL and NATS."""

from __future__ import annotations

from click.testing import CliRunner

from fenghuo.cli import root
from tests.scale.conftest import SHARED_NATS
from tests.scale.helpers import seed


def test_status_and_reconcile(pg, shared_link, prefix, monkeypatch):
    monkeypatch.setenv("FENGHUO_NATS_PREFIX", prefix)
    db = pg.make()
    db.upgrade()
    seed(db)
    runner = CliRunner()
    args = ["--db", pg.url, "scale"]
    out = runner.invoke(root, [*args, "status", "--bus", SHARED_NATS])
    assert out.exit_code == 0, out.output
    assert "leader / 主副本: none" in out.output and "3 difference(s)" in out.output
    out = runner.invoke(root, [*args, "reconcile", "--bus", SHARED_NATS])
    assert out.exit_code == 0 and "repaired 3" in out.output, out.output
    out = runner.invoke(root, [*args, "status", "--bus", SHARED_NATS])
    assert "agrees with the database" in out.output, out.output
