"""Which plan governs a service: one that names the service, else the most specific one for
its sector and grade, else the default. Shipped plans first, then <data dir>/plans/ and the
directory named by FENGHUO_PLANS (a later plan with the same id replaces an earlier one, so a
deployment can override a shipped plan by id)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from fenghuo.platform.errors import Invalid, NotFound
from fenghuo.platform.paths import data_dir
from fenghuo.response.plans import Plan, load_plan

PACKAGED = Path(__file__).parent / "shipped"


def plan_dirs() -> list[Path]:
    dirs = [PACKAGED, data_dir() / "plans"]
    if os.environ.get("FENGHUO_PLANS"):
        dirs.append(Path(os.environ["FENGHUO_PLANS"]))
    return [d for d in dirs if d.is_dir()]


@dataclass
class PlanLibrary:
    plans: dict[str, Plan]

    @classmethod
    def load(cls, dirs: list[Path] | None = None) -> PlanLibrary:
        plans: dict[str, Plan] = {}
        for d in dirs if dirs is not None else plan_dirs():
            for f in sorted(d.glob("*.yaml")):
                p = load_plan(f)  # a broken plan refuses start-up: better than a silent gap
                plans[p.id] = p
        return cls(plans)

    @classmethod
    def of(cls, *plans: Plan) -> PlanLibrary:
        return cls({p.id: p for p in plans})

    def get(self, plan_id: str) -> Plan:
        if plan_id not in self.plans:
            raise NotFound(f"未知预案 {plan_id}", f"unknown plan {plan_id}")
        return self.plans[plan_id]

    def choose(self, service_id: str, sector: str | None, grade: str | None) -> tuple[Plan, str]:
        """(plan, why chosen)."""
        named = [p for p in self.plans.values() if service_id in p.services]
        if named:
            return sorted(named, key=lambda p: p.id)[0], "service"
        scored = []
        for p in self.plans.values():
            if p.services or p.default or not (p.sectors or p.grades):
                continue
            if p.sectors and sector not in p.sectors:
                continue
            if p.grades and grade not in p.grades:
                continue
            scored.append((-(bool(p.sectors) + bool(p.grades)), p.id, p))
        if scored:
            p = sorted(scored, key=lambda x: x[:2])[0][2]
            return p, "sector+grade" if p.sectors and p.grades else ("sector" if p.sectors else "grade")
        defaults = sorted((p for p in self.plans.values() if p.default), key=lambda p: p.id)
        if not defaults:
            raise Invalid(f"服务 {service_id} 没有适用的预案，也没有默认预案", f"no plan applies to service {service_id} and there is no default plan",
                          code="no_plan")
        return defaults[0], "default"
