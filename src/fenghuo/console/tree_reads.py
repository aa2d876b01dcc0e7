"""The jurisdiction view at fleet scale (issue 19): per node of the tree beneath the viewer's
own, the services registered, monitored and switchable, their states, open red/orange warnings
and overdue reports — as GROUP BY queries per jurisdiction rolled up the (small) tree, never by
loading every service.

It answers what ``monitor.coverage.coverage`` (``GET /api/v1/coverage``) answers, under the
same scope (``registry.scope.visible_filter``, in ``fleet_reads.visible``'s counting form) and rooted at the regulator's own node, with the
same definitions: *monitored* — a guard instance reported within the monitor's live window;
*switchable* — every live instance acknowledges the current switch version and state
(``InstanceBook.switchable``). Only services with a live instance are looked at one by one, and
those are what the monitor holds in memory anyway. Services are listed (``NODE_ROWS`` each)
only under the focused node and its children, read with a window function; deeper nodes are
reached by drilling down (``?node=``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select

from fenghuo.alerts.lifecycle import FIRING, PENDING
from fenghuo.alerts.models import WarningRow
from fenghuo.console import fleet_reads
from fenghuo.control import listing
from fenghuo.control.models import SwitchState
from fenghuo.platform.clock import iso
from fenghuo.platform.db import Database
from fenghuo.platform.errors import Forbidden, NotFound
from fenghuo.platform.roles import Actor, Role
from fenghuo.registry.models import Jurisdiction, Service
from fenghuo.response.models import Incident, ReportClock

NODE_ROWS = 30  # services listed under one node; the rest through the overview filtered by it
DEPTH = 2  # levels shown beneath the focused node; deeper ones by drilling down
CHUNK = 500


def _depth(path: str) -> int:
    return path.count("/") - 1


def _ancestors(path: str) -> list[str]:
    """"cn/cn-bj/cn-bj-hd/" → ["cn/", "cn/cn-bj/", "cn/cn-bj/cn-bj-hd/"]."""
    parts = path.rstrip("/").split("/")
    return ["/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]


def tree(db: Database, indicators: Any, book: Any, actor: Actor, focus: str | None, now: float) -> dict[str, Any]:
    """The focused node (default: the viewer's own, or the whole tree), the nodes up to
    ``DEPTH`` levels beneath it with cumulative counts, breadcrumbs, and services of the focus
    and its children."""
    root = actor.jurisdiction_id if actor.role in (Role.regulator, Role.auditor) else None
    switchable = book.switchable(actor)  # service → every live instance acks its state (one query)
    with db.reader() as s:
        root_node = s.get(Jurisdiction, root) if root else None
        if root and root_node is None:
            raise NotFound(f"未知辖区 {root}", f"unknown jurisdiction {root}")
        focus_node = s.get(Jurisdiction, focus) if focus else root_node
        if focus and focus_node is None:
            raise NotFound(f"未知辖区 {focus}", f"unknown jurisdiction {focus}")
        if root_node and focus_node and not focus_node.path.startswith(root_node.path):
            raise Forbidden(f"辖区 {focus} 不在 {actor.label} 的范围内", f"jurisdiction {focus} is outside {actor.label}'s scope")
        prefix = focus_node.path if focus_node else ""
        top = _depth(prefix) if focus_node else 0
        q = select(Jurisdiction).order_by(Jurisdiction.path)
        if prefix:
            q = q.where(Jurisdiction.path.startswith(prefix, autoescape=True))
        every = s.execute(q).scalars().all()  # the tree is small (1,024 nodes for a national fleet)
        paths = {j.id: j.path for j in every}
        shown = [j for j in every if _depth(j.path) - top <= DEPTH]
        crumbs = []
        if focus_node:
            anc = _ancestors(focus_node.path)
            floor = _depth(root_node.path) if root_node else 0
            names = dict(s.execute(select(Jurisdiction.path, Jurisdiction.name)
                                   .where(Jurisdiction.path.in_(anc[floor:]))).all())
            crumbs = [{"id": p.rstrip("/").rsplit("/", 1)[-1], "name": names.get(p, p)} for p in anc[floor:]]

        conds = [fleet_reads.visible(s, actor)] + ([fleet_reads.subtree(s, prefix)] if prefix else [])
        # per jurisdiction: services (the jurisdiction index alone), then those not running
        # (the switch-state index); running is the rest, as in fleet_reads.summary
        direct_states: dict[str, dict[str, int]] = {}
        totals = dict(s.execute(select(Service.jurisdiction_id, func.count()).where(*conds)
                                .group_by(Service.jurisdiction_id)).all())
        for jid, st, n in s.execute(select(Service.jurisdiction_id, SwitchState.state, func.count())
                                    .join(Service, Service.id == SwitchState.service_id)
                                    .where(SwitchState.state.in_(fleet_reads.NOT_RUNNING), *conds)
                                    .group_by(Service.jurisdiction_id, SwitchState.state)).all():
            direct_states.setdefault(jid, {})[st] = n
        for jid, n in totals.items():
            running = n - sum(direct_states.get(jid, {}).values())
            if running:
                direct_states.setdefault(jid, {})["running"] = running
        severe = dict(s.execute(select(Service.jurisdiction_id, func.count()).select_from(WarningRow)
                                .join(Service, Service.id == WarningRow.service_id)
                                .where(*conds, WarningRow.state.in_((PENDING, FIRING)), WarningRow.level.in_(("red", "orange")))
                                .group_by(Service.jurisdiction_id)).all())
        now_iso = iso(db.clock.now())
        overdue = dict(s.execute(select(Service.jurisdiction_id, func.count()).select_from(ReportClock)
                                 .join(Incident, Incident.id == ReportClock.incident_id).join(Service, Service.id == Incident.service_id)
                                 .where(*conds, or_(ReportClock.status == "breached",
                                                    (ReportClock.status == "running") & (ReportClock.due_at < now_iso)))
                                 .group_by(Service.jurisdiction_id)).all())
        # the services with a live guard instance: what the monitor and the instance book hold
        with indicators.lock:
            live = {sid: si.live_instances(now) for sid, si in indicators.services.items()}
        live = {sid: v for sid, v in live.items() if v}
        candidates = sorted(set(live) | set(switchable))
        seen: dict[str, tuple[str, int | None]] = {}
        for i in range(0, len(candidates), CHUNK):
            for sid, jid, version in s.execute(select(Service.id, Service.jurisdiction_id, SwitchState.version)
                                               .outerjoin(SwitchState, SwitchState.service_id == Service.id)
                                               .where(*conds, Service.id.in_(candidates[i:i + CHUNK]))).all():
                seen[sid] = (jid, version)
        listed_ids = [j.id for j in shown if _depth(j.path) - top <= 1]
        listed_set = set(listed_ids)
        listed: dict[str, list[dict[str, Any]]] = {}
        if listed_ids:
            ranked = (select(Service.id.label("sid"), func.row_number().over(partition_by=Service.jurisdiction_id,
                                                                           order_by=Service.id).label("rn"))
                      .where(*conds, Service.jurisdiction_id.in_(listed_ids)).subquery())
            for svc, st in s.execute(select(Service, SwitchState).join(ranked, ranked.c.sid == Service.id)
                                     .outerjoin(SwitchState, SwitchState.service_id == Service.id)
                                     .where(ranked.c.rn <= NODE_ROWS).order_by(Service.id)).all():
                listed.setdefault(svc.jurisdiction_id, []).append(listing.view(svc, st))

    monitored: dict[str, int] = {}
    current: dict[str, int] = {}
    acking: dict[str, int] = {}
    for sid, (jid, version) in seen.items():
        if sid in live:
            monitored[jid] = monitored.get(jid, 0) + 1
            if all(v[1] == version for v in live[sid].values()):
                current[jid] = current.get(jid, 0) + 1
        if switchable.get(sid):
            acking[jid] = acking.get(jid, 0) + 1

    shown_paths = {j.path for j in shown}
    agg: dict[str, dict[str, Any]] = {j.path: {"states": {}, "registered": 0, "direct": 0, "monitored": 0, "current": 0,
                                               "switchable": 0, "severe": 0, "overdue": 0} for j in shown}
    for jid, path in paths.items():
        states = direct_states.get(jid, {})
        n = sum(states.values())
        for anc in _ancestors(path):
            a = agg.get(anc) if anc in shown_paths else None
            if a is None:
                continue
            a["registered"] += n
            for st, k in states.items():
                a["states"][st] = a["states"].get(st, 0) + k
            a["monitored"] += monitored.get(jid, 0)
            a["current"] += current.get(jid, 0)
            a["switchable"] += acking.get(jid, 0)
            a["severe"] += severe.get(jid, 0)
            a["overdue"] += overdue.get(jid, 0)
        if path in agg:
            agg[path]["direct"] = n

    parents = {_ancestors(p)[-2] for p in paths.values() if _depth(p) > 0}  # nodes with a child
    nodes = []
    for j in shown:
        a = agg[j.path]
        reg = a["registered"]
        services = listed.get(j.id, [])
        depth = _depth(j.path) - top
        nodes.append({
            "jurisdiction": j.id, "name": j.name, "level": j.level, "path": j.path, "depth": depth,
            "registered": reg, "monitored": a["monitored"], "enforcing_current": a["current"],
            "monitored_share": round(a["monitored"] / reg, 4) if reg else None, "unmonitored": reg - a["monitored"],
            "switchable": a["switchable"], "switchable_share": round(a["switchable"] / reg, 4) if reg else None,
            "states": dict(sorted(a["states"].items())), "severe": a["severe"], "overdue": a["overdue"],
            "services": services, "more": max(0, a["direct"] - len(services)) if j.id in listed_set else 0,
            "deeper": depth == DEPTH and j.path in parents,
        })
    return {"nodes": nodes, "focus": focus_node.id if focus_node else None, "crumbs": crumbs,
            "root": root_node.id if root_node else None}
