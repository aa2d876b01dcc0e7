"""Which guard instances enforce which switch version: acknowledgements, heartbeats and the
answer to "do all N instances of S enforce version V, and since when?".

Every guard acknowledges each state version it starts enforcing and sends a heartbeat every
few seconds. With 100 instances a single command yields 100 acknowledgements, so writing each
one in its own transaction would put the database (SQLite's single writer in particular) on
the switch's critical path. The book therefore keeps the latest word from each instance in
memory and writes the changed rows in one transaction (one multi-row upsert), and always
before it answers an enforcement question, so the answer is read from the database (which
every control-plane replica shares). When a flush is due (:meth:`InstanceBook.flush_in`):
``burst_seconds`` after an acknowledgement that changes what an instance enforces (a new
version, state or fail-safe, a new instance), so another replica's enforcement answer sees a
change's acknowledgements within tens of milliseconds while the ~100 of them still share one
transaction; ``flush_seconds`` after a heartbeat that only says "still here".

A guard process hosting many instances, or a relay, books many acknowledgements in one call
(:meth:`InstanceBook.ack_many`, ``POST /api/v1/instances/acks``).
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from fenghuo.control import row_scope
from fenghuo.control.instance_models import GuardInstance
from fenghuo.control.models import SwitchState
from fenghuo.control.transitions import State
from fenghuo.platform import pages
from fenghuo.platform.clock import iso
from fenghuo.platform.db import Database
from fenghuo.platform.errors import FenghuoError, Forbidden, Invalid, NotFound
from fenghuo.platform.inputs import unstorable
from fenghuo.platform.roles import Actor, Role
from fenghuo.registry import scope
from fenghuo.registry.models import Service

DEFAULT_STALE_SECONDS = 30.0
MAX_VERSION = 2**63 - 1  # a BIGINT column (PostgreSQL) or SQLite's INTEGER holds no more
log = logging.getLogger(__name__)
# What a database says of a row it will not take (SQLite's driver raises OverflowError unwrapped).
REFUSED = (SQLAlchemyError, OverflowError, ValueError, TypeError)
ACK_ROLES = (Role.system, Role.admin, Role.operator)
MAX_BATCH = 1000  # acknowledgements in one ack_many call (POST /instances/acks)
_COLUMNS = ("id", "service_id", "state", "version", "enforced_since", "last_seen", "failsafe", "started_at", "meta")


def _parse_time(value: str | None, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        raise Invalid(f"字段 {field} 不是 ISO 8601 时间", f"field {field} is not an ISO 8601 time", field=field) from None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


class InstanceBook:
    """The latest acknowledgement of every guard instance, written behind to the database."""

    def __init__(self, db: Database, flush_seconds: float = 0.5, burst_seconds: float = 0.03) -> None:
        self.db = db
        self.flush_seconds = flush_seconds
        self.burst_seconds = min(burst_seconds, flush_seconds)
        self._rows: dict[str, dict[str, Any]] = {}
        self._dirty: set[str] = set()
        self._changed_at: float | None = None  # monotonic time of the first unwritten change (not heartbeat)
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._last_flush = time.monotonic()
        self._allowed: set[tuple[str, str]] = set()  # (actor label, service) already authorised

    def _authorise(self, actor: Actor, service_id: str) -> None:
        key = (actor.label, service_id)
        if key in self._allowed:
            return
        if actor.role not in ACK_ROLES:
            raise Forbidden(f"角色 {actor.role.value} 不能代表守卫确认状态", f"role {actor.role.value} may not acknowledge for a guard")
        with self.db.reader() as s:
            svc = s.get(Service, service_id)
            if svc is None:
                raise NotFound(f"未知服务 {service_id}", f"unknown service {service_id}", code="unknown_service")
            scope.require_can_command(s, actor, svc)
        self._allowed.add(key)

    def in_memory(self, actor: Actor, body: dict[str, Any]) -> bool:
        """Whether ``ack(..., flush=False)`` of ``body`` touches no database: the actor is
        already authorised for the service and the instance's row is held (the HTTP route then
        runs it on the event loop instead of a worker thread)."""
        return (actor.label, body["service"]) in self._allowed and body["instance"] in self._rows

    def flush_in(self) -> float | None:
        """Seconds until a flush is due (≤ 0: now); None when nothing is unwritten."""
        if not self._dirty:
            return None
        now = time.monotonic()
        due = self._last_flush + self.flush_seconds
        if self._changed_at is not None:
            due = min(due, self._changed_at + self.burst_seconds)
        return due - now

    def flush_due(self) -> bool:
        wait = self.flush_in()
        return wait is not None and wait <= 0

    def _checked(self, body: dict[str, Any]) -> dict[str, Any]:
        """The fields of one acknowledgement as stored, or :class:`Invalid` naming the field."""
        try:
            state = State(body["state"]).value
        except ValueError:
            raise Invalid(f"未知状态 {body['state']}", f"unknown state {body['state']}", field="state") from None
        version = body["version"]
        if isinstance(version, bool) or not isinstance(version, int) or not 0 <= version <= MAX_VERSION:
            raise Invalid(f"字段 version 须为 0 到 {MAX_VERSION} 的整数", f"field version must be an integer from 0 to {MAX_VERSION}",
                          field="version")
        enforced = _parse_time(body.get("enforced_at"), "enforced_at")
        started = _parse_time(body.get("started_at"), "started_at")
        bad = unstorable(body.get("meta"))  # NATS acks come here without the HTTP body's check
        if bad is not None:
            where, (zh, en) = bad
            raise Invalid(f"字段 meta.{where} {zh}", f"field meta.{where} {en}", field="meta")
        return {"id": body["instance"], "service_id": body["service"], "state": state, "version": int(version),
                "enforced": iso(enforced) if enforced else None, "started": iso(started) if started else None,
                "failsafe": bool(body.get("failsafe", False)), "meta": body.get("meta")}

    def _stored(self, instances: list[str]) -> dict[str, dict[str, Any]]:
        """Rows of instances the book does not hold yet (read outside the lock the event loop takes)."""
        todo = [i for i in dict.fromkeys(instances) if i not in self._rows]
        if not todo:
            return {}
        with self.db.reader() as s:
            found = s.execute(select(GuardInstance).where(GuardInstance.id.in_(todo))).scalars()
            return {r.id: _row_dict(r) for r in found}

    def _book(self, c: dict[str, Any], stored: dict[str, Any] | None, now: str) -> dict[str, Any]:
        with self._lock:
            instance = c["id"]
            old = self._rows.get(instance) or stored
            same = old is not None and old["service_id"] == c["service_id"] and old["version"] == c["version"] \
                and old["state"] == c["state"]
            row = {
                "id": instance, "service_id": c["service_id"], "state": c["state"], "version": c["version"],
                "enforced_since": old["enforced_since"] if same else (c["enforced"] or now),
                "last_seen": now, "failsafe": c["failsafe"],
                "started_at": c["started"] or (old or {}).get("started_at"),
                "meta": c["meta"] or (old or {}).get("meta") or {},
            }
            # what it enforces changed (not a heartbeat): write it soon
            if (not same or old["failsafe"] != row["failsafe"]) and self._changed_at is None:
                self._changed_at = time.monotonic()
            self._rows[instance] = row
            self._dirty.add(instance)
        return row

    def ack(self, actor: Actor, body: dict[str, Any], *, flush: bool = True) -> dict[str, Any]:
        """Record one acknowledgement or heartbeat; returns what the book now holds for it.
        ``flush=False``: leave a due flush to the caller (see :meth:`flush_in`)."""
        self._authorise(actor, body["service"])
        checked = self._checked(body)
        stored = self._stored([checked["id"]]).get(checked["id"])
        row = self._book(checked, stored, iso(self.db.clock.now()))
        if flush and self.flush_due():
            self.flush()
        return row

    def ack_many(self, actor: Actor, bodies: list[dict[str, Any]], *, flush: bool = True) -> list[dict[str, Any] | FenghuoError]:
        """Record many acknowledgements in the order given (a later one of the same instance
        wins). All or nothing for malformed input: :class:`Invalid` naming ``acks.<i>.<field>``
        before any is booked, and :class:`Forbidden` when the actor's role may not acknowledge.
        Per acknowledgement: a service that is unknown or outside the actor's scope refuses
        that one only (its place in the answer holds the error), so one stale instance in a
        relay's batch does not silence the others."""
        if len(bodies) > MAX_BATCH:
            raise Invalid(f"一次最多 {MAX_BATCH} 条确认", f"at most {MAX_BATCH} acknowledgements at once", field="acks")
        if actor.role not in ACK_ROLES:
            raise Forbidden(f"角色 {actor.role.value} 不能代表守卫确认状态", f"role {actor.role.value} may not acknowledge for a guard")
        checked = []
        for i, body in enumerate(bodies):
            try:
                checked.append(self._checked(body))
            except Invalid as exc:
                field = f"acks.{i}.{exc.details.get('field', '')}"
                raise Invalid(f"第 {i} 条确认：{exc.zh}", f"acknowledgement {i}: {exc.en}", field=field) from None
        out: list[dict[str, Any] | FenghuoError] = []
        refused: dict[str, FenghuoError] = {}
        for service in dict.fromkeys(c["service_id"] for c in checked):
            try:
                self._authorise(actor, service)
            except (NotFound, Forbidden) as exc:
                refused[service] = exc
        stored = self._stored([c["id"] for c in checked if c["service_id"] not in refused])
        now = iso(self.db.clock.now())
        for c in checked:
            out.append(refused.get(c["service_id"]) or self._book(c, stored.get(c["id"]), now))
        if flush and self.flush_due():
            self.flush()
        return out

    def batch_in_memory(self, actor: Actor, bodies: list[dict[str, Any]]) -> bool:
        """:meth:`in_memory` for every acknowledgement of a batch."""
        return all(self.in_memory(actor, b) for b in bodies)

    def flush(self) -> int:
        """Write every changed row in one transaction; returns how many were written."""
        with self._flush_lock:
            with self._lock:
                rows = sorted((dict(self._rows[i]) for i in self._dirty), key=lambda r: r["id"])  # one lock order
                self._dirty.clear()
                self._changed_at = None
            self._last_flush = time.monotonic()
            if not rows:
                return 0
            try:
                self._write(rows)
            except OperationalError:
                with self._lock:  # the database is away or busy: try again on the next flush
                    self._dirty.update(r["id"] for r in rows)
                    self._changed_at = self._changed_at or time.monotonic()
                raise
            except REFUSED:
                # One row the database refuses must not block every later flush (and with it
                # every enforcement answer): write the rows one by one and drop the refused.
                return sum(self._write_alone(r) for r in rows)
            return len(rows)

    def close(self) -> int:
        """The last flush, when the server stops: acknowledgements answered but not yet written
        would otherwise be lost until each guard's next heartbeat. A database that is away by
        then is logged, not raised, so the rest of the shutdown still runs."""
        try:
            return self.flush()
        except Exception as exc:  # noqa: BLE001 - shutting down: report and go on
            log.warning("acknowledgements of %d guard instances not written at shutdown: %s", len(self._dirty), exc)
            return 0

    def _write(self, rows: list[dict[str, Any]]) -> None:
        """One upsert for all rows: ``merge`` read each row first, ≈ 30 ms of CPU for the 100
        acknowledgements of one change on SQLite (and 100 round trips on PostgreSQL)."""
        dialect = {"sqlite": sqlite, "postgresql": postgresql}.get(self.db.engine.dialect.name)
        with self.db.transaction() as s:
            if dialect is None:
                for r in rows:
                    s.merge(GuardInstance(**r))
                return
            ins = dialect.insert(GuardInstance.__table__)
            t = GuardInstance.__table__.c
            # Two replicas may each hold a word from one instance (NATS hands acknowledgements to
            # either): the one that writes last must not put back an older version of the same service.
            newer = (t.service_id != ins.excluded.service_id) | (t.version <= ins.excluded.version)
            stmt = ins.on_conflict_do_update(index_elements=["id"], set_={c: ins.excluded[c] for c in _COLUMNS[1:]}, where=newer)
            s.execute(stmt, [{c: r[c] for c in _COLUMNS} for r in rows])

    def _write_alone(self, row: dict[str, Any]) -> int:
        try:
            self._write([row])
            return 1
        except OperationalError:
            with self._lock:
                self._dirty.add(row["id"])
            raise
        except REFUSED as exc:
            log.warning("dropped the acknowledgement of instance %s the database refused: %s", row["id"], exc)
            with self._lock:
                if self._rows.get(row["id"]) is not None and self._rows[row["id"]]["last_seen"] == row["last_seen"]:
                    del self._rows[row["id"]]
            return 0

    def enforcement(self, actor: Actor, service_id: str, stale_seconds: float = DEFAULT_STALE_SECONDS) -> dict[str, Any]:
        self.flush()
        with self.db.reader() as s:
            svc = s.get(Service, service_id)
            if svc is None:
                raise NotFound(f"未知服务 {service_id}", f"unknown service {service_id}", code="unknown_service")
            scope.require_visible(s, actor, svc)
            st = s.get(SwitchState, service_id)
            rows = [_row_dict(r) for r in s.execute(
                select(GuardInstance).where(GuardInstance.service_id == service_id).order_by(GuardInstance.id)).scalars()]
        return enforcement_view(service_id, st.state, st.version, st.changed_at, rows, self.db.clock.now(), stale_seconds)


    def page(self, actor: Actor, *, service: str | None = None, state: str | None = None, failsafe: bool | None = None,
             silent: bool | None = None, stale_seconds: float = DEFAULT_STALE_SECONDS, after: str | None = None,
             limit: int = pages.DEFAULT_LIMIT) -> pages.Page:
        """A page of the guard instances ``actor`` may see, in instance-id order, filtered in the
        database: by service, enforced state, fail-safe, and silent (not heard from for
        ``stale_seconds``) or live. Unwritten acknowledgements are flushed first."""
        if state is not None and state not in {x.value for x in State}:
            raise Invalid(f"未知状态 {state}", f"unknown state {state}", field="state")
        self.flush()
        cutoff = iso(self.db.clock.now() - timedelta(seconds=stale_seconds))
        with self.db.reader() as s:
            q = select(GuardInstance)
            if actor.role not in (Role.admin, Role.system):
                q = q.where(row_scope.visible(s, actor, GuardInstance))  # the row's own jurisdiction, no join
            if service:
                q = q.where(GuardInstance.service_id == service)
            if state:
                q = q.where(GuardInstance.state == state)
            if failsafe is not None:
                q = q.where(GuardInstance.failsafe.is_(failsafe))
            if silent is not None:
                q = q.where(GuardInstance.last_seen < cutoff if silent else GuardInstance.last_seen >= cutoff)
            rows, nxt = pages.keyset(s, q, [GuardInstance.id], after=after, limit=limit)
            items = [{"instance": r.id, "service": r.service_id, "state": r.state, "version": r.version,
                      "enforced_since": r.enforced_since, "last_seen": r.last_seen, "failsafe": r.failsafe,
                      "started_at": r.started_at, "meta": r.meta, "silent": r.last_seen < cutoff} for r in rows]
        return pages.Page(items, nxt)

    def switchable(self, actor: Actor, stale_seconds: float = DEFAULT_STALE_SECONDS) -> dict[str, bool]:
        """For every service ``actor`` may see that has a live instance: whether every live
        instance acknowledges its current version and state (no fail-safe) — one query for all,
        what a regulator's "share switchable" counts (``enforcement`` answers one in detail)."""
        self.flush()
        cutoff = iso(self.db.clock.now() - timedelta(seconds=stale_seconds))
        with self.db.reader() as s:
            rows = s.execute(
                select(GuardInstance.service_id, GuardInstance.version, GuardInstance.state, GuardInstance.failsafe,
                       SwitchState.version, SwitchState.state)
                .join(SwitchState, SwitchState.service_id == GuardInstance.service_id)
                .join(Service, Service.id == GuardInstance.service_id)
                .where(GuardInstance.last_seen >= cutoff, scope.visible_filter(s, actor))).all()
        out: dict[str, bool] = {}
        for sid, version, state, failsafe, current, current_state in rows:
            out[sid] = out.get(sid, True) and version == current and state == current_state and not failsafe
        return out


def _row_dict(row: GuardInstance) -> dict[str, Any]:
    return {c: getattr(row, c) for c in _COLUMNS}


def _ms_between(a: str, b: str) -> float | None:
    ta, tb = _parse_time(a, "a"), _parse_time(b, "b")
    return round((tb - ta).total_seconds() * 1000, 3) if ta and tb else None


def enforcement_view(service_id: str, state: str, version: int, changed_at: str, rows: list[dict[str, Any]],
                     now: datetime, stale_seconds: float) -> dict[str, Any]:
    """Pure: from the current state and the instances' rows, who enforces it and who lags.

    An instance not heard from for ``stale_seconds`` is *silent*: it is listed but not counted
    among the N live instances (it may have been shut down, or be cut off and on its fail-safe).
    """
    cutoff = iso(now - timedelta(seconds=stale_seconds))
    live, silent, laggards = [], [], []
    for r in rows:
        item = {"instance": r["id"], "state": r["state"], "version": r["version"], "enforced_since": r["enforced_since"],
                "last_seen": r["last_seen"], "failsafe": r["failsafe"], "meta": r["meta"],
                "lag_ms": _ms_between(changed_at, r["enforced_since"]) if r["version"] == version else None}
        if r["last_seen"] < cutoff:
            silent.append(item)
            continue
        live.append(item)
        if r["version"] != version or r["state"] != state or r["failsafe"]:
            laggards.append(item | {"behind_by": version - r["version"]})
    n = len(live)
    all_enforce = n > 0 and not laggards
    since = max((i["enforced_since"] for i in live), default=None) if all_enforce else None
    if all_enforce:
        zh = f"服务 {service_id} 的全部 {n} 个实例自 {since} 起执行版本 v{version}（{state}）"
        en = f"all {n} instances of {service_id} enforce version {version} ({state}) since {since}"
    elif n == 0:
        zh, en = f"服务 {service_id} 没有在线的守卫实例", f"no live guard instance of {service_id}"
    else:
        zh = f"服务 {service_id} 的 {n} 个实例中有 {len(laggards)} 个尚未执行版本 v{version}（{state}）"
        en = f"{len(laggards)} of {n} instances of {service_id} do not yet enforce version {version} ({state})"
    lags = [i["lag_ms"] for i in live if i["lag_ms"] is not None]
    return {
        "service": service_id, "state": state, "version": version, "changed_at": changed_at,
        "instances": n, "enforcing": n - len(laggards), "all_enforce": all_enforce, "since": since,
        "max_lag_ms": max(lags) if lags and all_enforce else None,
        "message": f"{zh} / {en}", "laggards": laggards, "silent": silent, "live": live,
    }
