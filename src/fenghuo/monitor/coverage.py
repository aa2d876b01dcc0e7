"""Coverage for regulators (纵向到底，横向到边): for a jurisdiction node, how many services are
registered beneath it, how many have live guard instances, and how many of those have every
live instance enforcing the service's current switch version.

At fleet scale (issue 19) nothing here is built per service: *registered* is one GROUP BY
jurisdiction query rolled up the (small) tree; *monitored* and *enforcing current* start from
the services with a live guard instance, which the monitor holds in memory anyway, looked up in
the database a chunk at a time (or in one read when most of the fleet is live). Each node row
names a sample of its unmonitored and stale services (the first ``SAMPLE`` ids, with the full
counts beside them); :func:`service_page` lists them all, a keyset page at a time
(``GET /api/v1/coverage/services``). The old per-node walk over every service took ~73 s at
100,000 services on SQLite.

Scope is ``registry.scope.visible_filter``; for a regulator (or a jurisdiction's auditor) it is
written as "the service's jurisdiction is one of the scope's nodes", the form a GROUP BY answers
from the jurisdiction index (the registry keeps a service's path equal to its jurisdiction's,
so the set is the same; ``console.fleet_reads.visible`` does the same).
"""

from __future__ import annotations

import heapq
from typing import Any

from sqlalchemy import false, func, select
from sqlalchemy.orm import Session

from fenghuo.control.models import SwitchState
from fenghuo.monitor.indicators import LIVE_INSTANCE_SECONDS, Indicators
from fenghuo.platform.db import Database
from fenghuo.platform.errors import Invalid, NotFound
from fenghuo.platform.pages import DEFAULT_LIMIT, Page, check_limit
from fenghuo.platform.roles import Actor, Role
from fenghuo.registry import scope
from fenghuo.registry.models import Jurisdiction, Service

SAMPLE = 20  # ids named per node and list; the rest through service_page
CHUNK = 500  # ids per IN (...) lookup
WHOLE_READ = 5_000  # more live services than this: one read of the scope instead of chunks
STATUSES = ("unmonitored", "monitored", "enforcing_current", "stale_version")


def _visible(s: Session, actor: Actor) -> Any:
    scoped = actor.role is Role.regulator or (actor.role is Role.auditor and not actor.provider_id and actor.jurisdiction_id)
    if not scoped:
        return scope.visible_filter(s, actor)
    path = scope.jurisdiction_path(s, actor.jurisdiction_id)
    if path is None:
        return false()
    return Service.jurisdiction_id.in_(select(Jurisdiction.id).where(Jurisdiction.path.startswith(path, autoescape=True))
                                       .scalar_subquery())


def _conds(s: Session, actor: Actor, root: Jurisdiction | None) -> list[Any]:
    conds = [_visible(s, actor)]
    if root is not None:
        conds.append(Service.jurisdiction_id.in_(select(Jurisdiction.id).where(
            Jurisdiction.path.startswith(root.path, autoescape=True)).scalar_subquery()))
    return conds


def _root(s: Session, jurisdiction_id: str | None) -> Jurisdiction | None:
    if not jurisdiction_id:
        return None
    root = s.get(Jurisdiction, jurisdiction_id)
    if root is None:
        raise NotFound(f"未知辖区 {jurisdiction_id}", f"unknown jurisdiction {jurisdiction_id}")
    return root


def live_versions(indicators: Indicators, now: float) -> dict[str, list[Any]]:
    """service → the switch versions its live guard instances enforce (services with any)."""
    cutoff = now - LIVE_INSTANCE_SECONDS
    out: dict[str, list[Any]] = {}
    with indicators.lock:
        for sid, inst in indicators.instances.items():
            if sid not in indicators.services:
                continue
            versions = [v[1] for v in inst.values() if v[0] >= cutoff]
            if versions:
                out[sid] = versions
    return out


def _lookup(s: Session, conds: list[Any], ids: list[str]) -> dict[str, tuple[str, int | None]]:
    """(jurisdiction, switch version) of those of ``ids`` in scope."""
    q = (select(Service.id, Service.jurisdiction_id, SwitchState.version)
         .outerjoin(SwitchState, SwitchState.service_id == Service.id).where(*conds))
    out: dict[str, tuple[str, int | None]] = {}
    if len(ids) > WHOLE_READ:
        wanted = set(ids)
        for sid, jid, version in s.execute(q).all():
            if sid in wanted:
                out[sid] = (jid, version)
        return out
    for i in range(0, len(ids), CHUNK):
        for sid, jid, version in s.execute(q.where(Service.id.in_(ids[i:i + CHUNK]))).all():
            out[sid] = (jid, version)
    return out


def _ancestors(path: str) -> list[str]:
    parts = path.rstrip("/").split("/")
    return ["/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]


def coverage(db: Database, indicators: Indicators, actor: Actor, jurisdiction_id: str | None, now: float) -> list[dict[str, Any]]:
    """One row per node (the node asked for and every node beneath it), counts cumulative."""
    live = live_versions(indicators, now)
    with db.reader() as s:
        root = _root(s, jurisdiction_id)
        q = select(Jurisdiction).order_by(Jurisdiction.path)
        if root is not None:
            q = q.where(Jurisdiction.path.startswith(root.path, autoescape=True))
        nodes = s.execute(q).scalars().all()  # the tree is small (1,024 nodes for a national fleet)
        conds = _conds(s, actor, root)
        registered = dict(s.execute(select(Service.jurisdiction_id, func.count()).where(*conds)
                                    .group_by(Service.jurisdiction_id)).all())
        seen = _lookup(s, conds, sorted(live))
        monitored: dict[str, int] = {}
        current: dict[str, int] = {}
        stale: dict[str, list[str]] = {}
        for sid, (jid, version) in seen.items():
            monitored[jid] = monitored.get(jid, 0) + 1
            if all(v == version for v in live[sid]):
                current[jid] = current.get(jid, 0) + 1
            else:
                stale.setdefault(jid, []).append(sid)
        # the first SAMPLE unmonitored ids of each jurisdiction: among its first SAMPLE + (its
        # monitored count) ids, read with a window function in one query
        unmonitored: dict[str, list[str]] = {}
        if registered:
            reach = SAMPLE + max(monitored.values(), default=0)
            ranked = (select(Service.id.label("sid"), Service.jurisdiction_id.label("jid"),
                             func.row_number().over(partition_by=Service.jurisdiction_id, order_by=Service.id).label("rn"))
                      .where(*conds).subquery())
            for sid, jid in s.execute(select(ranked.c.sid, ranked.c.jid).where(ranked.c.rn <= reach)
                                      .order_by(ranked.c.sid)).all():
                if sid not in seen:
                    ids = unmonitored.setdefault(jid, [])
                    if len(ids) < SAMPLE:
                        ids.append(sid)

    paths = {n.path for n in nodes}
    agg = {n.path: {"registered": 0, "monitored": 0, "current": 0, "unmonitored": [], "stale": []} for n in nodes}
    path_of = {n.id: n.path for n in nodes}
    for jid in set(registered) | set(monitored):
        path = path_of.get(jid)
        if path is None:
            continue
        for anc in _ancestors(path):
            if anc not in paths:
                continue
            a = agg[anc]
            a["registered"] += registered.get(jid, 0)
            a["monitored"] += monitored.get(jid, 0)
            a["current"] += current.get(jid, 0)
            a["unmonitored"].append(unmonitored.get(jid, []))
            a["stale"].append(stale.get(jid, []))
    rows = []
    for node in nodes:
        a = agg[node.path]
        reg, mon, cur = a["registered"], a["monitored"], a["current"]
        rows.append({
            "jurisdiction": node.id, "name": node.name, "level": node.level, "path": node.path,
            "registered": reg, "monitored": mon, "enforcing_current": cur,
            "monitored_share": round(mon / reg, 4) if reg else None,
            "unmonitored": heapq.nsmallest(SAMPLE, (x for ids in a["unmonitored"] for x in ids)),
            "stale_version": heapq.nsmallest(SAMPLE, (x for ids in a["stale"] for x in ids)),
            "unmonitored_count": reg - mon, "stale_count": mon - cur,
        })
    return rows


def _service_row(sid: str, jid: str, version: int | None, versions: list[Any] | None) -> dict[str, Any]:
    current = bool(versions) and all(v == version for v in versions or ())
    status = "unmonitored" if not versions else ("enforcing_current" if current else "stale_version")
    return {"service": sid, "jurisdiction": jid, "status": status, "switch_version": version,
            "live_instances": len(versions or ()), "enforced_versions": sorted({v for v in versions or () if v is not None})}


def service_page(db: Database, indicators: Indicators, actor: Actor, jurisdiction_id: str | None, now: float, *,
                 status: str | None = None, after: str | None = None, limit: int = DEFAULT_LIMIT) -> Page:
    """A keyset page (id order, ``after``: the previous page's last id) of the services beneath
    a node with their coverage status; ``status``: unmonitored, monitored (enforcing_current +
    stale_version), enforcing_current or stale_version. Monitored statuses walk the live
    services only; unmonitored walks the scope in id order, skipping live ones."""
    check_limit(limit)
    if status is not None and status not in STATUSES:
        raise Invalid(f"status 须为 {'、'.join(STATUSES)} 之一", f"status must be one of {', '.join(STATUSES)}", field="status")
    live = live_versions(indicators, now)
    rows: list[dict[str, Any]] = []
    with db.reader() as s:
        conds = _conds(s, actor, _root(s, jurisdiction_id))
        if status in ("monitored", "enforcing_current", "stale_version"):
            candidates = sorted(sid for sid in live if after is None or sid > after)
            for i in range(0, len(candidates), CHUNK):
                part = candidates[i:i + CHUNK]
                found = _lookup(s, conds, part)
                for sid in part:
                    if sid in found:
                        row = _service_row(sid, *found[sid], live[sid])
                        if status == "monitored" or row["status"] == status:
                            rows.append(row)
                if len(rows) > limit:
                    break
        else:
            cursor, step = after, max(limit + 1, 1000)
            q = (select(Service.id, Service.jurisdiction_id, SwitchState.version)
                 .outerjoin(SwitchState, SwitchState.service_id == Service.id).where(*conds).order_by(Service.id))
            while len(rows) <= limit:
                chunk = s.execute((q.where(Service.id > cursor) if cursor else q).limit(step)).all()
                for sid, jid, version in chunk:
                    if status is None or sid not in live:
                        rows.append(_service_row(sid, jid, version, live.get(sid)))
                if len(chunk) < step:
                    break
                cursor = chunk[-1][0]
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, rows[-1]["service"] if more else None)
