"""An empty database migrated a second time in a process gets the first migration's statements
replayed (platform.migrate_replay): the schema must be the one Alembic builds, catalog entry by
catalog entry, on SQLite and PostgreSQL; Alembic must not run for it; and anything but an empty
database still goes through Alembic."""

from __future__ import annotations

import re

import pytest
from alembic import command

from fenghuo.platform import migrate, migrate_replay
from fenghuo.platform.migrate import current_revision, head_revision


def _catalog(db) -> dict:
    with db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            return {
                "master": conn.exec_driver_sql(
                    "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").all(),
                "version": conn.exec_driver_sql("SELECT version_num FROM alembic_version").all(),
            }
        schema = conn.exec_driver_sql("SELECT current_schema()").scalar()
        ns = "(SELECT oid FROM pg_namespace WHERE nspname = current_schema())"
        queries = {
            "relations": f"SELECT relname, relkind, relpersistence FROM pg_class WHERE relnamespace = {ns} ORDER BY 1",
            "columns": "SELECT table_name, ordinal_position, column_name, data_type, column_default, is_nullable,"
                       " character_maximum_length, numeric_precision FROM information_schema.columns"
                       " WHERE table_schema = current_schema() ORDER BY 1, 2",
            "constraints": f"SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
                           f" WHERE connamespace = {ns} ORDER BY 1, 2",
            "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY 1, 2",
            "types": f"SELECT typname, typtype FROM pg_type WHERE typnamespace = {ns} ORDER BY 1",
            "triggers": f"SELECT tgrelid::regclass::text, tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
                        f" WHERE c.relnamespace = {ns} AND NOT tgisinternal ORDER BY 1, 2",
            "version": "SELECT version_num FROM alembic_version",
        }
        # the schema's own name appears in index definitions: compare without it
        return {k: [tuple(re.sub(rf'\b"?{schema}"?\.', "", str(v)) for v in row) for row in conn.exec_driver_sql(q)]
                for k, q in queries.items()}


@pytest.fixture
def alembic_calls(monkeypatch):
    calls: list[str] = []
    real = command.upgrade

    def counting(cfg, revision, *a, **kw):
        calls.append(revision)
        return real(cfg, revision, *a, **kw)

    monkeypatch.setattr(command, "upgrade", counting)
    migrate_replay.forget()
    yield calls
    migrate_replay.forget()


def test_a_replayed_schema_is_the_migrated_schema(db_factory, alembic_calls):
    first = db_factory(upgrade=False)
    first.upgrade()
    assert alembic_calls == ["head"]  # nothing recorded yet: Alembic built it
    migrated = _catalog(first)
    with first.engine.begin() as conn:  # empty it again: the second database must be replayed
        if conn.dialect.name == "sqlite":
            names = [r[0] for r in conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
            conn.exec_driver_sql("PRAGMA foreign_keys = OFF")
            for name in names:
                conn.exec_driver_sql(f'DROP TABLE "{name}"')
        else:
            schema = conn.exec_driver_sql("SELECT current_schema()").scalar()
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    assert current_revision(first) is None
    again = db_factory(upgrade=False)
    again.upgrade()
    assert alembic_calls == ["head"], "the second empty database went through Alembic, not the replay"
    assert current_revision(again) == head_revision()
    replayed = _catalog(again)
    assert replayed.keys() == migrated.keys()
    for part in migrated:
        assert replayed[part] == migrated[part], part
    assert len(migrated["version"]) == 1 and sum(len(v) for v in migrated.values()) > 100


def test_off_switch_and_a_non_empty_database_go_through_alembic(db_factory, alembic_calls, monkeypatch):
    db_factory(upgrade=False).upgrade()  # records
    assert alembic_calls == ["head"]
    monkeypatch.setenv("FENGHUO_MIGRATE_REPLAY", "0")
    db = db_factory(upgrade=False)
    with db.engine.begin() as conn:  # empty but for one table: not a fresh database
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    # PostgreSQL's factory shares one schema: start it empty again
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            schema = conn.exec_driver_sql("SELECT current_schema()").scalar()
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    else:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA foreign_keys = OFF")
            for (name,) in conn.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all():
                conn.exec_driver_sql(f'DROP TABLE "{name}"')
    db.upgrade()
    assert alembic_calls == ["head", "head"]  # switched off: Alembic again
    monkeypatch.delenv("FENGHUO_MIGRATE_REPLAY")
    with db.engine.begin() as conn:  # a database at an older revision is migrated, never replayed
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0021_batch_acks'")
    assert current_revision(db) == "0021_batch_acks" != head_revision()
    db.upgrade()
    assert alembic_calls == ["head", "head", "head"]
    assert current_revision(db) == head_revision()


def test_the_head_follows_the_revision_files(tmp_path, monkeypatch):
    """The head is cached per set of revision files: a changed directory is read again."""
    assert head_revision() == migrate._head_of(*migrate._versions_signature())
    versions = tmp_path / "versions"
    versions.mkdir()
    for f in (migrate.MIGRATIONS / "versions").glob("*.py"):
        (versions / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "env.py").write_text((migrate.MIGRATIONS / "env.py").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "script.py.mako").write_text("", encoding="utf-8")
    monkeypatch.setattr(migrate, "MIGRATIONS", tmp_path)
    before = head_revision()
    (versions / "9999_next.py").write_text(
        f'revision = "9999_next"\ndown_revision = "{before}"\n\ndef upgrade():\n    pass\n', encoding="utf-8")
    assert head_revision() == "9999_next"
