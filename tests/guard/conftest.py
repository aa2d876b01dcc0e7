"""Fixtures for the guard tests: a real control plane (ServerThread), real local upstream and
event receiver, and a started gateway."""

from __future__ import annotations

import pytest

from fenghuo.api.server import ServerThread
from fenghuo.control import services as registry
from fenghuo.platform.config import Settings
from fenghuo.platform.db import open_database
from fenghuo.platform.roles import Role, local_actor
from fenghuo.registry.spec import parse_registration
from fenghuo.registry.tokens import create_token
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


def served(app):  # a generator for fixtures
    """Serve an ASGI app on a free local port for one test; ``server.app`` is the app."""
    server = BackgroundServer(app).start()
    server.app = app
    yield server
    server.stop()


@pytest.fixture
def upstream():
    yield from served(upstream_app())


@pytest.fixture
def receiver():
    yield from served(receiver_app())


def command(server, service: str, action: str, **kw):
    import httpx

    from fenghuo.registry.tokens import create_token as ct

    tok = getattr(server, "_admin_token", None)
    if tok is None:
        tok = server._admin_token = ct(server.app.state.runtime.db, local_actor(), "test-admin", Role.admin)
    r = httpx.post(f"{server.url}/api/v1/services/{service}/commands", json={"action": action, "reason": "test", **kw},
                   headers={"Authorization": f"Bearer {tok}"}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def gateway_maker(token, receiver, **defaults):  # a generator for fixtures
    """Yield ``make(upstream_url, control_url, service, **kw) -> (gateway, server)``: a gateway
    built as ``fenghuo gateway`` builds it, served on a free port, reporting to ``receiver``,
    with the test's word check; every one made is stopped when the test ends."""
    from fenghuo.guard.cli import build_gateway
    from fenghuo.guard.telemetry import HttpSink

    started = []

    def make(upstream_url: str, control_url: str, service: str = "open-chat", checks=None, **kw):
        kw = {**defaults, **kw}
        kw.setdefault("sink", HttpSink(f"{receiver.url}/api/v1/events"))
        gw = build_gateway(service, upstream_url, control=control_url, token=token,
                           checks=WordCheck() if checks is None else checks, **kw)
        assert gw.guard.wait_connected(5)
        srv = BackgroundServer(gw).start()
        started.append((gw, srv))
        return gw, srv

    yield make
    for gw, srv in started:
        srv.stop()
        gw.guard.close(timeout=2)


@pytest.fixture
def make_gateway(control, token, upstream, receiver):
    """Start a gateway for a service in front of the recorded upstream; returns (gateway, server)."""
    for make in gateway_maker(token, receiver, ack_seconds=0.5):
        yield lambda service="open-chat", checks=None, **kw: make(upstream.url, control.url, service, checks, **kw)  # noqa: B023 - one pass


@pytest.fixture
def gateway_to(control, token, receiver):
    """Start a gateway in front of a given upstream URL; returns (gateway, server)."""
    for make in gateway_maker(token, receiver):
        yield lambda url, service="open-chat", checks=None, **kw: make(url, control.url, service, checks, **kw)  # noqa: B023 - one pass

