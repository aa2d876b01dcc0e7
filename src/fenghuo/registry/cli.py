"""`fenghuo grading …` and `fenghuo token create`."""

from __future__ import annotations

import click

from fenghuo.platform.cli_support import client, console, refusals


@click.group("grading")
def grading_group() -> None:
    """Grading tables (分级分类) / 分级表。"""


@grading_group.command("show")
@click.argument("table_id", required=False)
@refusals
def grading_show(table_id: str | None) -> None:
    """List grading tables, or show one's grades and rules / 查看分级表。"""
    from fenghuo.registry.grading import available_tables, get_table

    if not table_id:
        for tid, path in available_tables().items():
            t = get_table(tid)
            console.print(f"[bold]{tid}[/] v{t.version} — {t.title.zh} / {t.title.en}  ({path})")
        return
    t = get_table(table_id)
    console.print(f"[bold]{t.table}[/] v{t.version} — {t.title.zh} / {t.title.en}")
    for g in t.grades:
        d = g.defaults
        console.print(f"  {g.id} {g.name.zh} / {g.name.en}: fail-{d.failsafe.mode} after {d.failsafe.after_seconds}s, "
                      f"{d.resume_approvals} approval(s), {d.reporting_profile}")
    for r in t.rules:
        console.print(f"  rule {r.id} → {r.grade}: {r.when}  — {r.reason.en}")


@grading_group.command("check")
@click.argument("file", type=click.Path(dir_okay=False))
@refusals
def grading_check(file: str) -> None:
    """Validate a grading table file; errors name the line and field / 校验分级表文件。"""
    from fenghuo.registry.grading import load_table_file

    t = load_table_file(file)
    console.print(f"[green]✓[/] {file}: table {t.table} v{t.version}, {len(t.grades)} grades, {len(t.rules)} rules")


@click.group("token")
def token_group() -> None:
    """API tokens / 访问令牌。"""


@token_group.command("create")
@click.option("--name", required=True, help="Who or what holds the token / 持有者")
@click.option("--role", required=True, type=click.Choice(["operator", "regulator", "auditor", "system", "admin", "scraper"]))
@click.option("--provider", help="Provider id (operator tokens) / 服务提供者")
@click.option("--jurisdiction", help="Jurisdiction node (regulator tokens) / 辖区")
@refusals
def token_create(name: str, role: str, provider: str | None, jurisdiction: str | None) -> None:
    """Create a bearer token; it is shown once and stored only as a hash / 创建令牌（仅显示一次）。"""
    from fenghuo.platform.roles import Role
    from fenghuo.registry.tokens import create_token

    body = {"name": name, "role": role, "provider": provider, "jurisdiction": jurisdiction}
    made = client().call(lambda db, actor: {"token": create_token(db, actor, name, Role(role), provider, jurisdiction)},
                         "POST", "/api/v1/tokens", json=body)
    click.echo(made["token"])


def register(root: click.Group) -> None:
    root.add_command(token_group)
    root.add_command(grading_group)
