"""HTTP routes for guard instances: acknowledgements/heartbeats and the enforcement answer.

``POST /api/v1/instances/ack`` — a guard says which version of its service's state it
enforces (sent on every change and as a heartbeat every few seconds).
``POST /api/v1/instances/acks`` — the same for many instances at once (``{"acks": [...]}``, at
most ``MAX_BATCH``): a guard process hosting many instances, or a relay, sends one request
where it would send one per instance; the answer holds each one's outcome in order.
``GET /api/v1/instances`` — a page of instances (by service, state, fail-safe, silent).
``GET /api/v1/services/{id}/enforcement`` — "all N instances of S enforce version V (state)
since T", with the instances that lag and those that have gone silent.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from functools import partial
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import ConfigDict, Field

from fenghuo.control.instances import DEFAULT_STALE_SECONDS, MAX_BATCH, InstanceBook
from fenghuo.control.views import AcksBooked, Enforcement, InstanceAcked
from fenghuo.platform import pages
from fenghuo.platform.inputs import Body
from fenghuo.platform.roles import Actor
from fenghuo.platform.views import CONTRACT, View
from fenghuo.platform.web import current_actor

router = APIRouter(prefix="/api/v1", tags=["instances"])
log = logging.getLogger(__name__)


class AckBody(Body):
    model_config = ConfigDict(extra="forbid")
    instance: str = Field(min_length=1, max_length=128)
    service: str = Field(min_length=1, max_length=64)
    version: int = Field(ge=0, le=2**63 - 1)
    state: str
    enforced_at: str | None = None  # the guard's clock: when it began enforcing this version
    failsafe: bool = False
    started_at: str | None = None
    meta: dict[str, Any] = Field(default_factory=dict)


class AcksBody(Body):
    model_config = ConfigDict(extra="forbid")
    acks: list[AckBody] = Field(min_length=1, max_length=MAX_BATCH)


class InstanceView(View):
    instance: str
    service: str
    state: str
    version: int
    enforced_since: str | None = None
    last_seen: str | None = None
    failsafe: bool
    started_at: str | None = None
    meta: dict[str, Any] | None = None
    silent: bool


def book(request: Request) -> InstanceBook:
    """The app's one book (``fenghuo.api.runtime``)."""
    return request.app.state.runtime.instance_book


async def book_async(request: Request) -> InstanceBook:
    return request.app.state.runtime.instance_book


# Guards acknowledge every change and heartbeat every few seconds; 100 instances make 100 acks
# per change. A token's actor is therefore remembered for ACTOR_TTL seconds per (token,
# address): the bearer check (a database read, the failure limiter) runs at most once a second
# per guard instead of once per ack. A revoked token may acknowledge for up to that long.
ACTOR_TTL = 1.0
# Each book's flush task, waiting or running (held here too: the loop keeps only weak references).
_flushers: weakref.WeakKeyDictionary[InstanceBook, asyncio.Task] = weakref.WeakKeyDictionary()


async def ack_actor(request: Request) -> Actor:
    actors = getattr(request.app.state, "ack_actors", None)
    if actors is None:  # per app: each has its own token table
        actors = request.app.state.ack_actors = {}
    key = (request.headers.get("authorization", ""), request.client.host if request.client else "-")
    hit = actors.get(key)
    now = time.monotonic()
    if hit is not None and now - hit[0] < ACTOR_TTL:
        return hit[1]
    actor = await run_in_threadpool(current_actor, request)
    if len(actors) > 10_000:  # many tokens/addresses: forget them all rather than grow
        actors.clear()
    actors[key] = (now, actor)
    return actor


def _flush_later(instances: InstanceBook) -> None:
    """One background task per book writes the unwritten acknowledgements when due
    (``InstanceBook.flush_in``): ``burst_seconds`` after a change's first acknowledgement, so
    the ~100 of one change share one transaction and other replicas see them within tens of
    milliseconds; the acknowledgements themselves are answered without waiting for it."""
    running = _flushers.get(instances)
    if (running is not None and not running.done()) or instances.flush_in() is None:
        return

    async def run() -> None:
        while (wait := instances.flush_in()) is not None:
            if wait > 0:  # re-read after a short sleep: a change may make the flush due sooner
                await asyncio.sleep(min(wait, instances.burst_seconds))
                continue
            try:
                await run_in_threadpool(instances.flush)
            except Exception as exc:  # noqa: BLE001 - database busy or away: the rows stay unwritten, tried again
                log.warning("acknowledgements not written yet: %s", exc)
                await asyncio.sleep(instances.flush_seconds)

    _flushers[instances] = asyncio.get_running_loop().create_task(run())


def _acked(row: dict[str, Any]) -> dict[str, Any]:
    return {"instance": row["id"], "service": row["service_id"], "version": row["version"], "state": row["state"],
            "enforced_since": row["enforced_since"], "last_seen": row["last_seen"]}


@router.post("/instances/ack", response_model=InstanceAcked, **CONTRACT)
async def ack(body: AckBody, actor: Actor = Depends(ack_actor), instances: InstanceBook = Depends(book_async)) -> Response:
    """On the event loop while the book holds the instance and the actor's authorisation
    (no database); otherwise in a worker thread. The answer is serialised here: the fields
    are already checked, a second validation through the response model cost as much as the
    rest of the ack."""
    data = body.model_dump()
    if instances.in_memory(actor, data):
        row = instances.ack(actor, data, flush=False)
    else:
        row = await run_in_threadpool(partial(instances.ack, actor, data, flush=False))
    _flush_later(instances)
    return Response(orjson.dumps(_acked(row)), media_type="application/json")


@router.post("/instances/acks", response_model=AcksBooked, **CONTRACT)
async def ack_many(body: AcksBody, actor: Actor = Depends(ack_actor), instances: InstanceBook = Depends(book_async)) -> Response:
    """Many acknowledgements in one request, booked in order (the single route's rules for
    each). A malformed one refuses the whole request (422 naming ``acks.<i>.<field>``), as
    does a role that may not acknowledge (403); an unknown service, or one outside the
    token's scope, refuses only its own acknowledgements (``error`` in their place)."""
    data = [a.model_dump() for a in body.acks]
    if instances.batch_in_memory(actor, data):
        results = instances.ack_many(actor, data, flush=False)
    else:
        results = await run_in_threadpool(partial(instances.ack_many, actor, data, flush=False))
    _flush_later(instances)
    out = [_acked(r) if isinstance(r, dict) else
           {"instance": d["instance"], "service": d["service"], "version": d["version"], "state": d["state"],
            "error": r.to_dict() | {"status": r.status}} for d, r in zip(data, results, strict=True)]
    booked = sum(isinstance(r, dict) for r in results)
    return Response(orjson.dumps({"booked": booked, "refused": len(out) - booked, "results": out}), media_type="application/json")


@router.get("/instances", response_model=list[InstanceView], **CONTRACT)
def list_instances(request: Request, response: Response, service: str | None = None, state: str | None = None,
                   failsafe: bool | None = None, silent: bool | None = None,
                   stale_seconds: float = Query(DEFAULT_STALE_SECONDS, gt=0, le=86400), after: str | None = pages.AFTER,
                   limit: int = pages.LIMIT, actor: Actor = Depends(current_actor),
                   instances: InstanceBook = Depends(book)) -> list[dict[str, Any]]:
    """A page of guard instances in id order (``X-Next-Cursor``: the next page's ``after``);
    ``silent=true``: those not heard from for ``stale_seconds``."""
    page = instances.page(actor, service=service, state=state, failsafe=failsafe, silent=silent, stale_seconds=stale_seconds,
                          after=after, limit=limit)
    pages.link_headers(response, request, page)
    return page.items


@router.get("/services/{service_id}/enforcement", response_model=Enforcement, **CONTRACT)
def enforcement(service_id: str, stale_seconds: float = Query(DEFAULT_STALE_SECONDS, gt=0, le=86400),
                actor: Actor = Depends(current_actor), instances: InstanceBook = Depends(book)) -> dict[str, Any]:
    return instances.enforcement(actor, service_id, stale_seconds)
