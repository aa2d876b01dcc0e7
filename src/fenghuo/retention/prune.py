"""Deleting old evaluation runs, incident report files and hourly telemetry summaries — never
anything younger than the retention period (policy.refuse_younger), never the ledger or any other
database record. Each pruning is written to the ledger (what, how many, up to when)."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select

from fenghuo.ledger import store as ledger
from fenghuo.monitor.models import TelemetrySummary
from fenghuo.platform.db import Database
from fenghuo.platform.errors import Forbidden, Invalid
from fenghuo.platform.roles import Actor, Role
from fenghuo.retention import policy, status

WHAT = {"runs": status.run_dirs, "reports": status.report_dirs, "telemetry": None}  # telemetry: database rows


def prune(db: Database, actor: Actor, what: str, before: str, *, dry_run: bool = False, base: Path | None = None) -> dict[str, Any]:
    if actor.role is not Role.admin:
        raise Forbidden("只有管理员可以清理留存数据", "only an admin may prune retained records")
    if what not in WHAT:
        raise Invalid(f"只能清理 {'/'.join(WHAT)}；账本与数据库记录不清理", f"only {', '.join(WHAT)} can be pruned; the ledger and "
                      "database records never are", field="what")
    try:
        cut = datetime.fromisoformat(before.replace("Z", "+00:00"))
    except ValueError:
        raise Invalid(f"不是日期：{before}", f"not a date: {before}", field="before") from None
    if cut.tzinfo is None:
        cut = cut.replace(tzinfo=db.clock.now().tzinfo)
    try:
        policy.refuse_younger(cut, db.clock.now(), policy.days())
    except policy.RetentionError as exc:
        raise Invalid(str(exc), str(exc), field="before", code="retention") from None
    if what == "telemetry":
        return _prune_summaries(db, actor, cut, dry_run)
    victims = [d for d, t in WHAT[what](base) if t < cut.timestamp()]
    if not dry_run:
        for d in victims:
            shutil.rmtree(d)
        with db.transaction() as s:
            ledger.append(s, db.clock, "retention.pruned", f"retention:{what}", actor.label,
                          {"what": what, "before": cut.isoformat(), "count": len(victims), "names": [d.name for d in victims]})
    return {"what": what, "before": cut.isoformat(), "pruned": [d.name for d in victims], "dry_run": dry_run}


def _prune_summaries(db: Database, actor: Actor, cut: datetime, dry_run: bool) -> dict[str, Any]:
    """Delete the hourly summaries whose whole hour ended before ``cut`` (already checked to be
    outside the retention period)."""
    older = TelemetrySummary.period_start + TelemetrySummary.period_seconds <= cut.timestamp()
    with db.transaction() as s:
        n = s.execute(select(func.count()).select_from(TelemetrySummary).where(older)).scalar_one()
        if not dry_run:
            s.execute(delete(TelemetrySummary).where(older))
            ledger.append(s, db.clock, "retention.pruned", "retention:telemetry", actor.label,
                          {"what": "telemetry", "before": cut.isoformat(), "count": n})
    return {"what": "telemetry", "before": cut.isoformat(), "pruned": n, "dry_run": dry_run}
