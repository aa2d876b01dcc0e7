"""The accountability record of an incident, computed from the ledger — never typed in.

It is the evidence a provider shows that it acted transparently, reported actively and
remediated (透明度义务履行情况、主动报告与补救情况; CN-IR-10: a timely report and a plan
followed lighten liability). Every time in it cites the ledger entry (seq) it was read from, so
an auditor can check it against a verified export.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select

from fenghuo.ledger import store as ledger
from fenghuo.platform.db import Database
from fenghuo.platform.errors import NotFound
from fenghuo.platform.roles import Actor
from fenghuo.registry import scope
from fenghuo.registry.models import Service
from fenghuo.response.models import Incident, IncidentLink


def _t(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def _secs(a: dict | None, b: dict | None) -> float | None:
    if not a or not b:
        return None
    return round((_t(b["ts"]) - _t(a["ts"])).total_seconds(), 6)


def _cite(e: dict | None, **extra: Any) -> dict | None:
    return None if e is None else {"at": e["ts"], "seq": e["seq"], "by": e["actor"], **extra}


def compute(db: Database, actor: Actor, incident_id: str) -> dict[str, Any]:
    with db.reader() as s:
        inc = s.get(Incident, incident_id)
        if inc is None:
            raise NotFound(f"未知事件 {incident_id}", f"unknown incident {incident_id}", code="unknown_incident")
        scope.require_visible(s, actor, s.get(Service, inc.service_id))
        warnings = list(s.execute(select(IncidentLink.ref).where(IncidentLink.incident_id == inc.id, IncidentLink.kind == "warning")).scalars())
        entries: dict[int, dict] = {}
        for subject in [f"incident:{inc.id}", inc.service_id] + [f"warning:{w}" for w in warnings]:
            for e in ledger.iter_entries(s, subject=subject):
                entries[e["seq"]] = {**e, "p": json.loads(e["payload"])}
    log = [entries[k] for k in sorted(entries)]
    opened = next(e for e in log if e["kind"] == "incident.opened" and e["p"]["incident"] == inc.id)
    rule_fired = [e for e in log if e["kind"] in ("warning.firing", "warning.escalated") and not e["p"].get("alert", "").startswith("report-deadline-")]
    pending = [e for e in log if e["kind"] == "warning.pending" and e["p"]["warning"] in warnings]
    detected = rule_fired[0] if rule_fired else opened
    start_seq = min([detected["seq"]] + [e["seq"] for e in pending])
    after = [e for e in log if e["seq"] >= start_seq]
    occurred = pending[0] if pending else detected
    first_action = next((e for e in after if e["kind"] in ("switch.changed", "response.action", "response.approval_requested")
                         and e["seq"] > detected["seq"]), None)
    paused = next((e for e in after if e["kind"] == "switch.changed" and e["p"]["to"] in ("paused", "stopped")), None)
    recovered = next((e for e in after if e["kind"] == "switch.changed" and e["p"]["to"] == "running" and paused and e["seq"] > paused["seq"]), None)
    clock = next((e for e in after if e["kind"] == "clock.started" and e["p"]["report"] == "initial"), None)
    submitted = next((e for e in after if e["kind"] == "report.submitted"), None)
    deadline = clock["p"]["due_at"] if clock else None
    report = None
    if clock:
        report = {"deadline": deadline, "rule": clock["p"]["rule"], "submitted": _cite(submitted, report=submitted["p"]["report"], to=submitted["p"]["to"]) if submitted else None,
                  "seconds_to_report": _secs(detected, submitted), "allowed_seconds": round((_t(deadline) - _t(clock["p"]["started_at"])).total_seconds(), 6),
                  "on_time": bool(submitted and submitted["ts"] <= deadline),
                  "breached": [_cite(e) for e in after if e["kind"] == "clock.breached" and e["p"]["report"] == "initial"]}
    approvals = []
    for e in after:
        if e["kind"] == "command.requested":
            approvals.append(_cite(e, what=f"{e['p']['action']} (command {e['p']['command']})", role="requester counts as first approval"))
        elif e["kind"] == "command.approved":
            approvals.append(_cite(e, what=f"command {e['p']['command']}", count=f"{e['p']['approvals']}/{e['p']['needed']}"))
        elif e["kind"] == "response.approved":
            approvals.append(_cite(e, what=f"plan action {e['p']['action']}", count=f"{e['p']['approvals']}/{e['p']['needed']}"))
    return {
        "incident": inc.id, "service": inc.service_id, "grade": inc.grade, "computed_from": "ledger",
        "ledger_range": {"from_seq": after[0]["seq"] if after else None, "to_seq": after[-1]["seq"] if after else None},
        "occurred": _cite(occurred), "detected": _cite(detected), "first_action": _cite(first_action, kind=first_action["kind"]) if first_action else None,
        "paused": _cite(paused, to=paused["p"]["to"]) if paused else None, "recovered": _cite(recovered) if recovered else None,
        "durations_seconds": {"to_detect": _secs(occurred, detected), "to_first_action": _secs(detected, first_action),
                              "to_pause": _secs(detected, paused), "to_report": _secs(detected, submitted), "to_recover": _secs(paused, recovered)},
        "reporting": report,
        "remediation": [_cite(e, kind=e["p"]["kind"], description=e["p"]["description"], evidence=e["p"]["evidence"])
                        for e in after if e["kind"] == "recovery.remediation"],
        "verification": [_cite(e, method=e["p"]["method"], ref=e["p"]["ref"], passed=e["p"]["passed"]) for e in after if e["kind"] == "recovery.verified"],
        "rollbacks": [_cite(e, warning=e["p"]["warning"], level=e["p"]["level"]) for e in after if e["kind"] == "recovery.rolled_back"],
        "approvals": approvals,
        "plan_actions": [_cite(e, step=e["p"]["step"], do=e["p"]["do"], status=e["p"]["status"], plan=e["p"]["plan"])
                         for e in after if e["kind"] == "response.action"],
        "regulator_orders": [_cite(e, order=e["p"]["order"], basis=e["p"]["basis"]) for e in after if e["kind"] == "response.regulator_order"],
    }
