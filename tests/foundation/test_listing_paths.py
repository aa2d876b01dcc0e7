"""Listed rows carry their service's jurisdiction (issue 19, migration 0020, ``control.row_scope``).

Who sees a warning, incident, complaint ticket, guard instance or command is decided on the row's
own ``jurisdiction_id``; it must give the same rows as joining the service and applying
``registry.scope.visible_filter`` for every kind of actor. The column is filled whoever writes
the row (ORM object, Core bulk insert), caught up when the service registers after the row, and
follows a service that moves; the migration fills rows written before it (SQLite and PostgreSQL).
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import command
from sqlalchemy import insert, select, text

import fenghuo.models  # noqa: F401 - every table, for the carrier check
from fenghuo.alerts import store
from fenghuo.alerts.models import WarningRow
from fenghuo.control import command_pages, row_scope, switch
from fenghuo.control import services as registry
from fenghuo.control.instance_models import GuardInstance
from fenghuo.control.instances import InstanceBook
from fenghuo.control.models import Command, SwitchState
from fenghuo.demo.fleet import fleet
from fenghuo.platform.db import Base
from fenghuo.platform.migrate import config
from fenghuo.platform.roles import Actor, Role, local_actor
from fenghuo.registry import scope
from fenghuo.registry.models import Service
from fenghuo.registry.spec import RegistrationFile, ServiceSpec
from fenghuo.response import complaints, incidents
from fenghuo.response.models import ComplaintTicket, Incident

ADMIN = local_actor()
N_SERVICES = 60
WHEN = "2026-03-01T10:00:00.000000Z"


def _actors(reg: RegistrationFile) -> list[Actor]:
    prov = reg.providers[0].id
    where = {p.id: p.jurisdiction for p in reg.providers}
    district = next(where[s.provider] for s in reg.services if "d" in where[s.provider])  # e.g. p00c1d2
    return [ADMIN, Actor("root", Role.regulator, jurisdiction_id="cn"), Actor("prov", Role.regulator, jurisdiction_id="p00"),
            Actor("city", Role.regulator, jurisdiction_id=district.split("d")[0]),
            Actor("district", Role.regulator, jurisdiction_id=district),
            Actor("nowhere", Role.regulator, jurisdiction_id="no-such"), Actor("op", Role.operator, provider_id=prov),
            Actor("aud", Role.auditor), Actor("aud-p", Role.auditor, provider_id=prov),
            Actor("aud-j", Role.auditor, jurisdiction_id="p01"), Actor("scraper", Role.scraper)]


def _rows(ids: list[str]) -> dict[str, list[dict]]:
    n = len(ids) * 2
    pick = [ids[(i * 7) % len(ids)] for i in range(n)]
    return {
        "warnings": [{"id": f"w{i:04d}", "fingerprint": f"{i:032x}", "active": None, "alert": "a", "service_id": pick[i],
                      "state": "resolved", "level": "blue", "rule": "r", "value": 1.0, "description": "", "started_at": WHEN,
                      "rules": {}, "flaps": 0, "labels": {}, "updated_at": WHEN} for i in range(n)],
        "incidents": [{"id": f"inc{i:04d}", "service_id": pick[i], "provider_id": "x", "title": "t", "grade": "IV", "grade_inputs": {},
                       "flags": [], "status": "ended", "opened_by": "t", "source": "plan", "detected_at": WHEN, "opened_at": WHEN,
                       "profile": "cn-2025-operator", "profile_version": "1"} for i in range(n)],
        "complaints": [{"id": f"cpl{i:04d}", "service_id": pick[i], "provider_id": "x", "category": "complaint", "channel": "web",
                        "content": "c", "received_at": WHEN, "due_at": None, "status": "closed", "overdue": False, "created_by": "t"}
                       for i in range(n)],
        "instances": [{"id": f"g{i:04d}", "service_id": pick[i], "state": "running", "version": 1, "enforced_since": WHEN,
                       "last_seen": WHEN, "failsafe": False, "meta": {}} for i in range(n)],
        "commands": [{"id": f"c{i:04d}", "service_id": pick[i], "action": "pause", "params": {}, "reason": "r", "actor": "t",
                      "status": "awaiting_approval", "from_state": "running", "to_state": "paused", "approvals_needed": 2,
                      "created_at": WHEN} for i in range(n)],
    }


MODELS = {"warnings": WarningRow, "incidents": Incident, "complaints": ComplaintTicket, "instances": GuardInstance, "commands": Command}


def _fleet_db(db_factory):
    db = db_factory()
    reg = fleet(N_SERVICES, provinces=2)
    registry.register(db, ADMIN, reg)
    ids = sorted(s.id for s in reg.services)
    with db.transaction() as s:
        for name, rows in _rows(ids).items():
            s.execute(insert(MODELS[name]), rows)  # Core bulk insert: the column default fills each row
    return db, reg


def test_the_row_scope_selects_what_the_join_selected(db_factory):
    db, reg = _fleet_db(db_factory)
    for actor in _actors(reg):
        with db.reader() as s:
            for name, model in MODELS.items():
                by_row = set(s.execute(select(model.id).where(row_scope.visible(s, actor, model))).scalars())
                joined = set(s.execute(select(model.id).join(Service, Service.id == model.service_id)
                                       .where(scope.visible_filter(s, actor))).scalars())
                assert by_row == joined, (actor.name, name)
                if actor.name in ("prov", "city", "district", "op"):
                    assert 0 < len(by_row) < len(reg.services) * 2, (actor.name, name)  # a real subset, not all or none
            services = set(s.execute(select(Service.id).where(row_scope.services_visible(s, actor))).scalars())
            assert services == set(s.execute(select(Service.id).where(scope.visible_filter(s, actor))).scalars()), actor.name
    # and through the listings themselves, every page
    for actor in _actors(reg):
        with db.reader() as s:
            want = set(s.execute(select(WarningRow.id).join(Service, Service.id == WarningRow.service_id)
                                 .where(scope.visible_filter(s, actor))).scalars())
        got, after = [], None
        while True:
            page = store.warning_page(db, actor, after=after, limit=7)
            got += [w["id"] for w in page.items]
            if not page.next:
                break
            after = page.next
        assert sorted(got) == sorted(want) and len(got) == len(set(got)), actor.name
        states, after = [], None
        while True:  # the states page, as GET /states walks it (limit + 1, then after the last shown)
            rows = switch.all_states(db, actor, after=after, limit=8)
            states += [r["service"] for r in rows[:7]]
            if len(rows) <= 7:
                break
            after = rows[6]["service"]
        with db.reader() as s:
            assert states == sorted(s.execute(select(SwitchState.service_id).join(Service, Service.id == SwitchState.service_id)
                                              .where(scope.visible_filter(s, actor))).scalars()), actor.name
        for page_of in (lambda a: incidents.incident_page(db, a, limit=1000), lambda a: complaints.ticket_page(db, a, limit=1000),
                        lambda a: InstanceBook(db).page(a, limit=1000), lambda a: command_pages.pending_page(db, a, limit=1000)):
            assert page_of(actor).items or not want, actor.name


def test_the_column_is_filled_on_insert_and_follows_the_service(db_factory):
    db, reg = _fleet_db(db_factory)
    svc = reg.services[0]
    with db.reader() as s:
        home = s.get(Service, svc.id).jurisdiction_id
        for model in MODELS.values():
            assert set(s.execute(select(model.jurisdiction_id).where(model.service_id == svc.id)).scalars()) == {home}, model
    # an ORM object written through the alerting store (no jurisdiction given)
    with db.transaction() as s:
        s.add(WarningRow(id="w-orm", fingerprint="f" * 32, alert="a", service_id=svc.id, state="resolved", level="blue", rule="r",
                         started_at=WHEN, rules={}, labels={}, updated_at=WHEN))
        # a warning about a service not registered yet: no regulator sees it ...
        s.add(WarningRow(id="w-early", fingerprint="e" * 32, alert="a", service_id="svc-later", state="resolved", level="blue",
                         rule="r", started_at=WHEN, rules={}, labels={}, updated_at=WHEN))
    with db.reader() as s:
        assert s.get(WarningRow, "w-orm").jurisdiction_id == home
        assert s.get(WarningRow, "w-early").jurisdiction_id is None
    # ... until the service registers: then its regulator does
    later = ServiceSpec.model_validate({**svc.model_dump(), "id": "svc-later", "jurisdiction": "p01c1"})
    registry.register(db, ADMIN, RegistrationFile(services=[later]))
    with db.reader() as s:
        assert s.get(WarningRow, "w-early").jurisdiction_id == "p01c1"
    city = Actor("c", Role.regulator, jurisdiction_id="p01c1")
    assert "w-early" in {w["id"] for w in store.warning_page(db, city, limit=1000).items}
    # a service that moves (an approved change: here the admin's raise-or-equal re-registration)
    target = "p01c0d1" if home != "p01c0d1" else "p00c0d1"
    moved = ServiceSpec.model_validate({**svc.model_dump(), "jurisdiction": target})
    with db.transaction() as s:
        registry._put_service(s, db, ADMIN, moved, approved_change="test")  # as regrading.approve applies it
    with db.reader() as s:
        for model in MODELS.values():
            assert set(s.execute(select(model.jurisdiction_id).where(model.service_id == svc.id)).scalars()) == {target}, model


def test_every_carrier_is_named(db_factory):
    carriers = {t.name for t in Base.metadata.tables.values() if "jurisdiction_id" in t.c and "service_id" in t.c}
    assert carriers == set(row_scope.CARRIERS)


def _to(db, revision: str, down: bool = False) -> None:
    cfg = config()
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, revision)


def test_migration_fills_existing_rows(db_factory):
    db = db_factory(upgrade=False)
    _to(db, "0019_monitor_columns")
    with db.engine.begin() as c:
        c.execute(text("INSERT INTO jurisdictions (id, name, level, parent_id, path) VALUES ('cn', 'CN', 'national', NULL, 'cn/'), "
                       "('bj', 'BJ', 'provincial', 'cn', 'cn/bj/')"))
        c.execute(text("INSERT INTO providers (id, name, jurisdiction_id) VALUES ('p', 'P', 'cn')"))
        c.execute(text("INSERT INTO services (id, name, provider_id, jurisdiction_id, jurisdiction_path, attributes, grading_table, "
                       "grading_version, grade, grade_reasons, grade_defaults, created_at, updated_at) VALUES "
                       "('s1', 's1', 'p', 'bj', 'cn/bj/', :a, 't', '1', 'L1', '[]', '{}', 'x', 'x')"), {"a": json.dumps({})})
        c.execute(text("INSERT INTO alert_warnings (id, fingerprint, alert, service_id, state, level, rule, description, started_at, "
                       "rules, flaps, labels, updated_at) VALUES ('w1', 'f', 'a', 's1', 'resolved', 'blue', 'r', '', :t, '{}', 0, '{}', :t), "
                       "('w2', 'g', 'a', 'ghost', 'resolved', 'blue', 'r', '', :t, '{}', 0, '{}', :t)"), {"t": WHEN})
        c.execute(text("INSERT INTO commands (id, service_id, action, params, reason, actor, status, from_state, to_state, "
                       "approvals_needed, created_at) VALUES ('c1', 's1', 'pause', '{}', 'r', 'a', 'awaiting_approval', 'running', "
                       "'paused', 2, :t)"), {"t": WHEN})
    db.upgrade()
    with db.engine.connect() as c:
        assert dict(c.execute(text("SELECT id, jurisdiction_id FROM alert_warnings ORDER BY id")).all()) == {"w1": "bj", "w2": None}
        assert c.execute(text("SELECT jurisdiction_id FROM commands")).scalar() == "bj"
    names = {i["name"] for i in sa.inspect(db.engine).get_indexes("alert_warnings", schema=db_factory.schema)}
    assert "ix_alert_warnings_jurisdiction_started" in names
    _to(db, "0019_monitor_columns", down=True)
    cols = {c["name"] for c in sa.inspect(db.engine).get_columns("alert_warnings", schema=db_factory.schema)}
    assert "jurisdiction_id" not in cols
    db.engine.dispose()
    _to(db, "head")
    with db.engine.connect() as c:
        assert c.execute(text("SELECT jurisdiction_id FROM alert_warnings WHERE id = 'w1'")).scalar() == "bj"
