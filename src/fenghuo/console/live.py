"""实时 Live: one server-sent event stream per open page, so it updates without reloading.

It is the switch's own stream (``control.stream.SwitchHub.follow``, the one guards follow at
``/api/v1/switch/stream``: a snapshot, then every change within the hub's push/poll time)
limited to the services the viewer may see, merged with the warning transitions this server's
alert engine publishes (``alerts.listeners``: ``warning`` events, same scope). The page's
script updates states in place and redraws its main part when a warning changes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from fenghuo.alerts import listeners
from fenghuo.console import reads
from fenghuo.console.web import ConsoleRoute, Viewer, db_of, runtime_of, viewer
from fenghuo.control.stream import sse
from fenghuo.platform.roles import Role

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)


async def merged(hub: Any, visible: set[str] | None, services: set[str]) -> AsyncIterator[bytes]:
    loop = asyncio.get_running_loop()
    q: asyncio.Queue = asyncio.Queue(1000)

    def wanted(service: str) -> bool:
        return (visible is None or service in visible) and (not services or service in services)

    def on_warning(change: dict[str, Any]) -> None:  # any thread
        w = change.get("warning") or {}
        if wanted(w.get("service", "")):
            item = sse("warning", {"kind": change.get("kind"), "id": w.get("id"), "service": w.get("service"),
                                   "level": change.get("level"), "state": w.get("state")})
            if not loop.is_closed():
                loop.call_soon_threadsafe(lambda: q.full() or q.put_nowait(item))

    async def pump() -> None:
        try:
            async for chunk in hub.follow(visible, services):
                await q.put(chunk)
        finally:  # the hub ended the stream (shutdown, overflow) or failed: end this one too
            with contextlib.suppress(asyncio.QueueFull):
                q.put_nowait(None)

    unsubscribe = listeners.subscribe(on_warning)
    task = asyncio.create_task(pump())
    try:
        while True:
            item = await q.get()
            if item is None:
                return
            yield item
    finally:
        unsubscribe()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@router.get("/live")
async def live(request: Request, service: list[str] = Query(default=[]), who: Viewer = Depends(viewer)) -> StreamingResponse:
    visible = None
    if who.actor.role not in (Role.admin, Role.system):
        visible = {s["id"] for s in await run_in_threadpool(reads.services, db_of(request), who.actor)}
    return StreamingResponse(merged(runtime_of(request).hub, visible, set(service)), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
