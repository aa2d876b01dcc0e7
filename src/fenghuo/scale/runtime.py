"""First lifespan hook of a scaled-out control plane: connect to NATS, declare the event stream
and the switch bucket, and put the JetStream bus at ``app.state.bus`` so that monitoring (the
next hook) publishes to it. Without ``--bus`` / FENGHUO_BUS this hook does nothing and the
embedded in-process bus stays.
"""

from __future__ import annotations

import asyncio
import os
from contextlib import asynccontextmanager

from fastapi import FastAPI

from fenghuo.monitor.directory import Directory
from fenghuo.scale.connection import NatsLink, NatsSettings
from fenghuo.scale.jsbus import JetStreamBus


def bus_url(app: FastAPI) -> str | None:
    url = getattr(app.state.settings, "bus_url", None) or os.environ.get("FENGHUO_BUS")
    if url and not url.startswith(("nats://", "tls://")):
        raise SystemExit(f"--bus {url!r}: only nats:// URLs are known / 只支持 nats:// 地址")
    return url or None


def make_bus(link: NatsLink, directory: Directory) -> JetStreamBus:
    def provider_of(service: str) -> str | None:
        info = directory.lookup({service}).get(service)
        return info.provider if info else None

    return JetStreamBus(link, provider_of)


@asynccontextmanager
async def lifespan(app: FastAPI):
    url = bus_url(app)
    if not url:
        yield
        return
    link = await asyncio.to_thread(lambda: NatsLink(NatsSettings.from_url(url), name="fenghuo-control").connect())
    await asyncio.to_thread(link.ensure_stream)
    await asyncio.to_thread(link.bucket)
    directory = Directory(app.state.db)
    await asyncio.to_thread(directory.reload)
    app.state.nats = link
    app.state.bus = make_bus(link, directory)
    try:
        yield
    finally:
        await asyncio.to_thread(link.close)
