"""The road back from a pause (恢复制度): a procedure per service with remediation items (what was
changed, with evidence) and verifications (a named check that must pass).

A verification is either a safety-evaluation run attached by id (its verdict read with
``fenghuo.evaluation.load_run_verdict``) or a checklist signed by a named person. A failing
verification is recorded too: it is evidence that the provider checked, and it blocks the gate.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fenghuo.alerts.levels import Level
from fenghuo.control.models import SwitchState
from fenghuo.ledger import store as ledger
from fenghuo.platform.clock import Clock, iso
from fenghuo.platform.db import Database
from fenghuo.platform.errors import Conflict, FenghuoError, Forbidden, Invalid, NotFound
from fenghuo.platform.roles import Actor, Role
from fenghuo.recovery.models import Procedure, Remediation, Verification
from fenghuo.registry import scope
from fenghuo.registry.models import Service

KINDS = ("model", "rules", "data", "prompts", "config", "other")
DEFAULT_RAMP = (5, 25, 100)
DEFAULT_HOLD = 600  # seconds each canary step is held while the rules are watched
MAX_HOLD = 30 * 86400
DEFAULT_ROLLBACK = "yellow"
PEOPLE = (Role.operator, Role.regulator, Role.admin)

VerdictLoader = Callable[[str], tuple[bool, dict]]


def _default_loader(run_id: str) -> tuple[bool, dict]:
    from fenghuo.evaluation import load_run_verdict

    return load_run_verdict(run_id)


verdict_loader: VerdictLoader = _default_loader  # tests and embedders may replace it


def load_verdict(run_id: str) -> tuple[bool, dict]:
    """``verdict_loader(run_id)``, a run that cannot be read being ``Invalid`` (422) naming it."""
    try:
        return verdict_loader(run_id)
    except FenghuoError:
        raise
    except (OSError, ValueError, KeyError) as exc:
        raise Invalid(f"无法读取评估运行 {run_id}：{exc}", f"cannot read evaluation run {run_id}: {exc}", field="run") from None


def checklist_allowed(svc: Service | None) -> bool:
    """Does the service's grade accept a (countersigned) checklist instead of an evaluation run?
    A service graded before tables said (2026.12) asks its table's grade as the table is now."""
    if svc is None:
        return True
    if "checklist_recovery" in (svc.grade_defaults or {}):
        return bool(svc.grade_defaults["checklist_recovery"])
    from fenghuo.registry.grading import get_table

    try:
        grades = {g.id: g for g in get_table(svc.grading_table).grades}
        return bool(grades[svc.grade].defaults.checklist_recovery)
    except Exception:  # noqa: BLE001 - a table or grade no longer known: ask for an evaluation run
        return False


def current(session: Session, service_id: str) -> Procedure | None:
    return session.execute(select(Procedure).where(Procedure.service_id == service_id, Procedure.status == "open")
                           .order_by(Procedure.opened_at.desc())).scalars().first()


def _service(session: Session, actor: Actor, service_id: str) -> Service:
    svc = session.get(Service, service_id)
    if svc is None:
        raise NotFound(f"未知服务 {service_id}", f"unknown service {service_id}", code="unknown_service")
    scope.require_can_command(session, actor, svc)
    if actor.role not in PEOPLE:
        raise Forbidden(f"角色 {actor.role.value} 不能记录恢复步骤（需要具名的人）",
                        f"role {actor.role.value} may not record recovery steps (a named person must)")
    return svc


def _link_incident(session: Session, proc: Procedure, kind: str, ref: str, at: str, note: str) -> None:
    from fenghuo.response import incidents

    if proc.incident_id:
        incidents.link(session, proc.incident_id, kind, ref, at, note)


def ensure(session: Session, clock: Clock, svc: Service, actor_label: str, *, ramp: tuple[int, ...] | None = None,
           hold_seconds: int | None = None, rollback_level: str | None = None) -> Procedure:
    """The service's open procedure, opened if there is none (only from paused or stopped)."""
    proc = current(session, svc.id)
    if proc is not None:
        return proc
    st = session.get(SwitchState, svc.id)
    if st.state not in ("paused", "stopped"):
        raise Conflict(f"服务 {svc.id} 当前为 {st.state}，没有需要恢复的暂停", f"service {svc.id} is {st.state}; there is no pause to recover from",
                       code="nothing_to_recover")
    ramp = tuple(ramp or DEFAULT_RAMP)
    if not ramp or list(ramp) != sorted(set(ramp)) or ramp[-1] != 100 or ramp[0] < 1:
        raise Invalid("灰度步骤必须递增、从 ≥1 开始、以 100 结束（如 5,25,100）",
                      "canary steps must increase, start at ≥ 1 and end at 100 (e.g. 5,25,100)", field="ramp")
    if hold_seconds is not None and not 0 <= hold_seconds <= MAX_HOLD:  # the column is 32-bit
        raise Invalid(f"每步保持时间 hold_seconds 应在 0 到 {MAX_HOLD} 秒之间", f"hold_seconds must be between 0 and {MAX_HOLD}", field="hold_seconds")
    level = Level(rollback_level or DEFAULT_ROLLBACK).value
    from fenghuo.response.incidents import open_for

    inc = open_for(session, svc.id)
    now = iso(clock.now())
    proc = Procedure(id=f"rec-{uuid.uuid4().hex[:12]}", service_id=svc.id, incident_id=inc.id if inc else None, status="open",
                     round=1, ramp=list(ramp), hold_seconds=int(DEFAULT_HOLD if hold_seconds is None else hold_seconds),
                     rollback_level=level, opened_by=actor_label, opened_at=now)
    session.add(proc)
    session.flush()
    ledger.append(session, clock, "recovery.started", svc.id, actor_label, {
        "procedure": proc.id, "service": svc.id, "incident": proc.incident_id, "from_state": st.state, "ramp": proc.ramp,
        "hold_seconds": proc.hold_seconds, "rollback_level": level})
    _link_incident(session, proc, "recovery", proc.id, now, "recovery procedure started / 恢复程序开始")
    return proc


def start(db: Database, actor: Actor, service_id: str, *, ramp: tuple[int, ...] | None = None, hold_seconds: int | None = None,
          rollback_level: str | None = None) -> dict[str, Any]:
    with db.transaction() as s:
        svc = _service(s, actor, service_id)
        if current(s, service_id) is not None:
            raise Conflict(f"服务 {service_id} 已有进行中的恢复程序", f"service {service_id} already has an open recovery procedure", code="recovery_open")
        try:
            proc = ensure(s, db.clock, svc, actor.label, ramp=ramp, hold_seconds=hold_seconds, rollback_level=rollback_level)
        except ValueError as exc:
            raise Invalid(str(exc), str(exc), field="rollback_level") from None
        return view(s, proc)


def remediate(db: Database, actor: Actor, service_id: str, kind: str, description: str, evidence: dict[str, Any]) -> dict[str, Any]:
    """Record one remediation item: what was changed, with evidence someone else can check."""
    if kind not in KINDS:
        raise Invalid(f"整改类别必须是 {'/'.join(KINDS)}", f"remediation kind must be one of {', '.join(KINDS)}", field="kind")
    if not (description or "").strip():
        raise Invalid("整改需要说明改了什么", "a remediation needs a description of what was changed", field="description")
    evidence = {k: v for k, v in (evidence or {}).items() if v not in (None, "")}
    if not evidence:
        raise Invalid("整改需要证据（如版本号、提交、文件哈希、链接）", "a remediation needs evidence (a version, commit, file hash or link)",
                      field="evidence")
    with db.transaction() as s:
        svc = _service(s, actor, service_id)
        proc = ensure(s, db.clock, svc, actor.label)
        now = iso(db.clock.now())
        r = Remediation(id=_next_id(s, Remediation, "rem", proc), procedure_id=proc.id, round=proc.round, kind=kind,
                        description=description.strip(), evidence=evidence, by=actor.label, at=now)
        s.add(r)
        s.flush()
        ledger.append(s, db.clock, "recovery.remediation", svc.id, actor.label, {
            "procedure": proc.id, "round": proc.round, "remediation": r.id, "kind": kind, "description": r.description,
            "evidence": evidence, "incident": proc.incident_id})
        _link_incident(s, proc, "remediation", r.id, now, f"{kind}: {r.description}")
        return view(s, proc)


def _checklist(actor: Actor, checklist: dict[str, Any]) -> tuple[bool, str, dict[str, Any]]:
    items = checklist.get("items") if isinstance(checklist, dict) else None
    if not isinstance(items, list) or not items:
        raise Invalid("检查单需要 items: [{item: …, checked: true|false}]", "a checklist needs items: [{item: …, checked: true|false}]", field="checklist")
    norm = []
    for i, it in enumerate(items):
        if not isinstance(it, dict) or not str(it.get("item", "")).strip() or not isinstance(it.get("checked"), bool):
            raise Invalid(f"检查单第 {i + 1} 项需要 item 和 checked（true/false）", f"checklist item {i + 1} needs item and checked (true/false)",
                          field=f"checklist.items.{i}")
        norm.append({"item": str(it["item"]).strip(), "checked": it["checked"], "note": str(it.get("note", ""))})
    body = {"title": str(checklist.get("title", "")), "items": norm}
    digest = hashlib.sha256(json.dumps(body, ensure_ascii=False, sort_keys=True).encode()).hexdigest()
    unchecked = [x["item"] for x in norm if not x["checked"]]
    return not unchecked, digest, {**body, "signed_by": actor.label, "unchecked": unchecked}


def verify(db: Database, actor: Actor, service_id: str, *, run_id: str | None = None,
           checklist: dict[str, Any] | None = None) -> dict[str, Any]:
    """Attach a verification: an evaluation run by id, or a checklist signed by this person."""
    if (run_id is None) == (checklist is None):
        raise Invalid("验证需要且只需要一种：--run 评估运行 id，或 --checklist 签署的检查单",
                      "verification needs exactly one of: --run an evaluation run id, or --checklist a signed checklist", field="verification")
    if run_id is not None:
        passed, summary = load_verdict(run_id)
        method, ref = "evaluation", run_id
    else:
        passed, ref, summary = _checklist(actor, checklist)  # type: ignore[arg-type]
        method = "checklist"
    with db.transaction() as s:
        svc = _service(s, actor, service_id)
        if method == "checklist" and not checklist_allowed(svc):
            raise Conflict(f"服务 {service_id} 的分级 {svc.grade} 不接受检查单，需通过的评估运行（--run）",
                           f"service {service_id}'s grade {svc.grade} does not accept a checklist: attach a passing evaluation run (--run)",
                           code="checklist_not_allowed")
        proc = current(s, service_id)
        if proc is None or not _remediations(s, proc):
            raise Conflict(f"服务 {service_id} 本轮尚无整改记录：先记录整改，再验证",
                           f"service {service_id} has no remediation in this round: record remediation before verifying",
                           code="remediation_required")
        now = iso(db.clock.now())
        v = Verification(id=_next_id(s, Verification, "ver", proc), procedure_id=proc.id, round=proc.round, method=method, ref=ref,
                         passed=bool(passed), summary=summary, by=actor.label, at=now)
        s.add(v)
        s.flush()
        ledger.append(s, db.clock, "recovery.verified", svc.id, actor.label, {
            "procedure": proc.id, "round": proc.round, "verification": v.id, "method": method, "ref": ref, "passed": v.passed,
            "profile": summary.get("profile") if method == "evaluation" else None, "incident": proc.incident_id})
        _link_incident(s, proc, "verification", v.id, now, f"{method} {ref}: {'passed 通过' if v.passed else 'failed 未通过'}")
        return view(s, proc)


def countersign(db: Database, actor: Actor, service_id: str, verification_id: str) -> dict[str, Any]:
    """A second person countersigns a checklist (issue 14): not its signer, and a regulator when
    the pause is a regulator's hold. Written to the ledger."""
    with db.transaction() as s:
        svc = _service(s, actor, service_id)
        proc = current(s, service_id)
        v = s.get(Verification, verification_id)
        if proc is None or v is None or v.procedure_id != proc.id:
            raise NotFound(f"服务 {service_id} 当前恢复程序中没有验证 {verification_id}",
                           f"no verification {verification_id} in service {service_id}'s open recovery procedure")
        if v.method != "checklist":
            raise Conflict("只有检查单需要会签", "only a checklist is countersigned", code="not_a_checklist")
        if v.countersigned_by:
            raise Conflict(f"检查单 {v.id} 已由 {v.countersigned_by} 会签", f"checklist {v.id} is already countersigned by {v.countersigned_by}",
                           code="already_countersigned")
        if actor.label == v.by:
            raise Forbidden("会签须由签署者以外的另一人完成", "a countersignature must come from someone other than the signer",
                            code="same_person")
        st = s.get(SwitchState, service_id)
        if st is not None and st.hold_by and actor.role is not Role.regulator:
            raise Forbidden(f"服务 {service_id} 处于监管暂停（{st.hold_by}），检查单须由监管方会签",
                            f"service {service_id} is under a regulator's hold ({st.hold_by}): a regulator must countersign",
                            code="regulator_countersign_required")
        now = iso(db.clock.now())
        v.countersigned_by, v.countersigned_at = actor.label, now
        v.summary = {**(v.summary or {}), "countersigned_role": actor.role.value}
        ledger.append(s, db.clock, "recovery.countersigned", svc.id, actor.label, {
            "procedure": proc.id, "round": proc.round, "verification": v.id, "signed_by": v.by, "role": actor.role.value,
            "incident": proc.incident_id})
        _link_incident(s, proc, "countersign", v.id, now, f"checklist {v.id} countersigned by {actor.label}")
        return view(s, proc)


def _next_id(s: Session, model: type, prefix: str, proc: Procedure) -> str:
    """Ids numbered within the procedure, so items recorded in the same instant still sort in
    the order they were recorded (the gate asks for the *latest* verification)."""
    n = s.execute(select(func.count()).select_from(model).where(model.procedure_id == proc.id)).scalar_one()
    return f"{prefix}-{proc.id[4:]}-{n + 1:04d}"


def _remediations(s: Session, proc: Procedure) -> list[Remediation]:
    return list(s.execute(select(Remediation).where(Remediation.procedure_id == proc.id, Remediation.round == proc.round)
                          .order_by(Remediation.at, Remediation.id)).scalars())


def _verifications(s: Session, proc: Procedure) -> list[Verification]:
    return list(s.execute(select(Verification).where(Verification.procedure_id == proc.id, Verification.round == proc.round)
                          .order_by(Verification.at, Verification.id)).scalars())


def view(s: Session, proc: Procedure) -> dict[str, Any]:
    st = s.get(SwitchState, proc.service_id)
    rems, vers = _remediations(s, proc), _verifications(s, proc)
    return {
        "procedure": proc.id, "service": proc.service_id, "incident": proc.incident_id, "status": proc.status, "round": proc.round,
        "state": st.state if st else None, "percent": st.percent if st else None,
        "ramp": proc.ramp, "hold_seconds": proc.hold_seconds, "rollback_level": proc.rollback_level,
        "remediations": [{"id": r.id, "kind": r.kind, "description": r.description, "evidence": r.evidence, "by": r.by, "at": r.at} for r in rems],
        "verifications": [{"id": v.id, "method": v.method, "ref": v.ref, "passed": v.passed, "by": v.by, "at": v.at,
                           "profile": (v.summary or {}).get("profile") if v.method == "evaluation" else None,
                           "countersigned_by": v.countersigned_by, "countersigned_at": v.countersigned_at} for v in vers],
        "ramp_completed": proc.ramp_completed_round == proc.round, "ramp_completed_at": proc.ramp_completed_at,
        "opened_at": proc.opened_at, "completed_at": proc.completed_at,
    }


def status(db: Database, actor: Actor, service_id: str) -> dict[str, Any]:
    from fenghuo.recovery.gate import requirements

    with db.reader() as s:
        svc = s.get(Service, service_id)
        if svc is None:
            raise NotFound(f"未知服务 {service_id}", f"unknown service {service_id}", code="unknown_service")
        scope.require_visible(s, actor, svc)
        proc = current(s, service_id)
        out = view(s, proc) if proc else {"service": service_id, "procedure": None, "state": s.get(SwitchState, service_id).state}
        out["next"] = requirements(s, service_id)
        return out
