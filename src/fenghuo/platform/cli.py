"""`fenghuo db …` and `fenghuo token create`."""

from __future__ import annotations

import click

from fenghuo.platform.cli_support import client, console, refusals


@click.group("db")
def db_group() -> None:
    """Database location and schema / 数据库位置与结构。"""


@db_group.command("path")
@refusals
def db_path() -> None:
    """Print the database URL in use / 显示所用数据库。"""
    console.print(client().where)


@db_group.command("upgrade")
@refusals
def db_upgrade() -> None:
    """Apply schema migrations (also done automatically) / 执行数据库迁移。"""
    be = client()
    console.print(f"[green]✓[/] 数据库结构已是最新 / schema is current: {be.where}")


@click.group("token")
def token_group() -> None:
    """API tokens / 访问令牌。"""


@token_group.command("create")
@click.option("--name", required=True, help="Who or what holds the token / 持有者")
@click.option("--role", required=True, type=click.Choice(["operator", "regulator", "auditor", "system", "admin"]))
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
    root.add_command(db_group)
    root.add_command(token_group)
