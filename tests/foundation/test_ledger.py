"""The ledger: every kind of tampering is found and named, in the database and in an export;
truncation and re-hashing are found against a signed checkpoint."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from fenghuo.cli import root
from fenghuo.control import switch
from fenghuo.ledger import service as ledger
from fenghuo.ledger.chain import GENESIS, entry_hash
from fenghuo.ledger.checkpoint import Checkpoint, sign, verify_against
from fenghuo.platform.files import write_atomic
from tests.foundation.fixtures import OP_A, seed


def busy(db) -> None:
    seed(db)
    for i in range(5):
        switch.execute(db, OP_A, "a-chat", "throttle", f"step {i}", rate=i + 1)
    switch.execute(db, OP_A, "a-chat", "pause", "done")


def sql(db, statement: str, **params) -> None:
    with db.engine.begin() as conn:
        conn.execute(text(statement), params)


def test_untouched_ledger_verifies(db):
    busy(db)
    st = ledger.verify(db)
    assert st.ok and st.count == st.head_seq > 10


def test_changed_row_is_named(db):
    busy(db)
    sql(db, "UPDATE ledger_entries SET payload = :p WHERE seq = 7", p='{"forged":true}')
    st = ledger.verify(db)
    assert not st.ok and (st.problem.seq, st.problem.kind) == (7, "altered")


def test_changed_actor_is_named(db):
    busy(db)
    sql(db, "UPDATE ledger_entries SET actor = 'someone-else' WHERE seq = 9")
    st = ledger.verify(db)
    assert (st.problem.seq, st.problem.kind) == (9, "altered")


def test_deleted_row_is_named(db):
    busy(db)
    sql(db, "DELETE FROM ledger_entries WHERE seq = 5")
    st = ledger.verify(db)
    assert (st.problem.seq, st.problem.kind) == (5, "removed")


def test_swapped_rows_are_named(db):
    busy(db)
    with db.engine.begin() as conn:
        a = conn.execute(text("SELECT kind, subject, actor, payload FROM ledger_entries WHERE seq = 4")).one()
        b = conn.execute(text("SELECT kind, subject, actor, payload FROM ledger_entries WHERE seq = 8")).one()
        for seq, row in ((4, b), (8, a)):
            conn.execute(text("UPDATE ledger_entries SET kind=:k, subject=:s, actor=:a, payload=:p WHERE seq=:q"),
                         dict(k=row[0], s=row[1], a=row[2], p=row[3], q=seq))
    st = ledger.verify(db)
    assert (st.problem.seq, st.problem.kind) == (4, "altered")


def test_deleting_the_newest_row_is_caught_by_the_head(db):
    busy(db)
    st = ledger.verify(db)
    sql(db, "DELETE FROM ledger_entries WHERE seq = :s", s=st.head_seq)
    bad = ledger.verify(db)
    assert not bad.ok and bad.problem.kind == "removed" and bad.problem.seq == st.head_seq


def _truncate_consistently(db, keep: int) -> None:
    """What a careful attacker does: delete the newest rows and fix up the head row too."""
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM ledger_entries WHERE seq > :k"), {"k": keep})
        h = conn.execute(text("SELECT hash FROM ledger_entries WHERE seq = :k"), {"k": keep}).scalar_one()
        conn.execute(text("UPDATE ledger_head SET seq = :k, hash = :h"), {"k": keep, "h": h})


def _rehash_everything(db, forged_seq: int) -> None:
    """Rewrite one entry and recompute every hash after it, and the head: a plain chain can't tell."""
    with db.engine.begin() as conn:
        rows = conn.execute(text("SELECT seq, ts, kind, subject, actor, payload, prev_hash, hash FROM ledger_entries ORDER BY seq")).mappings().all()
        prev = GENESIS
        for r in rows:
            e = dict(r)
            if e["seq"] == forged_seq:
                e["payload"] = '{"reason":"nothing happened"}'
            e["prev_hash"] = prev
            e["hash"] = entry_hash(e)
            conn.execute(text("UPDATE ledger_entries SET payload=:payload, prev_hash=:prev_hash, hash=:hash WHERE seq=:seq"), e)
            prev = e["hash"]
        conn.execute(text("UPDATE ledger_head SET hash = :h"), {"h": prev})


def test_truncation_is_caught_against_a_checkpoint(db):
    busy(db)
    cp = ledger.checkpoint(db)
    _truncate_consistently(db, cp.seq - 3)
    assert ledger.verify(db).ok  # the plain chain cannot see it
    result = ledger.verify_db_against(db, cp)
    assert not result.ok and result.problem == "truncated"


def test_rehashing_is_caught_against_a_checkpoint(db):
    busy(db)
    cp = ledger.checkpoint(db)
    _rehash_everything(db, forged_seq=6)
    assert ledger.verify(db).ok
    result = ledger.verify_db_against(db, cp)
    assert not result.ok and result.problem == "rewritten"


def test_a_ledger_that_grew_after_the_checkpoint_still_extends_it(db):
    busy(db)
    cp = ledger.checkpoint(db)
    switch.execute(db, OP_A, "a-med", "pause", "later")
    assert ledger.verify_db_against(db, cp).ok


def test_a_forged_checkpoint_signature_is_refused(db):
    busy(db)
    cp = ledger.checkpoint(db)
    forged = Checkpoint(cp.seq, "f" * 64, cp.ts, cp.public_key, cp.key_id, cp.signature)
    assert verify_against([], forged).problem == "bad_signature"
    other = sign(cp.seq, cp.head, cp.ts)  # signed, but an auditor pins the deployment's key
    import base64

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    stranger = Ed25519PrivateKey.generate().public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert verify_against([], other, trusted_public_key=stranger).problem == "untrusted_key"
    assert base64.b64decode(other.public_key) != stranger


# --- exported files -------------------------------------------------------------------------

@pytest.fixture
def exported(db, tmp_path):
    busy(db)
    path = tmp_path / "ledger.jsonl"
    write_atomic(path, ledger.export_lines(db))
    return path


def lines_of(path):
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def test_export_verifies_alone(exported):
    st = ledger.verify_file(exported)
    assert st.ok and st.count == len(lines_of(exported))


def test_export_changed_line(exported):
    lines = lines_of(exported)
    e = json.loads(lines[5])
    e["actor"] = "forger"
    lines[5] = json.dumps(e) + "\n"
    exported.write_text("".join(lines))
    st = ledger.verify_file(exported)
    assert (st.problem.seq, st.problem.kind) == (6, "altered")


def test_export_deleted_line(exported):
    lines = lines_of(exported)
    del lines[3]
    exported.write_text("".join(lines))
    st = ledger.verify_file(exported)
    assert (st.problem.seq, st.problem.kind) == (4, "removed")


def test_export_swapped_lines(exported):
    lines = lines_of(exported)
    lines[2], lines[3] = lines[3], lines[2]
    exported.write_text("".join(lines))
    st = ledger.verify_file(exported)
    assert st.problem.kind in ("removed", "reordered") and st.problem.seq in (3, 4)


def test_export_truncated_against_checkpoint_via_cli(db, exported, tmp_path):
    cp = ledger.checkpoint(db)
    cp_file = tmp_path / "cp.json"
    cp_file.write_text(cp.to_json())
    runner = CliRunner()
    ok = runner.invoke(root, ["ledger", "verify", "--file", str(exported), "--against", str(cp_file)])
    assert ok.exit_code == 0, ok.output
    exported.write_text("".join(lines_of(exported)[:-2]))
    bad = runner.invoke(root, ["ledger", "verify", "--file", str(exported), "--against", str(cp_file)])
    assert bad.exit_code == 1 and "truncated" in bad.output


def test_a_line_that_is_not_an_entry_is_named(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text('{"seq": 1}\n')
    runner = CliRunner()
    r = runner.invoke(root, ["ledger", "verify", "--file", str(p)])
    assert r.exit_code == 1 and f"{p}:1" in r.output
