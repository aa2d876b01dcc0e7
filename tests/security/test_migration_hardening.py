"""Revision 0009 (issue 14) on SQLite and PostgreSQL: a database at 0008 with a token, a silence
and an incident in it gains the new columns (all empty: nothing existing expires, is scoped or
has a snapshot) and the table of registry changes awaiting approval; down again and back up."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from fenghuo.platform.migrate import config, current_revision, head_revision

PREVIOUS = "0008_alerts_iso_times"
NEW_COLUMNS = {
    "tokens": {"expires_at", "revoked_at"},
    "alert_silences": {"scope_provider", "scope_path"},
    "recovery_verifications": {"countersigned_by", "countersigned_at"},
    "response_incidents": {"service_snapshot"},
}


def _migrate(db, target: str, down: bool = False) -> None:
    cfg = config()
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, target)


def _columns(db, table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(db.engine).get_columns(table)}


def test_0009_adds_columns_and_the_change_table_and_goes_back(db_factory):
    db = db_factory(upgrade=False)
    _migrate(db, PREVIOUS)
    tokens = sa.table("tokens", *[sa.column(c) for c in ("token_hash", "name", "role", "created_at", "revoked")])
    with db.engine.begin() as conn:
        conn.execute(tokens.insert(), [dict(token_hash="a" * 64, name="ops", role="operator", created_at="2026-01-01T00:00:00.000000Z",
                                            revoked=False)])
    for table, cols in NEW_COLUMNS.items():
        assert not cols & _columns(db, table)
    _migrate(db, "0009_hardening")
    for table, cols in NEW_COLUMNS.items():
        assert cols <= _columns(db, table), table
    assert {"id", "service_id", "spec", "status", "base_digest"} <= _columns(db, "service_changes")
    with db.engine.connect() as conn:
        row = conn.execute(sa.text("SELECT name, expires_at, revoked_at FROM tokens")).one()
    assert tuple(row) == ("ops", None, None)
    _migrate(db, PREVIOUS, down=True)
    for table, cols in NEW_COLUMNS.items():
        assert not cols & _columns(db, table)
    assert "service_changes" not in sa.inspect(db.engine).get_table_names()
    _migrate(db, "head")
    assert current_revision(db) == head_revision()
