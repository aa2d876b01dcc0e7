"""One leader across control-plane replicas: a lease row in PostgreSQL with a fencing epoch.

Why PostgreSQL and not NATS: everything the leader does (counting cursor, warnings, plan
steps, switch commands) is written to PostgreSQL. With the lease in the same database the
leader can check "am I still the leader, with this epoch?" inside the very transaction that
writes (:func:`require`), so a replica that stalled past its lease (GC pause, network
partition) cannot write after a successor took over: its check fails and the transaction rolls
back. A NATS KV lease could not be checked inside a PostgreSQL transaction. Fenced this way:
the counting cursor, warning transitions and repeats, plan steps (``replica.py`` hands the
check to the alert engine and the executor as ``fence``); what is not, and why that is safe, is
in docs/scale.md ("What is fenced, exactly"). And without
PostgreSQL no replica can do anything useful anyway, so the lease adds no new dependency.

Times are the database's clock (``clock_timestamp()``), so replicas with skewed clocks still
agree on when a lease has run out. Any replica may take an expired lease; the epoch grows by one
each time the holder changes. ``LeaseKeeper`` renews every ``ttl / 3`` in a thread and calls
``on_gain`` / ``on_lose``; a renewal that cannot reach the database counts as lost once the
lease's own time has passed, so a leader cut off from the database stops acting as leader.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.orm import Session

from fenghuo.platform.db import Database

log = logging.getLogger(__name__)

_TAKE_PG = text("""
INSERT INTO scale_leases (name, holder, epoch, expires_at)
VALUES (:name, :holder, 1, extract(epoch from clock_timestamp()) + :ttl)
ON CONFLICT (name) DO UPDATE SET
  epoch = CASE WHEN scale_leases.holder = EXCLUDED.holder THEN scale_leases.epoch ELSE scale_leases.epoch + 1 END,
  holder = EXCLUDED.holder,
  expires_at = EXCLUDED.expires_at
WHERE scale_leases.holder = EXCLUDED.holder OR scale_leases.expires_at < extract(epoch from clock_timestamp())
RETURNING epoch""")

_TAKE_SQLITE = text("""
INSERT INTO scale_leases (name, holder, epoch, expires_at) VALUES (:name, :holder, 1, :now + :ttl)
ON CONFLICT (name) DO UPDATE SET
  epoch = CASE WHEN scale_leases.holder = excluded.holder THEN scale_leases.epoch ELSE scale_leases.epoch + 1 END,
  holder = excluded.holder,
  expires_at = excluded.expires_at
WHERE scale_leases.holder = excluded.holder OR scale_leases.expires_at < :now
RETURNING epoch""")


class NotLeader(RuntimeError):
    """The lease was lost (or taken over) before a leader-only write."""


def take(db: Database, name: str, holder: str, ttl: float) -> int | None:
    """Take or renew the lease; the epoch if held now, else None."""
    with db.transaction() as s:
        if db.is_sqlite:
            row = s.execute(_TAKE_SQLITE, {"name": name, "holder": holder, "ttl": ttl, "now": time.time()}).first()
        else:
            row = s.execute(_TAKE_PG, {"name": name, "holder": holder, "ttl": ttl}).first()
    return int(row[0]) if row else None


def release(db: Database, name: str, holder: str) -> None:
    """Give the lease up at once (clean shutdown), so a successor need not wait for it to expire."""
    with db.transaction() as s:
        s.execute(text("UPDATE scale_leases SET expires_at = 0 WHERE name = :name AND holder = :holder"),
                  {"name": name, "holder": holder})


def require(session: Session, name: str, epoch: int) -> None:
    """Inside a write transaction: raise NotLeader unless ``epoch`` still holds ``name``.
    ``FOR SHARE`` makes a concurrent take-over wait for this transaction (or this one wait for it)."""
    if session.get_bind().dialect.name == "sqlite":
        row = session.execute(text("SELECT epoch, expires_at, :now FROM scale_leases WHERE name = :name"),
                              {"name": name, "now": time.time()}).first()
    else:
        row = session.execute(text("SELECT epoch, expires_at, extract(epoch from clock_timestamp()) FROM scale_leases "
                                   "WHERE name = :name FOR SHARE"), {"name": name}).first()
    if row is None or int(row[0]) != epoch or float(row[1]) < float(row[2]):
        raise NotLeader(f"lease {name} epoch {epoch} no longer held / 已失去领导权")


def holder(db: Database, name: str) -> dict | None:
    with db.reader() as s:
        row = s.execute(text("SELECT holder, epoch, expires_at FROM scale_leases WHERE name = :name"), {"name": name}).first()
    return {"holder": row[0], "epoch": int(row[1]), "expires_at": float(row[2])} if row else None


class LeaseKeeper:
    """Keeps trying to hold lease ``name``; tells its owner when leadership comes and goes."""

    def __init__(self, db: Database, name: str = "leader", *, ttl: float = 5.0, holder_id: str | None = None,
                 on_gain: Callable[[int], None] | None = None, on_lose: Callable[[], None] | None = None) -> None:
        self.db, self.name, self.ttl = db, name, ttl
        self.holder = holder_id or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"  # host and pid: an operator can tell who leads
        self.on_gain, self.on_lose = on_gain, on_lose
        self.epoch: int | None = None
        self._valid_until = 0.0  # monotonic: when our own view of the lease runs out
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"lease-{name}")

    @property
    def leading(self) -> bool:
        return self.epoch is not None and time.monotonic() < self._valid_until

    def start(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def stop(self, release_lease: bool = True) -> None:
        self._stop.set()
        self._thread.join(timeout=self.ttl)
        if self.epoch is not None:
            self._lose()
            if release_lease:
                try:
                    release(self.db, self.name, self.holder)
                except Exception:
                    log.debug("lease release failed", exc_info=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                epoch = take(self.db, self.name, self.holder, self.ttl)
            except Exception as exc:  # noqa: BLE001 - database unreachable: keep the lease only while it lasts
                log.warning("lease %s renewal failed: %s", self.name, exc)
                epoch = self.epoch if time.monotonic() < self._valid_until else None
            else:
                if epoch is not None:
                    self._valid_until = started + self.ttl * 0.9  # a margin for our own clock's drift
            if epoch is None and self.epoch is not None:
                self._lose()
            elif epoch is not None and epoch != self.epoch:
                if self.epoch is not None:
                    self._lose()
                self.epoch = epoch
                log.warning("%s leads %s (epoch %s) / 成为主副本", self.holder, self.name, epoch)
                if self.on_gain:
                    try:
                        self.on_gain(epoch)
                    except Exception:
                        log.exception("on_gain failed")
            self._stop.wait(self.ttl / 3 if self.epoch is not None else self.ttl / 4)

    def _lose(self) -> None:
        log.warning("%s no longer leads %s / 失去主副本身份", self.holder, self.name)
        self.epoch = None
        if self.on_lose:
            try:
                self.on_lose()
            except Exception:
                log.exception("on_lose failed")
