"""``fenghuo recovery``: start, remediate, verify, status — the recorded road back from a pause.
Canary and resume are the switch's own commands (``fenghuo canary``, ``fenghuo resume``)."""

from __future__ import annotations

from pathlib import Path

import click

from fenghuo.platform.cli_support import client, console, print_json, refusals
from fenghuo.platform.documents import read_document
from fenghuo.platform.errors import Invalid
from fenghuo.recovery import loop, procedure
from fenghuo.recovery.cli_model import model_group
from fenghuo.recovery.gate import install


def _show(v: dict, as_json: bool) -> None:
    if as_json:
        return print_json(v)
    if not v.get("procedure"):
        console.print(f"{v['service']}: 没有进行中的恢复程序 / no open recovery procedure (state {v['state']})")
    else:
        console.print(f"[bold]{v['service']}[/] {v['procedure']} round {v['round']} — state {v['state']}"
                      + (f" {v['percent']}%" if v.get("percent") else "") + f"; ramp {'→'.join(map(str, v['ramp']))}% hold {v['hold_seconds']} s")
        for r in v["remediations"]:
            console.print(f"  整改 remediation {r['id']} [{r['kind']}] {r['description']} — evidence {r['evidence']} by {r['by']}")
        for x in v["verifications"]:
            extra = f" profile {x['profile']}" if x.get("profile") else ""
            if x["method"] == "checklist":
                extra = f", countersigned by {x['countersigned_by']}" if x.get("countersigned_by") else ", 待会签 / awaiting countersignature"
            console.print(f"  验证 verification {x['id']} {x['method']} {x['ref'][:16]} → {'[green]passed[/]' if x['passed'] else '[red]failed[/]'} "
                          f"by {x['by']}{extra}")
        if v.get("ramp_completed"):
            console.print("  [green]灰度完成 / ramp completed[/]: 可按分级审批恢复 / resume with the grade's approvals")
    for m in v.get("next", []):
        console.print(f"  [yellow]尚缺 / missing[/]: {m}")


@click.group("recovery")
def recovery_group() -> None:
    """恢复 Recovery: remediation → verification → canary → resume."""


@recovery_group.command("start")
@click.argument("service_id")
@click.option("--ramp", default="5,25,100", show_default=True, help="Canary percents / 灰度步骤")
@click.option("--hold", default="600", show_default=True, help="Seconds each step is held / 每步观察秒数")
@click.option("--rollback-level", default="yellow", show_default=True, type=click.Choice(["blue", "yellow", "orange", "red"]))
@click.option("--json", "as_json", is_flag=True)
@refusals
def start(service_id: str, ramp: str, hold: str, rollback_level: str, as_json: bool) -> None:
    """Open the recovery procedure with its ramp / 开启恢复程序。"""
    try:
        steps = tuple(int(x) for x in ramp.split(","))
        hold_s = int(hold)
    except ValueError:
        raise Invalid("--ramp 写作 5,25,100；--hold 写秒数", "--ramp is like 5,25,100; --hold is seconds", field="ramp") from None
    body = {"ramp": list(steps), "hold_seconds": hold_s, "rollback_level": rollback_level}
    _show(client().call(lambda db, a: procedure.start(db, a, service_id, ramp=steps, hold_seconds=hold_s, rollback_level=rollback_level),
               "POST", f"/api/v1/services/{service_id}/recovery", json=body), as_json)


@recovery_group.command("remediate")
@click.argument("service_id")
@click.option("--kind", required=True, type=click.Choice(procedure.KINDS))
@click.option("--what", "description", required=True, help="What was changed / 改了什么")
@click.option("--evidence", "evidence", multiple=True, required=True, metavar="KEY=VALUE",
              help="e.g. model_version=v2.1, commit=abc123, sha256=… (repeatable) / 证据")
@click.option("--json", "as_json", is_flag=True)
@refusals
def remediate(service_id: str, kind: str, description: str, evidence: tuple[str, ...], as_json: bool) -> None:
    """Record a remediation item with evidence / 记录整改。"""
    ev = {}
    for e in evidence:
        k, sep, v = e.partition("=")
        if not sep or not k.strip():
            raise Invalid(f"证据写作 键=值：{e!r}", f"evidence is KEY=VALUE: {e!r}", field="evidence")
        ev[k.strip()] = v.strip()
    body = {"kind": kind, "description": description, "evidence": ev}
    _show(client().call(lambda db, a: procedure.remediate(db, a, service_id, kind, description, ev),
               "POST", f"/api/v1/services/{service_id}/recovery/remediations", json=body), as_json)


@recovery_group.command("verify")
@click.argument("service_id")
@click.option("--run", "run_id", help="Safety-evaluation run id (fenghuo eval run) / 评估运行 id")
@click.option("--checklist", type=click.Path(dir_okay=False), help="YAML/JSON checklist you sign / 签署的检查单")
@click.option("--json", "as_json", is_flag=True)
@refusals
def verify(service_id: str, run_id: str | None, checklist: str | None, as_json: bool) -> None:
    """Attach a verification: an evaluation run or a signed checklist / 验证。"""
    data = None
    if checklist:
        p = Path(checklist)
        data = read_document(p)  # bounded reader: size, depth, aliases, nodes (issue 14)
    body = {"run": run_id, "checklist": data}
    _show(client().call(lambda db, a: procedure.verify(db, a, service_id, run_id=run_id, checklist=data),
               "POST", f"/api/v1/services/{service_id}/recovery/verifications", json=body), as_json)


@recovery_group.command("countersign")
@click.argument("service_id")
@click.argument("verification_id")
@click.option("--json", "as_json", is_flag=True)
@refusals
def countersign(service_id: str, verification_id: str, as_json: bool) -> None:
    """Countersign a checklist as the second person (a regulator, under a regulator's hold); a
    checklist counts only once countersigned / 会签检查单。"""
    _show(client().call(lambda db, a: procedure.countersign(db, a, service_id, verification_id),
                        "POST", f"/api/v1/services/{service_id}/recovery/verifications/{verification_id}/countersign"), as_json)


@recovery_group.command("status")
@click.argument("service_id")
@click.option("--json", "as_json", is_flag=True)
@refusals
def status(service_id: str, as_json: bool) -> None:
    """Where the road back stands and what is missing / 恢复进度。"""
    v = client().call(lambda db, a: procedure.status(db, a, service_id), "GET", f"/api/v1/services/{service_id}/recovery")
    from fenghuo.platform.client import LocalClient

    c = client()
    if isinstance(c, LocalClient) and v.get("state") == "canary" and not v.get("ramp_completed"):
        note = loop.note(c.db)  # a server answering --server runs its own loop
        if note:
            v = {**v, "loop": "none", "next": [*v.get("next", []), note]}
    _show(v, as_json)


@recovery_group.command("ramp")
@click.option("--once", is_flag=True, help="一次推进后退出 / one tick, then exit")
@click.option("--every", type=click.FloatRange(min=0.05), default=None,
              help="间隔秒数（默认 FENGHUO_RESPONSE_TICK 或 1）/ seconds between ticks (default FENGHUO_RESPONSE_TICK or 1)")
@refusals
def ramp_cmd(once: bool, every: float | None) -> None:
    """Run the control plane's loop without the server: canary ramp, plan steps, clocks / 运行控制面循环。

    What `fenghuo serve` runs beside its HTTP API (minus the monitor and the alert engine,
    which live in the server's memory): due plan steps, reporting clocks and duties, and the
    canary ramp with its automatic rollback. For a deployment driven from the command line on
    a local or shared database; Ctrl-C stops it.
    """
    from fenghuo.platform.client import LocalClient
    from fenghuo.recovery import ramp
    from fenghuo.response.executor import Executor
    from fenghuo.response.runtime import tick_from_env

    c = client()
    if not isinstance(c, LocalClient):
        raise Invalid("服务器自带此循环；本命令作用于本地数据库", "a server runs this loop itself: drop --server (this acts on "
                      "the local database)", code="needs_database")
    every = every or tick_from_env()
    beat = loop.Heartbeat(every)
    executor = Executor(c.db, also=(ramp.tick, beat))
    console.print(f"控制面循环 / control-plane loop on {c.where}: every {every:g} s (Ctrl-C stops)")
    import time

    try:
        while True:
            for r in executor.tick():
                console.print(f"  {r}", markup=False)
            if once:
                break
            time.sleep(every)
    except KeyboardInterrupt:
        pass
    finally:
        beat.stop(c.db)


def register(root: click.Group) -> None:
    install()  # every local command asks the recovery procedure before a resume
    loop.install_probe()  # and `canary` says so when no loop will advance the ramp
    root.add_command(recovery_group)
    root.add_command(model_group)
