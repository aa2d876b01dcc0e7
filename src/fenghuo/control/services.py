"""Registering, re-grading and reading services, providers and jurisdictions.

It lives in ``control``, not ``registry``, because registering a service also gives it its
first switch state and every view of a service shows that state: this is the one place that
joins the registry (below) with the switch.

Every write goes to the ledger in the same transaction; a registration file is applied whole
or not at all.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from fenghuo.control import bulk_register, listing, regrading, row_scope, switch
from fenghuo.control.models import SwitchState
from fenghuo.ledger import store as ledger
from fenghuo.platform.bulk_sql import one_of
from fenghuo.platform.clock import iso
from fenghuo.platform.db import Database
from fenghuo.platform.errors import Forbidden, Invalid, NotFound
from fenghuo.platform.roles import Actor, Role
from fenghuo.registry import scope
from fenghuo.registry.grading import Grading, get_table, grade_mask, rule_mask
from fenghuo.registry.models import Jurisdiction, Provider, Service
from fenghuo.registry.spec import JurisdictionSpec, ProviderSpec, RegistrationFile, ServiceSpec

log = logging.getLogger(__name__)


def _require_admin(actor: Actor, what_zh: str, what_en: str) -> None:
    if actor.role is not Role.admin:
        raise Forbidden(f"只有部署管理员可以{what_zh}", f"only the deployment admin may {what_en}")


def _put_jurisdiction(s: Session, db: Database, actor: Actor, spec: JurisdictionSpec) -> None:
    _require_admin(actor, "登记辖区", "register jurisdictions")
    parent_path = ""
    if spec.parent:
        parent = s.get(Jurisdiction, spec.parent)
        if parent is None:
            raise Invalid(f"辖区 {spec.id} 的上级 {spec.parent} 不存在", f"jurisdiction {spec.id}: parent {spec.parent} does not exist", field="parent")
        parent_path = parent.path
    path = f"{parent_path}{spec.id}/"
    if len(path) > 1000:  # the path column's length (a chain of a few dozen levels)
        raise Invalid(f"辖区 {spec.id} 的层级过深（路径超过 1000 个字符）", f"jurisdiction {spec.id} is nested too deep (its path exceeds 1000 characters)", field="parent")
    existing = s.get(Jurisdiction, spec.id)
    if existing is not None:
        if (existing.name, existing.level, existing.parent_id) == (spec.name, spec.level, spec.parent):
            return
        if existing.parent_id != spec.parent:
            raise Invalid(f"辖区 {spec.id} 不能改变上级", f"jurisdiction {spec.id} cannot move to another parent", field="parent")
        existing.name, existing.level = spec.name, spec.level
    else:
        s.add(Jurisdiction(id=spec.id, name=spec.name, level=spec.level, parent_id=spec.parent, path=path))
    s.flush()
    ledger.append(s, db.clock, "jurisdiction.registered", f"jurisdiction:{spec.id}", actor.label, spec.model_dump())


def _put_provider(s: Session, db: Database, actor: Actor, spec: ProviderSpec) -> None:
    _require_admin(actor, "登记服务提供者", "register providers")
    if s.get(Jurisdiction, spec.jurisdiction) is None:
        raise Invalid(f"提供者 {spec.id} 的辖区 {spec.jurisdiction} 不存在", f"provider {spec.id}: jurisdiction {spec.jurisdiction} does not exist", field="jurisdiction")
    existing = s.get(Provider, spec.id)
    op_type = spec.operator_type.value if hasattr(spec.operator_type, "value") else spec.operator_type
    if existing is not None:
        if (existing.name, existing.jurisdiction_id, existing.operator_type, existing.complaint_limit, existing.filing_number) == (
                spec.name, spec.jurisdiction, op_type, spec.complaint_limit, spec.filing_number):
            return
        existing.name, existing.jurisdiction_id, existing.operator_type = spec.name, spec.jurisdiction, op_type
        existing.complaint_limit, existing.filing_number = spec.complaint_limit, spec.filing_number
    else:
        s.add(Provider(id=spec.id, name=spec.name, jurisdiction_id=spec.jurisdiction, operator_type=op_type,
                       complaint_limit=spec.complaint_limit, filing_number=spec.filing_number))
    s.flush()
    ledger.append(s, db.clock, "provider.registered", f"provider:{spec.id}", actor.label, spec.model_dump())


_NEW = "fenghuo.services.new"  # session.info: service ids known to be absent from the database
_GRADES = "fenghuo.services.grades"  # session.info: gradings by (table, rules that hold)
_TABLES = "fenghuo.services.tables"  # session.info: grading tables by id


def _grading(s: Session, spec: ServiceSpec, attributes: dict[str, Any]) -> Grading:
    """The grading of ``attributes`` (``spec.grading_attributes()``) by the spec's table, made once
    per table and set of rules that hold in a transaction (``grading.rule_mask``: a bulk file of
    thousands of services holds tens of them). Shared between services: not to be changed."""
    tables = s.info.setdefault(_TABLES, {})
    table = tables.get(spec.grading_table)
    if table is None:  # finding the table lists the table directories
        try:
            table = tables[spec.grading_table] = get_table(spec.grading_table)
        except NotFound as exc:
            raise Invalid(f"服务 {spec.id}：{exc.zh}", f"service {spec.id}: {exc.en}", field="grading_table") from None
    memo = s.info.setdefault(_GRADES, {})
    key = (spec.grading_table, rule_mask(table, attributes))
    g = memo.get(key)
    if g is None:
        g = memo[key] = grade_mask(table, key[1])
    return g


def _grade(s: Session, spec: ServiceSpec) -> Grading:
    g = _grading(s, spec, spec.grading_attributes())
    return dataclasses.replace(g, defaults=copy.deepcopy(g.defaults))  # rows never share a mutable dict


def _prefetch(s: Session, reg: RegistrationFile, chunk: int = 500) -> None:
    """Before a bulk registration: which service ids are new (one query per ``chunk`` ids, not a
    lookup per service), and the providers and jurisdictions they name, into the session's
    identity map so ``s.get`` answers without a query or a flush."""
    ids = list(dict.fromkeys(x.id for x in reg.services))
    have: set[str] = set()
    for i in range(0, len(ids), chunk):
        have.update(s.execute(select(Service.id).where(one_of(s, Service.id, ids[i:i + chunk]))).scalars())
    new = s.info[_NEW] = set(ids) - have
    # the services that take ``_put_service``: the rest are new and first with their id, and
    # ``bulk_register`` reads their providers and jurisdictions as plain values
    first: set[str] = set()
    slow = []
    for x in reg.services:
        if x.id in new and x.id not in first:
            first.add(x.id)
        else:
            slow.append(x)
    names = sorted({x.provider for x in slow} | {p.id for p in reg.providers})
    provs = [p for i in range(0, len(names), chunk)
             for p in s.execute(select(Provider).where(Provider.id.in_(names[i:i + chunk]))).scalars()]
    js = sorted({x.jurisdiction for x in slow if x.jurisdiction} | {p.jurisdiction_id for p in provs}
                | {j.id for j in reg.jurisdictions} | {j.parent for j in reg.jurisdictions if j.parent}
                | {p.jurisdiction for p in reg.providers})
    for i in range(0, len(js), chunk):
        s.execute(select(Jurisdiction).where(Jurisdiction.id.in_(js[i:i + chunk]))).scalars().all()


def _hold_rows(s: Session) -> None:
    """Keep every row this session loads or inserts referenced until it ends: the identity map
    holds rows weakly, and a row dropped from it costs a query (and a flush) at the next
    ``s.get``."""
    held: list[object] = []
    s.info["fenghuo.services.held"] = held
    event.listen(s, "loaded_as_persistent", lambda _s, obj: held.append(obj))
    event.listen(s, "pending_to_persistent", lambda _s, obj: held.append(obj))


def _put_service(s: Session, db: Database, actor: Actor, spec: ServiceSpec, approved_change: str | None = None) -> dict[str, Any]:
    """``approved_change``: a change a regulator approved (``control.regrading``), applied by that regulator."""
    if actor.role in (Role.regulator, Role.auditor, Role.system) and approved_change is None:
        raise Forbidden(f"角色 {actor.role.value} 不能登记或修改服务", f"role {actor.role.value} may not register or edit a service")
    provider = s.get(Provider, spec.provider)
    if provider is None:
        raise Invalid(f"服务 {spec.id} 的提供者 {spec.provider} 不存在", f"service {spec.id}: provider {spec.provider} does not exist", field="provider")
    if actor.role is Role.operator and actor.provider_id != spec.provider:
        raise Forbidden(f"{actor.label} 只能登记本提供者的服务", f"{actor.label} may only register its own provider's services")
    jurisdiction = s.get(Jurisdiction, spec.jurisdiction or provider.jurisdiction_id)
    if jurisdiction is None:
        raise Invalid(f"服务 {spec.id} 的辖区 {spec.jurisdiction} 不存在", f"service {spec.id}: jurisdiction {spec.jurisdiction} does not exist", field="jurisdiction")
    grading = _grade(s, spec)
    if grading.defaults.get("requires_filing") and not (spec.filing_number and spec.base_model_filing):
        missing = [k for k in ("filing_number", "base_model_filing") if not getattr(spec, k)]
        raise Invalid(f"服务 {spec.id} 的分级 {grading.grade} 须有备案号：缺 {', '.join(missing)}（CN-PO-12、CN-TC-12）",
                      f"service {spec.id}: grade {grading.grade} needs filing numbers, missing {', '.join(missing)} "
                      "(CN-PO-12, CN-TC-12)", field=missing[0], code="filing_required")
    now = iso(db.clock.now())
    attrs = spec.model_dump(exclude={"id", "name", "provider", "jurisdiction", "grading_table"})
    reasons = [r.to_dict() for r in grading.reasons]
    graded = {"table": grading.table, "version": grading.version, "grade": grading.grade, "reasons": reasons, "defaults": grading.defaults}
    new = s.info.get(_NEW, ())
    existing = None if spec.id in new else s.get(Service, spec.id)  # known absent: no query (bulk)
    if existing is None:
        if new:
            new.discard(spec.id)  # the same id again in this file is an update of this row
        svc = Service(id=spec.id, name=spec.name, provider_id=provider.id, jurisdiction_id=jurisdiction.id,
                      jurisdiction_path=jurisdiction.path, attributes=attrs, grading_table=grading.table,
                      grading_version=grading.version, grade=grading.grade, grade_reasons=reasons,
                      grade_defaults=grading.defaults, created_at=now, updated_at=now)
        s.add(svc)  # flushed with the batch (one INSERT per table per transaction, not per service)
        ledger.append(s, db.clock, "service.registered", spec.id, actor.label, {"service": spec.model_dump(), "grading": graded})
        initial = grading.defaults.get("initial_state", "running")
        switch.initialise(s, db.clock, spec.id, initial, actor,
                          "登记 / registered" if initial == "running" else f"登记时按分级默认为 {initial} / {initial} by grade default at registration")
        return {"service": spec.id, "result": "registered", "grade": grading.grade}
    if existing.provider_id != spec.provider:
        raise Forbidden(f"服务 {spec.id} 属于提供者 {existing.provider_id}", f"service {spec.id} belongs to provider {existing.provider_id}")
    scope.require_can_command(s, actor, existing)
    before = {"grade": existing.grade, "table": existing.grading_table, "version": existing.grading_version}
    changed = {k: (existing.attributes.get(k), v) for k, v in attrs.items() if existing.attributes.get(k) != v}
    if not changed and existing.name == spec.name and existing.jurisdiction_id == jurisdiction.id and before["table"] == grading.table and before["version"] == grading.version:
        return {"service": spec.id, "result": "unchanged", "grade": existing.grade}
    if approved_change is None:
        lowering = regrading.lowering_reasons(existing, jurisdiction, grading, attrs)
        if lowering:  # issue 14: refused under a hold or incident, else waits for a regulator
            return regrading.hold_back(s, db, actor, existing, spec, lowering)
    moved = existing.jurisdiction_id != jurisdiction.id
    existing.name, existing.attributes, existing.jurisdiction_id, existing.jurisdiction_path = spec.name, attrs, jurisdiction.id, jurisdiction.path
    existing.grading_table, existing.grading_version, existing.grade = grading.table, grading.version, grading.grade
    existing.grade_reasons, existing.grade_defaults, existing.updated_at = reasons, grading.defaults, now
    s.flush()
    if moved:  # its warnings, incidents, tickets, instances and commands follow it to its new regulator
        row_scope.follow(s, [spec.id])
    ledger.append(s, db.clock, "service.regraded", spec.id, actor.label, {
        "changed": {k: {"from": a, "to": b} for k, (a, b) in changed.items()}, "before": before, "grading": graded,
        **({"approved_change": approved_change} if approved_change else {})})
    return {"service": spec.id, "result": "regraded" if before["grade"] != grading.grade else "updated",
            "grade": grading.grade, "previous_grade": before["grade"]}


def apply_approved(s: Session, db: Database, regulator: Actor, spec: ServiceSpec, change_id: str) -> dict[str, Any]:
    """Apply a registration change a regulator approved, inside ``control.regrading.approve``."""
    return _put_service(s, db, regulator, spec, approved_change=change_id)


def register(db: Database, actor: Actor, reg: RegistrationFile) -> list[dict[str, Any]]:
    """Apply a registration file in one transaction: jurisdictions, then providers, then services."""
    if not (reg.jurisdictions or reg.providers or reg.services):
        raise Invalid("登记文件为空", "the registration file is empty")
    results: list[dict[str, Any]] = []
    with db.transaction() as s:
        _hold_rows(s)
        _prefetch(s, reg)
        for j in reg.jurisdictions:
            _put_jurisdiction(s, db, actor, j)
            results.append({"jurisdiction": j.id, "result": "ok"})
        for p in reg.providers:
            _put_provider(s, db, actor, p)
            results.append({"provider": p.id, "result": "ok"})
        new = s.info[_NEW]
        services = reg.services
        i = 0
        while i < len(services):
            # a run of services that are new and first in the file with their id goes in one
            # INSERT per table (bulk_register); any other service, one at a time
            j = i
            while j < len(services) and services[j].id in new:
                new.discard(services[j].id)  # the same id again later in the file is an update
                j += 1
            if j > i:
                results += bulk_register.put_new(s, db, actor, services[i:j], lambda spec, attrs: _grading(s, spec, attrs))
                i = j
            else:
                results.append(_put_service(s, db, actor, services[i]))
                i += 1
        registered = [r["service"] for r in results if r.get("result") == "registered"]
        if registered:  # rows written before their service existed (a warning names any id) gain its jurisdiction
            s.flush()
            row_scope.follow(s, registered)
    inserted = sum(1 for r in results if r.get("result") == "registered")
    if inserted >= ANALYZE_AFTER:
        refresh_statistics(db, inserted)
    return results


ANALYZE_AFTER = 500  # services inserted by one registration before the planner's statistics are refreshed
FILLED = ("services", "switch_states", "ledger_entries")  # the tables a registration fills


def refresh_statistics(db: Database, inserted: int) -> None:
    """After a bulk registration, in its own transaction: PostgreSQL plans from statistics that
    autovacuum refreshes only a while later, and until then a filtered services page took 2.8 s
    at 100,000 (47 ms after ANALYZE). ANALYZE a table when this registration added ≥ 10 % of
    its estimated rows (autovacuum's own rule) or it was never analysed, so a fleet registered
    1,000 at a time is analysed ~50 times on its way to 100,000, not 100. On SQLite ``PRAGMA
    optimize``, which analyses only the tables it judges to need it (often none), sampling at
    most 1,000 rows per index so the write lock is held briefly. A failure is logged, never the
    registration's: the rows are committed."""
    try:
        with db.engine.begin() as conn:
            if db.is_sqlite:
                conn.exec_driver_sql("PRAGMA analysis_limit=1000")
                conn.exec_driver_sql("PRAGMA optimize")
                return
            for table in FILLED:
                rows = conn.exec_driver_sql("SELECT c.reltuples FROM pg_class c WHERE c.oid = to_regclass(%(t)s)",
                                            {"t": table}).scalar()
                if rows is not None and (rows < 0 or inserted >= 0.1 * rows):
                    conn.exec_driver_sql(f"ANALYZE {table}")
    except Exception as exc:  # noqa: BLE001 - statistics are an optimisation; the registration stands
        log.warning("ANALYZE after registering %d services failed: %s", inserted, exc)


def service_view(s: Session, svc: Service) -> dict[str, Any]:
    return listing.view(svc, s.get(SwitchState, svc.id))


def get(db: Database, actor: Actor, service_id: str) -> dict[str, Any]:
    with db.reader() as s:
        svc = s.get(Service, service_id)
        if svc is None:
            raise NotFound(f"未知服务 {service_id}", f"unknown service {service_id}", code="unknown_service")
        scope.require_visible(s, actor, svc)
        return service_view(s, svc)


def list_services(db: Database, actor: Actor, *, sector: str | None = None, grade: str | None = None,
                  provider: str | None = None) -> list[dict[str, Any]]:
    """Every visible service (no paging). Listings page with ``control.listing.service_page``;
    callers that only need the visible set use ``listing.visible_ids``."""
    return listing.service_page(db, actor, listing.ServiceFilter(sector=sector, grade=grade, provider=provider),
                                limit=None).items
