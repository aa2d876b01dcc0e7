"""`fenghuo changes list|approve|refuse`: registration changes that lower a service's grade or
move it wait for a regulator of the service's current jurisdiction (``control.regrading``)."""

from __future__ import annotations

import click

from fenghuo.platform import cli_pages
from fenghuo.platform.cli_support import client, console, print_json, refusals


@click.group("changes")
def changes_group() -> None:
    """Registration changes awaiting a regulator / 待监管方审批的登记变更。"""


@changes_group.command("list")
@click.option("--all", "include_decided", is_flag=True, help="decided ones too / 含已处理")
@click.option("--limit", type=click.IntRange(1, cli_pages.MAX_LIMIT), default=cli_pages.DEFAULT_LIMIT, show_default=True,
              help="rows per request; every page is listed / 每次读取条数（列出全部页）")
@click.option("--json", "as_json", is_flag=True)
@refusals
def list_cmd(include_decided: bool, limit: int, as_json: bool) -> None:
    """Changes you may see, every page / 列出登记变更（逐页读取全部）。"""
    from fenghuo.control import regrading

    rows = cli_pages.walk(client(), lambda db, a, cur: regrading.change_page(db, a, pending_only=not include_decided, after=cur,
                                                                             limit=limit),
                          "/api/v1/service-changes", {"all": include_decided}, after=None, limit=limit, everything=True).items
    if as_json:
        print_json(rows)
        return
    for c in rows:
        console.print(f"{c['id']}  {c['service']}  {c['status']}  by {c['requested_by']}: {'; '.join(c['changes'])}")


@changes_group.command("approve")
@click.argument("change_id")
@refusals
def approve_cmd(change_id: str) -> None:
    """Approve and apply a change (a regulator of the service's jurisdiction) / 批准并应用。"""
    from fenghuo.control import regrading

    c = client().call(lambda db, actor: regrading.approve(db, actor, change_id), "POST", f"/api/v1/service-changes/{change_id}/approve")
    r = c.get("result") or {}
    console.print(f"已批准 / approved {c['id']}: {c['service']} {r.get('result', '')}, grade {r.get('grade', '')}")


@changes_group.command("refuse")
@click.argument("change_id")
@click.option("--reason", default="", help="why / 理由")
@refusals
def refuse_cmd(change_id: str, reason: str) -> None:
    """Refuse a change / 驳回变更。"""
    from fenghuo.control import regrading

    c = client().call(lambda db, actor: regrading.refuse(db, actor, change_id, reason),
                      "POST", f"/api/v1/service-changes/{change_id}/refuse", json={"reason": reason})
    console.print(f"已驳回 / refused {c['id']} ({c['service']})")
