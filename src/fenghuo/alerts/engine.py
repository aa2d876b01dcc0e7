"""The alert engine: evaluates rules when events arrive (so a rule with ``for: 0`` fires inside
the request that made it true) and on a short tick (for ``for`` durations, flap windows and
windows emptying with time), persists every change with its ledger entry, queues
notifications, and tells listeners.

Memory holds the open warnings as a mirror of the database; at start they are loaded back, so a
restart neither forgets a warning nor fires it again (the database's unique ``active`` index
would refuse a second open warning with the same fingerprint anyway).
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from operator import attrgetter
from typing import Any

from sqlalchemy import select

from fenghuo.alerts import acks, dispatch, listeners, store
from fenghuo.alerts.config import AlertsConfig
from fenghuo.alerts.evaluate import measure
from fenghuo.alerts.lifecycle import FIRING, PENDING, RESOLVED, Transition, WarningState, advance, start
from fenghuo.alerts.models import NotificationRow, WarningRow
from fenghuo.alerts.notify import Notifier
from fenghuo.alerts.rules import Rule
from fenghuo.alerts.screen import Screen
from fenghuo.alerts.silence_match import applies
from fenghuo.alerts.silences import active_silences
from fenghuo.monitor.ingest import Monitor
from fenghuo.platform.leadership import SOLE, Leadership

log = logging.getLogger(__name__)
_service = attrgetter("service")


class _MemoReads:
    """``Indicators.value`` for one service at one instant, each (indicator, window, category)
    read once: the rules of a service name the same few indicators at several levels."""

    __slots__ = ("indicators", "memo")

    def __init__(self, indicators: Any) -> None:
        self.indicators = indicators
        self.memo: dict[tuple, tuple[float, float]] = {}

    def value(self, service: str, indicator: str, window: str, category: str | None, now: float) -> tuple[float, float]:
        key = (indicator, window, category)
        v = self.memo.get(key)
        if v is None:
            v = self.memo[key] = self.indicators.value(service, indicator, window, category, now)
        return v


class AlertEngine:
    def __init__(self, monitor: Monitor, config: AlertsConfig, leadership: Leadership = SOLE) -> None:
        self.monitor = monitor
        self.db = monitor.db
        self.config = config
        self.rules = config.rules
        # Several control-plane replicas: only the leader ticks and notifies, and its writes are
        # fenced by the lease inside their transaction (fenghuo.scale.replica supplies it).
        self.leadership = leadership
        self.notifier = Notifier(self.db, config.channels, active=leadership.active)
        self.open: dict[str, tuple[WarningState, dict[str, Any]]] = {}
        # which touched services need the per-service pass; change-rule baselines as arrays
        self.screen = Screen(self.rules, monitor.indicators)
        self.baselines: Any = self.screen.baselines()
        self.lock = threading.RLock()
        self._rules_cache: dict[str, tuple[object, dict[str, list[Rule]]]] = {}
        self._by_name = {r.name: r for r in self.rules}
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self.transitions_total: dict[str, int] = defaultdict(int)
        self._fingerprints: dict[tuple[str, str], str] = {}

    # -- life -------------------------------------------------------------------------------
    def load(self) -> None:
        with self.lock:
            self.open = {w.fingerprint: (w, labels) for w, labels in store.load_open(self.db)}

    def start(self, background: bool = True) -> None:
        self.load()
        self.monitor.bus.subscribe(self.on_events)
        if background:
            self.notifier.start()
            self._ticker = threading.Thread(target=self._tick_loop, daemon=True, name="fenghuo-alerts-tick")
            self._ticker.start()

    def stop(self) -> None:
        self._stop.set()
        if self._ticker:
            self._ticker.join(timeout=5)
        self.notifier.stop()

    def _tick_loop(self) -> None:
        while not self._stop.wait(self.config.tick_seconds):
            if not self.leadership.active():
                continue
            try:
                self.tick()
            except Exception:
                log.exception("alert tick failed")

    # -- evaluation ---------------------------------------------------------------------------
    def now(self) -> float:
        return self.db.clock.now().timestamp()

    def rules_for(self, service: str) -> dict[str, list[Rule]]:
        info = self.monitor.directory.services.get(service)
        cached = self._rules_cache.get(service)
        if cached is not None and cached[0] is info:
            return cached[1]
        by_alert: dict[str, list[Rule]] = defaultdict(list)
        if info is not None:
            for r in self.rules:
                if r.services.matches(info):
                    by_alert[r.alert].append(r)
        self._rules_cache[service] = (info, dict(by_alert))
        return self._rules_cache[service][1]

    def labels(self, w: WarningState) -> dict[str, Any]:
        info = self.monitor.directory.services.get(w.service)
        base = {"alert": w.alert, "service": w.service, "level": w.level.value, "rule": w.rule}
        if info is not None:
            base.update({"grade": info.grade, "sector": info.sector, "provider": info.provider,
                         "jurisdiction": info.jurisdiction_path})
            base.update({k: v for k, v in info.labels.items() if k not in base})
        return base

    def on_events(self, events: list) -> None:  # bus handler
        self.evaluate(None, batch=events)

    def tick(self) -> None:
        with self.lock:
            services = {w.service for w, _ in self.open.values()}
        self.evaluate(services)
        self._repeats()

    def _fingerprint(self, alert: str, service: str) -> str:
        key = (alert, service)
        fp = self._fingerprints.get(key)
        if fp is None:
            if len(self._fingerprints) > 1_000_000:  # bounded: a fleet's worth, then start again
                self._fingerprints.clear()
            fp = self._fingerprints[key] = store.fingerprint(alert, service)
        return fp

    def evaluate(self, services: set[str] | None, now: float | None = None, batch: list | None = None) -> list[Transition]:
        """The rules of ``services``, or of the services of ``batch`` (events just counted)."""
        now = self.now() if now is None else now
        indicators = self.monitor.indicators
        # One lock for the whole pass (re-entered by each read). The screen answers for all
        # services at once which can have a rule that holds or have an open warning; only those
        # take the per-service pass, each (indicator, window, category) read once (issue 19: a
        # batch that spans 1,000 services evaluated every rule of each in Python).
        with self.lock, indicators.lock:
            out: list[Transition] = []
            dirty: list[WarningState] = []
            open_services = {w.service for w, _ in self.open.values()}
            rows = None
            if batch is not None:
                # the indicators' own list of the batch's services and rows when the batch is the
                # one they just applied (the usual); issue 19: ~0.15 ms of a 1,000-service batch
                got = indicators.batch_rows(batch)
                services, rows = got if got is not None else (list(set(map(_service, batch))), None)
            infos, kinds = self.monitor.directory.services_and_kinds  # one publication: they agree
            todo = self.screen.run(list(services), infos, open_services, now, rows, kinds)
            for svc in todo:
                reads = _MemoReads(indicators)
                for alert, rules in self.rules_for(svc).items():
                    results = {}
                    for r in rules:
                        m = measure(r, reads, svc, now, self.baselines, step=indicators.window_lengths[r.window] / 60)
                        results[r.name] = (m.holds, m.value)
                    fp = self._fingerprint(alert, svc)
                    entry = self.open.get(fp)
                    if entry is None:
                        if not any(h for h, _ in results.values()):
                            continue
                        w = WarningState(id=store.new_id(), fingerprint=fp, alert=alert, service=svc, state=PENDING,
                                         level=rules[0].level, started_at=now)
                        ts = start(w, rules, results, now)
                        self.open[fp] = (w, {})
                    else:
                        w = entry[0]
                        before = (tuple(sorted(w.rules)), w.clearing_since, w.flaps, w.level, w.state)
                        ts = advance(w, rules, results, now)
                        if not ts and before != (tuple(sorted(w.rules)), w.clearing_since, w.flaps, w.level, w.state):
                            dirty.append(w)
                    out += ts
            if out or dirty:
                self._commit(out, dirty, now)
            return out

    def _description(self, w: WarningState) -> str:
        r = self._by_name.get(w.rule)
        return f"{r.description_zh} / {r.description_en}" if r else ""

    def _commit(self, transitions: list[Transition], dirty: list[WarningState], now: float, extra_items=None) -> None:
        touched = {id(t.warning): t.warning for t in transitions}
        touched.update({id(w): w for w in dirty})
        try:
            with self.db.transaction() as s:
                self.leadership.fence(s)
                rows = {}
                for w in touched.values():
                    labels = self.labels(w)
                    self.open[w.fingerprint] = (w, labels)
                    rows[w.id] = store.save(s, w, labels, self._description(w), now)
                for t in transitions:
                    store.record(s, self.db.clock, t, rows[t.warning.id])
                items = [{"kind": t.kind, "warning": t.warning, "labels": self.open[t.warning.fingerprint][1],
                          "rule": self._by_name.get(t.warning.rule)} for t in transitions] + list(extra_items or [])
                self._queue(s, items, now)
                # after queueing, so the resolution of a silenced warning is silenced too
                for t in transitions:
                    if t.kind == "resolved":
                        self._end_until_resolved(s, t.warning, now)
        except Exception:
            log.exception("could not store warning transitions; reloading open warnings from the database")
            self.load()
            raise
        for w in touched.values():
            if w.state == RESOLVED:
                self.open.pop(w.fingerprint, None)
        for t in transitions:
            self.transitions_total[t.kind] += 1
            listeners.publish({"kind": t.kind, "warning": {**t.warning.view(), "labels": self.labels(t.warning)},
                               "from": t.from_state, "to": t.to_state, "level": t.level.value,
                               "previous_level": t.previous_level.value if t.previous_level else None,
                               "at": store.ts(now)})
        self.notifier.wake()

    def _queue(self, s, items: list[dict[str, Any]], now: float) -> None:
        if not items:
            return
        silences = active_silences(s, now)
        firing = [w for w, _ in self.open.values() if w.state == FIRING]
        rows = dispatch.build(items, group_by=self.config.group_by, channels=self.config.channels,
                              directory=self.monitor.directory.services, firing=firing, silences=silences, now=now)
        if not rows:
            return
        have = set(s.execute(select(NotificationRow.id).where(NotificationRow.id.in_([r.id for r in rows]))).scalars())
        for r in rows:
            if r.id not in have:
                s.add(r)
                have.add(r.id)

    def _end_until_resolved(self, s, w: WarningState, now: float) -> None:
        labels = self.open.get(w.fingerprint, (w, self.labels(w)))[1]
        for sil in active_silences(s, now):
            if sil.until_resolved and applies(sil, labels):
                sil.ended_at, sil.ended_reason = store.ts(now), f"warning {w.id} resolved"
                from fenghuo.ledger import store as ledger

                ledger.append(s, self.db.clock, "silence.ended", f"silence:{sil.id}", store.SYSTEM_ACTOR,
                              {"silence": sil.id, "reason": sil.ended_reason})

    def _repeats(self) -> None:
        every = self.config.repeat_interval
        if every <= 0:
            return
        now = self.now()
        items = []
        with self.lock:
            due = [(w, labels) for w, labels in self.open.values()
                   if w.state == FIRING and not w.ack_owner and w.fired_at is not None and now - w.fired_at >= every]
            if due:
                # An acknowledgement made by another process on this database (the local CLI,
                # another replica) is in the row, not in this mirror: read it before repeating.
                with self.db.reader() as s:
                    owners = dict(s.execute(select(WarningRow.id, WarningRow.ack_owner)
                                            .where(WarningRow.id.in_([w.id for w, _ in due]))).all())
                for w, labels in due:
                    if owners.get(w.id):
                        w.ack_owner = owners[w.id]
                        continue
                    n = int((now - w.fired_at) // every)
                    items.append({"kind": "repeat", "warning": w, "labels": labels, "rule": self._by_name.get(w.rule),
                                  "extra": str(n)})
            if items:
                with self.db.transaction() as s:
                    self.leadership.fence(s)
                    self._queue(s, items, now)
                self.notifier.wake()

    # -- people -------------------------------------------------------------------------------
    def acknowledge(self, warning_id: str, owner: str, note: str, actor_label: str) -> dict[str, Any]:
        """The shared acknowledgement (``alerts.acks``), then the in-memory mirror, under the
        engine's lock so a tick cannot queue a repeat between the two."""
        with self.lock:
            result = acks.acknowledge(self.db, warning_id, owner, note, actor_label)
            entry = self.open.get(result["fingerprint"])
            if entry:
                entry[0].ack_owner = owner
        return result

    def metric_families(self, visible: set[str]) -> list:
        with self.lock:
            counts: dict[tuple[str, str, str], int] = defaultdict(int)
            for w, _ in self.open.values():
                if w.service in visible:
                    counts[(w.service, w.state, w.level.value)] += 1
        return [
            ("warnings_open", "gauge", "open warnings by service, state and level / 未解除预警",
             [({"service": k[0], "state": k[1], "level": k[2]}, v) for k, v in sorted(counts.items())]),
            ("warning_transitions_total", "counter", "warning transitions since start",
             [({"kind": k}, v) for k, v in sorted(self.transitions_total.items())]),
        ]


