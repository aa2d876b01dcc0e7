"""The event every source sends to monitoring: one per model call from a guard, and one per
complaint, factual-error report, operator note or external signal.

This file is the contract between the guard (which produces call events) and monitoring
(which counts them); both import it, neither knows the other's internals. Counting is
exactly-once by ``id``, so a source that retries sends the same id again.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class EventType(str, Enum):
    call = "call"  # one model call through a guard
    complaint = "complaint"  # 投诉: a user complaint
    factual_error = "factual_error"  # 事实性错误: a user report of a factual error
    operator_note = "operator_note"
    external_signal = "external_signal"  # e.g. a regulator's notice, a press report


class Route(str, Enum):
    primary = "primary"
    backup = "backup"  # 备份系统
    refused = "refused"


class Refusal(str, Enum):
    paused = "paused"
    stopped = "stopped"
    throttled = "throttled"
    canary = "canary"  # canary share exceeded and no backup
    input_blocked = "input_blocked"
    failsafe = "failsafe"  # fail-closed after the lease ran out
    user = "user"  # one end user suspended or over its restriction (CN-PO-09, guard.user_measures)


class CallStatus(str, Enum):
    ok = "ok"
    refused = "refused"
    output_blocked = "output_blocked"  # the answer was replaced or cut by the output checks
    cut = "cut"  # a stream ended by a stop
    upstream_error = "upstream_error"
    upstream_timeout = "upstream_timeout"
    bad_request = "bad_request"


class CheckSummary(BaseModel):
    """What the checks found, by category; never the text itself unless configured."""

    model_config = ConfigDict(extra="forbid")
    blocked: bool = False
    categories: list[str] = Field(default_factory=list)
    risks: list[str] = Field(default_factory=list)  # TC260-003 codes, e.g. "A1f"
    # Categories only masked (PII): reported, but not a violation by themselves (issue 12 item 7).
    masked: list[str] = Field(default_factory=list)
    # The answer judged in context of its prompt (output side; None: not judged).
    refused: bool | None = None  # the model refused
    compliance_risk: bool | None = None  # the prompt asked for harm and the answer complied


class Event(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=64, description="unique; a sortable UUIDv7 from guards")
    type: EventType
    service: str = Field(min_length=1, max_length=64)
    time: datetime
    instance: str | None = Field(default=None, max_length=128, description="guard instance id")
    # --- call events ---
    state: str | None = None  # the switch state the guard enforced
    state_version: int | None = Field(default=None, ge=0, le=2**63 - 1)
    failsafe: bool = False  # the guard was acting on its fail-safe / last known state (lease expired)
    route: Route | None = None
    refusal: Refusal | None = None
    status: CallStatus | None = None
    model: str | None = None  # which model answered
    latency_ms: float | None = Field(default=None, ge=0, le=2**63 - 1)
    tokens_in: int | None = Field(default=None, ge=0, le=2**63 - 1)
    tokens_out: int | None = Field(default=None, ge=0, le=2**63 - 1)
    input: CheckSummary | None = None
    output: CheckSummary | None = None
    label: bool | None = None  # explicit AI-content label applied (GB 45438)
    stream: bool | None = None
    # --- any event ---
    detail: str | None = Field(default=None, max_length=4000)  # complaint text, note, error message
    attributes: dict[str, Any] = Field(default_factory=dict)
