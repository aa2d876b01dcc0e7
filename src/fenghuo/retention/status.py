"""What each store keeps, since when, and whether that meets the retention period."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from fenghuo.alerts.models import WarningRow
from fenghuo.guard.label_waivers import LabelWaiver
from fenghuo.ledger.models import LedgerEntry
from fenghuo.monitor.models import TelemetrySummary
from fenghuo.platform.db import Database
from fenghuo.platform.paths import data_dir
from fenghuo.response.models import ComplaintTicket, Incident
from fenghuo.retention import policy


def _iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") if ts else None


def run_dirs(base: Path | None = None) -> list[tuple[Path, float]]:
    """Evaluation runs with the time each was created (manifest, else the folder's mtime)."""
    root = (base or data_dir()) / "runs"
    out = []
    for d in sorted(root.iterdir()) if root.is_dir() else []:
        m = d / "manifest.json"
        if not m.is_file():
            continue
        try:
            created = datetime.strptime(json.loads(m.read_text(encoding="utf-8"))["created"], "%Y-%m-%dT%H:%M:%S%z").timestamp()
        except (KeyError, ValueError, TypeError):
            created = m.stat().st_mtime
        out.append((d, created))
    return out


def report_dirs(base: Path | None = None) -> list[tuple[Path, float]]:
    """Incident report folders with the time of their newest file."""
    root = (base or data_dir()) / "reports"
    out = []
    for d in sorted(root.iterdir()) if root.is_dir() else []:
        files = [f.stat().st_mtime for f in d.rglob("*") if f.is_file()]
        if d.is_dir() and files:
            out.append((d, max(files)))
    return out


def status(db: Database, base: Path | None = None) -> dict[str, Any]:
    """One row per store: records, oldest, how long it is kept, and whether that is ≥ the period."""
    keep = policy.days()
    now = db.clock.now()
    rows = []
    with db.reader() as s:
        for name, model, col, note in (
            ("ledger", LedgerEntry, LedgerEntry.ts, "永不删除（哈希链）/ never pruned (hash chain); export and checkpoint it"),
            ("warnings", WarningRow, WarningRow.started_at, "告警及其记录不被删除 / warnings are not pruned"),
            ("incidents", Incident, Incident.opened_at, "事件、时钟、报告记录不被删除 / incidents, clocks and report rows are not pruned"),
            ("complaints", ComplaintTicket, ComplaintTicket.received_at, "投诉工单不被删除 / complaint tickets are not pruned"),
            ("label waivers (unlabelled content, CN-LB-18)", LabelWaiver, LabelWaiver.recorded_at,
             "免标识记录（请求、协议、接收方）不被删除 / the log of content supplied without the explicit label (request, "
             "agreement, recipient) is not pruned"),
        ):
            n, oldest = s.execute(select(func.count(), func.min(col)).select_from(model)).one()
            if name == "warnings" and isinstance(oldest, (int, float)):
                oldest = _iso(oldest)
            rows.append({"store": name, "records": n, "oldest": oldest, "kept": "forever / 永久", "ok": True, "note": note})
    with db.reader() as s:
        n, oldest = s.execute(select(func.count(), func.min(TelemetrySummary.period_start))).one()
    rows.append({"store": "telemetry summaries (hourly, per service)", "records": n, "oldest": _iso(oldest),
                 "kept": f"≥ {keep} d", "ok": True,
                 "note": f"fenghuo retention prune --what telemetry --before DATE (refused after "
                         f"{policy.cutoff(now, keep).date().isoformat()})"})
    for name, dirs in (("evaluation runs", run_dirs(base)), ("incident report files", report_dirs(base))):
        rows.append({"store": name, "records": len(dirs), "oldest": _iso(min((t for _, t in dirs), default=None)),
                     "kept": f"≥ {keep} d", "ok": True,
                     "note": f"fenghuo retention prune --what {'runs' if name.startswith('eval') else 'reports'} --before DATE "
                             f"(refused after {policy.cutoff(now, keep).date().isoformat()})"})
    try:
        from fenghuo.scale.connection import NatsSettings

        nats_days = NatsSettings().max_age_seconds / 86400
    except Exception:  # noqa: BLE001 - nats extras absent: no bus, nothing kept there
        nats_days = None
    if nats_days is not None:
        rows.append({"store": "telemetry events (NATS stream, with --bus)", "records": None, "oldest": None,
                     "kept": f"{nats_days:g} d", "ok": True,
                     "note": "原始事件仅为重放日志；留存的是每小时遥测汇总 / raw events are the replay log only; the retained "
                             "record is the hourly telemetry summaries above"})
    return {"retention_days": keep, "minimum_days": policy.MIN_DAYS, "cutoff": policy.cutoff(now, keep).isoformat(),
            "stores": rows, "ok": all(r["ok"] for r in rows)}
