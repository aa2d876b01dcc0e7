"""Coverage for regulators (纵向到底，横向到边): for a jurisdiction node, how many services are
registered beneath it, how many have live guard instances, and how many of those have every
live instance enforcing the service's current switch version."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from fenghuo.control.models import SwitchState
from fenghuo.monitor.indicators import Indicators
from fenghuo.platform.db import Database
from fenghuo.platform.errors import NotFound
from fenghuo.platform.roles import Actor
from fenghuo.registry import scope
from fenghuo.registry.models import Jurisdiction, Service


def coverage(db: Database, indicators: Indicators, actor: Actor, jurisdiction_id: str | None, now: float) -> list[dict[str, Any]]:
    """One row per node (the node asked for and every node beneath it), counts cumulative."""
    with db.reader() as s:
        nodes = s.execute(select(Jurisdiction).order_by(Jurisdiction.path)).scalars().all()
        if jurisdiction_id:
            root = s.get(Jurisdiction, jurisdiction_id)
            if root is None:
                raise NotFound(f"未知辖区 {jurisdiction_id}", f"unknown jurisdiction {jurisdiction_id}")
            nodes = [n for n in nodes if n.path.startswith(root.path)]
        services = s.execute(select(Service.id, Service.jurisdiction_path).where(scope.visible_filter(s, actor))).all()
        versions = dict(s.execute(select(SwitchState.service_id, SwitchState.version)).all())
    status: dict[str, tuple[bool, bool]] = {}
    with indicators.lock:
        for sid, _path in services:
            si = indicators.services.get(sid)
            live = si.live_instances(now) if si else {}
            current = bool(live) and all(v[1] == versions.get(sid) for v in live.values())
            status[sid] = (bool(live), current)
    rows = []
    for node in nodes:
        beneath = [sid for sid, path in services if path.startswith(node.path)]
        monitored = [sid for sid in beneath if status[sid][0]]
        current = [sid for sid in monitored if status[sid][1]]
        rows.append({
            "jurisdiction": node.id, "name": node.name, "level": node.level, "path": node.path,
            "registered": len(beneath), "monitored": len(monitored), "enforcing_current": len(current),
            "monitored_share": round(len(monitored) / len(beneath), 4) if beneath else None,
            "unmonitored": sorted(set(beneath) - set(monitored)),
            "stale_version": sorted(set(monitored) - set(current)),
        })
    return rows
