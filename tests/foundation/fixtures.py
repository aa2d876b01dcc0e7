"""A small registry used across the foundation tests: two provinces, two providers."""

from __future__ import annotations

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
