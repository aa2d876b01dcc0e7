"""Has the embedded database changed since a poller last read it? One ``PRAGMA data_version``.

An embedded guard (no ``--control``) polls the local database for what other processes change
(the CLI's switch commands, user measures, model versions): the switch every 0.25 s, the
measures and the versions every second. Each poll is an ORM session and query that held the
interpreter lock 0.2–0.5 ms, six times a second, on the gateway's event loop thread's time
(issue 19: calls in flight waited for it). Nearly every poll finds nothing new.

SQLite answers "did any other connection commit since I last asked" for almost nothing:
``PRAGMA data_version`` on a connection of our own changes exactly when another connection, in
this process or another, committed to the file (≈ 4 µs). A poller reads the version before its
read and keeps it; while the version stays the same, the read is skipped. Every poller still
reads in full at least every ``FULL_EVERY`` seconds, whatever the version says. Elsewhere
(PostgreSQL, an in-memory SQLite) there is no version to read, and every poll reads, as before.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
FULL_EVERY = 10.0  # seconds: a poller reads in full at least this often


class DataVersion:
    """One read-only look-out connection to an embedded SQLite database (shared by the guard's
    pollers; thread-safe)."""

    def __init__(self, db: Any) -> None:
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        url = str(getattr(db, "url", "") or "")
        if getattr(db, "is_sqlite", False) and url.startswith("sqlite:///") and ":memory:" not in url:
            try:
                self._conn = sqlite3.connect(Path(url.split("///", 1)[1]), isolation_level=None, check_same_thread=False,
                                             timeout=5)
            except sqlite3.Error as exc:  # polled in full, as before
                log.debug("no data_version watch on %s: %s", url, exc)

    def read(self) -> int | None:
        """The database's data version for this connection, or None when there is none to read."""
        if self._conn is None:
            return None
        try:
            with self._lock:
                return self._conn.execute("PRAGMA data_version").fetchone()[0]
        except sqlite3.Error:
            return None

    def gate(self) -> Gate:
        return Gate(self)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


class Gate:
    """One poller's memory of the version it last read at: ``token = gate.due()``; None means
    nothing was committed since and the last full read is recent, so skip the read; otherwise
    read, then ``gate.done(token)``."""

    __slots__ = ("watch", "seen", "at")

    def __init__(self, watch: DataVersion | None) -> None:
        self.watch = watch
        self.seen: int | None = None
        self.at = float("-inf")

    def due(self) -> tuple[bool, int | None]:
        """(read now?, the version to hand to :meth:`done` after the read)."""
        v = self.watch.read() if self.watch is not None else None
        if v is None or v != self.seen or time.monotonic() - self.at >= FULL_EVERY:
            return True, v
        return False, v

    def done(self, version: int | None) -> None:
        """The read that :meth:`due` asked for succeeded, at ``version`` (read before it: a
        commit during the read shows as a new version next time, and is read again)."""
        self.seen, self.at = version, time.monotonic()
