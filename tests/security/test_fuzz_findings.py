"""What the API fuzzer (``tests/security/fuzz_api.py``, ``make fuzz``) found answering 500, one
test per finding, over real HTTP on SQLite and PostgreSQL (PostgreSQL refuses more: NUL bytes in
text, strings longer than their VARCHAR, integers past the column's range). Each answer must be
a 4xx naming the field, and nothing of the refused request may have been written."""

from __future__ import annotations

import httpx
import pytest

from fenghuo.api.server import ServerThread
from fenghuo.platform.config import Settings
from fenghuo.platform.roles import Role
from fenghuo.registry.tokens import create_token
from tests.foundation.fixtures import ADMIN, seed


@pytest.fixture
def api(db):
    seed(db)
    tokens = {
        "admin": create_token(db, ADMIN, "root", Role.admin),
        "op_a": create_token(db, ADMIN, "alice", Role.operator, provider_id="pa"),
        "reg_bj": create_token(db, ADMIN, "bj", Role.regulator, jurisdiction_id="cn-bj"),
    }
    settings = Settings(heartbeat_seconds=0.2, poll_seconds=0.05, checkpoint_seconds=0)
    with ServerThread(db, settings) as server, httpx.Client(base_url=server.url, timeout=10) as http:
        def call(method, path, who="admin", **kw):
            return http.request(method, path, headers={"Authorization": f"Bearer {tokens[who]}"}, **kw)
        call.db = db
        yield call


def refused(r, field: str, status: int = 422) -> dict:
    """``r`` is the 4xx the fuzz finding should have been, and its message names ``field``."""
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert field in err["message"], err
    return err


def test_ledger_after_past_64_bits(api):
    """GET /api/v1/ledger?after=44485539584223121244160: PostgreSQL's bigint (and SQLite's
    driver) could not bind it."""
    refused(api("GET", "/api/v1/ledger", params={"after": 2**70}), "after")
    assert api("GET", "/api/v1/ledger", params={"after": 2**63 - 1}).json() == []
