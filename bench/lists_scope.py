"""The regulator's page before and after migration 0020, in SQL, interleaved in one process
(``bench fleet_lists``): the baseline is the query the listings ran before (each row joined to
its service, ``registry.scope.visible_filter``), measured beside today's (the row's own
``jurisdiction_id``, ``control.row_scope``) on the same database, alternately, so the ratio holds
however loaded the machine is.

Each pair selects the keys of one page of 100 (plus one) the way its listing does; for services
and states the baseline read whole rows (as ``service_page`` did), today's reads the keys and then
the page's rows by id.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenghuo.alerts.models import WarningRow
from fenghuo.control import row_scope
from fenghuo.control.instance_models import GuardInstance
from fenghuo.control.models import Command, SwitchState
from fenghuo.platform.db import Database
from fenghuo.platform.roles import Actor, Role
from fenghuo.registry import scope
from fenghuo.registry.models import Service
from fenghuo.response.models import ComplaintTicket, Incident

PAGE = 101


def _timed(model: Any, cols: list[Any], desc: bool, where: Any = None) -> tuple[Callable, Callable]:
    order = [c.desc() if desc else c.asc() for c in cols]

    def joined(s: Session, actor: Actor) -> int:
        q = select(*cols).join(Service, Service.id == model.service_id).where(scope.visible_filter(s, actor))
        return len(s.execute((q.where(where) if where is not None else q).order_by(*order).limit(PAGE)).all())

    def own(s: Session, actor: Actor) -> int:
        q = select(*cols).where(row_scope.visible(s, actor, model))
        return len(s.execute((q.where(where) if where is not None else q).order_by(*order).limit(PAGE)).all())

    return joined, own


def _services_before(s: Session, actor: Actor) -> int:
    q = (select(Service, SwitchState).outerjoin(SwitchState, SwitchState.service_id == Service.id)
         .where(scope.visible_filter(s, actor)).order_by(Service.id).limit(PAGE))
    return len(s.execute(q).all())


def _services_now(s: Session, actor: Actor) -> int:
    ids = list(s.execute(select(Service.id).where(row_scope.services_visible(s, actor)).order_by(Service.id).limit(PAGE)).scalars())
    return len(s.execute(select(Service, SwitchState).outerjoin(SwitchState, SwitchState.service_id == Service.id)
                         .where(Service.id.in_(ids))).all())


def _states_before(s: Session, actor: Actor) -> int:
    q = (select(SwitchState).join(Service, Service.id == SwitchState.service_id).where(scope.visible_filter(s, actor))
         .order_by(SwitchState.service_id).limit(PAGE))
    return len(s.execute(q).all())


def _states_now(s: Session, actor: Actor) -> int:
    ids = list(s.execute(select(Service.id).where(row_scope.services_visible(s, actor)).order_by(Service.id).limit(PAGE)).scalars())
    return len(s.execute(select(SwitchState).where(SwitchState.service_id.in_(ids))).all())


PAIRS: dict[str, tuple[Callable, Callable]] = {
    "services": (_services_before, _services_now),
    "warnings": _timed(WarningRow, [WarningRow.started_at, WarningRow.id], True),
    "incidents": _timed(Incident, [Incident.opened_at, Incident.id], True),
    "complaints": _timed(ComplaintTicket, [ComplaintTicket.received_at, ComplaintTicket.id], True),
    "instances": _timed(GuardInstance, [GuardInstance.id], False),
    "commands/pending": _timed(Command, [Command.created_at, Command.id], False, Command.status == "awaiting_approval"),
    "states": (_states_before, _states_now),
}


def compare(db: Database, jurisdiction: str, reps: int) -> dict[str, tuple[float, float, int]]:
    """{listing: (baseline p50 ms, today's p50 ms, rows)} for a regulator of ``jurisdiction``."""
    actor = Actor("bench-regulator", Role.regulator, jurisdiction_id=jurisdiction)
    out = {}
    with db.reader() as s:
        for name, (before, now) in PAIRS.items():
            rows = before(s, actor)
            assert now(s, actor) == rows, name  # the same page size both ways (the rows: tests/foundation)
            a, b = [], []
            for _ in range(reps):
                for fn, into in ((before, a), (now, b)):
                    t = time.perf_counter()
                    fn(s, actor)
                    into.append((time.perf_counter() - t) * 1000)
                    s.expunge_all()  # no row stays loaded for the next call to find
            out[name] = (statistics.median(a), statistics.median(b), rows)
    return out
