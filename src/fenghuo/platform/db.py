"""The database: one SQLAlchemy engine per URL, SQLite (WAL) by default, PostgreSQL by URL.

Every state change and its ledger entry are written in one transaction (see
``Database.transaction``). On SQLite each transaction starts with ``BEGIN IMMEDIATE`` so two
writers queue for the write lock up front instead of failing half-way with SQLITE_BUSY; on
PostgreSQL writers are serialised by row locks taken inside the transaction.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from fenghuo.platform.clock import SYSTEM_CLOCK, Clock
from fenghuo.platform.paths import data_dir


class Base(DeclarativeBase):
    """Declarative base shared by every domain's tables (one metadata, one migration history)."""


def default_url() -> str:
    return f"sqlite:///{data_dir() / 'fenghuo.db'}"


def normalise_url(url: str | None) -> str:
    """Accept a bare file path or a URL; PostgreSQL URLs use the psycopg 3 driver."""
    if not url:
        return default_url()
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser().resolve()}"
    return url


def _sqlite_pragmas(engine: Engine, begin: str = "BEGIN IMMEDIATE") -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Let SQLAlchemy, not the driver, decide when a transaction begins.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode survives a killed process (only power loss can drop the last
        # commits), which is the crash model we test; FULL costs an fsync per commit.
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql(begin)


def _json_loads(text: str | bytes) -> Any:
    """orjson's reading of a stored JSON value; json.loads for what orjson refuses and Python's
    json.dumps writes (NaN and Infinity), so no stored value becomes unreadable."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _create_private(path: Path) -> None:
    """Create a new SQLite file readable by its owner only (0600): it holds token hashes and the
    ledger. SQLite gives its -wal and -shm files the database file's mode. An existing file is
    left as it is."""
    if path.exists() or str(path) == ":memory:":
        return
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass  # another process made it first


class Database:
    """An engine, a session factory and the clock every timestamp is read from."""

    def __init__(self, url: str | None = None, *, clock: Clock = SYSTEM_CLOCK, schema: str | None = None) -> None:
        self.url = normalise_url(url)
        self.clock = clock
        # JSON columns decode through orjson: json.loads was a fifth of a page of 100 services'
        # CPU (three JSON columns a row; 0.40 of 1.82 s in a profile of 30 pages at 100,000).
        kwargs: dict = {"future": True, "json_deserializer": _json_loads}
        if self.url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kwargs["pool_pre_ping"] = True
            kwargs["pool_size"] = 10
            kwargs["max_overflow"] = 20
            # A server that does not answer (not one that refuses) is an outage too: give up on
            # connecting after 2 s (libpq's minimum) so a request fails with 503, not a hang.
            kwargs["connect_args"] = {"connect_timeout": 2}
            if schema:
                kwargs["connect_args"]["options"] = f"-csearch_path={schema}"
        self.engine = create_engine(self.url, **kwargs)
        # Reads get their own engine on SQLite: a plain (deferred) BEGIN, so a reader never
        # queues behind a writer for the write lock; in WAL mode readers and the writer run
        # side by side. On PostgreSQL one engine serves both.
        self.read_engine = self.engine
        if self.is_sqlite:
            if "///" in self.url:  # a file, not :memory:
                _create_private(Path(self.url.split("///", 1)[1]))
            _sqlite_pragmas(self.engine)
            self.read_engine = create_engine(self.url, **kwargs)
            _sqlite_pragmas(self.read_engine, begin="BEGIN")
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(self.read_engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session inside one transaction: committed on success, rolled back on any error."""
        with self._sessions() as session, session.begin():
            yield session

    @contextlib.contextmanager
    def reader(self) -> Iterator[Session]:
        """A session for reading; it must not write (on SQLite it holds no write lock)."""
        with self._read_sessions() as session:
            yield session

    def upgrade(self) -> None:
        """Bring the schema to the newest migration (idempotent)."""
        from fenghuo.platform.migrate import upgrade

        upgrade(self)

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()


def open_database(url: str | None = None, *, clock: Clock = SYSTEM_CLOCK, upgrade: bool = True) -> Database:
    db = Database(url, clock=clock)
    if upgrade:
        db.upgrade()
    return db
