"""Who may see a listed row, answered from the row itself (issue 19, migration 0020).

Warnings, incidents, complaint tickets, guard instances and commands carry their service's
``jurisdiction_id``. A regulator's page of them is then ``WHERE jurisdiction_id IN (<the nodes of
its subtree>) ORDER BY time, id LIMIT n``: index ranges on ``(jurisdiction_id, time, id)`` over
the rows of its scope only, where joining each row to ``services`` to test its scope read
thousands of rows of other scopes, or joined thousands of services, per page (52–245 ms for a
province at 100,000; ``bench fleet_lists``).

The column is kept equal to the service's jurisdiction, whoever writes the row:

- on insert, a column default reads it from ``services`` when the writer did not give it (ORM
  objects, ORM bulk and Core inserts alike: a Python default runs for each row of an insert);
- a row written before its service was registered (warnings name any service id) or a service
  that moved to another jurisdiction is caught up by ``follow`` in the registration's
  transaction (``control.services.register``).

What the scope means does not change: it is ``registry.scope.visible_filter`` written against
the row's own column (tests/foundation/test_listing_paths.py compares the two for every role).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, String, false, func, select, true, update
from sqlalchemy import column as sa_column
from sqlalchemy import table as sa_table
from sqlalchemy.orm import Session, mapped_column

from fenghuo.platform.roles import Actor, Role
from fenghuo.registry import scope
from fenghuo.registry.models import Jurisdiction, Service

# The tables whose rows carry their service's jurisdiction (named, not imported: they live in
# packages above this one; a test checks this list against the models that declare the column).
CARRIERS = ("alert_warnings", "response_incidents", "response_complaints", "guard_instances", "commands")
CHUNK = 500  # service ids per UPDATE in ``follow`` (SQLite)


def _service_jurisdiction(context: Any) -> str | None:
    """The inserted row's service's jurisdiction (None: no such service, seen by no regulator)."""
    service_id = context.get_current_parameters().get("service_id")
    if service_id is None:
        return None
    memo = context.__dict__.get("_fenghuo_jurisdictions")
    if memo is None:
        # first row of the statement: every service its rows name, in one query per CHUNK ids
        # (a flush of 100 acknowledgements or a bulk insert, not a lookup per row)
        ids = sorted({p.get("service_id") for p in getattr(context, "compiled_parameters", None) or ()} - {None})
        memo = context.__dict__["_fenghuo_jurisdictions"] = {}
        for i in range(0, len(ids), CHUNK):
            memo.update((sid, jid) for sid, jid in context.connection.execute(
                select(Service.id, Service.jurisdiction_id).where(Service.id.in_(ids[i:i + CHUNK]))))
    if service_id not in memo:
        memo[service_id] = context.connection.execute(
            select(Service.jurisdiction_id).where(Service.id == service_id)).scalar()
    return memo[service_id]


def jurisdiction_column() -> Any:
    """The ``jurisdiction_id`` column of a listed row (filled from its service when not given)."""
    return mapped_column(String(64), nullable=True, default=_service_jurisdiction)


def subtree(session: Session, column: Any, path: str) -> ColumnElement[bool]:
    """Rows whose jurisdiction is the node with this path or beneath it. The subtree's nodes are
    read first (the jurisdictions table is small: 33 nodes for a province of the generated
    fleet) and given as a list: PostgreSQL plans ``IN (<list>)`` as index scans per node, where
    with ``IN (<subquery>)`` and no statistics on a fresh table it nested a scan of the
    jurisdictions inside every pending command (244 ms for 1,000 commands). At a root, where
    nearly every row matches, written so that no index range is taken on it: walking the
    listing's own (time, id) order and testing each row is the cheap plan there."""
    if path.count("/") <= 1:
        nodes = select(Jurisdiction.id).where(Jurisdiction.path.startswith(path, autoescape=True)).scalar_subquery()
        return func.coalesce(column, "").in_(nodes)
    ids = list(session.execute(select(Jurisdiction.id).where(Jurisdiction.path.startswith(path, autoescape=True))).scalars())
    return column.in_(ids) if ids else false()


def services_visible(session: Session, actor: Actor) -> ColumnElement[bool]:
    """``scope.visible_filter`` (the services ``actor`` may see) with a regulator's subtree given as
    its list of nodes on ``services.jurisdiction_id`` (index ``(jurisdiction_id, id)``), as above."""
    if actor.role is Role.regulator or (actor.role is Role.auditor and actor.jurisdiction_id and not actor.provider_id):
        path = scope.jurisdiction_path(session, actor.jurisdiction_id)
        if path is not None and path.count("/") > 1:
            return subtree(session, Service.jurisdiction_id, path)
    return scope.visible_filter(session, actor)


def visible(session: Session, actor: Actor, model: Any) -> ColumnElement[bool]:
    """A WHERE clause on ``model`` (a carrier) selecting the rows ``actor`` may see: the same
    answer as joining each row's service and applying ``scope.visible_filter``."""
    if actor.role in (Role.admin, Role.system):
        return true()
    if actor.role is Role.operator or (actor.role is Role.auditor and actor.provider_id):
        owned = select(Service.id).where(Service.provider_id == (actor.provider_id or ""))
        return model.service_id.in_(owned.scalar_subquery())
    if actor.role is Role.auditor and not actor.jurisdiction_id:
        return true()  # a deployment-wide auditor
    path = scope.jurisdiction_path(session, actor.jurisdiction_id)
    if path is None:
        return false()
    return subtree(session, model.jurisdiction_id, path)


def follow(session: Session, service_ids: Iterable[str]) -> None:
    """Set every carrier row of these services to the service's current jurisdiction (after a
    registration: rows written before the service existed, or a service that moved)."""
    ids = sorted(set(service_ids))
    if not ids:
        return
    if session.get_bind().dialect.name == "postgresql":
        # one statement: an UPDATE of each carrier in a WITH, the ids as one array parameter (ten
        # UPDATEs of 500 bound ids each took ~35 ms a batch of 1,000 to compile and send)
        parts = [f"u{i} AS (UPDATE {name} SET jurisdiction_id = s.jurisdiction_id FROM services s "
                 f"WHERE s.id = ANY(CAST(%(ids)b AS text[])) AND {name}.service_id = s.id "
                 f"AND {name}.jurisdiction_id IS DISTINCT FROM s.jurisdiction_id RETURNING 1)"
                 for i, name in enumerate(CARRIERS)]
        session.connection().exec_driver_sql(f"WITH {', '.join(parts)} SELECT 1", {"ids": ids})
        return
    services = Service.__table__
    for name in CARRIERS:
        t = sa_table(name, sa_column("service_id"), sa_column("jurisdiction_id"))
        current = select(services.c.jurisdiction_id).where(services.c.id == t.c.service_id).scalar_subquery()
        for i in range(0, len(ids), CHUNK):
            chunk = ids[i:i + CHUNK]
            session.execute(update(t).where(t.c.service_id.in_(chunk), t.c.jurisdiction_id.is_distinct_from(current))
                            .values(jurisdiction_id=current))
