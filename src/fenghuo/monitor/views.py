"""Response models of the monitoring routes (platform.views)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from fenghuo.platform.views import View


class Rejected(View):
    index: int
    reason: str


class IngestAnswer(View):
    accepted: int
    duplicates: int
    rejected: list[Rejected]


class Indicators(View):
    service: str
    windows: dict[str, dict[str, Any]] = Field(description="window name → indicator name → value")
    guards: dict[str, Any] | None = None


class CoverageRow(View):
    jurisdiction: str
    name: str | None = None
    level: str | None = None
    path: str | None = None
    registered: int
    monitored: int
    enforcing_current: int
    monitored_share: float | None = None
    unmonitored: list[str] | None = Field(description="the unmonitored services when at most 20 (else null: "
                                                      "GET /api/v1/coverage/services?status=unmonitored)")
    stale_version: list[str] | None = Field(description="the monitored services with an instance not at the current switch "
                                                        "version, when at most 20 (else null: ?status=stale_version)")
    unmonitored_count: int
    stale_count: int


class CoverageService(View):
    service: str
    jurisdiction: str
    status: str = Field(description="unmonitored | enforcing_current | stale_version")
    switch_version: int | None = None
    live_instances: int
    enforced_versions: list[int]


class SummaryHour(View):
    service: str
    period_start: float = Field(description="UNIX seconds, start of the hour")
    period_seconds: int
    counts: dict[str, int] = Field(description="window counters: calls, refusals, in/out_violations, out_blocked, complaints, …")
    in_categories: dict[str, int]
    out_categories: dict[str, int]
    latency_count: int
    latency_p50: float | None = None
    latency_p95: float | None = None
    latency_p99: float | None = None
    latency_max: float | None = None


class TelemetrySummary(View):
    service: str
    from_: str | None = Field(None, alias="from")
    to: str | None = None
    hours: list[SummaryHour]
