"""Exactly-once counting: an event id is counted once while it can still be accepted.

Events older than ``window`` seconds (or further than the allowed skew in the future) are
refused by ingest, so remembering ids for ``window + skew`` seconds is enough to recognise every
redelivery that could still be counted. Ids are written to the database (one row per batch)
*before* the batch is counted and acknowledged, and reloaded at start, so a guard that retries
after a crash of the control plane is not counted twice. The same idea as JetStream's
``Nats-Msg-Id`` duplicate window, which will replace this table when NATS sits under the bus.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import deque

from sqlalchemy import delete, insert, select
from sqlalchemy import exc as sa_exc

from fenghuo.monitor import seenrows
from fenghuo.monitor.models import SeenBatch
from fenghuo.monitor.native import KERNEL
from fenghuo.monitor.seenids import Packed, SeenIds
from fenghuo.platform.db import Database

_table = SeenBatch.__table__
_insert = insert(_table)
_SQLITE_INSERT = f"INSERT INTO {_table.name} (expires_at, ids) VALUES (?, ?)"
_SQLITE_PRUNE = f"DELETE FROM {_table.name} WHERE expires_at <= ?"


class Dedup:
    def __init__(self, db: Database | None, window: float) -> None:
        self.db = db
        self.window = window
        # the window's ids: UUIDs packed in the kernel's table, others in a set (monitor.seenids)
        self.seen = SeenIds(KERNEL)
        # (expires, the batch's ids): packed when every id is a UUID, so no str outlives its batch
        self._expiry: deque[tuple[float, list[str] | Packed]] = deque()
        self._lock = threading.Lock()
        self._last_prune = 0.0
        self._sqlite = db is not None and db.is_sqlite
        self._write_lock = threading.Lock()
        self._fairy = None  # the pool's connection record, detached, the rows are written through (_writer)
        self._conn: sqlite3.Connection | None = None  # its driver connection
        self._pool = None  # the engine's pool it came from

    def load(self, now: float) -> int:
        """Reload the ids still inside the window (at start-up)."""
        if self.db is None:
            return 0
        with self.db.reader() as s:
            rows = s.execute(select(SeenBatch.expires_at, SeenBatch.ids).where(SeenBatch.expires_at > now)
                             .order_by(SeenBatch.expires_at)).all()
        with self._lock:
            for expires, ids in rows:
                if isinstance(ids, str):  # JSON (seenrows)
                    batch: list[str] | Packed = seenrows.decode(ids)
                    self.seen.update(batch)
                else:  # packed UUIDs: kept packed, as ``commit`` keeps them
                    batch = Packed(bytes(ids))
                    self.seen.add_packed(batch.data)
                self._expiry.append((expires, batch))
        return len(self.seen)

    def fresh(self, ids: list[str]) -> list[bool]:
        """For each id, True if it was never counted (duplicates inside the batch count once)."""
        seen = self.seen
        distinct = set(ids)
        if len(distinct) == len(ids) and seen.isdisjoint(distinct):
            return [True] * len(ids)  # the usual batch, answered by two set operations in C
        out = []
        local: set[str] = set()
        for i in ids:
            if i in seen or i in local:
                out.append(False)
            else:
                local.add(i)
                out.append(True)
        return out

    def admit(self, ids: list[str], now: float) -> list[bool] | None:
        """``fresh(ids)`` and ``commit`` of the fresh ones, in one pass over the seen set when
        the kernel is built (``SeenIds.admit``, ``_ingestuuidset.h``: each id added once and told
        fresh by whether it was new, instead of a set of the batch, a probe and an add; the table
        holds every id of the window and is out of the cache at fleet rates; it also answers the
        ids packed for the durable row). The ids are in memory before they
        are durable, under the ingest lock (``Monitor``), and leave it again if the write fails,
        so what is remembered is what ``commit`` would have remembered. None: every id is fresh
        (and a list of str); else each id's answer, as ``fresh``."""
        if self.seen.table is not None and type(ids) is list:
            try:
                with self._lock:
                    got, packed = self.seen.admit(ids)  # packed: the row's form, when all are UUIDs
            except TypeError:
                pass  # an id that is not a str: the two steps below decide
            else:
                kept = ids if got is None else [i for i, f in zip(ids, got) if f]
                try:
                    self.commit(kept, now, added=True, packed=packed if got is None else None)
                except BaseException:
                    with self._lock:
                        self.seen.difference_update(kept)
                    raise
                return got
        fresh = self.fresh(ids)
        self.commit([i for i, f in zip(ids, fresh) if f], now)
        return fresh

    def commit(self, ids: list[str], now: float, added: bool = False, packed: bytes | None = None) -> None:
        """Remember ids durably, then in memory. Called before the events are counted.
        ``added``: they are in the seen set already (``admit``); ``packed``: ``ids`` packed
        (``seenrows.pack``), if the caller has them so."""
        if not ids:
            return
        expires = now + self.window
        prune = now - self._last_prune > 10
        if packed is None and self.seen.table is not None and type(ids) is list:
            packed = seenrows.pack(ids)
        if self._sqlite:
            # 16 bytes an id when they are UUIDs (seenrows: 16 KB a 1,000-id row instead of 37 KB of JSON)
            self._write_sqlite(expires, packed if packed is not None else seenrows.encode(ids), now if prune else None)
        elif self.db is not None:
            # SQLAlchemy Core on the engine, not an ORM session: the same one-row insert and
            # commit, without the unit-of-work machinery (measured ~1.5 ms → ~0.4 ms of CPU per batch).
            with self.db.engine.begin() as conn:
                conn.execute(_insert, {"expires_at": expires, "ids": seenrows.to_json(ids)})  # text column: JSON
                if prune:
                    conn.execute(delete(_table).where(_table.c.expires_at <= now))
        if prune and self.db is not None:
            self._last_prune = now
        with self._lock:
            if not added:
                self.seen.update(ids)
            self._expiry.append((expires, Packed(packed) if packed is not None else ids))
            while self._expiry and self._expiry[0][0] <= now:
                _, old = self._expiry.popleft()
                self.seen.difference_update(old)

    def _write_sqlite(self, expires: float, ids: str | bytes, prune_before: float | None) -> None:
        """The same transaction on a driver connection of the engine's, kept for these writes:
        every batch of every request pays for it, and SQLAlchemy's begin/execute/commit around
        one insert cost ~100 µs of CPU where sqlite3 alone takes ~30 µs (issue 19); a checkout
        and check-in of the pool per batch (its events and the reset on return) was ~110 µs
        more (``_writer``). BEGIN IMMEDIATE as the engine's own transactions (platform.db); a
        driver error is raised as SQLAlchemy's, so "database is locked" is still a 503
        (api.errors)."""
        with self._write_lock:
            conn = self._writer()
            try:
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    conn.execute(_SQLITE_INSERT, (expires, ids))
                    if prune_before is not None:
                        conn.execute(_SQLITE_PRUNE, (prune_before,))
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            except sqlite3.OperationalError as exc:
                raise sa_exc.OperationalError(_SQLITE_INSERT, None, exc) from exc
            except sqlite3.Error as exc:
                self._drop_writer()  # not a busy database: the next batch opens a fresh connection
                raise sa_exc.DatabaseError(_SQLITE_INSERT, None, exc) from exc
            except BaseException:
                self._drop_writer()  # the ROLLBACK itself failed: the connection's state is unknown
                raise

    def _writer(self) -> sqlite3.Connection:
        """The driver connection the rows are written on: made by the engine (its connect hook
        set WAL, busy_timeout and the rest, as for any connection of it), then detached from the
        pool and kept. Made again when the engine's pool was replaced (``Database.dispose``), so
        the writes follow the engine to whatever file it opens then."""
        pool = self.db.engine.pool
        if self._fairy is None or self._pool is not pool:
            self._drop_writer()
            fairy = self.db.engine.raw_connection()
            conn = fairy.driver_connection  # read before detaching: the record goes with the pool
            fairy.detach()  # ours: not reset on return, never handed to another checkout
            self._fairy, self._conn, self._pool = fairy, conn, pool
        return self._conn

    def _drop_writer(self) -> None:
        fairy, self._fairy, self._conn, self._pool = self._fairy, None, None, None
        if fairy is not None:
            try:
                fairy.close()  # detached: closes the driver connection
            except Exception:  # noqa: BLE001 - closing a connection already broken
                pass

    def close(self) -> None:
        """Close the connection kept for the durable rows (a new one is made if written again)."""
        with self._write_lock:
            self._drop_writer()

    def __len__(self) -> int:
        return len(self.seen)
