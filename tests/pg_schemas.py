"""PostgreSQL schemas for the tests: an empty one, or a migrated one from this process's pool.

Every PostgreSQL test used to create a schema, migrate it (~170 DDL statements, replayed by
platform.migrate_replay) and drop it again: ~0.2 s on an idle machine, but ~1.7 s on make test's
loaded 2-core host, where each of those round trips to the server waits for a CPU. A migrated
schema is the same for every test, so each process keeps a pool of them: a test takes an empty
one, and afterwards tests/pg_reset.py puts it back exactly as the migration left it (renamed),
or it is dropped. The reset (a TRUNCATE of what the test wrote: ~0.15-0.3 s of the server's
file work under load) runs in a background thread while the next test runs on another schema.

Migration tests still get what they had: ``PgSchema()`` (and ``db_factory(upgrade=False)``) is an
empty schema of the test's own, migrated by the test itself and dropped afterwards.
"""

from __future__ import annotations

import os
import queue
import threading

from tests import pg_reset

PG_URL = os.environ.get("FENGHUO_TEST_PG")


class _Connection:
    """One connection of this process's for creating, resetting and dropping schemas, opened
    again if it broke (not an engine and a connect per test)."""

    def __init__(self) -> None:
        self.conn = None
        self.lock = threading.RLock()

    def get(self):
        import psycopg

        if self.conn is None or self.conn.closed or self.conn.broken:
            self.conn = psycopg.connect(PG_URL, autocommit=True)
        return self.conn

    def close(self) -> None:
        if self.conn is not None and not self.conn.closed:
            self.conn.close()
        self.conn = None

    def execute(self, sql: str):
        with self.lock:
            return self.get().execute(sql)


_admin = _Connection()


def create_empty() -> str:
    name = pg_reset.new_name()
    _admin.execute(f"CREATE SCHEMA {pg_reset.q(name)}")
    return name


def drop(name: str, via: _Connection = _admin) -> None:
    via.execute(f"DROP SCHEMA IF EXISTS {pg_reset.q(name)} CASCADE")


class _Pool:
    """Migrated schemas: ``idle`` ones ready for a test, ``busy`` ones a test has, and those the
    background thread is resetting. A test finding none idle while one is being reset waits
    for it, unless there are fewer than two spare: the second lets a reset overlap a test."""

    def __init__(self) -> None:
        self.idle: list[pg_reset.Snapshot] = []
        self.busy: dict[str, pg_reset.Snapshot] = {}
        self.resetting = 0
        self.made = 0
        self.cond = threading.Condition()
        self.todo: queue.Queue = queue.Queue()
        self.worker: threading.Thread | None = None
        self.own = _Connection()  # the worker's
        self.usable: bool | None = None

    def acquire(self) -> str | None:
        """The name of an empty migrated schema, or None: no pool without superuser rights
        (the reset clears a table's statistics in pg_statistic)."""
        if self.usable is None:
            self.usable = bool(_admin.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0])
        if not self.usable:
            return None
        with self.cond:
            while not self.idle and self.resetting and self.made >= len(self.busy) + 2:
                self.cond.wait()
            if self.idle:
                snap = self.idle.pop()
                self.busy[snap.name] = snap
                return snap.name
            self.made += 1
        try:
            snap = self._make()
        except BaseException:
            with self.cond:
                self.made -= 1
            raise
        with self.cond:
            self.busy[snap.name] = snap
        return snap.name

    @staticmethod
    def _make() -> pg_reset.Snapshot:
        from fenghuo.platform.db import Database

        name = create_empty()
        db = Database(PG_URL, schema=name)
        try:
            db.upgrade()  # the path a test's own upgrade takes: Alembic, or its replay
        finally:
            db.dispose()
        with _admin.lock:
            return pg_reset.snapshot(_admin.get(), name)

    def owns(self, name: str) -> bool:
        with self.cond:
            return name in self.busy

    def release(self, name: str) -> None:
        with self.cond:
            snap = self.busy.pop(name)
            self.resetting += 1
            if self.worker is None:
                self.worker = threading.Thread(target=self._work, name="pg-schema-reset", daemon=True)
                self.worker.start()
        self.todo.put(snap)

    def _work(self) -> None:
        while True:
            snap = self.todo.get()
            kept = False
            try:
                kept = self._put_back(snap)
            finally:  # whatever happened, the pool's counts are right and close() does not wait forever
                with self.cond:
                    self.resetting -= 1
                    if kept:
                        self.idle.append(snap)
                    else:
                        self.made -= 1
                    self.cond.notify_all()
                self.todo.task_done()

    def _put_back(self, snap: pg_reset.Snapshot) -> bool:
        try:
            if pg_reset.reset(self.own.get(), snap):
                return True
        except Exception:  # noqa: BLE001 - a lock not had in time, a broken connection: drop it
            self.own.close()
        try:
            drop(snap.name, self.own)
        except Exception:  # noqa: BLE001 - left behind, like the schema of a crashed run
            self.own.close()
        return False

    def close(self) -> None:
        """Wait for the resets, then drop every schema of the pool."""
        self.todo.join()
        with self.cond:
            names = [s.name for s in self.idle] + list(self.busy)
            self.idle.clear()
            self.busy.clear()
            self.made = 0
        for name in names:
            try:
                drop(name)
            except Exception:  # noqa: BLE001 - the session is ending; a leftover schema is only litter
                pass
        self.own.close()
        _admin.close()


_pool = _Pool()


def close_pool() -> None:
    """Drop this process's pooled schemas (at the end of its test session)."""
    _pool.close()


class PgSchema:
    """A PostgreSQL schema of a test's own, dropped (or reset for the next test) afterwards, so
    tests never see each other. ``migrated=True``: an empty one already at the head revision,
    from this process's pool (still call ``upgrade()``: without a pool it is a new empty one)."""

    def __init__(self, migrated: bool = False) -> None:
        self.name = (_pool.acquire() if migrated else None) or create_empty()

    def database(self, clock=None):
        from fenghuo.platform.db import Database

        kw = {"clock": clock} if clock else {}
        return Database(PG_URL, schema=self.name, **kw)

    def drop(self) -> None:
        if _pool.owns(self.name):
            _pool.release(self.name)
        else:
            drop(self.name)
