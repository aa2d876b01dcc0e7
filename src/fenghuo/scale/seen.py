"""Event ids the counting leader has counted, remembered for ``window`` seconds, written in the
same transaction as the cursor.

Why, beside the cursor: events travel in batches (one JetStream message per service per ingest
batch or guard telemetry batch; a message per event would make nats-py's per-message cost the
ceiling of counting). A batch sent again unchanged is dropped by JetStream (``Nats-Msg-Id`` of
the batch), but a guard's spool may resend an event in a different batch, or a retry may reach
another replica; those arrive as new messages. The cursor says which *messages* are counted,
this set which *events* are, and since both are written in one transaction a crash can never
leave one without the other. The rows are those of the embedded ingest's table
(``monitor_seen``: one row per batch, dropped once expired), which in NATS mode nothing else
writes. Rows are read in either of ``monitor.seenrows``' forms (JSON, or UUIDs packed by the
embedded ingest on SQLite, which a database that moved to NATS mode may still hold); written
here as JSON, which every database's column takes.
"""

from __future__ import annotations

from collections import deque

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from fenghuo.monitor import seenrows
from fenghuo.monitor.models import SeenBatch
from fenghuo.platform.db import Database


class Seen:
    def __init__(self, window: float = 900.0) -> None:
        self.window = window
        self.ids: set[str] = set()
        self._expiry: deque[tuple[float, list[str]]] = deque()
        self._last_prune = 0.0

    def load(self, db: Database, now: float) -> int:
        """At take-over: the ids every earlier leader recorded that are still inside the window."""
        with db.reader() as s:
            rows = s.execute(select(SeenBatch.expires_at, SeenBatch.ids).where(SeenBatch.expires_at > now)
                             .order_by(SeenBatch.expires_at)).all()
        self.ids, self._expiry = set(), deque()
        for expires, ids in rows:
            batch = seenrows.decode(ids)  # the embedded ingest's rows may be packed UUIDs (SQLite)
            self.ids.update(batch)
            self._expiry.append((expires, batch))
        return len(self.ids)

    def fresh(self, ids: list[str]) -> list[bool]:
        """For each id: never counted (a repeat inside the list counts once)."""
        out, local, seen = [], set(), self.ids
        for i in ids:
            new = i not in seen and i not in local
            out.append(new)
            local.add(i)
        return out

    def record(self, session: Session, ids: list[str], now: float) -> None:
        """Inside the cursor's transaction."""
        if ids:
            session.add(SeenBatch(expires_at=now + self.window, ids=seenrows.to_json(ids)))
        if now - self._last_prune > 10:
            session.execute(delete(SeenBatch).where(SeenBatch.expires_at <= now))
            self._last_prune = now

    def remember(self, ids: list[str], now: float) -> None:
        """After the commit."""
        if ids:
            self.ids.update(ids)
            self._expiry.append((now + self.window, ids))
        while self._expiry and self._expiry[0][0] <= now:
            _, old = self._expiry.popleft()
            self.ids.difference_update(old)
