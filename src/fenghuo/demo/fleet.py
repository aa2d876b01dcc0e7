"""A generated fleet for scale work (issue 19): N services under nested jurisdictions (national →
provinces → cities → districts) and thousands of providers, deterministic for a given N and seed.

Used by ``bench fleet`` and the fleet tests (``batches(n)`` gives registrations of 1,000
services, what ``fenghuo service register --batch 1000`` sends). Attributes vary (sector, function, modalities, reach, human in the loop,
minors) so every grade of the default table occurs, and labels carry a tier so rules and
filters have something to select on.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from fenghuo.registry.spec import JurisdictionSpec, ProviderSpec, RegistrationFile, ServiceSpec

PROVINCES = 31
CITIES_PER_PROVINCE = 8
DISTRICTS_PER_CITY = 3
SECTORS = ["general"] * 8 + ["education", "finance", "medical", "news_media", "employment", "transport",
                             "public_administration", "minors_oriented", "justice", "biometrics"]
FUNCTIONS = ["content_generation"] * 6 + ["recommendation", "decision_support", "automated_decision"]
MODALITIES = [["text"], ["text"], ["text", "image"], ["image"], ["audio", "text"], ["video"]]


def jurisdictions(provinces: int = PROVINCES) -> list[JurisdictionSpec]:
    """The tree: 1 national, 31 provinces, 248 cities, 744 districts (1,024 nodes)."""
    out = [JurisdictionSpec(id="cn", name="中国 / China", level="national")]
    for p in range(provinces):
        pid = f"p{p:02d}"
        out.append(JurisdictionSpec(id=pid, name=f"省 {p}", level="provincial", parent="cn"))
        for c in range(CITIES_PER_PROVINCE):
            cid = f"{pid}c{c}"
            out.append(JurisdictionSpec(id=cid, name=f"市 {p}-{c}", level="city", parent=pid))
            out.extend(JurisdictionSpec(id=f"{cid}d{d}", name=f"区 {p}-{c}-{d}", level="district", parent=cid)
                       for d in range(DISTRICTS_PER_CITY))
    return out


def _leaves(js: list[JurisdictionSpec]) -> list[str]:
    return [j.id for j in js if j.level in ("city", "district")]


def providers(n_services: int, js: list[JurisdictionSpec], per_provider: int = 30) -> list[ProviderSpec]:
    """About one provider per ``per_provider`` services (100,000 services → 3,334 providers)."""
    leaves = _leaves(js)
    count = max(1, -(-n_services // per_provider))
    return [ProviderSpec(id=f"prov{i:05d}", name=f"提供者 {i} / Provider {i}", jurisdiction=leaves[(i * 7919) % len(leaves)])
            for i in range(count)]


def service_dicts(n: int, provs: list[ProviderSpec], seed: int = 0, start: int = 0) -> Iterator[dict]:
    """Plain dicts (what a registration file or the API body holds) for services start..start+n-1."""
    for i in range(start, start + n):
        rng = random.Random(seed * 1_000_003 + i)  # per service: a batch is the same slice of the fleet
        p = provs[i % len(provs)]
        sector = SECTORS[rng.randrange(len(SECTORS))]
        yield {
            "id": f"svc{i:06d}", "name": f"服务 {i} / Service {i}", "provider": p.id,
            "sector": sector, "function": FUNCTIONS[rng.randrange(len(FUNCTIONS))],
            "modalities": list(MODALITIES[rng.randrange(len(MODALITIES))]),
            "reach": [100, 5_000, 200_000, 2_000_000, 50_000_000][rng.randrange(5)],
            "no_human_in_loop": rng.random() < 0.2, "minors_among_users": sector == "minors_oriented" or rng.random() < 0.05,
            "primary_model": f"model-{i % 17}", "backup_model": f"backup-{i % 5}" if rng.random() < 0.7 else None,
            "labels": {"tier": ("gold", "silver", "bronze")[i % 3]},
        }


def fleet(n: int, seed: int = 0, provinces: int = PROVINCES) -> RegistrationFile:
    """The whole registration for ``n`` services (validated specs); tests pass fewer provinces."""
    js = jurisdictions(provinces)
    ps = providers(n, js)
    return RegistrationFile(jurisdictions=js, providers=ps,
                            services=[ServiceSpec.model_validate(d) for d in service_dicts(n, ps, seed)])


def batches(n: int, size: int = 1000, seed: int = 0, provinces: int = PROVINCES) -> Iterator[RegistrationFile]:
    """The same fleet cut into registrations of ``size`` services; the first also carries the
    jurisdictions and providers."""
    js = jurisdictions(provinces)
    ps = providers(n, js)
    for start in range(0, n, size):
        svcs = [ServiceSpec.model_validate(d) for d in service_dicts(min(size, n - start), ps, seed, start)]
        yield RegistrationFile(jurisdictions=js if start == 0 else [], providers=ps if start == 0 else [], services=svcs)
