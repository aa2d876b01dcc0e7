"""Revision 0010 (issue 18) on SQLite and PostgreSQL: a database at 0009 with a provider gains
operator_type ('other'), complaint_limit and filing_number (empty), the duty, complaint and
model-version tables; down again to 0009 and back up to head."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from fenghuo.platform.migrate import config, current_revision, head_revision

PREVIOUS = "0009_hardening"
TABLES = {"response_duties", "response_complaints", "recovery_model_versions"}


def _migrate(db, target: str, down: bool = False) -> None:
    cfg = config()
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, target)


def test_0010_up_down_up(db_factory):
    db = db_factory(upgrade=False)
    _migrate(db, PREVIOUS)
    with db.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO jurisdictions (id, name, level, path) VALUES ('cn', 'China', 'national', 'cn/')"))
        conn.execute(sa.text("INSERT INTO providers (id, name, jurisdiction_id) VALUES ('pa', 'A', 'cn')"))
    _migrate(db, "0010_compliance")
    insp = sa.inspect(db.engine)
    assert {"operator_type", "complaint_limit", "filing_number"} <= {c["name"] for c in insp.get_columns("providers")}
    assert set(insp.get_table_names()) >= TABLES
    with db.engine.connect() as conn:
        assert tuple(conn.execute(sa.text("SELECT operator_type, complaint_limit, filing_number FROM providers")).one()) == (
            "other", None, None)
    _migrate(db, PREVIOUS, down=True)
    insp = sa.inspect(db.engine)
    assert not TABLES & set(insp.get_table_names())
    assert "operator_type" not in {c["name"] for c in insp.get_columns("providers")}
    _migrate(db, "head")
    assert current_revision(db) == head_revision()
