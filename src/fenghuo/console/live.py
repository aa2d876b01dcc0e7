"""实时 Live: one server-sent event stream per open page, so it updates without reloading.

It is the switch's own stream (``control.stream.SwitchHub.follow``, the one guards follow at
``/api/v1/switch/stream``: a snapshot, then every change within the hub's push/poll time)
limited to the services the viewer may see, merged with the warning transitions this server's
alert engine publishes (``alerts.listeners``: ``warning`` events, same scope) and with
``incident`` events read from the ledger's tail (incidents, reports, clocks of incidents the
viewer may see). The page's script updates states in place and redraws its main part when a
warning or an incident changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from fenghuo.alerts import listeners
from fenghuo.console import reads
from fenghuo.console.web import ConsoleRoute, Viewer, db_of, runtime_of, viewer
from fenghuo.control.stream import sse
from fenghuo.ledger import store
from fenghuo.platform.db import Database
from fenghuo.platform.errors import FenghuoError
from fenghuo.platform.roles import Actor
from fenghuo.response import incidents

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
log = logging.getLogger(__name__)


INCIDENT_KINDS = ("incident", "report.", "clock.")  # ledger kinds that change an incident's page
TAIL_SECONDS = 1.0


def incident_changes(db: Database, actor: Actor, after: int, services: set[str]) -> tuple[int, list[dict[str, Any]]]:
    """Ledger entries after ``after`` that change an incident this actor may see (asked through
    ``response.incidents.get``, which refuses out of scope): the ledger is the one record every
    incident, report and clock change is written to, in the same transaction."""
    with db.reader() as s:
        head, _ = store.head(s)
        entries = list(store.iter_entries(s, after=after)) if head > after else []
    out, allowed = [], {}
    for e in entries:
        if not e["kind"].startswith(INCIDENT_KINDS):
            continue
        inc = reads.readable(e)["payload"].get("incident") or (e["subject"][9:] if e["subject"].startswith("incident:") else None)
        if not inc:
            continue
        if inc not in allowed:
            try:
                allowed[inc] = incidents.get(db, actor, inc)["service"]
            except FenghuoError:
                allowed[inc] = None
        if allowed[inc] and (not services or allowed[inc] in services):
            out.append({"id": inc, "kind": e["kind"], "service": allowed[inc]})
    return head, out


async def merged(hub: Any, visible: set[str] | None, services: set[str],
                 db: Database | None = None, actor: Actor | None = None) -> AsyncIterator[bytes]:
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

    async def tail() -> None:  # incidents, reports and clocks: from the ledger's tail
        with db.reader() as s:
            last = store.head(s)[0]
        while True:
            await asyncio.sleep(TAIL_SECONDS)
            try:
                last, changes = await asyncio.to_thread(incident_changes, db, actor, last, services)
            except Exception:
                log.warning("console incident tail failed", exc_info=True)
                continue
            for c in changes:
                await q.put(sse("incident", c))

    unsubscribe = listeners.subscribe(on_warning)
    task = asyncio.create_task(pump())
    tailer = asyncio.create_task(tail()) if db is not None and actor is not None else None
    try:
        while True:
            item = await q.get()
            if item is None:
                return
            yield item
    finally:
        unsubscribe()
        for running in (task, tailer):
            if running is not None:
                running.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await running


@router.get("/live")
async def live(request: Request, service: list[str] = Query(default=[]), who: Viewer = Depends(viewer)) -> StreamingResponse:
    visible = await run_in_threadpool(reads.visible_ids, db_of(request), who.actor)  # one column, None: all
    return StreamingResponse(merged(runtime_of(request).hub, visible, set(service), db_of(request), who.actor),
                             media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
