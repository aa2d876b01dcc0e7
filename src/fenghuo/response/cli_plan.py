"""``fenghuo plan``: check a plan file, simulate it against warnings, list plans and show which
plan governs a service."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from fenghuo.platform.cli_support import console, print_json, refusals
from fenghuo.platform.documents import read_document
from fenghuo.platform.durations import human
from fenghuo.platform.errors import Invalid
from fenghuo.response.plans import check_file, load_plan
from fenghuo.response.simulate import WarningView, describe, schedule


@click.group("plan")
def plan_group() -> None:
    """应急预案 Emergency plans: check, simulate, list, actions."""


@plan_group.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True)
def check(files: tuple[str, ...], as_json: bool) -> None:
    """Refuse plans that cannot be executed; warn on vague wording / 检查预案是否可执行。"""
    results, bad = [], False
    for f in files:
        plan, problems, warnings = check_file(f)
        bad |= bool(problems)
        results.append({"file": f, "ok": not problems, "plan": plan.ref if plan else None,
                        "problems": problems, "warnings": warnings})
    if as_json:
        print_json(results)
    else:
        for r in results:
            if r["ok"]:
                console.print(f"[green]✓[/] {r['file']}: {r['plan']} 可执行 / executable")
            else:
                console.print(f"[bold red]✗[/] {r['file']}: 拒绝 / refused ({len(r['problems'])} problem(s))")
            for p in r["problems"]:
                console.print(f"  [red]error[/]   {p['message']}", soft_wrap=True)
            for w in r["warnings"]:
                console.print(f"  [yellow]warning[/] {w['message']}", soft_wrap=True)
    sys.exit(1 if bad else 0)


def _warnings_from(path: str | None, inline: tuple[str, ...]) -> list[WarningView]:
    out: list[WarningView] = []
    if path:
        p = Path(path)
        data = read_document(p)  # bounded reader: size, depth, aliases, nodes (issue 14)
        if isinstance(data, dict):
            data = data.get("warnings", [data])
        if not isinstance(data, list):
            raise Invalid(f"{p}：需要预警列表", f"{p}: expected a list of warnings", field="warnings")
        out += [WarningView.from_dict(d) for d in data]
    for spec in inline:
        parts = spec.split(":")
        if len(parts) not in (2, 3):
            raise Invalid(f"--warning {spec!r}：写作 服务:级别[:预警名]", f"--warning {spec!r}: write service:level[:alert]", field="warning")
        out.append(WarningView.from_dict({"service": parts[0], "level": parts[1], "alert": parts[2] if len(parts) == 3 else "warning"}))
    if not out:
        raise Invalid("没有预警：用 --warnings FILE 或 --warning 服务:级别", "no warnings: give --warnings FILE or --warning service:level", field="warnings")
    return out


@plan_group.command("simulate")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--warnings", "warnings_file", type=click.Path(dir_okay=False), help="YAML/JSON list of warnings")
@click.option("--warning", "inline", multiple=True, metavar="SERVICE:LEVEL[:ALERT]", help="A firing warning (repeatable)")
@click.option("--json", "as_json", is_flag=True)
@refusals
def simulate(file: str, warnings_file: str | None, inline: tuple[str, ...], as_json: bool) -> None:
    """Show what the plan would do, without doing it / 模拟预案（不执行）。"""
    plan = load_plan(file)
    out = []
    for w in _warnings_from(warnings_file, inline):
        steps = schedule(plan, w)
        out.append({"warning": {"id": w.id, "service": w.service, "alert": w.alert, "level": w.level.value, "state": w.state},
                    "steps": [{"trigger": s.trigger.id, "action": s.action.id, "do": s.action.do,
                               "after_seconds": s.due_at - (w.fired_at or 0), "owner": s.action.owner,
                               "approval": None if s.action.approval is None or not s.action.switch_action
                               else {"role": s.action.approval.role.value, "count": s.action.approval.count},
                               "description": describe(s)} for s in steps]})
    if as_json:
        return print_json({"plan": plan.ref, "simulated": out})
    console.print(f"预案 / plan [bold]{plan.ref}[/] — {plan.title_zh} / {plan.title_en}  [dim](模拟，未执行 / simulation, nothing done)[/]")
    for item in out:
        w = item["warning"]
        console.print(f"\n[bold]{w['service']}[/] {w['alert']} [{w['level']}] {w['state']}")
        if not item["steps"]:
            console.print("  (无动作 / no action: no trigger matches" + ("" if w["state"] == "firing" else ", or the warning is not firing") + ")")
        for s in item["steps"]:
            console.print(f"  +{human(s['after_seconds']):>5}  {s['trigger']}/{s['action']}: {s['description']}")


@plan_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@refusals
def list_plans(as_json: bool) -> None:
    """Plans in the library (shipped, data dir, FENGHUO_PLANS) / 预案库。"""
    from fenghuo.response.library import PlanLibrary

    lib = PlanLibrary.load()
    rows = [{"plan": p.id, "version": p.version, "title": f"{p.title_zh} / {p.title_en}", "file": p.path,
             "applies_to": {"services": sorted(p.services), "sectors": sorted(p.sectors), "grades": sorted(p.grades), "default": p.default}}
            for p in sorted(lib.plans.values(), key=lambda p: p.id)]
    if as_json:
        return print_json(rows)
    for r in rows:
        a = r["applies_to"]
        scope = "default" if a["default"] else "; ".join(f"{k}={','.join(v)}" for k, v in a.items() if v and k != "default")
        console.print(f"[bold]{r['plan']}[/]@{r['version']}  {r['title']}  [dim]({scope}) {r['file']}[/]")
