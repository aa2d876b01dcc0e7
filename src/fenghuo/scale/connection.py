"""A NATS connection that synchronous code can use, and the names and limits of everything
fenghuo keeps in NATS.

Why a loop thread: the rest of fenghuo is synchronous (ingest runs in the request, the switch in
a transaction, guards in their own threads), while nats-py is asyncio only. ``NatsLink`` runs
one event loop in a daemon thread and hands coroutines to it (``run``), so any thread can
publish and wait for the acknowledgement without owning a loop. One link per process is the
intent; several guards in one process share it.

The client reconnects for ever (``max_reconnect_attempts=-1``): a NATS restart is an outage to
ride out, not an error to give up on; callers see timeouts meanwhile and retry or spool.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import nats
from nats.js import api

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class NatsSettings:
    """Names and limits (see docs/scale.md, "Limits and retention", for why these values)."""

    servers: list[str] = field(default_factory=lambda: ["nats://127.0.0.1:4222"])
    prefix: str = "fenghuo"  # every subject starts with it: one NATS account can hold several installations
    stream: str = "FENGHUO_EVENTS"
    bucket: str = "fenghuo-switch"
    replicas: int = 1  # 3 on a three-node cluster
    max_age_seconds: float = 7 * 86400.0  # events kept a week: a replica down for a day still catches up
    max_bytes: int = 8 * 1024**3  # then the oldest are dropped (alert on consumer lag long before)
    duplicate_window_seconds: float = 1200.0  # ≥ ingest's accepted age + future skew (600 s + 300 s)
    consumer: str = "fenghuo-count"
    ack_wait_seconds: float = 30.0
    kv_history: int = 5

    @property
    def events_subject(self) -> str:
        return f"{self.prefix}.events"

    @property
    def acks_subject(self) -> str:
        return f"{self.prefix}.instances.ack"

    @property
    def heartbeat_subject(self) -> str:
        return f"{self.prefix}.switch.heartbeat"

    def with_prefix(self, prefix: str) -> NatsSettings:
        """Another installation (or test) in the same NATS account: its own subjects, stream and bucket."""
        self.prefix = prefix
        self.stream = f"{prefix.upper().replace('-', '_').replace('.', '_')}_EVENTS"
        self.bucket = f"{prefix.replace('.', '-')}-switch"
        return self

    @classmethod
    def from_url(cls, url: str, **overrides: Any) -> NatsSettings:
        """``nats://h1:4222,nats://h2:4222`` (comma-separated), plus FENGHUO_NATS_* overrides."""
        s = cls(servers=[u.strip() for u in url.split(",") if u.strip()], **overrides)
        env = os.environ
        if env.get("FENGHUO_NATS_PREFIX"):
            s.with_prefix(env["FENGHUO_NATS_PREFIX"])
        if env.get("FENGHUO_NATS_REPLICAS"):
            s.replicas = int(env["FENGHUO_NATS_REPLICAS"])
        if env.get("FENGHUO_NATS_MAX_BYTES"):
            s.max_bytes = int(env["FENGHUO_NATS_MAX_BYTES"])
        return s


_TOKEN = re.compile(r"[^A-Za-z0-9_\-]")


def token(text: str) -> str:
    """A subject token / KV key part from an id (dots, spaces and wildcards would split or match)."""
    return _TOKEN.sub(lambda m: f"={ord(m.group()):x}", text)


def event_subject(settings: NatsSettings, provider: str, service: str) -> str:
    return f"{settings.events_subject}.{token(provider)}.{token(service)}"


def switch_key(service: str) -> str:
    return f"svc.{token(service)}"


class NatsLink:
    """One NATS connection on its own event-loop thread."""

    def __init__(self, settings: NatsSettings, name: str = "fenghuo") -> None:
        self.settings = settings
        self.name = name
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True, name=f"nats-{name}")
        self._thread.start()
        self.nc: nats.NATS | None = None
        self.js = None
        self.connected = threading.Event()
        self.generation = 0

    def connect(self, timeout: float = 10.0) -> NatsLink:
        async def go() -> None:
            async def disconnected() -> None:
                self.connected.clear()
                log.warning("NATS disconnected / NATS 连接断开")

            async def reconnected() -> None:
                self.generation += 1  # watchers compare it and start again (a restarted server forgot them)
                self.connected.set()
                log.warning("NATS reconnected / NATS 已重连")

            async def error(exc: Exception) -> None:
                log.debug("NATS: %s", exc)

            self.nc = await nats.connect(servers=self.settings.servers, name=self.name, max_reconnect_attempts=-1,
                                         reconnect_time_wait=0.25, connect_timeout=2, allow_reconnect=True,
                                         disconnected_cb=disconnected, reconnected_cb=reconnected, error_cb=error,
                                         pending_size=64 * 1024 * 1024)
            self.js = self.nc.jetstream(timeout=5)
            self.connected.set()

        self.run(go(), timeout)
        return self

    def run(self, coro: Awaitable[T], timeout: float | None = 10.0) -> T:
        """Run a coroutine on the link's loop and wait for its result (from any other thread)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)  # type: ignore[arg-type]

    def submit(self, coro: Awaitable[Any]) -> None:
        """Fire and forget (acks, heartbeats): errors are logged, never raised."""
        fut = asyncio.run_coroutine_threadsafe(coro, self.loop)  # type: ignore[arg-type]
        fut.add_done_callback(lambda f: f.exception() and log.debug("NATS call failed: %s", f.exception()))

    # -- declarations -------------------------------------------------------------------------
    def ensure_stream(self) -> None:
        s = self.settings
        cfg = api.StreamConfig(name=s.stream, subjects=[f"{s.events_subject}.>"], retention=api.RetentionPolicy.LIMITS,
                               storage=api.StorageType.FILE, discard=api.DiscardPolicy.OLD, max_age=s.max_age_seconds,
                               max_bytes=s.max_bytes, duplicate_window=s.duplicate_window_seconds, num_replicas=s.replicas,
                               description="fenghuo telemetry events / 烽火遥测事件")

        async def go() -> None:
            try:
                await self.js.stream_info(s.stream)
                await self.js.update_stream(cfg)
            except nats.js.errors.NotFoundError:
                await self.js.add_stream(cfg)

        self.run(go())

    def bucket(self):  # nats KeyValue
        s = self.settings

        async def go():
            try:
                return await self.js.key_value(s.bucket)
            except nats.js.errors.BucketNotFoundError:
                return await self.js.create_key_value(api.KeyValueConfig(
                    bucket=s.bucket, history=s.kv_history, storage=api.StorageType.FILE, replicas=s.replicas,
                    description="fenghuo switch state per service / 烽火开关状态"))

        return self.run(go())

    def close(self) -> None:
        if self.nc is not None:
            try:
                self.run(self.nc.close(), timeout=3)
            except Exception:  # noqa: BLE001 - closing a dead link
                pass

        async def cancel_rest() -> None:  # watchers, heartbeats: end them rather than leave them pending
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        try:
            self.run(cancel_rest(), timeout=3)
        except Exception:  # noqa: BLE001
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=3)
