"""Model updates (CN-TC-18: after an important update, re-run the safety self-assessment).

A service's model version is registered with ``fenghuo model propose SERVICE VERSION``. An
ordinary update is active at once. One marked ``--important`` stays ``pending`` and the active
version stays the one to serve — ``GET /api/v1/services/{id}/model`` is what a deployment reads
to know which version may take traffic — until ``fenghuo model verify SERVICE VERSION --run
RUN_ID`` attaches an evaluation run that passed, is complete, and was held to the current
default profile (the same verdict loader the recovery gate uses, ``procedure.verdict_loader``).
A failing run is recorded and leaves the version pending. Every step is in the ledger.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenghuo.ledger import store as ledger
from fenghuo.platform.clock import iso
from fenghuo.platform.db import Database
from fenghuo.platform.errors import Conflict, Invalid, NotFound
from fenghuo.platform.roles import Actor
from fenghuo.recovery import procedure
from fenghuo.recovery.models import ModelVersion
from fenghuo.registry import scope
from fenghuo.registry.models import Service


def _view(m: ModelVersion) -> dict[str, Any]:
    return {"service": m.service_id, "version": m.version, "important": m.important, "status": m.status, "note": m.note,
            "proposed_by": m.proposed_by, "proposed_at": m.proposed_at, "run": m.run_id, "evaluation": m.evaluation,
            "activated_at": m.activated_at}


def _service(s: Session, actor: Actor, service_id: str, command: bool = True) -> Service:
    svc = s.get(Service, service_id)
    if svc is None:
        raise NotFound(f"未知服务 {service_id}", f"unknown service {service_id}", code="unknown_service")
    (scope.require_can_command if command else scope.require_visible)(s, actor, svc)
    return svc


def _activate(s: Session, db: Database, m: ModelVersion, actor: Actor) -> None:
    now = iso(db.clock.now())
    for old in s.execute(select(ModelVersion).where(ModelVersion.service_id == m.service_id, ModelVersion.status == "active")).scalars():
        old.status = "superseded"
    m.status, m.activated_at = "active", now
    ledger.append(s, db.clock, "model.activated", f"service:{m.service_id}", actor.label,
                  {"service": m.service_id, "version": m.version, "important": m.important, "run": m.run_id})


def propose(db: Database, actor: Actor, service_id: str, version: str, *, important: bool = False, note: str = "") -> dict[str, Any]:
    if not (version or "").strip():
        raise Invalid("写明模型版本", "name the model version", field="version")
    if len(version.strip()) > 128:  # the column's length
        raise Invalid("模型版本最多 128 个字符", "the model version must be at most 128 characters", field="version")
    with db.transaction() as s:
        _service(s, actor, service_id)
        if s.execute(select(ModelVersion).where(ModelVersion.service_id == service_id, ModelVersion.version == version.strip(),
                                                ModelVersion.status.in_(("pending", "active")))).first():
            raise Conflict(f"版本 {version} 已登记", f"version {version} is already registered", code="version_exists")
        m = ModelVersion(service_id=service_id, version=version.strip(), important=important, status="pending", note=note,
                         proposed_by=actor.label, proposed_at=iso(db.clock.now()))
        s.add(m)
        s.flush()
        ledger.append(s, db.clock, "model.proposed", f"service:{service_id}", actor.label,
                      {"service": service_id, "version": m.version, "important": important, "note": note})
        if not important:
            _activate(s, db, m, actor)
        return _view(m)


def verify(db: Database, actor: Actor, service_id: str, version: str, run_id: str) -> dict[str, Any]:
    """Attach an evaluation run to a pending important version; a passing one activates it."""
    from fenghuo.evaluation.profile import DEFAULT_PROFILE, load_profile

    with db.reader() as s:  # who and which service first: an unknown one is 404 whatever the run
        _service(s, actor, service_id)
    passed, summary = procedure.load_verdict(run_id)
    current = load_profile(DEFAULT_PROFILE)
    profile_ok = summary.get("profile") == current.name
    with db.transaction() as s:
        _service(s, actor, service_id)
        m = s.execute(select(ModelVersion).where(ModelVersion.service_id == service_id, ModelVersion.version == version,
                                                 ModelVersion.status == "pending")).scalars().first()
        if m is None:
            raise NotFound(f"没有待验证的版本 {version}", f"no pending version {version} of {service_id}", code="unknown_version")
        m.run_id, m.evaluation = run_id, {"passed": passed, "profile_current": profile_ok, **summary}
        ledger.append(s, db.clock, "model.verified", f"service:{service_id}", actor.label,
                      {"service": service_id, "version": version, "run": run_id, "passed": passed, "profile_current": profile_ok})
        if passed and profile_ok:
            _activate(s, db, m, actor)
        out = _view(m)
    if not (passed and profile_ok):
        why = "评估未通过或未完成 / the evaluation did not pass or is incomplete" if not passed else (
            f"评估不是按当前配置 {current.name} 进行 / the run was not held to the current profile {current.name}")
        raise Conflict(f"版本 {version} 仍待验证：{why}", f"version {version} stays pending: {why}", code="verification_failed",
                       version=out)
    return out


def status(db: Database, actor: Actor, service_id: str) -> dict[str, Any]:
    with db.reader() as s:
        _service(s, actor, service_id, command=False)
        rows = s.execute(select(ModelVersion).where(ModelVersion.service_id == service_id).order_by(ModelVersion.id)).scalars().all()
        active = next((r for r in reversed(rows) if r.status == "active"), None)
        return {"service": service_id, "active": active.version if active else None,
                "pending": [_view(r) for r in rows if r.status == "pending"], "history": [_view(r) for r in rows]}
