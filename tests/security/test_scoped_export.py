"""Issue 14, item 9: a regulator's or auditor's ledger export held the whole chain, every
jurisdiction's entries included. Now a scoped export shows the entries in scope whole and the
others as hashes only, and still verifies against the full chain's signed checkpoint."""

from __future__ import annotations

import json

import httpx
import pytest
from click.testing import CliRunner

from fenghuo.api.server import ServerThread
from fenghuo.cli import root
from fenghuo.control import switch
from fenghuo.ledger import service as ledger
from fenghuo.ledger.chain import GENESIS, entry_hash, entry_hash_v1, redact, verify_chain
from fenghuo.ledger.checkpoint import Checkpoint, verify_against
from fenghuo.platform.config import Settings
from fenghuo.platform.roles import Role
from fenghuo.registry.tokens import create_token
from tests.foundation.fixtures import ADMIN, OP_A, OP_B, seed


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
    switch.execute(db, OP_A, "a-chat", "throttle", "Beijing secret reason", rate=5)
    switch.execute(db, OP_B, "b-chat", "pause", "Shanghai complaint")
    made = {
        "reg_sh": create_token(db, ADMIN, "sh", Role.regulator, jurisdiction_id="cn-sh"),
        "aud_pa": create_token(db, ADMIN, "audit-pa", Role.auditor, provider_id="pa"),
        "auditor": create_token(db, ADMIN, "audit", Role.auditor),
        "admin": create_token(db, ADMIN, "root", Role.admin),
    }
    with ServerThread(db, Settings(checkpoint_seconds=0)) as server, httpx.Client(base_url=server.url, timeout=10) as http:
        def call(method, path, who, **kw):
            return http.request(method, path, headers={"Authorization": f"Bearer {made[who]}"}, **kw)
        call.db = db
        yield call


def export(api, who) -> list[dict]:
    r = api("GET", "/api/v1/ledger/export", who)
    assert r.status_code == 200
    return [json.loads(line) for line in r.text.splitlines()]


def test_a_regulators_export_shows_its_scope_and_hashes_for_the_rest(api, tmp_path):
    cp = Checkpoint(**api("POST", "/api/v1/ledger/checkpoint", "admin").json())
    entries = export(api, "reg_sh")
    text = json.dumps(entries, ensure_ascii=False)
    assert "Beijing secret reason" not in text and "a-chat" not in text and "Provider A" not in text
    assert "Shanghai complaint" in text
    whole = [e for e in entries if not e.get("redacted")]
    assert {e["subject"] for e in whole} <= {"b-chat", "provider:pb", "jurisdiction:cn-sh"}
    hidden = [e for e in entries if e.get("redacted")]
    assert hidden and all(set(e) == {"seq", "prev_hash", "body_hash", "hash", "redacted"} for e in hidden)
    # it verifies on its own and against the full chain's signed checkpoint
    status = verify_chain(entries)
    assert status.ok and status.redacted == len(hidden) and status.unproven == 0
    assert verify_against(entries, cp).ok
    path = tmp_path / "sh.jsonl"
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries))
    cp_file = tmp_path / "cp.json"
    cp_file.write_text(cp.to_json())
    r = CliRunner().invoke(root, ["ledger", "verify", "--file", str(path), "--against", str(cp_file)])
    assert r.exit_code == 0, r.output
    # a provider-scoped auditor sees provider A's side; a deployment-wide auditor everything
    aud = export(api, "aud_pa")
    assert "Beijing secret reason" in json.dumps(aud, ensure_ascii=False) and "Shanghai complaint" not in json.dumps(aud, ensure_ascii=False)
    assert not any(e.get("redacted") for e in export(api, "auditor"))
    # reads are scoped the same way
    assert api("GET", "/api/v1/ledger", "reg_sh", params={"subject": "a-chat"}).status_code == 403
    assert {e["subject"] for e in api("GET", "/api/v1/ledger", "reg_sh").json()} <= {"b-chat", "provider:pb", "jurisdiction:cn-sh"}


def test_a_forged_entry_in_a_scoped_export_is_caught(api):
    cp = Checkpoint(**api("POST", "/api/v1/ledger/checkpoint", "admin").json())
    entries = export(api, "reg_sh")
    i = next(i for i, e in enumerate(entries) if not e.get("redacted") and "Shanghai complaint" in e["payload"]
             and i + 1 < len(entries) and entries[i + 1].get("redacted"))
    forged = dict(entries[i], payload=entries[i]["payload"].replace("Shanghai complaint", "nothing happened"))
    forged["hash"] = entry_hash(forged)  # re-hashed: the redacted entry after it still names the true hash
    entries[i] = forged
    st = verify_chain(entries)
    assert not st.ok and st.problem.seq == entries[i + 1]["seq"]
    assert not verify_against(entries, cp).ok
    # nor can a redacted entry's hash be swapped for another
    entries = export(api, "reg_sh")
    j = next(j for j, e in enumerate(entries) if e.get("redacted"))
    entries[j] = dict(entries[j], body_hash="0" * 64)
    assert not verify_chain(entries).ok


def test_the_local_export_is_whole_and_older_entries_still_verify(db):
    seed(db)
    lines = list(ledger.export_lines(db))
    assert not any('"redacted"' in line for line in lines)
    assert ledger.verify(db).ok
    # a chain written before format 2 (issue 14) still verifies; redacted, its entries keep only
    # their links and are counted as unproven
    old, prev = [], GENESIS
    for e in (json.loads(line) for line in lines):
        e["prev_hash"] = prev
        e["hash"] = prev = entry_hash_v1(e)
        old.append(e)
    assert verify_chain(old).ok
    mixed = [redact(e) if i % 2 else e for i, e in enumerate(old)]
    st = verify_chain(mixed)
    assert st.ok and st.redacted == st.unproven == len(old) // 2
