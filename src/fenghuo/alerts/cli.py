"""``fenghuo rules check`` and ``fenghuo alerts list|ack|silence|silences|unsilence|log``.

Warnings, silences and acknowledgements live in the database, so they work on the local
database or against a server (--server). ``fenghuo indicators`` is monitoring's (monitor/cli.py)."""

from __future__ import annotations

import sys
from typing import Any

import click
from rich.markup import escape

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
@click.option("--json", "as_json", is_flag=True)
@refusals
def list_cmd(state: str, service: str | None, as_json: bool) -> None:
    """Warnings, newest first / 预警列表。"""
    from fenghuo.alerts import store

    def local(db, actor):  # the local admin sees every warning
        with db.reader() as s:
            return [store.view(r) for r in store.list_warnings(s, state=state, service=service)]

    rows = client().call(local, "GET", "/api/v1/warnings", params={k: v for k, v in {"state": state, "service": service}.items() if v})
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("没有预警 / no warnings")
    for w in rows:
        owner = f"  owner {w['ack']['owner']}" if w.get("ack") else ""
        console.print(f"{w['id']}  {_level(w['level'])}  {w['state']:<8} {w['service']:<16} {w['alert']}  "
                      f"value={w['value']}  since {w['fired_at'] or w['started_at']}{owner}")


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
@click.option("--all", "include_ended", is_flag=True)
@click.option("--json", "as_json", is_flag=True)
@refusals
def list_silences(include_ended: bool, as_json: bool) -> None:
    """Silences / 静默列表。"""
    from fenghuo.alerts import silences

    rows = client().call(lambda db, actor: silences.list_silences(db, include_ended, actor), "GET", "/api/v1/silences",
                         params={"all": include_ended})
    if as_json:
        print_json(rows)
        return
    for s in rows:
        m = " ".join(f"{x['name']}{x['op']}{x['value']}" for x in s["matchers"])
        console.print(f"{s['id']}  {m}  until {s['ends_at'] or 'resolved'}  by {s['author']}: {s['reason']}"
                      + ("" if s["active"] else "  (inactive)"))


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
