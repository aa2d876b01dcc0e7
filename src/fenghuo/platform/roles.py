"""Who is acting: the roles and the actor every change is signed by. Pure (no database, no
framework), so the domains' pure cores (e.g. ``control.transitions``) can decide by role.

Roles (what each may do is decided by the domains):
- ``operator``  — acts on its own provider's services only;
- ``regulator`` — acts on services under its jurisdiction node, may order a pause, may not edit
  a provider's registration;
- ``auditor``   — reads what its scope allows, changes nothing;
- ``system``    — automated plans (the actor of plan actions);
- ``admin``     — the deployment's owner: providers, jurisdictions, tokens. The local CLI acts
  as admin, because whoever holds the database file holds everything anyway.
- ``scraper``   — a metrics scraper (Prometheus): may read ``GET /metrics`` (within its
  provider or jurisdiction scope, like an auditor) and nothing else.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from enum import Enum


class Role(str, Enum):
    operator = "operator"
    regulator = "regulator"
    auditor = "auditor"
    system = "system"
    admin = "admin"
    scraper = "scraper"


@dataclass(frozen=True)
class Actor:
    name: str
    role: Role
    provider_id: str | None = None
    jurisdiction_id: str | None = None

    @property
    def label(self) -> str:
        scope = self.provider_id or self.jurisdiction_id
        return f"{self.role.value}:{self.name}" + (f"@{scope}" if scope else "")


def local_actor() -> Actor:
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        user = "local"
    return Actor(name=f"local-{user}", role=Role.admin)
