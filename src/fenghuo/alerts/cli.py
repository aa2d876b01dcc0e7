"""``fenghuo rules check`` and ``fenghuo alerts list|ack|silence|silences|unsilence|log``.

Warnings, silences and acknowledgements live in the database, so they work on the local
database or against a server (--server). ``fenghuo indicators`` is monitoring's (monitor/cli.py)."""

from __future__ import annotations

import sys
from typing import Any

import click
from rich.markup import escape

from fenghuo.platform import cli_pages
from fenghuo.platform.cli_support import client, console, err_console, print_json, refusals

LEVEL_STYLE = {"blue": "bold blue", "yellow": "bold yellow", "orange": "bold dark_orange", "red": "bold white on red"}
LEVEL_ZH = {"blue": "蓝", "yellow": "黄", "orange": "橙", "red": "红"}


def _level(lv: str) -> str:
    return f"[{LEVEL_STYLE.get(lv, 'white')}]{LEVEL_ZH.get(lv, '')} {lv}[/]"


@click.group("rules")
def rules_group() -> None:
    """Warning rules / 预警规则。"""


@rules_group.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--json", "as_json", is_flag=True)
def check(files: tuple[str, ...], as_json: bool) -> None:
    """Check rule files: every mistake with file, line and field; exit 1 if any.
    检查规则文件，逐条指出文件、行号和字段。"""
    from fenghuo.alerts.rules import check_file
    from fenghuo.monitor.runtime import settings_from_env

    windows = settings_from_env().windows  # the windows the server would run with (FENGHUO_WINDOWS)
    problems: list[dict[str, Any]] = []
    counts = {}
    for f in files:
        rules, probs = check_file(f, windows)
        counts[f] = len(rules)
        problems += probs
    if as_json:
        print_json({"ok": not problems, "rules": counts, "problems": problems})
    else:
        for p in problems:
            err_console.print(f"[bold red]✗[/] {escape(p['message'])}", soft_wrap=True)
        for f, n in counts.items():
            console.print(f"{f}: {n} 条规则可用 / {n} rule(s) valid")
        if problems:
            err_console.print(f"[bold red]{len(problems)} 处错误 / {len(problems)} problem(s)[/]")
    sys.exit(1 if problems else 0)


@rules_group.command("packs")
def packs() -> None:
    """List the shipped default rule packs / 列出默认规则包。"""
    from fenghuo.alerts.packs import HERE, available
    from fenghuo.alerts.rules import check_file

    for name in available():
        rules, _ = check_file(HERE / f"{name}.yaml")
        console.print(f"{name}: {len(rules)} rules  ({HERE / (name + '.yaml')})")


@click.group("alerts")
def alerts_group() -> None:
    """Graded warnings: list, acknowledge, silence / 分级预警：查看、确认、静默。"""


@alerts_group.command("list")
@click.option("--state", type=click.Choice(["open", "pending", "firing", "resolved"]), default="open", show_default=True)
@click.option("--service")
@click.option("--level", type=click.Choice(["blue", "yellow", "orange", "red"]))
@click.option("--alert", help="alert name / 预警名称")
@cli_pages.options
@click.option("--json", "as_json", is_flag=True)
@refusals
def list_cmd(state: str, service: str | None, level: str | None, alert: str | None, limit: int, after: str | None,
             everything: bool, as_json: bool) -> None:
    """Warnings, newest first, a page at a time / 预警列表（分页）。"""
    from fenghuo.alerts import store

    f = store.WarningFilter(state=state, service=service, level=level, alert=alert)
    page = cli_pages.walk(client(), lambda db, actor, cur: store.warning_page(db, actor, f, after=cur, limit=limit),
                          "/api/v1/warnings", vars(f), after=after, limit=limit, everything=everything)
    rows = page.items
    if as_json:
        print_json(rows)
    elif not rows:
        console.print("没有预警 / no warnings")
    for w in [] if as_json else rows:
        owner = f"  owner {w['ack']['owner']}" if w.get("ack") else ""
        console.print(f"{w['id']}  {_level(w['level'])}  {w['state']:<8} {w['service']:<16} {w['alert']}  "
                      f"value={w['value']}  since {w['fired_at'] or w['started_at']}{owner}")
    cli_pages.next_hint(page)


@alerts_group.command("ack")
@click.argument("warning_id")
@click.option("--owner", required=True, help="who owns the response / 负责人")
@click.option("--note", default="")
@refusals
def ack(warning_id: str, owner: str, note: str) -> None:
    """Acknowledge a warning and name its owner / 确认预警并指定负责人。"""
    from fenghuo.alerts import acks

    w = client().call(lambda db, actor: acks.acknowledge(db, warning_id, owner, note, actor.label),
                      "POST", f"/api/v1/warnings/{warning_id}/ack", json={"owner": owner, "note": note})
    console.print(f"已确认 / acknowledged {w['id']} ({w['level']}, {w['state']}) owner {owner}")


@alerts_group.command("silence")
@click.argument("matchers", nargs=-1, required=True)
@click.option("--reason", required=True, help="why / 理由")
@click.option("--for", "duration", help="how long, e.g. 2h / 时长")
@click.option("--until-resolved", is_flag=True, help="until the matched warning resolves / 直到预警解除")
@refusals
def silence(matchers: tuple[str, ...], reason: str, duration: str | None, until_resolved: bool) -> None:
    """Silence notifications for warnings matching MATCHERS (service=a-chat level=~yellow|blue).
    按匹配条件静默通知。"""
    body = {"matchers": list(matchers), "reason": reason, "duration": duration, "until_resolved": until_resolved}
    from fenghuo.alerts import silences

    s = client().call(lambda db, actor: silences.create(db, actor, list(matchers), reason, duration=duration,
                                                        until_resolved=until_resolved),
                      "POST", "/api/v1/silences", json=body)
    console.print(f"静默 / silence {s['id']}  until {s['ends_at'] or 'resolved / 解除为止'}")


@alerts_group.command("silences")
@click.option("--all", "include_ended", is_flag=True, help="ended silences too / 含已结束的静默")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True, help="rows per page / 每页条数")
@click.option("--after", help="the cursor printed after the previous page / 上一页末尾给出的游标")
@click.option("--every-page", "everything", is_flag=True, help="every page / 列出全部（逐页读取）")
@click.option("--json", "as_json", is_flag=True)
@refusals
def list_silences(include_ended: bool, limit: int, after: str | None, everything: bool, as_json: bool) -> None:
    """Silences, newest first, a page at a time / 静默列表（分页）。"""
    from fenghuo.alerts import silences

    page = cli_pages.walk(client(), lambda db, actor, cur: silences.silence_page(db, actor, include_ended, after=cur, limit=limit),
                          "/api/v1/silences", {"all": include_ended}, after=after, limit=limit, everything=everything)
    if as_json:
        print_json(page.items)
    for s in [] if as_json else page.items:
        m = " ".join(f"{x['name']}{x['op']}{x['value']}" for x in s["matchers"])
        console.print(f"{s['id']}  {m}  until {s['ends_at'] or 'resolved'}  by {s['author']}: {s['reason']}"
                      + ("" if s["active"] else "  (inactive)"))
    cli_pages.next_hint(page)


@alerts_group.command("log")
@click.option("--status", type=click.Choice(["pending", "sent", "failed", "silenced", "inhibited"]))
@click.option("--channel")
@click.option("--warning", help="only messages about this warning / 仅该预警的通知")
@cli_pages.options
@click.option("--json", "as_json", is_flag=True)
@refusals
def log_cmd(status: str | None, channel: str | None, warning: str | None, limit: int, after: str | None, everything: bool,
            as_json: bool) -> None:
    """The delivery log, newest first (admins and auditors) / 通知投递记录（分页）。"""
    from fenghuo.alerts import store

    f = store.NotificationFilter(status=status, channel=channel, warning=warning)

    def local(db, actor, cur):
        if actor.role.value not in ("admin", "system", "auditor"):
            from fenghuo.platform.errors import Forbidden

            raise Forbidden("只有管理员和审计员可查看完整投递记录", "only admins and auditors read the whole delivery log")
        return store.notification_page(db, f, after=cur, limit=limit)

    page = cli_pages.walk(client(), local, "/api/v1/notifications", vars(f), after=after, limit=limit, everything=everything)
    if as_json:
        print_json(page.items)
    for n in [] if as_json else page.items:
        err = f"  ({n['last_error']})" if n.get("last_error") else ""
        console.print(f"{n['created_at']}  {n['status']:<9} {n['channel']:<12} {n['kind']:<9} {n['level'] or '':<6} "
                      f"{','.join(n['warnings'] or [])}{err}")
    cli_pages.next_hint(page)


@alerts_group.command("unsilence")
@click.argument("silence_id")
@refusals
def unsilence(silence_id: str) -> None:
    """End a silence now / 结束静默。"""
    from fenghuo.alerts import silences

    client().call(lambda db, actor: silences.expire(db, actor, silence_id), "DELETE", f"/api/v1/silences/{silence_id}")
    console.print(f"已结束 / ended {silence_id}")


def register(root: click.Group) -> None:
    root.add_command(rules_group)
    root.add_command(alerts_group)
