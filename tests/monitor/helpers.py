"""Shared helpers for monitoring and alerting tests: a small registry and event builders."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from fenghuo.control import services as registry
from fenghuo.platform.roles import local_actor
from fenghuo.registry.spec import parse_registration

REGISTRY = """
jurisdictions:
  - {id: cn, name: China, level: national}
  - {id: cn-bj, name: Beijing, level: provincial, parent: cn}
  - {id: cn-sh, name: Shanghai, level: provincial, parent: cn}
providers:
  - {id: pa, name: Provider A, jurisdiction: cn-bj}
  - {id: pb, name: Provider B, jurisdiction: cn-sh}
services:
  - {id: a-chat, name: A chat, provider: pa, sector: general, function: content_generation,
     modalities: [text], reach: 1000, no_human_in_loop: false, backup_model: a-small, labels: {team: core}}
  - {id: a-med, name: A medical, provider: pa, sector: medical, function: decision_support,
     modalities: [text], reach: 500000, no_human_in_loop: false, backup_model: a-med-small}
  - {id: b-chat, name: B chat, provider: pb, sector: general, function: content_generation,
     modalities: [text], reach: 1000, no_human_in_loop: false}
"""

ADMIN = local_actor()
_ids = itertools.count(1)


def seed(db) -> None:
    registry.register(db, ADMIN, parse_registration(REGISTRY))


def iso(t: datetime | float) -> str:
    if isinstance(t, (int, float)):
        t = datetime.fromtimestamp(t, UTC)
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def call(service: str, t: datetime | float, *, unsafe: bool = False, latency: float = 100.0, route: str = "primary",
         status: str = "ok", instance: str = "g1", version: int = 1, category: str = "A1", id: str | None = None,  # noqa: A002 - the event field is "id"
         **extra: Any) -> dict[str, Any]:
    ev = {"id": id or f"ev-{next(_ids)}", "type": "call", "service": service, "time": iso(t), "instance": instance,
          "state": "running", "state_version": version, "route": route, "status": status, "latency_ms": latency,
          "input": {"blocked": False, "categories": []},
          "output": {"blocked": unsafe, "categories": [category] if unsafe else []}}
    ev.update(extra)
    return ev


def other(kind: str, service: str, t: datetime | float, **extra: Any) -> dict[str, Any]:
    return {"id": f"ev-{next(_ids)}", "type": kind, "service": service, "time": iso(t), **extra}
