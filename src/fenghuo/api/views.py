"""Response models of the deployment and ledger routes (platform.views)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from fenghuo.platform.views import View


class Health(View):
    status: str
    version: str
    database: str
    ledger_head: int


class NewToken(View):
    token: str
    name: str
    role: str
    id: str | None = None
    expires_at: str | None = None


class TokenView(View):
    """A token as listed: its id (first 12 hex digits of its SHA-256), never its secret."""
    id: str
    name: str
    role: str
    provider: str | None
    jurisdiction: str | None
    created_at: str
    expires_at: str | None
    revoked_at: str | None
    status: str  # active | expired | revoked


class RotatedToken(NewToken):
    replaces: str


class LedgerEntryView(View):
    seq: int
    ts: str
    kind: str
    subject: str
    actor: str
    payload: str | dict[str, Any] = Field(description="the entry's canonical JSON, as hashed")
    prev_hash: str
    hash: str


class LedgerVerified(View):
    ok: bool
    entries: int
    head_seq: int | None = None
    head_hash: str | None = None
    problem: dict[str, Any] | None = None


class CheckpointView(View):
    seq: int
    head: str
    ts: str
    public_key: str
    key_id: str
    signature: str
    format: str
