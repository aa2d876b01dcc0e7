"""Fixtures: a seeded SQLite database and a real control plane (ServerThread) with tokens."""

from __future__ import annotations

import httpx
import pytest

from fenghuo.api.server import ServerThread
from fenghuo.platform.config import Settings
from fenghuo.platform.db import Database
from fenghuo.platform.roles import Role
from fenghuo.registry.tokens import create_token
from tests.monitor.helpers import ADMIN, seed


@pytest.fixture
def db(tmp_path):
    d = Database(str(tmp_path / "fenghuo.db"))
    d.upgrade()
    seed(d)
    yield d
    d.dispose()


@pytest.fixture
def api(db):
    tokens = {
        "admin": create_token(db, ADMIN, "root", Role.admin),
        "op_a": create_token(db, ADMIN, "alice", Role.operator, provider_id="pa"),
        "reg_bj": create_token(db, ADMIN, "bj", Role.regulator, jurisdiction_id="cn-bj"),
        "reg_cn": create_token(db, ADMIN, "cn", Role.regulator, jurisdiction_id="cn"),
    }
    with ServerThread(db, Settings(checkpoint_seconds=0)) as server, httpx.Client(base_url=server.url, timeout=10) as http:
        def request(method, path, who="admin", **kw):
            headers = {"Authorization": f"Bearer {tokens[who]}"} if who else {}
            headers.update(kw.pop("headers", {}))
            return http.request(method, path, headers=headers, **kw)
        request.server = server
        request.db = db
        request.tokens = tokens
        yield request
