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
@click.option("--batch", type=click.IntRange(0), default=0,
              help="services per transaction (0: the whole file at once, all or nothing) / 每批服务数")
@refusals
def register_cmd(files: tuple[str, ...], batch: int) -> None:
    """Register (or update and re-grade) services from YAML files / 从 YAML 文件登记服务。

    A file holds one service, or lists of jurisdictions, providers and services. A file is
    applied in one transaction; with --batch N, a large fleet goes N services per transaction
    (jurisdictions and providers with the first), each batch all or nothing.
    """
    from fenghuo.control import services as service
    from fenghuo.registry.spec import RegistrationFile, load_registration

    cl = client()
    for f in files:
        whole = load_registration(f)  # validated here, so errors name the local file and line
        step = batch or max(1, len(whole.services))
        parts = [RegistrationFile(jurisdictions=whole.jurisdictions if i == 0 else [], providers=whole.providers if i == 0 else [],
                                  services=whole.services[i:i + step]) for i in range(0, max(1, len(whole.services)), step)]
        for reg in parts:
            done = cl.call(lambda db, actor: {"results": service.register(db, actor, reg)},  # noqa: B023 - called at once
                           "POST", "/api/v1/services", json=reg.model_dump(mode="json"))
            _print_results(done["results"])


def _print_results(results: list[dict]) -> None:
    if len(results) > 50:  # a fleet: a summary, not a line per service
        counts: dict[str, int] = {}
        for r in results:
            key = r["result"] if "service" in r else ("jurisdiction" if "jurisdiction" in r else "provider")
            counts[key] = counts.get(key, 0) + 1
        console.print("[green]✓[/] " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
        return
    for r in results:
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
@click.option("--jurisdiction", help="this jurisdiction and everything beneath it / 含下级辖区")
@click.option("--state", help="switch state, e.g. paused / 开关状态")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True, help="services per page / 每页条数")
@click.option("--after", help="start after this service id (the last id of the previous page) / 从该编号之后开始")
@click.option("--all", "everything", is_flag=True, help="every page / 列出全部")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output")
@refusals
def list_cmd(sector: str | None, grade: str | None, provider: str | None, jurisdiction: str | None, state: str | None,
             limit: int, after: str | None, everything: bool, as_json: bool) -> None:
    """List services with grade and state, a page at a time / 分页列出服务及其分级与状态。"""
    from fenghuo.control import listing

    f = listing.ServiceFilter(sector=sector, grade=grade, provider=provider, jurisdiction=jurisdiction, state=state)
    params = {k: v for k, v in vars(f).items() if v}
    rows: list[dict] = []
    more = False
    while True:
        page = client().call(lambda db, actor: listing.service_page(db, actor, f, after=after, limit=limit).items,  # noqa: B023 - called at once
                             "GET", "/api/v1/services", params={**params, "limit": limit, **({"after": after} if after else {})})
        rows += page
        more = len(page) == limit  # a full page: there may be more (the next page may be empty)
        if not (everything and more):
            break
        after = page[-1]["id"]
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
    if more and not everything:
        console.print(f"下一页 / next page: --after {rows[-1]['id']}  (或 / or --all)")


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
    from fenghuo.control.change_cli import changes_group

    root.add_command(service_group)
    root.add_command(changes_group)  # registration changes awaiting a regulator (issue 14)
