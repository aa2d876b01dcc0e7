"""Response models of the alerting routes (platform.views). Times are ISO 8601 UTC strings."""

from __future__ import annotations

from typing import Any

from fenghuo.platform.views import View


class Ack(View):
    owner: str
    by: str | None = None
    at: str | None = None
    note: str | None = None


class WarningView(View):
    id: str
    fingerprint: str
    alert: str
    service: str
    state: str
    level: str
    rule: str | None = None
    value: float | None = None
    description: str | None = None
    labels: dict[str, Any] | None = None
    started_at: str | None = None
    fired_at: str | None = None
    resolved_at: str | None = None
    clearing_since: str | None = None
    rules_holding: dict[str, Any] | None = None
    flaps: int | None = None
    ack: Ack | None = None


class NotificationView(View):
    id: str
    group: str | None = None
    warnings: list[str] | None = None
    channel: str
    kind: str
    level: str | None = None
    status: str
    attempts: int | None = None
    last_error: str | None = None
    reason: str | None = None
    created_at: str | None = None
    sent_at: str | None = None


class WarningDetail(WarningView):
    notifications: list[NotificationView]


class SilenceView(View):
    id: str
    matchers: list[dict[str, Any]]
    starts_at: str | None = None
    ends_at: str | None = None
    until_resolved: bool
    reason: str
    author: str
    created_at: str | None = None
    ended_at: str | None = None
    ended_reason: str | None = None
    active: bool
    scope: dict[str, str | None] | None = None  # {provider, jurisdiction_path}; both None: the deployment's


class RuleCheck(View):
    ok: bool
    rules: int
    problems: list[dict[str, Any]]
