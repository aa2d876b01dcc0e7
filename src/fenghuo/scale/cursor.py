"""Counting every event exactly once, whatever replicas come and go: a cursor over stream
sequences and the set of counted event ids, both written in PostgreSQL under the leader's lease.

Only the replica holding the lease counts (its indicators feed warning evaluation, which must
happen once). It reads the durable consumer strictly in stream order; for each batch of
messages it drops events already counted (``seen.py``), writes the last message's ``seq`` to
``scale_cursors`` and the new ids to ``monitor_seen`` in one transaction that first checks the
lease epoch (``lease.require``), then hands the events to the bus's handlers (indicators, then
rules), then acknowledges. So:

- a redelivery of anything at or below the cursor (an ack lost when NATS restarted) is skipped;
- an event resent inside another message is recognised by its id;
- a new leader binds the durable consumer so that it delivers from ``cursor + 1`` (kept when it
  handed out nothing past the cursor, else recreated there): what the dead leader recorded is
  not counted again, what it did not record is counted now;
- acknowledgements are explicit, one per message, sent after its events are recorded; they
  drive redelivery and flow control (``max_ack_pending``), never exactness: the cursor in
  PostgreSQL is the authority, so a lost or late acknowledgement costs a redelivery that is
  skipped, never a second count;
- if the first message of a batch is not ``cursor + 1`` (a fetch lost in a NATS restart left a
  gap that JetStream would only redeliver after ``ack_wait``), the consumer is recreated at
  ``cursor + 1`` instead of counting past the gap;
- a stale leader (its lease taken over) fails the epoch check and stops before it writes;
- a new leader first replays the last ``horizon`` seconds of the stream up to the cursor into
  its indicators (not its rules), so its windows hold what the dead leader's held (``_replay``).

Stream sequences are contiguous for our subjects: a repeated message is dropped before it gets
one, and retention only removes from the front (docs/scale.md: "Limits and retention").

"Counted" means: recorded under the cursor and applied to the leader's indicators.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import msgspec
import nats
from nats.js import api
from sqlalchemy import select

from fenghuo.monitor.wire import WireEvent
from fenghuo.platform.db import Database
from fenghuo.scale import lease
from fenghuo.scale.connection import NatsLink
from fenghuo.scale.jsbus import JetStreamBus
from fenghuo.scale.models import Cursor
from fenghuo.scale.seen import Seen

log = logging.getLogger(__name__)
_dec = msgspec.json.Decoder(list[WireEvent] | WireEvent, strict=False)  # a batch (what we publish) or one event
# (subject, event) pairs in, the events allowed to count out (unknown service, wrong provider…)
Admit = Callable[[list[tuple[str, WireEvent]]], list[WireEvent]]


async def _ack_all(msgs: list) -> None:
    """Explicit acknowledgements, in order, in one task on the link's loop (not one per message)."""
    for m in msgs:
        await m.ack()


def _same_config(have: api.ConsumerConfig, want: api.ConsumerConfig) -> bool:
    """Whether an existing durable consumer has every setting ``_bind`` gives one (but its start
    sequence, which moves with the cursor): otherwise a changed ``ack_wait`` or replica count
    would never reach a consumer that is kept."""
    same = all(getattr(have, k) == getattr(want, k) for k in ("deliver_policy", "ack_policy", "filter_subject",
                                                              "max_ack_pending", "max_deliver"))
    ack_wait = have.ack_wait is not None and abs(have.ack_wait - want.ack_wait) < 1e-3
    replicas = (have.num_replicas or want.num_replicas) == want.num_replicas  # 0/None: the stream's, which we set
    return same and ack_wait and replicas


def read_cursor(db: Database, name: str) -> int:
    """The cursor row ``name`` (``<consumer>@<stream creation time>``), or the newest row of
    consumer ``name`` when no creation time is given."""
    with db.reader() as s:
        if "@" in name:
            row = s.get(Cursor, name)
        else:
            row = s.execute(select(Cursor).where(Cursor.name.like(f"{name}@%")).order_by(Cursor.updated_at.desc())).scalars().first()
        return row.seq if row else 0


class Counter:
    def __init__(self, link: NatsLink, db: Database, bus: JetStreamBus, *, lease_name: str = "leader",
                 admit: Admit | None = None, batch: int = 1000, rebuild: Callable[[list[WireEvent]], None] | None = None,
                 horizon: float = 3600.0, rebuild_max: int = 2_000_000, seen_window: float = 1200.0) -> None:
        self.link, self.db, self.bus = link, db, bus
        self.settings = link.settings
        self.name = self.settings.consumer
        self.cursor_name = self.name  # + the stream's creation time, once bound
        self.lease_name = lease_name
        self.admit = admit
        self.batch = batch
        self.rebuild, self.horizon, self.rebuild_max = rebuild, horizon, rebuild_max
        self.rebuilt = 0  # events replayed into the windows at take-overs, in all (a statistic)
        # (cursor row, stream seq) through which this process's windows already hold the events:
        # a replica that leads again (its lease lapsed while the database was away) must not
        # replay what it counted itself into the same windows a second time
        self.applied: tuple[str, int] = ("", 0)
        self.cursor = 0
        self.epoch: int | None = None
        self.counted = 0  # events recorded and handed to the handlers by this process
        self.skipped = 0  # messages redelivered at or below the cursor
        self.duplicates = 0  # events counted before, arriving again in another message
        self.seen = Seen(seen_window)
        self.refused = 0  # undecodable or not admitted
        self.resets = 0  # durable consumer (re)created at cursor + 1
        self.kept = 0  # binds that kept the durable consumer as it was
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._psub = None
        self.ready = threading.Event()  # bound and replayed: the windows are whole, rules may be evaluated

    # -- life ---------------------------------------------------------------------------------
    def start(self, epoch: int) -> None:
        self.stop()
        self.ready.clear()
        self.epoch = epoch
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(self._stop,), daemon=True, name="fenghuo-counter")
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.ready.clear()
        if self._thread and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
        self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- the consumer -------------------------------------------------------------------------
    def _bind(self) -> None:
        """Bind to the durable consumer so that what comes next is ``cursor + 1``: keep it when it
        has handed out nothing beyond the cursor (a restart, a new leader after a clean hand-over),
        recreate it at ``cursor + 1`` when its configuration differs or it delivered messages that
        were never recorded (those would only come back after ``ack_wait``; a durable consumer's
        start cannot be moved, so it is made again)."""
        s = self.settings
        info = self.link.run(self.link.js.stream_info(s.stream), timeout=10)
        # One cursor per incarnation of the stream: a stream deleted and made again restarts its
        # sequences at 1, and an old cursor would hide every new event.
        created = info.created.timestamp() if info.created else 0.0
        self.cursor_name = f"{self.name}@{created:.6f}"
        self.cursor = read_cursor(self.db, self.cursor_name)
        self.seen.load(self.db, time.time())
        cfg = api.ConsumerConfig(durable_name=self.name, deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE,
                                 opt_start_seq=self.cursor + 1, ack_policy=api.AckPolicy.EXPLICIT,
                                 ack_wait=s.ack_wait_seconds, max_deliver=-1, max_ack_pending=50_000,
                                 filter_subject=f"{s.events_subject}.>", num_replicas=s.replicas,
                                 description="fenghuo counting leader / 烽火计数主副本")
        cursor = self.cursor

        async def go():
            if self._psub is not None:
                try:
                    await self._psub.unsubscribe()
                except Exception:  # noqa: BLE001
                    pass
            try:
                have = await self.link.js.consumer_info(s.stream, self.name)
            except nats.js.errors.NotFoundError:
                have = None
            keep = have is not None and _same_config(have.config, cfg) and (have.delivered.stream_seq or 0) <= cursor
            if not keep:
                if have is not None:
                    await self.link.js.delete_consumer(s.stream, self.name)
                await self.link.js.add_consumer(s.stream, cfg)
            return await self.link.js.pull_subscribe_bind(self.name, stream=s.stream), keep

        self._psub, kept = self.link.run(go(), timeout=15)
        self.kept += int(kept)
        self.resets += int(not kept)

    def _replay(self) -> None:
        """At take-over: the windows the previous leader held died with it. Replay the stream
        from ``now - horizon`` (the longest window) up to the cursor into ``rebuild`` (the
        indicators only, not the rules), so the new leader's windows hold what the old one's did.
        Bounded by ``rebuild_max`` events; nothing here moves the cursor."""
        have = self.applied[1] if self.applied[0] == self.cursor_name else 0
        if self.rebuild is None or self.cursor <= have:
            return
        s = self.settings
        start = datetime.now(UTC) - timedelta(seconds=self.horizon)
        cfg = api.ConsumerConfig(deliver_policy=api.DeliverPolicy.BY_START_TIME,
                                 opt_start_time=start.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), ack_policy=api.AckPolicy.NONE,
                                 inactive_threshold=30.0, mem_storage=True, num_replicas=1)
        replayed: set[str] = set()
        n = 0  # events replayed by this take-over: ``rebuild_max`` bounds each replay, not the process
        through = have  # the windows hold events through this seq (kept if NATS fails half-way)
        psub = self.link.run(self.link.js.pull_subscribe(f"{s.events_subject}.>", stream=s.stream, config=cfg), timeout=15)
        try:
            while n < self.rebuild_max:
                try:
                    msgs = self.link.run(psub.fetch(self.batch, timeout=1.0), timeout=10)
                except (nats.errors.TimeoutError, TimeoutError):
                    through = self.cursor  # nothing more up to the cursor
                    return
                pairs, done = [], False
                for m in msgs:
                    if m.metadata.sequence.stream > self.cursor:
                        done = True
                        break
                    if m.metadata.sequence.stream <= have:
                        continue  # already in these windows
                    through = m.metadata.sequence.stream
                    try:
                        got = _dec.decode(m.data)
                    except (msgspec.ValidationError, msgspec.DecodeError):
                        continue
                    pairs.extend((m.subject, e) for e in (got if isinstance(got, list) else [got]))
                pairs = [p for p in pairs if p[1].id not in replayed and not replayed.add(p[1].id)]  # first copy only
                events = self.admit(pairs) if self.admit else [e for _, e in pairs]
                if events:
                    self.rebuild(events)
                    self.rebuilt += len(events)
                    n += len(events)
                if done:
                    through = self.cursor
                    return
        finally:
            self.applied = (self.cursor_name, through)
            try:
                self.link.run(psub.unsubscribe(), timeout=5)
            except Exception:  # noqa: BLE001
                pass

    def _run(self, stop: threading.Event) -> None:
        bound = False
        replayed = False
        while not stop.is_set():
            try:
                if not bound:
                    self._bind()
                    bound = True
                    if not replayed:
                        # retried if NATS fails half-way (the windows may then hold part of it twice:
                        # better than a leader that never evaluates)
                        self._replay()
                        replayed = True
                    self.ready.set()
                msgs = self.link.run(self._fetch(), timeout=10)
                if msgs and not self._process(msgs):
                    bound = False  # a gap: start again at cursor + 1
            except lease.NotLeader:
                # Stop evaluating at once (``ready`` gates the rules), but do not end the thread:
                # if this replica still holds the same epoch (its lease ran out for a moment and it
                # renewed it: the epoch stays), nobody else counted meanwhile and it resumes from
                # the cursor; if the lease changed hands, the keeper stops this counter (on_lose)
                # or starts a new one with the new epoch (on_gain).
                self.ready.clear()
                log.warning("counting paused: lease lost / 失去租约，暂停计数")
                while not stop.wait(0.2) and not self._holds():
                    pass
                bound = False
            except Exception as exc:  # noqa: BLE001 - NATS or PostgreSQL away: wait, then rebind from the cursor
                log.warning("counter: %s: %s", type(exc).__name__, exc)
                bound = False
                stop.wait(0.5)

    def _holds(self) -> bool:
        """Does this counter's epoch still hold the lease (checked the way writes check it)?"""
        try:
            with self.db.transaction() as s:
                lease.require(s, self.lease_name, self.epoch)
            return True
        except Exception:  # noqa: BLE001 - NotLeader, or the database away: not yet
            return False

    async def _fetch(self) -> list:
        """Wait up to 0.5 s for one message, then take what else is there within 5 ms. (A single
        ``fetch(batch)`` holds a lone message until the batch fills or its timeout ends, which
        put up to 0.5 s between an event and its warning.)"""
        try:
            first = await self._psub.fetch(1, timeout=0.5)
        except (nats.errors.TimeoutError, TimeoutError):  # nats-py raises either
            return []
        try:
            return first + await self._psub.fetch(self.batch - 1, timeout=0.005)
        except (nats.errors.TimeoutError, TimeoutError):
            return first

    def _process(self, msgs: list) -> bool:
        """Count one batch of messages; False if it does not start right after the cursor (a gap).

        Order: record (cursor and event ids, one transaction, under the lease), then hand the
        events to the handlers, then acknowledge. If recording fails nothing was counted and
        the same messages come again; if the process dies after recording, the next leader's
        replay puts these events into its windows (they are at or below the cursor)."""
        expected = self.cursor + 1
        todo: list[tuple[str, WireEvent]] = []
        stale = 0
        last = self.cursor
        gap = False
        seqs = [m.metadata.sequence.stream for m in msgs]  # parsed once: it is a string split per call
        for m, seq in zip(msgs, seqs):
            if seq <= self.cursor:
                stale += 1
                continue
            if seq != expected:
                log.info("gap in delivery at %s (got %s): rebinding at the cursor", expected, seq)
                gap = True
                break
            expected += 1
            last = seq
            try:
                got = _dec.decode(m.data)
            except (msgspec.ValidationError, msgspec.DecodeError) as exc:
                self.refused += 1
                log.warning("undecodable message at seq %s dropped: %s", seq, exc)
                continue
            todo.extend((m.subject, e) for e in (got if isinstance(got, list) else [got]))
        self.skipped += stale
        if last > self.cursor:
            fresh = self.seen.fresh([e.id for _, e in todo])
            new = [x for x, f in zip(todo, fresh) if f]
            self.duplicates += len(todo) - len(new)
            events = self.admit(new) if self.admit else [e for _, e in new]
            self.refused += len(new) - len(events)
            ids = [e.id for e in events]
            now = time.time()
            self._advance(last, ids=ids, now=now)
            self.seen.remember(ids, now)
            if events:
                self.bus.deliver(events)
            self.applied = (self.cursor_name, last)
            self.counted += len(events)
        acked = [m for m, seq in zip(msgs, seqs) if seq <= self.cursor]
        if acked:  # each message once its events are recorded (or it was at or below the cursor already)
            self.link.submit(_ack_all(acked))
        return not gap

    def _advance(self, seq: int, ids: list[str] | None = None, now: float | None = None) -> None:
        now = now or time.time()
        with self.db.transaction() as s:
            lease.require(s, self.lease_name, self.epoch)
            row = s.execute(select(Cursor).where(Cursor.name == self.cursor_name).with_for_update()).scalar_one_or_none()
            if row is None:
                s.add(Cursor(name=self.cursor_name, seq=seq, epoch=self.epoch, updated_at=now))
            else:
                if row.seq >= seq:
                    raise lease.NotLeader(f"cursor {self.cursor_name} already at {row.seq} ≥ {seq}: another counter runs")
                row.seq, row.epoch, row.updated_at = seq, self.epoch, now
            self.seen.record(s, ids or [], now)
        self.cursor = seq
