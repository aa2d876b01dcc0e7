"""The tests' pool of migrated PostgreSQL schemas (tests/pg_schemas.py, tests/pg_reset.py): a
schema a test used comes back to the next one empty and the same, catalog entry by catalog
entry, as a freshly migrated schema; one a test ran DDL on, or whose revision it changed, is
never handed out again; and a connection a test left behind cannot reach the next test's."""

from __future__ import annotations

import psycopg
import pytest

from fenghuo.platform.clock import ManualClock
from tests import pg_schemas
from tests.foundation.fixtures import seed
from tests.foundation.test_migrate_replay import _catalog
from tests.pg_schemas import PG_URL, PgSchema

pytestmark = [pytest.mark.pg, pytest.mark.skipif(not PG_URL, reason="FENGHUO_TEST_PG not set: PostgreSQL tests skipped")]


def _physical(conn) -> dict:
    """What a catalog comparison does not show: files, planner statistics, sequences, rows. (Not
    the activity counters: a closed connection's reach the server a moment later.)"""
    ns = "(SELECT oid FROM pg_namespace WHERE nspname = current_schema())"
    rels = conn.execute(
        f"SELECT relname, relkind, pg_relation_size(oid), relpages, reltuples, relallvisible FROM pg_class"
        f" WHERE relnamespace = {ns} ORDER BY relname").fetchall()
    stats = conn.execute(f"SELECT count(*) FROM pg_statistic WHERE starelid IN (SELECT oid FROM pg_class WHERE relnamespace = {ns})").fetchone()
    seqs = [(name, *conn.execute(f'SELECT last_value, log_cnt, is_called FROM "{name}"').fetchone())
            for (name,) in conn.execute(f"SELECT relname FROM pg_class WHERE relnamespace = {ns} AND relkind = 'S' ORDER BY 1")]
    rows = sum(conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
               for (t,) in conn.execute(f"SELECT relname FROM pg_class WHERE relnamespace = {ns} AND relkind = 'r'"))
    return {"relations": rels, "statistics": stats, "sequences": seqs, "rows": rows}


def _oid(name: str) -> int | None:
    with psycopg.connect(PG_URL) as conn:
        row = conn.execute("SELECT oid FROM pg_namespace WHERE nspname = %s", (name,)).fetchone()
    return row and row[0]


def _connect(name: str):
    return psycopg.connect(PG_URL, autocommit=True, options=f"-csearch_path={name}")


def _use(schema: PgSchema) -> None:
    """What a test does: register services (rows in tables with foreign keys between them and
    sequences), write more rows, analyze a table, advance a sequence, roll a write back."""
    db = schema.database(ManualClock())
    db.upgrade()
    seed(db)
    db.dispose()
    with _connect(schema.name) as conn:
        conn.execute("INSERT INTO ledger_checkpoints (seq, head, ts, key_id, signature)"
                     " SELECT i, 'h', 't', 'k', 's' FROM generate_series(1, 300) AS i")
        conn.execute("ANALYZE ledger_checkpoints")
        conn.execute("SELECT nextval('approvals_id_seq')")
        with conn.transaction(force_rollback=True):
            conn.execute("INSERT INTO scale_leases (name, holder, epoch, expires_at) VALUES ('x', 'y', 1, 0)")


def _next(used: PgSchema) -> PgSchema:
    """The schema the next test would get, once ``used`` is back in the pool."""
    used.drop()
    pg_schemas._pool.todo.join()  # the background reset
    return PgSchema(migrated=True)


@pytest.fixture
def fresh():
    """A freshly migrated schema (not from the pool) and its catalog and physical state."""
    schema = PgSchema()
    db = schema.database()
    db.upgrade()
    with _connect(schema.name) as conn:
        physical = _physical(conn)
    yield _catalog(db), physical
    db.dispose()
    schema.drop()


def test_a_used_schema_comes_back_as_freshly_migrated(fresh):
    catalog, physical = fresh
    first = PgSchema(migrated=True)
    _use(first)
    with _connect(first.name) as conn:
        used = _physical(conn)
    assert used["rows"] > 300 and used["statistics"][0] > 0  # the test's writes are there
    ns = _oid(first.name)
    again = _next(first)
    assert again.name != first.name and _oid(again.name) == ns  # the same schema, emptied and renamed
    db = again.database()
    try:
        db.upgrade()
        assert _catalog(db) == catalog
    finally:
        db.dispose()
    with _connect(again.name) as conn:
        assert _physical(conn) == physical
    again.drop()


def test_a_left_behind_connection_cannot_reach_the_next_tests_schema():
    first = PgSchema(migrated=True)
    name = first.name
    with _connect(name) as left:
        left.execute("SELECT count(*) FROM services")
        again = _next(first)
        with pytest.raises(psycopg.errors.UndefinedTable):
            left.execute("INSERT INTO services (id) VALUES ('late')")
    with _connect(again.name) as conn:
        assert conn.execute("SELECT count(*) FROM services").fetchone()[0] == 0
    again.drop()


@pytest.mark.parametrize("change", [
    "ALTER TABLE services ADD COLUMN extra text",
    "CREATE INDEX services_extra ON services (name)",
    "ALTER TABLE services ALTER COLUMN name SET DEFAULT 'x'",
    "COMMENT ON TABLE services IS 'changed'",
    "UPDATE alembic_version SET version_num = version_num",
])
def test_a_schema_changed_by_its_test_is_dropped_not_reused(change):
    first = PgSchema(migrated=True)
    ns = _oid(first.name)
    with _connect(first.name) as conn:
        conn.execute(change)
    again = _next(first)
    with _connect(again.name) as conn:
        assert conn.execute("SELECT count(*) FROM pg_namespace WHERE oid = %s", (ns,)).fetchone()[0] == 0
    again.drop()
