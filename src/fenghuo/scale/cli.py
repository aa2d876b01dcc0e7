"""``fenghuo scale status`` and ``fenghuo scale reconcile``: what an operator asks of a
scaled-out installation (who leads, how far counting has got, does the KV bucket agree with the
database) without reading tables by hand. Both act on ``--db`` and ``--bus``."""

from __future__ import annotations

import time

import click


def _open(ctx: click.Context, bus: str):  # noqa: ANN202
    from fenghuo.platform.db import open_database
    from fenghuo.scale.connection import NatsLink, NatsSettings

    db = open_database(ctx.find_root().obj.get("db"))
    link = NatsLink(NatsSettings.from_url(bus), name="fenghuo-cli").connect()
    return db, link


def register(root: click.Group) -> None:
    @root.group("scale")
    def scale() -> None:
        """多副本部署：主副本、计数进度、KV 对账 / Scale-out: leader, counting progress, KV reconciliation."""

    @scale.command("status")
    @click.option("--bus", envvar="FENGHUO_BUS", required=True, metavar="URL", help="nats://…")
    @click.pass_context
    def status(ctx: click.Context, bus: str) -> None:
        """主副本、计数游标与积压、KV 差异 / Leader, counting cursor and lag, KV differences."""
        from fenghuo.scale import lease
        from fenghuo.scale.cursor import read_cursor
        from fenghuo.scale.reconcile import differences

        db, link = _open(ctx, bus)
        try:
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
        finally:
            link.close()
            db.dispose()

    @scale.command("reconcile")
    @click.option("--bus", envvar="FENGHUO_BUS", required=True, metavar="URL", help="nats://…")
    @click.pass_context
    def reconcile_cmd(ctx: click.Context, bus: str) -> None:
        """按数据库修复 KV 并记入账本 / Repair the KV bucket from the database, recorded in the ledger."""
        from fenghuo.scale.reconcile import reconcile

        db, link = _open(ctx, bus)
        try:
            link.ensure_stream()
            diffs = reconcile(db, link)
            click.echo(f"repaired {len(diffs)} / 已修复 {len(diffs)}" + "".join(f"\n  {d}" for d in diffs))
        finally:
            link.close()
            db.dispose()
