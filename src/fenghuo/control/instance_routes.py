"""HTTP routes for guard instances: acknowledgements/heartbeats and the enforcement answer.

``POST /api/v1/instances/ack`` — a guard says which version of its service's state it
enforces (sent on every change and as a heartbeat every few seconds).
``GET /api/v1/instances`` — a page of instances (by service, state, fail-safe, silent).
``GET /api/v1/services/{id}/enforcement`` — "all N instances of S enforce version V (state)
since T", with the instances that lag and those that have gone silent.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import ConfigDict, Field

from fenghuo.control.instances import DEFAULT_STALE_SECONDS, InstanceBook
from fenghuo.control.views import Enforcement, InstanceAcked
from fenghuo.platform import pages
from fenghuo.platform.inputs import Body
from fenghuo.platform.roles import Actor
from fenghuo.platform.views import CONTRACT, View
from fenghuo.platform.web import current_actor

router = APIRouter(prefix="/api/v1", tags=["instances"])


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
_flushing: set[int] = set()  # id() of the books a worker thread is flushing now


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


@router.post("/instances/ack", response_model=InstanceAcked, **CONTRACT)
async def ack(body: AckBody, actor: Actor = Depends(ack_actor), instances: InstanceBook = Depends(book_async)) -> Response:
    """On the event loop while the book holds the instance and the actor's authorisation
    (no database); otherwise, and for the flush every ``flush_seconds``, in a worker thread.
    The answer is serialised here: the fields are already checked, a second validation
    through the response model cost as much as the rest of the ack."""
    data = body.model_dump()
    if instances.in_memory(actor, data):
        row = instances.ack(actor, data, flush=False)
    else:
        row = await run_in_threadpool(partial(instances.ack, actor, data, flush=False))
    if instances.flush_due() and id(instances) not in _flushing:  # one flush at a time, not one per waiting ack
        _flushing.add(id(instances))
        try:
            await run_in_threadpool(instances.flush)
        finally:
            _flushing.discard(id(instances))
    return Response(orjson.dumps({"instance": row["id"], "service": row["service_id"], "version": row["version"],
                                  "state": row["state"], "enforced_since": row["enforced_since"],
                                  "last_seen": row["last_seen"]}), media_type="application/json")


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
