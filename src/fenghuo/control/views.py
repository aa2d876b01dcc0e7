"""Response models of the switch, service and guard-instance routes (platform.views)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from fenghuo.platform.views import View


class SwitchStateView(View):
    service: str
    state: str
    version: int
    rate: int | None = None
    percent: int | None = None
    reason: str | None = None
    changed_by: str | None = None
    changed_at: str | None = None
    command: str | None = None
    hold_by: str | None = None
    incident: str | None = None
    allowed: list[str] | None = Field(None, description="actions allowed from this state (one service's state only)")


class Approvals(View):
    needed: int
    given: list[str]


class CommandView(View):
    command: str
    service: str
    action: str
    status: str = Field(description="applied | awaiting_approval | …")
    from_: str | None = Field(None, alias="from")
    to: str | None = None
    version: int | None = None
    reason: str | None = None
    requested_by: str | None = None
    params: dict[str, Any] | None = None
    created_at: str | None = None
    applied_at: str | None = None
    approvals: Approvals
    replayed: bool = False
    applies: bool | None = Field(None, description="pending only: the service's current state still allows the action")
    current_state: str | None = Field(None, description="pending only: the service's state now")


class GradeView(View):
    table: str
    version: str
    grade: str
    reasons: list[dict[str, Any]] | None = None
    defaults: dict[str, Any] | None = None


class ServiceView(View):
    id: str
    name: str
    provider: str
    jurisdiction: str | None = None
    attributes: dict[str, Any]
    grade: GradeView
    state: SwitchStateView | None = None
    registered_at: str | None = None
    updated_at: str | None = None


class Registered(View):
    results: list[dict[str, Any]] = Field(description="one per jurisdiction, provider and service: what happened to it")


class InstanceAcked(View):
    instance: str
    service: str
    version: int
    state: str
    enforced_since: str | None = None
    last_seen: str | None = None


class Enforcement(View):
    service: str
    state: str
    version: int
    changed_at: str | None = None
    instances: int
    enforcing: int
    all_enforce: bool
    since: str | None = None
    max_lag_ms: float | None = None
    message: str
    laggards: list[dict[str, Any]]
    silent: list[dict[str, Any]]
    live: list[dict[str, Any]]


class ServiceChangeView(View):
    """A re-registration that lowers a grade or moves a service, and its regulator's decision."""
    id: str
    service: str
    status: str  # pending | approved | refused | superseded
    changes: list[str]
    requested_by: str
    requested_at: str
    decided_by: str | None = None
    decided_at: str | None = None
    spec: dict[str, Any]
    result: dict[str, Any] | None = None  # what applying it did (approve)


class UserMeasureView(View):
    """A measure on one end user of a service (CN-PO-09): warn, restrict (rate per minute) or suspend."""
    id: str
    service: str
    user: str
    measure: str  # warn | restrict | suspend
    rate: int | None = None
    until: str | None = None
    reason: str
    applied_by: str
    applied_at: str
    lifted_by: str | None = None
    lifted_at: str | None = None
    lift_reason: str | None = None


class UserMeasureList(View):
    service: str
    at: str
    measures: list[UserMeasureView]


class AckOutcome(InstanceAcked):
    """One acknowledgement of a batch (``POST /api/v1/instances/acks``), in the request's order:
    what a single acknowledgement answers, or why it was not booked."""
    error: dict[str, Any] | None = Field(None, description="not booked: code, message and HTTP status (unknown service, "
                                                              "or one outside the token's scope); the others are booked")


class AcksBooked(View):
    booked: int
    refused: int
    results: list[AckOutcome]
