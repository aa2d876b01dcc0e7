"""`fenghuo service register|list|show`: registration seeds and shows the switch state, so these
commands sit with control (``control.services``), above the registry's pure grading."""

from __future__ import annotations

import click
from rich.table import Table

from fenghuo.platform.cli_support import client, console, print_json, refusals, styled_state


@click.group("service")
def service_group() -> None:
    """Register and inspect AI services / 登记与查看人工智能服务。"""


@service_group.command("register")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@refusals
def register_cmd(files: tuple[str, ...]) -> None:
    """Register (or update and re-grade) services from YAML files / 从 YAML 文件登记服务。

    A file holds one service, or lists of jurisdictions, providers and services.
    """
    from fenghuo.control import services as service
    from fenghuo.registry.spec import load_registration

    cl = client()
    for f in files:
        reg = load_registration(f)  # validated here, so errors name the local file and line
        done = cl.call(lambda db, actor: {"results": service.register(db, actor, reg)},  # noqa: B023 - called at once
                       "POST", "/api/v1/services", json=reg.model_dump(mode="json"))
        for r in done["results"]:
            if "service" in r:
                extra = f" (was {r['previous_grade']})" if r.get("previous_grade") and r["previous_grade"] != r["grade"] else ""
                console.print(f"[green]✓[/] service {r['service']}: {r['result']}, grade [bold]{r['grade']}[/]{extra}")
            else:
                kind = "jurisdiction" if "jurisdiction" in r else "provider"
                console.print(f"[green]✓[/] {kind} {r[kind]}")


@service_group.command("list")
@click.option("--sector")
@click.option("--grade")
@click.option("--provider")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output")
@refusals
def list_cmd(sector: str | None, grade: str | None, provider: str | None, as_json: bool) -> None:
    """List services with grade and state / 列出服务及其分级与状态。"""
    from fenghuo.control import services as service

    filters = {"sector": sector, "grade": grade, "provider": provider}
    rows = client().call(lambda db, actor: service.list_services(db, actor, **filters), "GET", "/api/v1/services",
                         params={k: v for k, v in filters.items() if v})
    if as_json:
        return print_json(rows)
    t = Table(title="服务 / Services")
    t.add_column("id", no_wrap=True)
    for col in ("name 名称", "provider 提供者", "sector 领域", "grade 分级", "state 状态", "ver"):
        t.add_column(col, overflow="fold")
    for v in rows:
        st = v["state"] or {}
        t.add_row(v["id"], v["name"], v["provider"], v["attributes"].get("sector", ""), v["grade"]["grade"],
                  styled_state(st.get("state", "?")), str(st.get("version", "")))
    console.print(t)


@service_group.command("show")
@click.argument("service_id")
@click.option("--json", "as_json", is_flag=True)
@refusals
def show_cmd(service_id: str, as_json: bool) -> None:
    """Show one service: attributes, grade and why, state / 查看服务详情与分级理由。"""
    from fenghuo.control import services as service

    v = client().call(lambda db, actor: service.get(db, actor, service_id), "GET", f"/api/v1/services/{service_id}")
    if as_json:
        return print_json(v)
    g = v["grade"]
    console.print(f"[bold]{v['id']}[/] — {v['name']}  (provider {v['provider']}, jurisdiction {v['jurisdiction']})")
    console.print(f"分级 / grade: [bold]{g['grade']}[/]  table {g['table']} v{g['version']}")
    for r in g["reasons"]:
        console.print(f"  • [{r['grade']}] {r['zh']} / {r['en']}  ({r['rule']})")
    d = g["defaults"]
    console.print(f"  fail-safe {d['failsafe']['mode']} after {d['failsafe']['after_seconds']} s; "
                  f"resume approvals {d['resume_approvals']}; reporting profile {d['reporting_profile']}")
    st = v["state"]
    console.print(f"状态 / state: {styled_state(st['state'])} v{st['version']} — {st['reason']} ({st['changed_by']}, {st['changed_at']})")


def register(root: click.Group) -> None:
    root.add_command(service_group)
