"""Response models of the emergency-response routes (platform.views)."""

from __future__ import annotations

from typing import Any

from fenghuo.platform.views import View


class IncidentView(View):
    id: str
    service: str
    provider: str | None = None
    title: str
    grade: Any = None
    grade_label: str | None = None
    grade_inputs: Any = None
    flags: list[str] | None = None
    status: str
    source: str | None = None
    opened_by: str | None = None
    detected_at: str | None = None
    opened_at: str | None = None
    ended_at: str | None = None
    profile: str | None = None
    clocks: list[dict[str, Any]]
    duties: list[dict[str, Any]] = []
    timeline: list[dict[str, Any]]
    reports: list[dict[str, Any]]


class ComplaintView(View):
    id: str
    service: str
    category: str
    content: str
    status: str
    received_at: str
    due_at: str | None = None
    overdue: bool = False
    feedback_sent: bool = False


class ComplaintCounts(View):
    total: int
    open: int
    handled: int
    closed: int
    overdue: int
    no_limit: int


class DutyView(View):
    duty: str
    basis: str
    status: str
    created_at: str | None = None
    due_at: str | None = None
    done_at: str | None = None
    done_by: str | None = None
    content: dict[str, Any] | None = None
    warning: str | None = None
    needs: list[str] = []


class ReportMade(View):
    report: str
    complete: bool
    sha256: str
    files: dict[str, str]


class ReportSubmitted(View):
    report: str
    submitted_at: str | None = None
    submitted_by: str | None = None
    submitted_to: str | None = None


class Accountability(View):
    incident: str
    service: str
    grade: Any = None
    computed_from: str
    ledger_range: dict[str, Any]
    durations_seconds: dict[str, float | None]
    reporting: Any = None
    remediation: list[dict[str, Any]]
    verification: list[dict[str, Any]]
    approvals: list[dict[str, Any]]


class PlanActionView(View):
    action: str
    service: str
    plan: str
    step: str
    do: str
    status: str
    warning: str | None = None
    owner: str | None = None
    command: str | None = None
    incident: str | None = None
    detail: str | None = None
    since: str | None = None
    done_at: str | None = None
    approvals: dict[str, Any]


class OrderView(View):
    order: str | None = None
    service: str
    state: str
    hold_by: str | None = None
    incident: str | None = None
    command: str | None = None
