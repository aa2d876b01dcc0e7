"""`fenghuo demo`: the whole system on a fresh machine, start to finish, with nothing else
running. Later parts of the system add their steps here (traffic, warnings, responses)."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from pathlib import Path

import click
import httpx
from rich.panel import Panel

from fenghuo.platform.cli_support import console, styled_state

REGISTRY = Path(__file__).with_name("registry.yaml")


def step(n: int, zh: str, en: str) -> None:
    console.print()
    console.rule(f"[bold]{n}. {zh} / {en}")


def _api(client: httpx.Client, method: str, path: str, token: str, **kw) -> httpx.Response:
    return client.request(method, path, headers={"Authorization": f"Bearer {token}"}, **kw)


def answer(r: httpx.Response, what: str, status: int) -> dict:
    """The control plane's JSON answer with the expected status, or a clear failure naming what
    came back (``demo.loop.Unexpected``)."""
    from fenghuo.demo.loop import body

    return body(r, what, status)


def run_demo(workdir: Path) -> bool:
    import os

    from fenghuo.api.server import ServerThread
    from fenghuo.control import services as registry
    from fenghuo.control import switch
    from fenghuo.control.follower import events
    from fenghuo.ledger import service as ledger
    from fenghuo.ledger.checkpoint import Checkpoint
    from fenghuo.platform.db import open_database
    from fenghuo.platform.paths import shared_data_dir
    from fenghuo.platform.roles import Role, local_actor
    from fenghuo.registry.spec import load_registration
    from fenghuo.registry.tokens import create_token

    # The demo keeps everything in its own directory (keys, evaluation runs), never the user's,
    # and alerts on its own 20-second rules so a warning can rise and clear within the demo.
    os.environ["FENGHUO_HOME"] = str(workdir / "home")
    os.environ["FENGHUO_LEDGER_KEY"] = str(workdir / "ledger-signing-key.pem")
    from fenghuo.demo.inbox import Inbox, write_alerts_config
    from fenghuo.platform.serving import BackgroundServer

    inbox = Inbox()
    inbox_server = BackgroundServer(inbox).start()
    os.environ["FENGHUO_ALERTS"] = str(write_alerts_config(workdir / "alerts.yaml", inbox_server.url))
    os.environ["FENGHUO_WINDOWS"] = "20s,1m,5m,1h"
    data = shared_data_dir()
    db = open_database(str(workdir / "demo.db"))
    admin = local_actor()

    step(1, "登记服务并分级", "register services and grade them")
    registry.register(db, admin, load_registration(REGISTRY))
    for v in registry.list_services(db, admin):
        g, d = v["grade"], v["grade"]["defaults"]
        console.print(f"[bold]{v['id']}[/] ({v['attributes']['sector']}, {g['table']}) → grade [bold]{g['grade']}[/]; "
                      f"fail-{d['failsafe']['mode']} after {d['failsafe']['after_seconds']} s, "
                      f"{d['resume_approvals']} approval(s) to resume")
        for r in g["reasons"][:3]:
            console.print(f"    ↑ {r['zh']} / {r['en']}", style="dim")
    step(2, "启动控制面，守卫订阅开关", "start the control plane; a guard follows the switch")
    op_token = create_token(db, admin, "zhiyi-oncall", Role.operator, provider_id="zhiyi")
    live_tokens = {"op": create_token(db, admin, "xuebao-oncall", Role.operator, provider_id="xuebao"),
                   "guard": create_token(db, admin, "guard-xuebao-tutor", Role.system)}
    reg_sh = create_token(db, admin, "shanghai-cac", Role.regulator, jurisdiction_id="cn-sh")
    reg_bj = create_token(db, admin, "beijing-cac", Role.regulator, jurisdiction_id="cn-bj")
    guard_token = create_token(db, admin, "guard-zhiyi-triage", Role.system)
    seen: list[tuple[float, dict]] = []
    ok = True
    with ServerThread(db) as server, httpx.Client(base_url=server.url, timeout=10) as http:
        def follow() -> None:
            try:
                for ev, data in events(server.url, guard_token, ["zhiyi-triage"], timeout=30):
                    if ev == "state":
                        seen.append((time.monotonic(), data))
            except Exception:  # noqa: BLE001 - the stream ends when the server stops
                pass

        threading.Thread(target=follow, daemon=True).start()
        deadline = time.monotonic() + 20
        while not seen and time.monotonic() < deadline:
            time.sleep(0.01)
        if not seen:
            console.print(f"[bold red]✗[/] the guard heard nothing on the switch stream of {server.url} within 20 s / 20 秒内未收到开关状态")
            return False
        console.print(f"control plane {server.url}; guard sees zhiyi-triage {styled_state(seen[0][1]['state'])} v{seen[0][1]['version']}")

        step(3, "权限：上海监管方不能暂停北京的服务", "roles: Shanghai's regulator cannot pause a Beijing service")
        r = _api(http, "POST", "/api/v1/services/zhiyi-triage/commands", reg_sh, json={"action": "pause", "reason": "test"})
        console.print(f"HTTP {r.status_code}: {answer(r, 'Shanghai pausing a Beijing service', 403)['error']['message']}")
        ok &= r.status_code == 403

        step(4, "北京监管方下令暂停运行（监管暂停）", "Beijing's regulator orders a pause (监管暂停)")
        t0 = time.monotonic()
        r = _api(http, "POST", "/api/v1/services/zhiyi-triage/commands", reg_bj,
                 json={"action": "pause", "reason": "分诊建议出现事实性错误，暂停核查 / factual errors in triage advice; pause to investigate",
                       "id": "demo-pause-1"})
        paused = answer(r, "Beijing's pause", 200)
        console.print(f"HTTP {r.status_code}: {paused['from']} → {styled_state(paused['to'])} v{paused['version']}")
        while len(seen) < 2 and time.monotonic() < t0 + 5:
            time.sleep(0.001)
        if len(seen) >= 2:
            console.print(f"guard received v{seen[-1][1]['version']} {styled_state(seen[-1][1]['state'])} "
                          f"{(seen[-1][0] - t0) * 1000:.1f} ms after the command was sent")
        ok &= len(seen) >= 2 and seen[-1][1]["state"] == "paused"
        r = _api(http, "POST", "/api/v1/services/zhiyi-triage/commands", reg_bj,
                 json={"action": "pause", "reason": "分诊建议出现事实性错误，暂停核查 / factual errors in triage advice; pause to investigate",
                       "id": "demo-pause-1"})
        again = answer(r, "the same pause again", 200)
        console.print(f"same command id sent again → replayed={again['replayed']}, version still v{again['version']}")

        step(5, "恢复被拒：恢复程序尚未完成", "resume refused: the recovery procedure is not done")
        r = _api(http, "POST", "/api/v1/services/zhiyi-triage/commands", op_token, json={"action": "resume", "reason": "fixed"})
        console.print(f"operator → HTTP {r.status_code}: {answer(r, 'an operator lifting a regulator pause', 403)['error']['message']}")
        ok &= r.status_code == 403
        r = _api(http, "POST", "/api/v1/services/zhiyi-triage/commands", reg_bj, json={"action": "resume", "reason": "fixed"})
        refused = answer(r, "a resume before recovery", 409)
        console.print(f"regulator → HTTP {r.status_code}: {refused['error']['message']}")
        ok &= refused["error"]["code"] == "recovery_required"
        r = _api(http, "POST", "/api/v1/services/zhiyi-chat/commands", op_token,
                 json={"action": "degrade", "reason": "主模型延迟过高，切换备份 / primary latency high; use backup"})
        degraded = answer(r, "degrading zhiyi-chat", 200)
        console.print(f"zhiyi-chat degraded to its backup model: {styled_state(degraded['to'])} v{degraded['version']}")

        if data is not None and (data / "traffic/jade_v3/jade_alignment_medium_zh.csv").exists():
            from fenghuo.demo.loop import run_loop

            counter = iter(range(6, 100))
            ok &= run_loop(db, server, live_tokens, data, workdir, lambda zh, en: step(next(counter), zh, en))
            last = next(counter)
        else:
            last = 6
            console.print("\n[yellow]未找到共享数据（FENGHUO_DATA），跳过真实流量部分 / shared data not found (FENGHUO_DATA): "
                          "skipping the live-traffic part[/]")

    inbox_server.stop()
    console.print(f"notifications delivered by the plan and the warnings (webhooks) / 已送达的通知: {inbox.summary()}")

    step(last, "账本：检查点、导出、校验", "ledger: checkpoint, export, verify")
    cp = ledger.checkpoint(db)
    cp_path, export_path = workdir / "checkpoint.json", workdir / "ledger.jsonl"
    cp_path.write_text(cp.to_json(), encoding="utf-8")
    from fenghuo.platform.files import write_atomic

    n = write_atomic(export_path, ledger.export_lines(db))
    st = ledger.verify(db)
    against = ledger.verify_file_against(export_path, Checkpoint.load(cp_path))
    console.print(f"database chain: {'✓' if st.ok else '✗'} {st.count} entries, head {st.head_hash[:16]}…")
    console.print(f"exported {n} entries → {export_path}; verified alone against the signed checkpoint: "
                  f"{'✓' if against.ok else '✗'} {against.zh} / {against.en}")
    ok &= st.ok and against.ok
    final = {s["service"]: s for s in switch.all_states(db, admin)}
    console.print(Panel("\n".join(f"{k}: {styled_state(v['state'])} v{v['version']}" for k, v in final.items()),
                        title="最终状态 / final states"))
    db.dispose()
    return bool(ok)


@click.command("demo")
@click.option("--keep", type=click.Path(file_okay=False), help="Keep the demo's database and files in this directory")
@click.option("--console", "web", is_flag=True, help="Then leave the web console running and print its URL and tokens / 演示后保留控制台")
@click.option("--port", default=8600, show_default=True, type=int, help="The console's port (with --console)")
def demo(keep: str | None, web: bool = False, port: int = 8600) -> None:
    """Run the end-to-end demonstration on a fresh database / 运行端到端演示。"""
    workdir = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="fenghuo-demo-"))
    if keep:
        if workdir.exists():
            shutil.rmtree(workdir)
        workdir.mkdir(parents=True)
    console.print(Panel("烽火 fenghuo — 技术监测、风险预警、应急响应\nmonitoring · graded early warning · emergency response",
                        title="demo 演示"))
    try:
        from fenghuo.demo.loop import Unexpected

        try:
            ok = run_demo(workdir)
        except Unexpected as exc:  # a control-plane answer the demo did not expect: say what came back
            from rich.markup import escape

            console.print(f"[bold red]✗ 意外的应答 / unexpected answer[/]: {escape(str(exc))}")
            ok = False
        if web:
            from fenghuo.demo.web_console import serve_console

            console.print("[bold green]✓ 演示完成 / demo complete[/]" if ok else "[bold red]✗ 演示中有一步未达预期 / a demo step did not behave as expected[/]")
            serve_console(workdir, port=port)
    finally:
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
    console.print()
    if not ok:
        console.print("[bold red]✗ 演示中有一步未达预期 / a demo step did not behave as expected[/]")
        raise SystemExit(1)
    console.print("[bold green]✓ 演示完成 / demo complete[/]")
    if not web:
        console.print("fenghuo demo --console（或 make demo DEMO_ARGS=--console）：演示后保留网页控制台并打印登录令牌 / "
                      "leaves the web console running afterwards and prints tokens to log in with", style="dim")


def register(root: click.Group) -> None:
    root.add_command(demo)
