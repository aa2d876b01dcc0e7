"""`fenghuo grading …` and `fenghuo token create`."""

from __future__ import annotations

import click

from fenghuo.platform import cli_pages
from fenghuo.platform.cli_support import client, console, err_console, print_json, refusals


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
@click.option("--expires", "expires_in", help="Lifetime, e.g. 30d or 12h (default: none) / 有效期")
@refusals
def token_create(name: str, role: str, provider: str | None, jurisdiction: str | None, expires_in: str | None) -> None:
    """Create a bearer token; it is shown once and stored only as a hash / 创建令牌（仅显示一次）。"""
    from fenghuo.platform.roles import Role
    from fenghuo.registry.tokens import create_token

    body = {"name": name, "role": role, "provider": provider, "jurisdiction": jurisdiction, "expires_in": expires_in}
    made = client().call(lambda db, actor: {"token": create_token(db, actor, name, Role(role), provider, jurisdiction, expires_in)},
                         "POST", "/api/v1/tokens", json=body)
    click.echo(made["token"])


def _admin_only(actor) -> None:
    from fenghuo.platform.errors import Forbidden
    from fenghuo.platform.roles import Role

    if actor.role is not Role.admin:
        raise Forbidden("只有管理员可以管理令牌", "only an admin may manage tokens")


@token_group.command("list")
@click.option("--role", type=click.Choice(["operator", "regulator", "auditor", "system", "admin", "scraper"]))
@click.option("--status", type=click.Choice(["active", "expired", "revoked"]))
@click.option("--provider")
@click.option("--jurisdiction")
@click.option("--name")
@cli_pages.options
@click.option("--json", "as_json", is_flag=True)
@refusals
def token_list(role: str | None, status: str | None, provider: str | None, jurisdiction: str | None, name: str | None,
               limit: int, after: str | None, everything: bool, as_json: bool) -> None:
    """Tokens by id (never their secrets), with role, scope, expiry and status, a page at a time / 列出令牌（分页）。"""
    from fenghuo.registry import tokens

    f = tokens.TokenFilter(role=role, status=status, provider=provider, jurisdiction=jurisdiction, name=name)

    def local(db, actor, cur):
        _admin_only(actor)
        return tokens.token_page(db, f, after=cur, limit=limit)

    page = cli_pages.walk(client(), local, "/api/v1/tokens", vars(f), after=after, limit=limit, everything=everything)
    if as_json:
        print_json(page.items)
    for t in [] if as_json else page.items:
        scope = t["provider"] or t["jurisdiction"] or "-"
        console.print(f"{t['id']}  {t['status']:<7}  {t['role']:<9}  {scope:<12}  {t['name']}  "
                      f"expires {t['expires_at'] or 'never / 不过期'}")
    cli_pages.next_hint(page)


@token_group.command("revoke")
@click.argument("token_id")
@click.option("--reason", default="", help="Why / 原因")
@refusals
def token_revoke(token_id: str, reason: str) -> None:
    """Revoke a token: it fails on its next request / 吊销令牌（下一次请求即失效）。"""
    from fenghuo.registry import tokens

    def local(db, actor):
        _admin_only(actor)
        return tokens.revoke(db, actor, token_id, reason)

    t = client().call(local, "POST", f"/api/v1/tokens/{token_id}/revoke", json={"reason": reason})
    console.print(f"已吊销 / revoked {t['id']} ({t['name']})")


@token_group.command("rotate")
@click.argument("token_id")
@refusals
def token_rotate(token_id: str) -> None:
    """Revoke a token and issue its successor (same name, role, scope); the new secret is
    printed once / 轮换令牌。"""
    from fenghuo.registry import tokens

    def local(db, actor):
        _admin_only(actor)
        return tokens.rotate(db, actor, token_id)

    made = client().call(local, "POST", f"/api/v1/tokens/{token_id}/rotate")
    err_console.print(f"已轮换 / rotated {made['replaces']} → {made['id']} ({made['name']})")
    click.echo(made["token"])


def register(root: click.Group) -> None:
    root.add_command(token_group)
    root.add_command(grading_group)
