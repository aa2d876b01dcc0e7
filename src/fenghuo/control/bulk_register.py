"""New services of a registration file, many at once (issue 19: ≥ 1,000 services a second at
100,000).

``services.register`` hands each run of services that are new (absent from the database, and
first in the file with their id) to ``put_new``, which checks them in file order with the same
checks and errors as ``services._put_service`` and then writes their rows, first switch states and
ledger entries with one INSERT per table (on PostgreSQL one statement of array parameters,
``platform.bulk_sql.insert_rows``, not a statement per row). What it writes is what ``_put_service`` writes for a new
service, row for row and entry for entry (tests/foundation/test_fleet_registration.py compares a
bulk file with the same services registered one at a time). Per service that path built three ORM
objects and the unit of work flushed them (~200 µs), and the ledger's two entries each ran
``json.dumps`` three times; at 100,000 services a batch of 1,000 took ~670 ms of CPU, half of it
there.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenghuo.control.models import SwitchState
from fenghuo.control.transitions import State
from fenghuo.ledger import store as ledger
from fenghuo.platform.bulk_sql import insert_rows, one_of
from fenghuo.platform.clock import iso
from fenghuo.platform.db import Database
from fenghuo.platform.errors import Forbidden, Invalid
from fenghuo.platform.roles import Actor, Role
from fenghuo.registry.grading import Grading
from fenghuo.registry.models import Jurisdiction, Provider, Service
from fenghuo.registry.spec import ServiceSpec

CHUNK = 500  # ids per IN (...) when reading providers and jurisdictions (SQLite; one array on PostgreSQL)
_PLACES = "fenghuo.bulk.places"  # session.info: provider → jurisdiction, jurisdiction → path

# what ``_put_service`` leaves out of a service's stored attributes, and what grading leaves out
# of those (``ServiceSpec.grading_attributes``)
NOT_ATTRIBUTES = frozenset({"id", "name", "provider", "jurisdiction", "grading_table"})
NOT_GRADED = NOT_ATTRIBUTES | {"labels", "primary_model", "public"}


def _places(s: Session, specs: list[ServiceSpec]) -> tuple[dict[str, str], dict[str, str]]:
    """Provider id → its jurisdiction, jurisdiction id → its path, for the providers and
    jurisdictions these services name (read once per transaction, as plain values: an ORM
    object per provider was ~50 µs)."""
    provs, paths = s.info.setdefault(_PLACES, ({}, {}))
    want = sorted({x.provider for x in specs} - provs.keys())
    for i in range(0, len(want), CHUNK):
        provs.update(s.execute(select(Provider.id, Provider.jurisdiction_id).where(one_of(s, Provider.id, want[i:i + CHUNK]))).all())
    js = sorted(({x.jurisdiction for x in specs if x.jurisdiction} | {provs[x.provider] for x in specs if x.provider in provs})
                - paths.keys())
    for i in range(0, len(js), CHUNK):
        paths.update(s.execute(select(Jurisdiction.id, Jurisdiction.path).where(one_of(s, Jurisdiction.id, js[i:i + CHUNK]))).all())
    return provs, paths


def put_new(s: Session, db: Database, actor: Actor, specs: list[ServiceSpec], grading_for: Any) -> list[dict[str, Any]]:
    """Register ``specs``, every one new (``services.register`` decides): their results, in order.
    ``grading_for(spec, attributes)`` is ``services._grading`` (one grading per distinct set of
    rules that hold). Raises at the first service that fails a check, as ``_put_service`` would;
    the caller's transaction then writes nothing."""
    if actor.role in (Role.regulator, Role.auditor, Role.system):
        raise Forbidden(f"角色 {actor.role.value} 不能登记或修改服务", f"role {actor.role.value} may not register or edit a service")
    s.flush()  # providers and jurisdictions of this file, and earlier rows, before they are read or referenced
    provs, paths = _places(s, specs)
    label = actor.label
    services: list[dict[str, Any]] = []
    states: list[dict[str, Any]] = []
    entries: list[tuple[str, str, str, str, dict[str, Any]]] = []
    results: list[dict[str, Any]] = []
    # id(grading) → (state, reason, its reasons as dicts): one list per grading, shared by the
    # rows that have it (insert_rows serializes a shared value once)
    initial_states: dict[int, tuple[str, str, list[dict[str, Any]]]] = {}
    for spec in specs:
        home = provs.get(spec.provider)
        if home is None:
            raise Invalid(f"服务 {spec.id} 的提供者 {spec.provider} 不存在", f"service {spec.id}: provider {spec.provider} does not exist", field="provider")
        if actor.role is Role.operator and actor.provider_id != spec.provider:
            raise Forbidden(f"{actor.label} 只能登记本提供者的服务", f"{actor.label} may only register its own provider's services")
        jid = spec.jurisdiction or home
        path = paths.get(jid)
        if path is None:
            raise Invalid(f"服务 {spec.id} 的辖区 {spec.jurisdiction} 不存在", f"service {spec.id}: jurisdiction {spec.jurisdiction} does not exist", field="jurisdiction")
        dump = spec.model_dump()
        attrs = {k: v for k, v in dump.items() if k not in NOT_ATTRIBUTES}
        grading: Grading = grading_for(spec, {k: v for k, v in attrs.items() if k not in NOT_GRADED})
        defaults = grading.defaults
        if defaults.get("requires_filing") and not (spec.filing_number and spec.base_model_filing):
            missing = [k for k in ("filing_number", "base_model_filing") if not getattr(spec, k)]
            raise Invalid(f"服务 {spec.id} 的分级 {grading.grade} 须有备案号：缺 {', '.join(missing)}（CN-PO-12、CN-TC-12）",
                          f"service {spec.id}: grade {grading.grade} needs filing numbers, missing {', '.join(missing)} "
                          "(CN-PO-12, CN-TC-12)", field=missing[0], code="filing_required")
        first = initial_states.get(id(grading))
        if first is None:
            initial = defaults.get("initial_state", "running")
            first = initial_states[id(grading)] = (State(initial).value, "登记 / registered" if initial == "running" else
                                                   f"登记时按分级默认为 {initial} / {initial} by grade default at registration",
                                                   [r.to_dict() for r in grading.reasons])
        state, reason, reasons = first
        now = iso(db.clock.now())
        graded = {"table": grading.table, "version": grading.version, "grade": grading.grade, "reasons": reasons, "defaults": defaults}
        services.append({"id": spec.id, "name": spec.name, "provider_id": spec.provider, "jurisdiction_id": jid,
                         "jurisdiction_path": path, "attributes": attrs, "grading_table": grading.table,
                         "grading_version": grading.version, "grade": grading.grade, "grade_reasons": reasons,
                         "grade_defaults": defaults, "created_at": now, "updated_at": now,
                         "sector": attrs.get("sector")})  # registry.models._sector_column, which an INSERT of rows skips
        states.append({"service_id": spec.id, "state": state, "version": 1, "rate": None, "percent": None, "reason": reason,
                       "changed_by": label, "changed_at": now, "command_id": None, "hold_by": None, "incident_id": None})
        entries.append((now, "service.registered", spec.id, label, {"service": dump, "grading": graded}))
        entries.append((now, "switch.changed", spec.id, label,
                        {"action": "register", "from": None, "to": state, "version": 1, "reason": reason, "command": None}))
        results.append({"service": spec.id, "result": "registered", "grade": grading.grade})
    insert_rows(s, Service.__table__, services)
    insert_rows(s, SwitchState.__table__, states)  # after their services (the foreign key)
    ledger.append_plain(s, entries)
    return results
