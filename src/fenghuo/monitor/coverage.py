"""Coverage for regulators (纵向到底，横向到边): for a jurisdiction node, how many services are
registered beneath it, how many have live guard instances, and how many of those have every
live instance enforcing the service's current switch version.

At fleet scale (issue 19) nothing here is built per registered service: *registered* is one
GROUP BY jurisdiction (answered from the jurisdiction index) rolled up the small tree;
*monitored* and *enforcing current* start from the services with a live guard instance, which
the monitor holds in memory anyway, read by id a chunk at a time. A node row names its
unmonitored and stale services when there are at most ``SAMPLE`` of each (``null`` past that:
reading the ids would read every service row, ~1.3 s at 100,000 on SQLite); :func:`service_page`
lists them all a keyset page at a time (``GET /api/v1/coverage/services``). The old walk over
every service for every node took ~73 s at 100,000 services.

Scope is ``registry.scope.visible_filter``'s: a provider's services, a jurisdiction's subtree
(as "the service's jurisdiction is one of these nodes": the registry keeps a service's path
equal to its jurisdiction's) or everything. The by-id reads check it on the rows read, because
an IN over the scope's nodes beside the ids made SQLite walk the jurisdiction index (7 s for
2,000 ids at 100,000).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import false, func, select
from sqlalchemy.orm import Session

from fenghuo.control.models import SwitchState
from fenghuo.monitor.indicators import Indicators
from fenghuo.monitor.service_view import LIVE_INSTANCE_SECONDS
from fenghuo.platform.db import Database
from fenghuo.platform.errors import Invalid, NotFound
from fenghuo.platform.pages import DEFAULT_LIMIT, Page, check_limit
from fenghuo.platform.roles import Actor, Role
from fenghuo.registry import scope
from fenghuo.registry.models import Jurisdiction, Service

SAMPLE = 20  # ids named per node and list when there are at most this many; else null
CHUNK = 500  # ids per IN (...) lookup
WHOLE_READ_MIN = 64  # live services past which reading the whole scope may beat lookups by id
STATUSES = ("unmonitored", "monitored", "enforcing_current", "stale_version")


@dataclass(frozen=True)
class Scope:
    """What ``scope.visible_filter`` selects, beneath an optional node: the jurisdictions
    (None: any) and the provider (None: any); ``none``: nothing at all."""

    jurisdictions: frozenset[str] | None = None
    provider: str | None = None
    none: bool = False

    def conds(self) -> list[Any]:
        if self.none:
            return [false()]
        out: list[Any] = []
        if self.provider is not None:
            out.append(Service.provider_id == self.provider)
        if self.jurisdictions is not None:
            out.append(Service.jurisdiction_id.in_(sorted(self.jurisdictions)))
        return out

    def sees(self, jurisdiction: str, provider: str) -> bool:
        return not self.none and (self.jurisdictions is None or jurisdiction in self.jurisdictions) and \
            (self.provider is None or provider == self.provider)


def _subtree(s: Session, path: str) -> frozenset[str]:
    return frozenset(s.execute(select(Jurisdiction.id).where(Jurisdiction.path.startswith(path, autoescape=True))).scalars())


def _scope(s: Session, actor: Actor, root: Jurisdiction | None) -> Scope:
    """``registry.scope.visible_filter`` case by case, intersected with ``root``'s subtree."""
    js = _subtree(s, root.path) if root is not None else None
    if actor.role in (Role.admin, Role.system) or (actor.role is Role.auditor and not actor.provider_id and not actor.jurisdiction_id):
        return Scope(js)
    if actor.role is Role.operator or (actor.role is Role.auditor and actor.provider_id):
        return Scope(js, actor.provider_id or "")
    path = scope.jurisdiction_path(s, actor.jurisdiction_id)
    if path is None:
        return Scope(none=True)
    mine = _subtree(s, path)
    return Scope(mine if js is None else mine & js)


def _root(s: Session, jurisdiction_id: str | None) -> Jurisdiction | None:
    if not jurisdiction_id:
        return None
    if "\x00" in jurisdiction_id:  # PostgreSQL refuses NUL in text: a 422, not a 500
        raise Invalid("辖区标识含有空字符", "the jurisdiction id contains a NUL character", field="jurisdiction")
    root = s.get(Jurisdiction, jurisdiction_id)
    if root is None:
        raise NotFound(f"未知辖区 {jurisdiction_id}", f"unknown jurisdiction {jurisdiction_id}")
    return root


def live_versions(indicators: Indicators, now: float) -> dict[str, list[Any]]:
    """service → the switch versions its live guard instances enforce (services with any)."""
    cutoff = now - LIVE_INSTANCE_SECONDS
    out: dict[str, list[Any]] = {}
    with indicators.lock:
        rows = indicators.row_of
        for (sid, _inst), v in indicators.guards.latest.items():
            if v[0] >= cutoff and sid in rows:
                have = out.get(sid)
                if have is None:
                    out[sid] = [v[1]]
                else:
                    have.append(v[1])
    return out


def _lookup(s: Session, sc: Scope, ids: list[str], in_scope: int | None = None) -> dict[str, tuple[str, int | None]]:
    """(jurisdiction, switch version) of those of ``ids`` in scope: by primary key, or, when
    they are more than a quarter of the ``in_scope`` services, by reading the scope once (with
    every service of the fleet live, 200 chunked lookups cost twice one read)."""
    q = (select(Service.id, Service.jurisdiction_id, Service.provider_id, SwitchState.version)
         .outerjoin(SwitchState, SwitchState.service_id == Service.id))
    out: dict[str, tuple[str, int | None]] = {}
    if sc.none:
        return out
    if in_scope is not None and len(ids) > WHOLE_READ_MIN and 4 * len(ids) > in_scope:
        wanted = set(ids)
        for sid, jid, _provider, version in s.execute(q.where(*sc.conds())).all():
            if sid in wanted:
                out[sid] = (jid, version)
        return out
    for i in range(0, len(ids), CHUNK):
        for sid, jid, provider, version in s.execute(q.where(Service.id.in_(ids[i:i + CHUNK]))).all():
            if sc.sees(jid, provider):
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
        sc = _scope(s, actor, root)
        conds = sc.conds()
        registered = dict(s.execute(select(Service.jurisdiction_id, func.count()).where(*conds)
                                    .group_by(Service.jurisdiction_id)).all())
        seen = _lookup(s, sc, sorted(live), sum(registered.values()))
        monitored: dict[str, int] = {}
        current: dict[str, int] = {}
        stale: dict[str, list[str]] = {}
        for sid, (jid, version) in seen.items():
            monitored[jid] = monitored.get(jid, 0) + 1
            if all(v == version for v in live[sid]):
                current[jid] = current.get(jid, 0) + 1
            else:
                stale.setdefault(jid, []).append(sid)
        # the unmonitored ids of the jurisdictions with at most SAMPLE of them: reads at most
        # SAMPLE + (monitored) rows per jurisdiction, never the whole fleet
        few = sorted(j for j, n in registered.items() if n - monitored.get(j, 0) <= SAMPLE and n > monitored.get(j, 0))
        unmonitored: dict[str, list[str]] = {}
        for i in range(0, len(few), CHUNK):
            for sid, jid in s.execute(select(Service.id, Service.jurisdiction_id)
                                      .where(*conds, Service.jurisdiction_id.in_(few[i:i + CHUNK]))).all():
                if sid not in seen:
                    unmonitored.setdefault(jid, []).append(sid)

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
            a["unmonitored"] += unmonitored.get(jid, [])
            a["stale"] += stale.get(jid, [])
    rows = []
    for node in nodes:
        a = agg[node.path]
        reg, mon, cur = a["registered"], a["monitored"], a["current"]
        rows.append({
            "jurisdiction": node.id, "name": node.name, "level": node.level, "path": node.path,
            "registered": reg, "monitored": mon, "enforcing_current": cur,
            "monitored_share": round(mon / reg, 4) if reg else None,
            "unmonitored": sorted(a["unmonitored"]) if reg - mon <= SAMPLE else None,
            "stale_version": sorted(a["stale"]) if mon - cur <= SAMPLE else None,
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
    if after is not None and (not after or "\x00" in after):
        raise Invalid("after 不是本列表给出的游标（请用上一页的 X-Next-Cursor）",
                      "after is not a cursor this listing gave (use the previous page's X-Next-Cursor)", field="after")
    if status is not None and status not in STATUSES:
        raise Invalid(f"status 须为 {'、'.join(STATUSES)} 之一", f"status must be one of {', '.join(STATUSES)}", field="status")
    live = live_versions(indicators, now)
    rows: list[dict[str, Any]] = []
    with db.reader() as s:
        sc = _scope(s, actor, _root(s, jurisdiction_id))
        if status in ("monitored", "enforcing_current", "stale_version"):
            candidates = sorted(sid for sid in live if after is None or sid > after)
            for i in range(0, len(candidates), CHUNK):
                part = candidates[i:i + CHUNK]
                found = _lookup(s, sc, part)
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
                 .outerjoin(SwitchState, SwitchState.service_id == Service.id).where(*sc.conds()).order_by(Service.id))
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
