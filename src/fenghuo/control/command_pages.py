"""Commands awaiting approval, a page at a time and filtered in the database (issue 19).

"Can it still apply" is a rule of the transition table (a resume asked for in canary no longer
applies once the service is paused), so it becomes a WHERE clause: the (state, action) pairs the
table allows, matched against the service's current state joined in the same query. The page is
in request order (created_at, then id), oldest first: what has waited longest comes first.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, false, or_, select

from fenghuo.control import row_scope
from fenghuo.control.models import Approval, Command, SwitchState
from fenghuo.control.switch import command_view
from fenghuo.control.transitions import Action, State, lookup
from fenghuo.platform import pages
from fenghuo.platform.db import Database
from fenghuo.platform.errors import Invalid
from fenghuo.platform.roles import Actor, Role

APPLICABLE = [(st.value, a.value) for st in State for a in Action if lookup(st, a) is not None]


def _applies() -> Any:
    return or_(false(), *[and_(SwitchState.state == st, Command.action == a) for st, a in APPLICABLE])


def pending_page(db: Database, actor: Actor, *, include_stale: bool = False, service: str | None = None,
                 action: str | None = None, after: str | None = None, limit: int = pages.DEFAULT_LIMIT) -> pages.Page:
    """A page of the commands awaiting approval ``actor`` may see; each says whether it still
    ``applies`` and the service's ``current_state`` (without ``include_stale`` only those that apply)."""
    if action is not None and action not in {a.value for a in Action}:
        raise Invalid(f"未知动作 {action}", f"unknown action {action}", field="action")
    with db.reader() as s:
        q = (select(Command, SwitchState).outerjoin(SwitchState, SwitchState.service_id == Command.service_id)
             .where(Command.status == "awaiting_approval"))
        if actor.role not in (Role.admin, Role.system):
            q = q.where(row_scope.visible(s, actor, Command))  # the row's own jurisdiction, no join
        if not include_stale:
            q = q.where(_applies())
        if service:
            q = q.where(Command.service_id == service)
        if action:
            q = q.where(Command.action == action)
        rows, nxt = pages.keyset(s, q, [Command.created_at, Command.id], after=after, limit=limit, scalars=False,
                                 key=lambda row: [row[0].created_at, row[0].id])
        given: dict[str, list[str]] = {c.id: [] for c, _ in rows}
        q = select(Approval.command_id, Approval.approver).where(Approval.command_id.in_(list(given))).order_by(Approval.id)
        for cid, approver in s.execute(q) if given else ():
            given[cid].append(approver)
        items = []
        for c, st in rows:
            applies = st is not None and lookup(State(st.state), Action(c.action)) is not None
            v = command_view(s, _Unapproved(c))  # the view's fields; approvals read above, one query for the page
            v["approvals"] = {"needed": c.approvals_needed, "given": given[c.id]}
            items.append({**v, "applies": applies, "current_state": st.state if st else None})
        return pages.Page(items, nxt)


class _Unapproved:
    """A command as ``switch.command_view`` reads it, minus the approvals it would query one by one."""

    approvals_needed = 0

    def __init__(self, cmd: Command) -> None:
        self._cmd = cmd

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cmd, name)
