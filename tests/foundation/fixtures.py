"""A small registry used across the foundation tests: two provinces, two providers."""

from __future__ import annotations

import contextlib

from fenghuo.control import services as registry
from fenghuo.platform.roles import Actor, Role, local_actor
from fenghuo.registry.spec import parse_registration

REGISTRY = """
jurisdictions:
  - {id: cn, name: China, level: national}
  - {id: cn-bj, name: Beijing, level: provincial, parent: cn}
  - {id: cn-bj-hd, name: Haidian, level: city, parent: cn-bj}
  - {id: cn-sh, name: Shanghai, level: provincial, parent: cn}
providers:
  - {id: pa, name: Provider A, jurisdiction: cn-bj-hd}
  - {id: pb, name: Provider B, jurisdiction: cn-sh}
services:
  - {id: a-chat, name: A chat, provider: pa, sector: general, function: content_generation,
     modalities: [text], reach: 1000, no_human_in_loop: false, backup_model: a-small}
  - {id: a-med, name: A medical, provider: pa, sector: medical, function: decision_support,
     modalities: [text], reach: 500000, no_human_in_loop: false, backup_model: a-med-small}
  - {id: b-chat, name: B chat, provider: pb, sector: general, function: content_generation,
     modalities: [text], reach: 1000, no_human_in_loop: false}
"""

ADMIN = local_actor()
OP_A = Actor("alice", Role.operator, provider_id="pa")
OP_A2 = Actor("amir", Role.operator, provider_id="pa")
OP_B = Actor("bob", Role.operator, provider_id="pb")
REG_BJ = Actor("bj-cac", Role.regulator, jurisdiction_id="cn-bj")
REG_SH = Actor("sh-cac", Role.regulator, jurisdiction_id="cn-sh")
REG_CN = Actor("cac", Role.regulator, jurisdiction_id="cn")
AUDITOR = Actor("audit", Role.auditor)
SYSTEM = Actor("plan-executor", Role.system)


def seed(db) -> None:
    registry.register(db, ADMIN, parse_registration(REGISTRY))


# ``GET /services/{id}/enforcement`` with every instance counted as live, however old its clock.
STALE = {"stale_seconds": 86399}


@contextlib.contextmanager
def admin_client(db):
    """The seeded registry behind a real server, and an HTTP client holding an admin token
    (``client.db`` and ``client.url`` set for the tests that need them)."""
    import httpx

    from fenghuo.api.server import ServerThread
    from fenghuo.platform.config import Settings
    from fenghuo.registry.tokens import create_token

    seed(db)
    token = create_token(db, ADMIN, "root", Role.admin)
    with ServerThread(db, Settings(checkpoint_seconds=0)) as server, httpx.Client(
            base_url=server.url, timeout=10, headers={"Authorization": f"Bearer {token}"}) as http:
        http.db, http.url = db, server.url
        yield http
