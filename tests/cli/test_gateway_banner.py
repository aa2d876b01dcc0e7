"""The gateway's start line names the state and version the guard enforces once it has heard
from the switch (it showed `paused v0` for a service running at v6, issue 15), and says so
plainly when no contact came."""

from __future__ import annotations

from fenghuo.api.server import ServerThread
from fenghuo.control import switch
from fenghuo.guard.cli import banner, build_gateway
from fenghuo.platform.config import Settings
from fenghuo.platform.roles import Role
from fenghuo.registry.tokens import create_token
from tests.foundation.fixtures import ADMIN, seed


def test_banner_shows_the_enforced_state_and_version(tmp_path):
    from fenghuo.platform.db import open_database

    db = open_database(str(tmp_path / "cp.db"))
    seed(db)
    for _ in range(2):
        switch.execute(db, ADMIN, "a-chat", "throttle", "load", rate=7)
    v = switch.execute(db, ADMIN, "a-chat", "throttle", "load", rate=5)["version"]
    token = create_token(db, ADMIN, "guard", Role.system)
    with ServerThread(db, Settings(checkpoint_seconds=0, heartbeat_seconds=0.2)) as server:
        gw = build_gateway("a-chat", "http://127.0.0.1:9/v1", control=server.url, token=token, checks=None,
                           spool_dir=False)
        try:
            line = banner(gw, "a-chat", "http://127.0.0.1:8800/v1", wait=20)
        finally:
            gw.guard.close()
    assert f"service a-chat throttled v{v} (rate 5/s)" in line, line
    assert "v0" not in line


def test_banner_says_when_the_switch_was_not_heard(tmp_path):
    from fenghuo.platform.db import open_database

    db = open_database(str(tmp_path / "cp.db"))
    seed(db)
    gw = build_gateway("a-chat", "http://127.0.0.1:9/v1", db_url=str(tmp_path / "cp.db"), checks=None, follow=False,
                       spool_dir=False)
    try:
        line = banner(gw, "a-chat", "http://127.0.0.1:8800/v1", wait=0.1)
    finally:
        gw.guard.close()
    assert "no switch contact" in line and "enforcing the fail-" in line, line
