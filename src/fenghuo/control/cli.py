"""The switch on the command line: pause, stop, degrade, throttle, restore, canary, resume,
status, pending, and instances (which guard instances enforce the state).

``fenghuo approve`` is one command for switch commands and plan steps alike; it lives with the
plan steps in ``fenghuo.response.cli`` (response sits above the switch) and calls
:func:`approve_command` here for switch command ids."""

from __future__ import annotations

import click
from rich.markup import escape
from rich.table import Table

from fenghuo.control import switch
from fenghuo.control.transitions import TABLE, Action
from fenghuo.platform import cli_pages
from fenghuo.platform.cli_support import client, console, err_console, print_json, refusals, styled_state

HELP = {
    Action.pause: "暂停运行 Pause the service (lifted only through the recovery procedure)",
    Action.stop: "阻断 Throw the switch: stop the service and cut calls in flight",
    Action.degrade: "降级 Serve from the backup model (备份系统)",
    Action.throttle: "限流 Limit the service to --rate requests per second",
    Action.restore: "恢复常态 Return from degraded/throttled to running",
    Action.canary: "灰度 Resume on --percent of traffic (after remediation and verification)",
    Action.resume: "恢复运行 Resume fully (needs the recovery procedure and the grade's approvals)",
}


def show_command(view: dict, as_json: bool) -> None:
    if as_json:
        return print_json(view)
    if view["status"] == "awaiting_approval":
        a = view["approvals"]
        console.print(f"[yellow]⏳[/] {view['action']} {view['service']} 等待审批 / awaiting approval: "
                      f"{len(a['given'])}/{a['needed']} ({', '.join(a['given'])}); command id {view['command']}")
        console.print(f"   另一人执行 / another person runs: fenghuo approve {view['command']}")
        return
    note = " (重复指令，未改变 / replayed, nothing changed)" if view.get("replayed") else ""
    console.print(f"[green]✓[/] {view['service']}: {view['from']} → {styled_state(view['to'])} v{view['version']}{note}")


def _loop_note() -> None:
    """On the local database, say so when no control-plane loop will advance the canary (a
    server answering --server runs its own loop). On stderr, so --json output stays JSON."""
    from fenghuo.control.gates import loop_probe
    from fenghuo.platform.client import LocalClient

    c = client()
    if isinstance(c, LocalClient):
        note = loop_probe().note(c.db)
        if note:
            err_console.print(f"[yellow]注意 / note[/]: {escape(note)}")


def _make(action: Action) -> click.Command:
    t = TABLE[action]

    @click.command(action.value, help=f"{HELP[action]}.\n\nAllowed from: {', '.join(sorted(s.value for s in t.sources))}.")
    @click.argument("service_id")
    @click.option("--reason", "-r", required=True, help="Why (recorded in the ledger) / 理由")
    @click.option("--id", "command_id", help="Command id for idempotent retries / 指令 id（幂等）")
    @click.option("--json", "as_json", is_flag=True)
    @refusals
    def cmd(service_id: str, reason: str, command_id: str | None, as_json: bool, **kw) -> None:
        body = {"action": action.value, "reason": reason, "id": command_id, **kw}
        view = client().call(
            lambda db, actor: switch.execute(db, actor, service_id, action.value, reason, command_id=command_id,
                                             rate=kw.get("rate"), percent=kw.get("percent")),
            "POST", f"/api/v1/services/{service_id}/commands", json={k: v for k, v in body.items() if v is not None})
        show_command(view, as_json)
        if action is Action.canary and view.get("status") == "applied":
            _loop_note()

    if t.needs_rate:
        cmd = click.option("--rate", type=int, required=True, help="Requests per second / 每秒请求数")(cmd)
    if t.needs_percent:
        cmd = click.option("--percent", type=click.IntRange(1, 100), required=True, help="Share of traffic to the primary / 流量百分比")(cmd)
    return cmd


@click.command("status")
@click.argument("service_id", required=False)
@click.option("--state", "only", help="only services in this state, e.g. paused / 仅此状态")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True, help="services per page / 每页条数")
@click.option("--after", help="start after this service id / 从该编号之后开始")
@click.option("--all", "everything", is_flag=True, help="every page / 列出全部")
@click.option("--json", "as_json", is_flag=True)
@refusals
def status(service_id: str | None, only: str | None, limit: int, after: str | None, everything: bool, as_json: bool) -> None:
    """Switch state of one service or all, a page at a time / 服务开关状态（分页）。"""
    more = False
    if service_id:
        rows = [client().call(lambda db, actor: switch.get_state(db, actor, service_id), "GET", f"/api/v1/services/{service_id}/state")]
    else:
        rows = []
        while True:
            page = client().call(lambda db, actor: switch.all_states(db, actor, state=only, after=after, limit=limit),  # noqa: B023 - called at once
                                 "GET", "/api/v1/states",
                                 params={"limit": limit, **({"after": after} if after else {}), **({"state": only} if only else {})})
            rows += page
            more = len(page) == limit
            if not (everything and more):
                break
            after = page[-1]["service"]
    if as_json:
        return print_json(rows[0] if service_id else rows)
    t = Table(title="开关状态 / Switch state")
    t.add_column("service 服务", no_wrap=True)
    for col in ("state 状态", "ver", "rate/%", "reason 理由", "by 操作者", "at 时间"):
        t.add_column(col, overflow="fold")
    for st in rows:
        extra = f"{st['rate']}/s" if st.get("rate") else (f"{st['percent']}%" if st.get("percent") else "")
        t.add_row(st["service"], styled_state(st["state"]), str(st["version"]), extra, st["reason"], st["changed_by"], st["changed_at"][:19].replace("T", " "))
    console.print(t)
    if more and not everything:
        console.print(f"下一页 / next page: --after {rows[-1]['service']}  (或 / or --all)")
    if service_id and rows[0].get("allowed"):
        console.print(f"可执行 / allowed next: {', '.join(rows[0]['allowed'])}")


def approve_command(command_id: str) -> dict:
    """Approve a switch command waiting for approval (``fenghuo approve`` dispatches here)."""
    return client().call(lambda db, actor: switch.approve(db, actor, command_id), "POST", f"/api/v1/commands/{command_id}/approve")


@click.command("pending")
@click.option("--all", "show_all", is_flag=True, help="也列出当前状态已不允许的指令 / also commands the current state no longer allows")
@click.option("--service")
@click.option("--action", type=click.Choice([a.value for a in Action]))
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True, help="rows per page / 每页条数")
@click.option("--after", help="the cursor printed after the previous page / 上一页末尾给出的游标")
@click.option("--every-page", "everything", is_flag=True, help="every page / 列出全部（逐页读取）")
@click.option("--json", "as_json", is_flag=True)
@refusals
def pending(show_all: bool, service: str | None, action: str | None, limit: int, after: str | None, everything: bool,
            as_json: bool) -> None:
    """Commands waiting for approval that can still apply, oldest first / 待审批且仍可执行的指令（分页）。"""
    from fenghuo.control import command_pages

    page = cli_pages.walk(client(), lambda db, actor, cur: command_pages.pending_page(
        db, actor, include_stale=show_all, service=service, action=action, after=cur, limit=limit),
        "/api/v1/commands/pending", {"all": "true" if show_all else None, "service": service, "action": action},
        after=after, limit=limit, everything=everything)
    rows = page.items
    if as_json:
        print_json(rows)
    elif not rows:
        console.print("没有待审批的指令 / nothing awaits approval")
    for v in [] if as_json else rows:
        a = v["approvals"]
        stale = "" if v.get("applies", True) else f" [yellow]— 已不能执行：服务现为 {v.get('current_state')} / no longer applies: service is now {v.get('current_state')}[/]"
        console.print(f"{v['command']}: {v['action']} {v['service']} — {len(a['given'])}/{a['needed']} since {v['created_at']} "
                      f"(requested by {escape(str(v['requested_by']))}: {escape(str(v['reason']))}){stale}")
    cli_pages.next_hint(page)


def _enforcement(service_id: str, stale_seconds: float) -> dict:
    from fenghuo.control.instances import InstanceBook

    # Locally a fresh book holds nothing unwritten: it reads the acknowledgements in the database.
    return client().call(lambda db, actor: InstanceBook(db).enforcement(actor, service_id, stale_seconds),
                         "GET", f"/api/v1/services/{service_id}/enforcement", params={"stale_seconds": stale_seconds})


@click.command("instances")
@click.argument("service_id", required=False)
@click.option("--stale-seconds", type=click.FloatRange(min=0.001, max=86400), default=30.0, show_default=True,
              help="Not heard from for this long: silent / 超过该时长未联系的实例视为失联")
@click.option("--state", "only", help="without SERVICE_ID: only instances enforcing this state / 仅此状态")
@click.option("--silent/--live", default=None, help="without SERVICE_ID: only silent (or live) instances / 仅失联（或在线）实例")
@cli_pages.options
@click.option("--json", "as_json", is_flag=True)
@refusals
def instances(service_id: str | None, stale_seconds: float, only: str | None, silent: bool | None, limit: int,
              after: str | None, everything: bool, as_json: bool) -> None:
    """Which guard instances enforce the service's state, and which do not; without SERVICE_ID,
    every instance you can see, a page at a time / 守卫实例执行情况（不带服务：分页列出全部实例）。"""
    if not service_id:
        return _instance_list(only, silent, stale_seconds, limit, after, everything, as_json)
    v = _enforcement(service_id, stale_seconds)
    if as_json:
        return print_json(v)
    mark = "[green]✓[/]" if v["all_enforce"] else "[yellow]![/]"
    console.print(f"{mark} {v['message']}", soft_wrap=True)
    if v.get("max_lag_ms") is not None:
        console.print(f"  最大生效延迟 / slowest to enforce: {v['max_lag_ms']:.1f} ms after the change at {v['changed_at']}")
    rows = [(i, "lagging 未执行") for i in v["laggards"]] + [(i, "silent 失联") for i in v["silent"]]
    if not rows:
        return
    t = Table(title=f"未执行 v{v['version']} 的实例 / instances not enforcing v{v['version']}")
    for col in ("instance 实例", "status 状况", "state 状态", "ver", "fail-safe 失效安全", "last seen 最近联系"):
        t.add_column(col, overflow="fold")
    for i, why in rows:
        t.add_row(i["instance"], why, styled_state(i["state"]), str(i["version"]), "yes 是" if i["failsafe"] else "",
                  i["last_seen"][:19].replace("T", " "))
    console.print(t)


def _instance_list(only: str | None, silent: bool | None, stale_seconds: float, limit: int, after: str | None,
                   everything: bool, as_json: bool) -> None:
    from fenghuo.control.instances import InstanceBook

    def local(db, actor, cur):  # a fresh book holds nothing unwritten: it reads the database
        return InstanceBook(db).page(actor, state=only, silent=silent, stale_seconds=stale_seconds, after=cur, limit=limit)

    params = {"state": only, "silent": None if silent is None else str(silent).lower(), "stale_seconds": stale_seconds}
    page = cli_pages.walk(client(), local, "/api/v1/instances", params, after=after, limit=limit, everything=everything)
    if as_json:
        print_json(page.items)
    else:
        t = Table(title="守卫实例 / Guard instances")
        for col in ("instance 实例", "service 服务", "state 状态", "ver", "fail-safe 失效安全", "last seen 最近联系"):
            t.add_column(col, overflow="fold")
        for i in page.items:
            t.add_row(i["instance"], i["service"], styled_state(i["state"]), str(i["version"]),
                      "yes 是" if i["failsafe"] else "", i["last_seen"][:19].replace("T", " ") + (" (silent 失联)" if i["silent"] else ""))
        console.print(t)
    cli_pages.next_hint(page)


ACTION_COMMANDS = [_make(action) for action in Action]  # one command per row of the transition table


def register(root: click.Group) -> None:
    for cmd in ACTION_COMMANDS:
        root.add_command(cmd)
    root.add_command(status)
    root.add_command(pending)
    root.add_command(instances)
