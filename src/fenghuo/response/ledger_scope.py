"""Which ledger entries a scoped reader sees whole (issue 14): a regulator or a scoped auditor
sees the entries about services it may see, their incidents, warnings and silences, and the
jurisdictions and providers inside its scope; the rest of an export is shown as hashes
(``ledger.service.export_lines(db, keep)``). It lives in ``response``, the lowest layer that
knows services, warnings, silences and incidents, so the JSON API (``api/ledger_routes.py``)
and the web console ask the same predicate."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fenghuo.platform.db import Database
from fenghuo.platform.roles import Actor, Role


def scope_keep(db: Database, actor: Actor) -> Callable[[dict[str, Any]], bool] | None:
    """Which entries a regulator or a scoped auditor sees whole (issue 14): those about services
    it may see, and their incidents, warnings and silences, and the jurisdictions and providers
    inside its scope. None: everything (the admin, a deployment-wide auditor)."""
    if actor.role is Role.admin or (actor.role is Role.auditor and not actor.provider_id and not actor.jurisdiction_id):
        return None
    from sqlalchemy import select

    from fenghuo.alerts import silences
    from fenghuo.alerts.models import WarningRow
    from fenghuo.control import row_scope
    from fenghuo.control.listing import visible_ids
    from fenghuo.registry import scope
    from fenghuo.registry.models import Jurisdiction, Service
    from fenghuo.response.models import Incident

    services = visible_ids(db, actor)
    subjects = set(services)
    with db.reader() as s:
        q = select(Service.provider_id).where(scope.visible_filter(s, actor)).distinct()
        subjects |= {f"provider:{p}" for p in s.execute(q).scalars()}
        path = scope.jurisdiction_path(s, actor.jurisdiction_id)
        if path:
            subjects |= {f"jurisdiction:{j}" for j in s.execute(select(Jurisdiction.id).where(Jurisdiction.path.startswith(path))).scalars()}
        for model, prefix in ((Incident, "incident"), (WarningRow, "warning")):
            # the scope's own rows (their jurisdiction is on the row, issue 19), not every row of the deployment
            subjects |= {f"{prefix}:{i}" for i in s.execute(select(model.id).where(row_scope.visible(s, actor, model))).scalars()}
    subjects |= {f"silence:{x['id']}" for x in silences.list_silences(db, include_ended=True, actor=actor)}
    return lambda e: e["subject"] in subjects
