"""Response model of the recovery routes (platform.views)."""

from __future__ import annotations

from typing import Any

from fenghuo.platform.views import View


class RecoveryView(View):
    service: str
    procedure: str | None = None
    incident: str | None = None
    status: str | None = None
    round: int | None = None
    state: str | None = None
    percent: int | None = None
    ramp: list[int] | None = None
    hold_seconds: float | None = None
    rollback_level: str | None = None
    remediations: list[dict[str, Any]] | None = None
    verifications: list[dict[str, Any]] | None = None
    ramp_completed: bool | None = None
    ramp_completed_at: str | None = None
    opened_at: str | None = None
    completed_at: str | None = None
    next: list[str] | None = None


class ModelVersionView(View):
    service: str
    version: str
    important: bool
    status: str
    run: str | None = None
    activated_at: str | None = None


class ModelStatus(View):
    service: str
    active: str | None = None
    pending: list[dict[str, Any]]
    history: list[dict[str, Any]]
