"""`fenghuo serve`: run the control plane."""

from __future__ import annotations

import click

from fenghuo.platform.cli_support import console


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8600, show_default=True, type=int)
@click.option("--max-body-bytes", type=int, help="Refuse larger request bodies with 413 / 请求体上限")
@click.option("--heartbeat", type=float, help="SSE heartbeat seconds / 心跳间隔")
@click.option("--checkpoint-every", type=float, help="Seconds between automatic ledger checkpoints (0 = off)")
@click.option("--bus", metavar="URL", help="nats://… 事件总线与开关 KV（多副本）/ NATS JetStream bus and switch KV (replicas); default: in-process")
@click.option("--log-level", default="warning", show_default=True)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, max_body_bytes: int | None, heartbeat: float | None,
          checkpoint_every: float | None, bus: str | None, log_level: str) -> None:
    """Run the control-plane API and switch stream / 运行控制面 API。"""
    import uvicorn

    from fenghuo.api.app import create_app
    from fenghuo.platform.config import Settings

    settings = Settings(db_url=ctx.find_root().obj.get("db"))
    if max_body_bytes:
        settings.max_body_bytes = max_body_bytes
    if heartbeat:
        settings.heartbeat_seconds = heartbeat
    if bus:
        settings.bus_url = bus
    if checkpoint_every is not None:
        settings.checkpoint_seconds = checkpoint_every
    from fenghuo.platform.db import open_database

    db = open_database(settings.db_url)
    app = create_app(settings, db, settle=True)  # this process is the server's own: freeze its loaded heap
    console.print(f"烽火 control plane on http://{host}:{port}  (db {db.url})")
    uvicorn.run(app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=1)


def register(root: click.Group) -> None:
    root.add_command(serve)
