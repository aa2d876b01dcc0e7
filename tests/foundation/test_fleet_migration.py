"""Migration 0011_fleet on a database that already holds services: services.sector is filled
from the attribute (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

from alembic import command
from sqlalchemy import text

from fenghuo.platform.migrate import config


def _to(db, revision: str) -> None:
    cfg = config()
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def test_sector_backfilled(db_factory):
    db = db_factory(upgrade=False)
    _to(db, "0010_compliance")
    with db.engine.begin() as c:
        c.execute(text("INSERT INTO jurisdictions (id, name, level, parent_id, path) VALUES ('cn', 'CN', 'national', NULL, 'cn/')"))
        c.execute(text("INSERT INTO providers (id, name, jurisdiction_id) VALUES ('p', 'P', 'cn')"))
        for sid, attrs in (("a", {"sector": "finance", "labels": {}}), ("b", {"labels": {}})):
            c.execute(text("INSERT INTO services (id, name, provider_id, jurisdiction_id, jurisdiction_path, attributes, grading_table, "
                           "grading_version, grade, grade_reasons, grade_defaults, created_at, updated_at) VALUES "
                           "(:id, :id, 'p', 'cn', 'cn/', :a, 't', '1', 'L1', '[]', '{}', 'x', 'x')"),
                      {"id": sid, "a": json.dumps(attrs)})
    db.upgrade()
    with db.engine.connect() as c:
        assert dict(c.execute(text("SELECT id, sector FROM services ORDER BY id")).all()) == {"a": "finance", "b": None}
