"""Migrating an empty database again in one process: replay the first migration's statements.

Migrating an empty database from nothing to the head runs ~20 Alembic revisions. On SQLite
that is ~0.43 s, nearly all of it Alembic loading the revision scripts and building each
operation in Python; on PostgreSQL ~0.45 s, most of it the server executing the DDL. A process
that creates many fresh databases or schemas (the test suite made ~760 per run, about a quarter
of its summed time; the demo and the fleet benchmarks a few each) pays that every time. The
statements themselves are the same every time for the same revisions on the same engine: this
module records them, in order and with their parameters, the first time a process migrates an
empty database of a kind, and replays them for the next empty database of that kind (SQLite
~0.035 s; PostgreSQL ~0.38 s, the DDL itself).

What makes the replay the same migration:
- only an *empty* database or schema is replayed into (no table, view, sequence or type), so no
  revision's branch on existing data or tables can differ from the recorded run;
- the key is the dialect, the server's version, the head revision and the schema-scope: a new
  server version or a new revision records afresh;
- a recording that names its own PostgreSQL schema or SQLite file in any statement or parameter
  is not kept (the statements must be unqualified, resolved through ``search_path``);
- the replay runs in the same transaction the migration would, so a failure leaves nothing.

``FENGHUO_MIGRATE_REPLAY=0`` turns it off: every empty database then runs Alembic itself.
tests/foundation/test_migrate_replay.py compares the replayed schema with the migrated one on
SQLite and PostgreSQL, catalog entry by catalog entry.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

from sqlalchemy import event

# (dialect, server version, head) -> [(statement, parameters, executemany), ...]
_recorded: dict[tuple, list[tuple]] = {}
_lock = threading.Lock()


def enabled() -> bool:
    return os.environ.get("FENGHUO_MIGRATE_REPLAY", "1") not in ("0", "false", "no", "off")


def _is_empty(conn) -> bool:
    if conn.dialect.name == "sqlite":
        return conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar() == 0
    if conn.dialect.name == "postgresql":
        # no relation (table, index, sequence, view) and no type of its own in the schema
        return conn.exec_driver_sql(
            "SELECT n.oid IS NOT NULL"
            " AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.relnamespace = n.oid)"
            " AND NOT EXISTS (SELECT 1 FROM pg_type t WHERE t.typnamespace = n.oid)"
            " FROM (SELECT current_schema() AS name) s LEFT JOIN pg_namespace n ON n.nspname = s.name"
        ).scalar()
    return False  # another engine: always migrate with Alembic


def _own_names(conn) -> list[str]:
    """Names a statement of this database must not contain to be replayable elsewhere."""
    if conn.dialect.name == "postgresql":
        return [conn.exec_driver_sql("SELECT current_schema()").scalar()]
    path = conn.engine.url.database or ""
    return [path] if path and path != ":memory:" else []


def _key(conn, head: str | None) -> tuple:
    return (conn.dialect.name, conn.dialect.server_version_info, head)


def _mentions(statements: list[tuple], names: list[str]) -> bool:
    names = [n for n in names if n]
    for stmt, params, _many in statements:
        blob = stmt + repr(params)
        if any(n in blob for n in names):
            return True
    return False


@contextlib.contextmanager
def replay_or_record(conn, head: str | None) -> Iterator[bool]:
    """Yields True when the recorded statements were replayed on ``conn`` (nothing left to do);
    False when the caller must migrate with Alembic, which is then recorded if the database was
    empty. Runs inside the caller's transaction."""
    if not enabled() or not _is_empty(conn):
        yield False
        return
    key = _key(conn, head)
    script = _recorded.get(key)
    if script is not None:
        # The driver's own cursor, given exactly what SQLAlchemy gave it when recording.
        cursor = conn.connection.cursor()
        try:
            for stmt, params, many in script:
                (cursor.executemany if many else cursor.execute)(stmt, params)
        finally:
            cursor.close()
        yield True
        return
    seen: list[tuple] = []

    def record(_conn, _cursor, statement, parameters, _context, executemany):
        seen.append((statement, parameters, executemany))

    event.listen(conn, "before_cursor_execute", record)
    try:
        yield False
    finally:
        event.remove(conn, "before_cursor_execute", record)
    if not _mentions(seen, _own_names(conn)):
        with _lock:
            _recorded.setdefault(key, seen)


def forget() -> None:
    """Drop every recording (tests: the next empty database migrates with Alembic again)."""
    with _lock:
        _recorded.clear()
