"""What the console reads, always through the functions the JSON API runs for the same
question, with the viewer's actor: the registry's and the switch's views, the warnings and
silences routes' own functions (so their role and scope rules apply unchanged), incidents,
enforcement and coverage. No SQL here; the fleet-scale aggregates are in ``fleet_reads`` and
``tree_reads``.

Nothing here reads every service (issue 19): listings are keyset pages
(``control.listing.service_page``), a form's service field offers the first ``CHOICES`` ids,
and a visibility check reads one column."""

from __future__ import annotations

import json
from typing import Any

from fenghuo.alerts import routes as alert_routes
from fenghuo.control import listing
from fenghuo.platform.clock import iso
from fenghuo.platform.db import Database
from fenghuo.platform.roles import Actor, Role
from fenghuo.response import incidents

CHOICES = 200  # service ids offered in a form's drop-down
PAGE = 100  # rows per page of every listing
LEVELS = ["red", "orange", "yellow", "blue"]  # 红 橙 黄 蓝, most severe first
LEVEL_NAMES = {"red": ("红", "red"), "orange": ("橙", "orange"), "yellow": ("黄", "yellow"), "blue": ("蓝", "blue")}


def service_choices(db: Database, actor: Actor, limit: int = CHOICES) -> tuple[list[str], bool]:
    """The first ``limit`` visible service ids for a form's service field, and whether that is
    all of them: a fleet of 100,000 is never read whole for a drop-down (issue 19); past the
    limit the field becomes free text with these as suggestions (the domain checks scope)."""
    page = listing.service_page(db, actor, after=None, limit=limit)
    return [s["id"] for s in page.items], page.next is None


def visible_ids(db: Database, actor: Actor) -> set[str] | None:
    """The ids ``actor`` may see (one column, ``control.listing.visible_ids``); None: everything."""
    if actor.role in (Role.admin, Role.system):
        return None
    return listing.visible_ids(db, actor)


def warnings(db: Database, actor: Actor, state: str | None = "open", service: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
    return alert_routes.list_warnings(state=state, service=service, limit=limit, actor=actor, db=db)


def incident_list(db: Database, actor: Actor, status: str | None = None, service: str | None = None) -> list[dict[str, Any]]:
    return incidents.list_incidents(db, actor, status=status, service=service)


def next_deadline(incs: list[dict[str, Any]], now: str) -> dict[str, Any] | None:
    """The running reporting clock due first among these incidents (None if none runs)."""
    running = [(c["due_at"], c, i) for i in incs for c in i.get("clocks", []) if c.get("status") == "running"]
    if not running:
        return None
    due, clock, inc = min(running, key=lambda x: x[0])
    return {"due_at": due, "report": clock["report"], "incident": inc["id"], "overdue": due < now}



def now_iso(db: Database) -> str:
    return iso(db.clock.now())


def readable(entry: dict[str, Any]) -> dict[str, Any]:
    """A ledger entry with its payload (stored as canonical JSON text) as a dict, for display."""
    payload = entry.get("payload")
    if isinstance(payload, str):
        try:
            payload = json.loads(payload)
        except ValueError:
            payload = {"text": payload}
    return {**entry, "payload": payload if isinstance(payload, dict) else {"value": payload}}
