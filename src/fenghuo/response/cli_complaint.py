"""``fenghuo complaint``: file, list, show, handle, feedback, counts (投诉举报, CN-TC-17).

Filed through a server (``--server``), a ticket is also counted into the service's complaint
indicator; filed locally it is recorded but no running monitor sees it."""

from __future__ import annotations

import click

from fenghuo.platform import cli_pages
from fenghuo.platform.cli_support import client, console, print_json, refusals
from fenghuo.response import complaints


@click.group("complaint")
def complaint_group() -> None:
    """投诉举报 Complaint and report tickets: due time from the provider's published limit."""


def _line(v: dict) -> str:
    due = v["due_at"] or "无时限 no limit published"
    late = " [red]逾期 overdue[/]" if v["overdue"] else ""
    fb = " 已反馈 feedback sent" if v["feedback_sent"] else ""
    return f"{v['id']}  {v['service']}  {v['category']}  {v['status']}{late}{fb}  due {due}  {v['content'][:60]}"


@complaint_group.command("file")
@click.argument("service_id")
@click.option("--category", type=click.Choice(complaints.CATEGORIES), default="complaint", show_default=True)
@click.option("--content", required=True, help="What the person said / 投诉内容")
@click.option("--channel", type=click.Choice(complaints.CHANNELS), default="web", show_default=True)
@click.option("--contact", help="How to reach the person for feedback / 联系方式")
@click.option("--received-at", help="When it was received (ISO 8601 with zone; default now)")
@click.option("--json", "as_json", is_flag=True)
@refusals
def file_cmd(service_id: str, category: str, content: str, channel: str, contact: str | None, received_at: str | None,
             as_json: bool) -> None:
    """Record a complaint or report / 登记投诉举报。"""
    body = {"service": service_id, "category": category, "content": content, "channel": channel, "contact": contact,
            "received_at": received_at}
    v = client().call(lambda db, a: complaints.file_complaint(db, a, service_id, category, content, channel=channel, contact=contact,
                                                              received_at=received_at),
                      "POST", "/api/v1/complaints", json=body)
    if as_json:
        return print_json(v)
    console.print(f"[green]✓[/] {_line(v)}")
    if v.get("note"):
        console.print(f"  [yellow]{v['note']}[/]")


@complaint_group.command("list")
@click.option("--service")
@click.option("--status", type=click.Choice(complaints.STATUSES))
@click.option("--overdue", is_flag=True)
@click.option("--category", type=click.Choice(complaints.CATEGORIES))
@cli_pages.options
@click.option("--json", "as_json", is_flag=True)
@refusals
def list_cmd(service: str | None, status: str | None, overdue: bool, category: str | None, limit: int, after: str | None,
             everything: bool, as_json: bool) -> None:
    """Tickets you can see, newest first, a page at a time / 投诉列表（分页）。"""
    params = {"service": service, "status": status, "overdue": overdue or None, "category": category}
    page = cli_pages.walk(client(), lambda db, a, cur: complaints.ticket_page(db, a, service=service, status=status, overdue=overdue,
                                                                               category=category, after=cur, limit=limit),
                          "/api/v1/complaints", params, after=after, limit=limit, everything=everything)
    if as_json:
        print_json(page.items)
    for v in [] if as_json else page.items:
        console.print(_line(v))
    cli_pages.next_hint(page)


@complaint_group.command("show")
@click.argument("ticket_id")
@refusals
def show_cmd(ticket_id: str) -> None:
    """One ticket / 投诉详情。"""
    print_json(client().call(lambda db, a: complaints.get(db, a, ticket_id), "GET", f"/api/v1/complaints/{ticket_id}"))


@complaint_group.command("handle")
@click.argument("ticket_id")
@click.option("--result", required=True, help="How it was handled / 处理结果")
@click.option("--feedback", help="What the person was told (records the feedback too) / 反馈内容")
@refusals
def handle_cmd(ticket_id: str, result: str, feedback: str | None) -> None:
    """Record the handling, and optionally the feedback / 处理投诉。"""
    v = client().call(lambda db, a: complaints.handle(db, a, ticket_id, result, feedback), "POST",
                      f"/api/v1/complaints/{ticket_id}/handle", json={"result": result, "feedback": feedback})
    console.print(f"[green]✓[/] {_line(v)}")


@complaint_group.command("feedback")
@click.argument("ticket_id")
@click.option("--text", required=True, help="What the person was told / 反馈内容")
@refusals
def feedback_cmd(ticket_id: str, text: str) -> None:
    """Record that the person was told the result / 记录反馈。"""
    v = client().call(lambda db, a: complaints.feedback(db, a, ticket_id, text), "POST",
                      f"/api/v1/complaints/{ticket_id}/feedback", json={"feedback": text})
    console.print(f"[green]✓[/] {_line(v)}")


@complaint_group.command("counts")
@click.option("--service")
@refusals
def counts_cmd(service: str | None) -> None:
    """Tickets by status, overdue and without a published limit / 投诉统计。"""
    print_json(client().call(lambda db, a: complaints.counts(db, a, service), "GET", "/api/v1/complaint-counts",
                             params={"service": service} if service else None))
