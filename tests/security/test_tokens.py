"""Issue 14, item 7: tokens could not be listed, revoked or expire; 500 bad tokens in 1.2 s all
got 401 and none 429; the SQLite database was created world-readable; an auditor could write a
ledger checkpoint. Over real HTTP (SQLite and PostgreSQL) and through the CLI."""

from __future__ import annotations

import json
import os
import stat

import httpx
import pytest
from click.testing import CliRunner

from fenghuo.api.server import ServerThread
from fenghuo.cli import root
from fenghuo.ledger import store
from fenghuo.platform.auth import authenticate
from fenghuo.platform.auth_failures import AuthFailures, TooManyFailures
from fenghuo.platform.config import Settings
from fenghuo.platform.db import Database
from fenghuo.platform.errors import Unauthorized
from fenghuo.platform.roles import Role
from fenghuo.registry import tokens
from fenghuo.registry.tokens import create_token
from tests.foundation.fixtures import ADMIN, seed


@pytest.fixture
def db(tmp_path, clock):
    """SQLite only: these go through HTTP and the CLI; the schema runs on PostgreSQL in
    test_migration_hardening and the logic in the other security tests."""
    from fenghuo.platform.db import Database as _Database

    d = _Database(str(tmp_path / "fenghuo.db"), clock=clock)
    d.upgrade()
    yield d
    d.dispose()


@pytest.fixture
def api(db):
    seed(db)
    made = {
        "op_a": create_token(db, ADMIN, "alice", Role.operator, provider_id="pa"),
        "auditor": create_token(db, ADMIN, "audit", Role.auditor),
        "admin": create_token(db, ADMIN, "root", Role.admin),
    }
    settings = Settings(checkpoint_seconds=0, auth_failures_per_minute=5)
    with ServerThread(db, settings) as server, httpx.Client(base_url=server.url, timeout=10) as http:
        def call(method, path, who=None, token=None, **kw):
            secret = token or (made[who] if who else None)
            headers = {"Authorization": f"Bearer {secret}"} if secret else {}
            return http.request(method, path, headers=headers, **kw)
        call.tokens, call.db = made, db
        yield call


def _id(secret: str) -> str:
    return tokens.token_id(tokens.token_hash(secret))


def test_list_revoke_rotate_over_http_and_a_revoked_token_fails_on_its_next_request(api):
    listed = api("GET", "/api/v1/tokens", "admin").json()
    assert {t["name"]: t["status"] for t in listed} == {"alice": "active", "audit": "active", "root": "active"}
    assert all("token" not in t and len(t["id"]) == 12 for t in listed)
    assert api("GET", "/api/v1/tokens", "op_a").status_code == 403
    assert api("GET", "/api/v1/services", "op_a").status_code == 200
    r = api("POST", f"/api/v1/tokens/{_id(api.tokens['op_a'])}/revoke", "admin", json={"reason": "left the team"})
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    r = api("GET", "/api/v1/services", "op_a")
    assert r.status_code == 401
    # rotation: the old secret stops, the new one works with the same role and scope
    r = api("POST", f"/api/v1/tokens/{_id(api.tokens['auditor'])}/rotate", "admin")
    assert r.status_code == 200
    new = r.json()
    assert new["replaces"] == _id(api.tokens["auditor"]) and new["role"] == "auditor"
    assert api("GET", "/api/v1/services", "auditor").status_code == 401
    assert api("GET", "/api/v1/services", token=new["token"]).status_code == 200
    assert api("POST", "/api/v1/tokens/zzzz/revoke", "admin").status_code == 422
    assert api("POST", "/api/v1/tokens/0123456789ab/revoke", "admin").status_code == 404
    with api.db.reader() as s:
        kinds = [e["kind"] for e in store.iter_entries(s) if e["kind"].startswith("token.")]
    assert kinds.count("token.revoked") == 2 and kinds.count("token.rotated") == 1


def test_an_expired_token_fails_on_its_next_request(api, clock):
    r = api("POST", "/api/v1/tokens", "admin", json={"name": "temp", "role": "auditor", "expires_in": "1h"})
    assert r.status_code == 200 and r.json()["expires_at"]
    temp = r.json()["token"]
    assert api("GET", "/api/v1/services", token=temp).status_code == 200
    clock.advance(3601)
    r = api("GET", "/api/v1/services", token=temp)
    assert r.status_code == 401 and "expired" in r.json()["error"]["message"]
    assert {t["name"]: t["status"] for t in api("GET", "/api/v1/tokens", "admin").json()}["temp"] == "expired"
    assert api("POST", "/api/v1/tokens", "admin", json={"name": "x", "role": "auditor", "expires_in": "soon"}).status_code == 422


def test_failed_authentication_is_rate_limited_per_address_with_retry_after(api):
    assert {api("GET", "/api/v1/services").status_code for _ in range(8)} == {401}  # no token: no guess, not counted
    codes = [api("GET", "/api/v1/services", token=f"fh_guess{i}").status_code for i in range(8)]
    assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}
    r = api("GET", "/api/v1/services", token="fh_guess-again")
    assert r.status_code == 429 and 1 <= int(r.headers["Retry-After"]) <= 60
    # the address is refused before its token is looked up: a right guess now gains nothing
    assert api("GET", "/api/v1/services", "admin").status_code == 429


def test_an_auditor_changes_nothing_anywhere(api):
    assert api("POST", "/api/v1/ledger/checkpoint", "auditor").status_code == 403
    assert api("POST", "/api/v1/ledger/checkpoint", "admin").status_code == 200
    r = api("POST", "/api/v1/silences", "auditor", json={"matchers": ["service=a-chat"], "reason": "x", "duration": "1h"})
    assert r.status_code == 403
    assert api("POST", "/api/v1/services/a-chat/commands", "auditor", json={"action": "pause", "reason": "x"}).status_code == 403
    assert api("GET", "/api/v1/ledger/verify", "auditor").status_code == 200


def test_limiter_window_and_bounded_memory():
    now = [0.0]
    lim = AuthFailures(limit=3, window=10.0, max_clients=2, clock=lambda: now[0])
    for _ in range(3):
        lim.check("a")
        lim.failed("a")
    with pytest.raises(TooManyFailures) as refused:
        lim.check("a")
    assert refused.value.retry_after == 10
    now[0] = 10.5
    lim.check("a")  # the window moved on
    lim.failed("b")
    lim.failed("c")
    assert len(lim._seen) == 2 and "a" not in lim._seen


def test_database_and_key_files_are_created_owner_only(tmp_path):
    old = os.umask(0o022)
    try:
        db = Database(str(tmp_path / "new" / "fenghuo.db"))
        db.upgrade()
        seed(db)
        from fenghuo.ledger import service as ledger

        ledger.checkpoint(db)
        db.dispose()
    finally:
        os.umask(old)
    for path in [tmp_path / "new" / "fenghuo.db", os.environ["FENGHUO_LEDGER_KEY"]]:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
    for extra in (tmp_path / "new").glob("fenghuo.db-*"):  # -wal / -shm follow the database's mode
        assert stat.S_IMODE(os.stat(extra).st_mode) & 0o077 == 0, extra


def test_token_commands_on_the_cli(tmp_path, clock):
    runner = CliRunner()
    dbp = str(tmp_path / "cli.db")

    def run(*args):
        return runner.invoke(root, ["--db", dbp, *args], catch_exceptions=False)

    from pathlib import Path

    assert run("service", "register", str(Path(__file__).resolve().parents[2] / "src/fenghuo/demo/registry.yaml")).exit_code == 0
    secret = run("token", "create", "--name", "ops", "--role", "operator", "--provider", "zhiyi", "--expires", "30d").output.strip()
    rows = json.loads(run("token", "list", "--json").output)
    [ops] = [t for t in rows if t["name"] == "ops"]
    assert ops["id"] == _id(secret) and ops["status"] == "active" and ops["expires_at"]
    assert ops["id"] in run("token", "list").output
    r = run("token", "rotate", ops["id"])
    assert r.exit_code == 0
    new_secret = r.stdout.strip().splitlines()[-1]
    assert new_secret.startswith("fh_") and new_secret != secret
    db = Database(dbp)
    with pytest.raises(Unauthorized):
        authenticate(db, secret)
    assert authenticate(db, new_secret).provider_id == "zhiyi"
    assert run("token", "revoke", _id(new_secret)).exit_code == 0
    with pytest.raises(Unauthorized):
        authenticate(db, new_secret)
    r = run("token", "revoke", _id(new_secret))
    assert r.exit_code == 1 and "already revoked" in r.output
    db.dispose()
