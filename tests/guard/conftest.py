"""Fixtures for the guard tests: a real control plane (ServerThread), real local upstream and
event receiver, and a started gateway."""

from __future__ import annotations

import pytest

from fenghuo.api.server import ServerThread
from fenghuo.platform.auth import Role, create_token, local_actor
from fenghuo.platform.config import Settings
from fenghuo.platform.db import open_database
from fenghuo.registry import service as registry
from fenghuo.registry.spec import parse_registration
from fenghuo.replay.server import BackgroundServer

from .helpers import REGISTRY, WordCheck, receiver_app, upstream_app

FAST = Settings(heartbeat_seconds=0.2, poll_seconds=0.05, checkpoint_seconds=0)


@pytest.fixture
def cp_db(tmp_path):
    db = open_database(str(tmp_path / "cp.db"))
    registry.register(db, local_actor(), parse_registration(REGISTRY))
    yield db
    db.dispose()


@pytest.fixture
def token(cp_db):
    return create_token(cp_db, local_actor(), "guard-test", Role.system)


@pytest.fixture
def control(cp_db):
    server = ServerThread(cp_db, FAST).__enter__()
    yield server
    server.__exit__(None, None, None)


@pytest.fixture
def upstream():
    app = upstream_app()
    server = BackgroundServer(app).start()
    server.app = app
    yield server
    server.stop()


@pytest.fixture
def receiver():
    app = receiver_app()
    server = BackgroundServer(app).start()
    server.app = app
    yield server
    server.stop()


def command(server, service: str, action: str, **kw):
    import httpx

    from fenghuo.platform.auth import create_token as ct

    tok = getattr(server, "_admin_token", None)
    if tok is None:
        tok = server._admin_token = ct(server.app.state.db, local_actor(), "test-admin", Role.admin)
    r = httpx.post(f"{server.url}/api/v1/services/{service}/commands", json={"action": action, "reason": "test", **kw},
                   headers={"Authorization": f"Bearer {tok}"}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture
def make_gateway(control, token, upstream, receiver, tmp_path):
    """Start a gateway for a service; returns (gateway, server)."""
    from fenghuo.guard.cli import build_gateway
    from fenghuo.guard.telemetry import HttpSink

    started = []

    def make(service="open-chat", checks=None, **kw):
        kw.setdefault("sink", HttpSink(f"{receiver.url}/api/v1/events"))
        gw = build_gateway(service, upstream.url, control=control.url, token=token,
                           checks=WordCheck() if checks is None else checks, ack_seconds=0.5, **kw)
        assert gw.guard.wait_connected(5)
        srv = BackgroundServer(gw).start()
        started.append((gw, srv))
        return gw, srv

    yield make
    for gw, srv in started:
        srv.stop()
        gw.guard.close(timeout=2)
