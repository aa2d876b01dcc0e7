"""Bulk registration (issue 19): a file of many services, applied in one transaction with the
new ids found in one query, gives exactly what registering each service alone gives — the same
rows, grades, first switch states and ledger entries, in the same order."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from fenghuo.control import services as registry
from fenghuo.control.models import SwitchState
from fenghuo.demo.fleet import fleet
from fenghuo.ledger import store as ledger
from fenghuo.ledger.models import LedgerEntry
from fenghuo.platform.errors import Forbidden, Invalid
from fenghuo.platform.roles import Actor, Role, local_actor
from fenghuo.registry.models import Service
from fenghuo.registry.spec import RegistrationFile, ServiceSpec

ADMIN = local_actor()


def _snapshot(db) -> dict:
    """Everything registration writes, without the times."""
    with db.reader() as s:
        services = [{c: getattr(r, c) for c in [col.key for col in Service.__table__.columns] if c not in ("created_at", "updated_at")}
                    for r in s.execute(select(Service).order_by(Service.id)).scalars()]
        states = [{c: getattr(r, c) for c in [col.key for col in SwitchState.__table__.columns] if c != "changed_at"}
                  for r in s.execute(select(SwitchState).order_by(SwitchState.service_id)).scalars()]
        entries = [(e.kind, e.subject, e.actor, e.payload)
                   for e in s.execute(select(LedgerEntry).order_by(LedgerEntry.seq)).scalars()]
        assert ledger.verify(s).ok
    return {"services": services, "states": states, "ledger": entries}


def _one_by_one(db, reg: RegistrationFile) -> list[dict]:
    out = registry.register(db, ADMIN, RegistrationFile(jurisdictions=reg.jurisdictions, providers=reg.providers))
    for svc in reg.services:
        out += registry.register(db, ADMIN, RegistrationFile(services=[svc]))
    return out


def test_bulk_equals_one_by_one(db_factory, tmp_path):
    reg = fleet(150, provinces=2)
    # the same id twice in one file: the second is an update of the row the first created
    changed = reg.services[7].model_copy(update={"reach": 90_000_000, "name": "renamed"})
    reg = reg.model_copy(update={"services": [*reg.services, changed]})
    bulk_db = db_factory()
    bulk = registry.register(bulk_db, ADMIN, reg)
    from fenghuo.platform.db import Database

    alone_db = Database(str(tmp_path / "alone.db"))
    alone_db.upgrade()
    try:
        alone = _one_by_one(alone_db, reg)
        assert bulk == alone
        assert bulk[-1]["result"] in ("regraded", "updated")
        a, b = _snapshot(bulk_db), _snapshot(alone_db)
        assert len(a["services"]) == 150 and len(a["states"]) == 150
        assert a == b
        assert {s["grade"] for s in a["services"]} >= {"L1", "L2", "L3"}  # the generator spans grades
        # registering the whole file again changes nothing
        again = registry.register(bulk_db, ADMIN, reg.model_copy(update={"services": [changed if i == 7 else x for i, x in enumerate(reg.services[:-1])]}))
        assert [r["result"] for r in again if "service" in r] == ["unchanged"] * 150
        assert _snapshot(bulk_db)["ledger"] == a["ledger"]
    finally:
        alone_db.dispose()


def test_bulk_is_all_or_nothing(db_factory):
    db = db_factory()
    reg = fleet(50, provinces=1)
    bad = reg.services[30].model_copy(update={"provider": "nobody"})
    with pytest.raises(Invalid):
        registry.register(db, ADMIN, reg.model_copy(update={"services": [*reg.services[:30], bad]}))
    with db.reader() as s:
        assert s.execute(select(Service.id)).first() is None
        assert ledger.head(s)[0] == 0
    registry.register(db, ADMIN, reg)
    op = Actor("op", Role.operator, provider_id=reg.services[0].provider)
    other = ServiceSpec.model_validate({**reg.services[1].model_dump(), "id": "svc-new"})
    with pytest.raises(Forbidden):  # an operator's file naming another provider's service: nothing lands
        registry.register(db, op, RegistrationFile(services=[reg.services[0].model_copy(update={"id": "svc-mine"}), other]))
    with db.reader() as s:
        assert s.get(Service, "svc-mine") is None
