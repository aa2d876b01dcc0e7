"""The durable dedup rows go through one driver connection the ``Dedup`` keeps (``_writer``:
made by the engine, detached from its pool) instead of a pool checkout per batch: it has the
engine's pragmas, a busy database is still SQLAlchemy's OperationalError with nothing kept,
after which the same connection writes again, and a disposed engine is followed to a fresh
connection."""

from __future__ import annotations

import sqlite3
import uuid

import pytest
from sqlalchemy import exc as sa_exc

from fenghuo.monitor.dedup import Dedup
from fenghuo.platform.db import Database


def _ids(n: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(n)]


def _rows(path) -> int:
    with sqlite3.connect(path) as c:
        return c.execute("SELECT count(*) FROM monitor_seen").fetchone()[0]


def test_kept_connection_has_the_engine_pragmas_and_leaves_the_pool_alone(tmp_path):
    db = Database(str(tmp_path / "d.db"))
    db.upgrade()
    d = Dedup(db, 60.0)
    checked_in = db.engine.pool.checkedin()
    assert d.admit(_ids(5), 1000.0) is None
    conn = d._writer()
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert conn.execute("PRAGMA busy_timeout").fetchone() == (30000,)
    assert conn.execute("PRAGMA foreign_keys").fetchone() == (1,)
    assert not conn.in_transaction
    assert d.admit(_ids(5), 1001.0) is None
    assert d._writer() is conn  # the same one for every batch
    assert db.engine.pool.checkedout() == 0 and db.engine.pool.checkedin() <= checked_in + 1
    assert _rows(tmp_path / "d.db") == 2
    db.dispose()


def test_busy_database_then_the_same_connection_writes_again(tmp_path):
    path = tmp_path / "d.db"
    db = Database(str(path))
    db.upgrade()
    d = Dedup(db, 60.0)
    d.admit(_ids(3), 1000.0)
    d._writer().execute("PRAGMA busy_timeout=50")  # fail fast instead of waiting 30 s
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    batch = _ids(4)
    with pytest.raises(sa_exc.OperationalError, match="locked"):
        d.admit(batch, 1001.0)
    assert not any(i in d.seen for i in batch) and len(d._expiry) == 1
    other.execute("ROLLBACK")
    other.close()
    conn = d._writer()
    assert d.admit(batch, 1002.0) is None
    assert d._writer() is conn and _rows(path) == 2
    db.dispose()


def test_a_disposed_engine_is_followed(tmp_path):
    path = tmp_path / "d.db"
    db = Database(str(path))
    db.upgrade()
    d = Dedup(db, 60.0)
    d.admit(_ids(3), 1000.0)
    first = d._writer()
    db.dispose()
    assert d.admit(_ids(3), 1001.0) is None
    assert d._writer() is not first and _rows(path) == 2
    d.close()
    assert d._fairy is None
    assert d.admit(_ids(3), 1002.0) is None and _rows(path) == 3  # opened again when written again
    db.dispose()
