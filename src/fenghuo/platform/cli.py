"""`fenghuo db …`."""

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


def register(root: click.Group) -> None:
    root.add_command(db_group)
