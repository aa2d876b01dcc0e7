"""``fenghuo instances SERVICE``: the enforcement answer on the command line, against a server
and on the local database."""

from __future__ import annotations

import json

from click.testing import CliRunner

from fenghuo.cli import root
from fenghuo.guard.core import Guard
from fenghuo.platform.roles import Role, local_actor
from fenghuo.registry.tokens import create_token

from .conftest import command
from .helpers import wait_for


def test_instances_lists_who_enforces_and_who_does_not(control, token, cp_db, tmp_path):
    admin = create_token(cp_db, local_actor(), "cli", Role.admin)
    runner = CliRunner()

    def remote(*args):
        return runner.invoke(root, ["--server", control.url, "--token", admin, "instances", "open-chat", *args], catch_exceptions=False)

    def local(*args):
        return runner.invoke(root, ["--db", str(tmp_path / "cp.db"), "instances", "open-chat", *args], catch_exceptions=False)

    def text(r) -> str:
        return " ".join(r.output.split())  # the table may wrap

    guards = [Guard("open-chat", control.url, token, checks=None, instance=f"cli-g{i}", ack_seconds=0.2, spool_dir=False)
              for i in range(2)]
    try:
        assert all(g.wait_connected(5) for g in guards)
        v = command(control, "open-chat", "pause")["version"]
        assert wait_for(lambda: json.loads(remote("--json").output)["all_enforce"], timeout=5)
        r = remote()
        assert r.exit_code == 0 and f"all 2 instances of open-chat enforce version {v} (paused) since" in r.output
        assert "全部 2 个实例" in r.output
        guards[0].follower.stop()  # this one no longer hears the control plane
        v2 = command(control, "open-chat", "stop")["version"]
        assert wait_for(lambda: json.loads(remote("--json").output)["enforcing"] == 1, timeout=5)
        for r in (remote(), local()):
            assert r.exit_code == 0, r.output
            assert f"1 of 2 instances of open-chat do not yet enforce version {v2} (stopped)" in text(r)
            assert "cli-g0" in text(r) and "lagging" in text(r) and "cli-g1" not in text(r)
        r = remote("--stale-seconds", "0.001")
        assert "no live guard instance of open-chat" in text(r) and "silent" in text(r)
        r = runner.invoke(root, ["--server", control.url, "--token", admin, "instances", "no-such"], catch_exceptions=False)
        assert r.exit_code == 1 and "unknown service" in r.output
    finally:
        for g in guards:
            g.close(timeout=1)
