"""``fenghuo scale status`` and ``fenghuo scale reconcile``: what an operator asks of a
scaled-out installation (who leads, how far counting has got, does the KV bucket agree with the
database) without reading tables by hand. Both act on ``--db`` and ``--bus``."""

from __future__ import annotations

import time

import click

from fenghuo.platform.cli_support import client, refusals


def _on_local(bus: str, work):
    """Run ``work(db, link)`` on the local database (--db) and the bus; refused with --server."""
    from fenghuo.scale.connection import NatsLink, NatsSettings

    def local(db, actor):
        link = NatsLink(NatsSettings.from_url(bus), name="fenghuo-cli").connect()
        try:
            return work(db, link)
        finally:
            link.close()
            db.dispose()

    return client().call(local, "GET", None)


@click.group("scale")
def scale_group() -> None:
    """多副本部署：主副本、计数进度、KV 对账 / Scale-out: leader, counting progress, KV reconciliation."""


@scale_group.command("status")
@click.option("--bus", envvar="FENGHUO_BUS", required=True, metavar="URL", help="nats://…")
@refusals
def status(bus: str) -> None:
    """主副本、计数游标与积压、KV 差异 / Leader, counting cursor and lag, KV differences."""
    from fenghuo.scale import lease
    from fenghuo.scale.cursor import read_cursor
    from fenghuo.scale.reconcile import differences

    def work(db, link) -> None:
        s = link.settings
        info = link.run(link.js.stream_info(s.stream))
        leader = lease.holder(db, "leader")
        cursor = read_cursor(db, s.consumer)
        live = leader and leader["expires_at"] > time.time()
        click.echo(f"leader / 主副本: {leader['holder'] + ' (epoch ' + str(leader['epoch']) + ')' if live else 'none / 无'}")
        click.echo(f"stream / 事件流 {s.stream}: {info.state.messages} messages, last seq {info.state.last_seq}")
        click.echo(f"counted up to / 已计数至 seq {cursor}; lag / 积压 {max(info.state.last_seq - cursor, 0)} messages")
        diffs = differences(db, link)[0]
        click.echo(f"KV bucket / 开关 KV {s.bucket}: " + ("agrees with the database / 与数据库一致" if not diffs
                                                          else f"{len(diffs)} difference(s) / 处差异: {diffs}"))

    _on_local(bus, work)


@scale_group.command("reconcile")
@click.option("--bus", envvar="FENGHUO_BUS", required=True, metavar="URL", help="nats://…")
@refusals
def reconcile_cmd(bus: str) -> None:
    """按数据库修复 KV 并记入账本 / Repair the KV bucket from the database, recorded in the ledger."""
    from fenghuo.scale.reconcile import reconcile

    def work(db, link) -> None:
        link.ensure_stream()
        diffs = reconcile(db, link)
        click.echo(f"repaired {len(diffs)} / 已修复 {len(diffs)}" + "".join(f"\n  {d}" for d in diffs))

    _on_local(bus, work)


def register(root: click.Group) -> None:
    root.add_command(scale_group)
