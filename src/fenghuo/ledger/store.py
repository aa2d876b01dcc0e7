"""Appending to and reading the ledger inside the caller's transaction.

``append`` is called by every domain in the same transaction as the change it records, so a
change and its entry commit or roll back together: no change without its entry, no entry
without its change.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fenghuo.ledger.chain import GENESIS, ChainStatus, canonical, canonical_plain, entry_hash, entry_hash_plain, verify_chain
from fenghuo.ledger.models import LedgerEntry, LedgerHead
from fenghuo.platform.bulk_sql import insert_rows
from fenghuo.platform.clock import Clock, iso


def _locked_head(session: Session) -> LedgerHead:
    """The head row, locked once per transaction: later appends in the same transaction reuse
    it (a bulk registration appends thousands of entries; a query each would flush and
    round-trip each time). Keyed by the transaction object, so a session that runs a second
    transaction reads and locks the head again."""
    tx = session.get_transaction()
    cached = session.info.get("fenghuo.ledger_head")
    if tx is not None and cached is not None and cached[0] is tx and cached[1] in session:
        return cached[1]
    head = session.execute(select(LedgerHead).where(LedgerHead.id == 1).with_for_update()).scalar_one_or_none()
    if head is None:
        head = LedgerHead(id=1, seq=0, hash=GENESIS)
        session.add(head)
    session.info["fenghuo.ledger_head"] = (session.get_transaction(), head)
    return head


def append(session: Session, clock: Clock, kind: str, subject: str, actor: str, payload: dict[str, Any]) -> LedgerEntry:
    head = _locked_head(session)
    fields = {
        "seq": head.seq + 1,
        "ts": iso(clock.now()),
        "kind": kind,
        "subject": subject,
        "actor": actor,
        "payload": canonical(payload),
        "prev_hash": head.hash,
    }
    entry = LedgerEntry(**fields, hash=entry_hash(fields))
    session.add(entry)
    head.seq, head.hash = entry.seq, entry.hash
    return entry


def append_plain(session: Session, entries: list[tuple[str, str, str, str, dict[str, Any]]]) -> None:
    """Append many entries, (ts, kind, subject, actor, payload) each, in this order: what as many
    ``append`` calls write, in one INSERT of all the rows (``platform.bulk_sql.insert_rows``) and
    with no ORM object per entry (a bulk registration writes two entries a service; ``append``'s
    object and flush were over a quarter of its CPU, issue 19). The payloads must hold no float (``chain.canonical_plain``).
    The rows are written at once: the caller inserts the rows they record before or after, as
    it needs, in the same transaction."""
    if not entries:
        return
    head = _locked_head(session)
    seq, prev = head.seq, head.hash
    rows = []
    for ts, kind, subject, actor, payload in entries:
        seq += 1
        text = canonical_plain(payload)
        prev_hash, prev = prev, entry_hash_plain(seq, prev, ts, kind, subject, actor, text)
        rows.append({"seq": seq, "ts": ts, "kind": kind, "subject": subject, "actor": actor, "payload": text,
                     "prev_hash": prev_hash, "hash": prev})
    insert_rows(session, LedgerEntry.__table__, rows)
    head.seq, head.hash = seq, prev


def entry_dict(e: LedgerEntry) -> dict[str, Any]:
    return {
        "seq": e.seq,
        "ts": e.ts,
        "kind": e.kind,
        "subject": e.subject,
        "actor": e.actor,
        "payload": e.payload,
        "prev_hash": e.prev_hash,
        "hash": e.hash,
    }


def iter_entries(session: Session, *, after: int = 0, batch: int = 5000, subject: str | None = None) -> Iterator[dict[str, Any]]:
    """Entries in seq order, read in batches so a long ledger never sits in memory at once."""
    last = after
    while True:
        q = select(LedgerEntry).where(LedgerEntry.seq > last).order_by(LedgerEntry.seq).limit(batch)
        if subject is not None:
            q = q.where(LedgerEntry.subject == subject)
        rows = session.execute(q).scalars().all()
        if not rows:
            return
        for row in rows:
            yield entry_dict(row)
        last = rows[-1].seq
        session.expunge_all()


def head(session: Session) -> tuple[int, str]:
    row = session.get(LedgerHead, 1)
    return (row.seq, row.hash) if row else (0, GENESIS)


def count(session: Session) -> int:
    return session.execute(select(func.count()).select_from(LedgerEntry)).scalar_one()


def verify(session: Session) -> ChainStatus:
    """Verify the stored chain, and that the head row agrees with the newest entry (a deleted
    newest row leaves the head pointing past the end)."""
    status = verify_chain(iter_entries(session))
    if status.ok:
        head_seq, head_hash = head(session)
        if (head_seq, head_hash) != (status.head_seq, status.head_hash):
            from fenghuo.ledger.chain import ChainProblem

            return ChainStatus(False, status.count, status.head_seq, status.head_hash,
                               ChainProblem(status.head_seq + 1, "removed", f"the head records seq {head_seq} but the chain ends at {status.head_seq}"))
    return status
