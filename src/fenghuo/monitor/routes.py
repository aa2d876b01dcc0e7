"""HTTP routes of monitoring: event ingest, indicators, coverage and /metrics."""

from __future__ import annotations

from typing import Any

import msgspec
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from fenghuo.control import listing
from fenghuo.control import services as registry
from fenghuo.monitor import coverage, summaries
from fenghuo.monitor.ingest import Monitor
from fenghuo.monitor.metrics import render
from fenghuo.monitor.views import CoverageRow, CoverageService, Indicators, IngestAnswer, TelemetrySummary
from fenghuo.platform import pages
from fenghuo.platform.db import Database
from fenghuo.platform.roles import Actor, Role
from fenghuo.platform.views import CONTRACT, raw_body, text
from fenghuo.platform.web import current_actor, get_db

router = APIRouter(tags=["monitoring"])
_json = msgspec.json.Encoder()


def _monitor(request: Request) -> Monitor:
    return request.app.state.runtime.monitor  # fenghuo.api.runtime


@router.post("/api/v1/events", responses={200: {"model": IngestAnswer, "description": "counted / 已计数"}},
             openapi_extra=raw_body(**{"application/json": {"type": "array", "items": {"type": "object"}},
                                       "application/x-ndjson": {"type": "string"}}))
async def post_events(request: Request, actor: Actor = Depends(current_actor)) -> Response:
    """Body: a JSON array of events, or NDJSON (one event per line). Answers
    ``{accepted, duplicates, rejected: [{index, reason}]}``; good events are kept even when
    others in the batch are refused."""
    # The contract: a request with a valid cached token is normally answered before the router
    # by monitor.fastpath (issue 19), which hands every other case here with the same answers.
    body = await request.body()
    # Counted in a worker thread: a batch ends in a database commit (the dedup ids) and, with
    # the in-process bus, in the alert rules' evaluation and its commit, which must not stall
    # every other request on the event loop. Exactly-once holds across threads because
    # Monitor serialises the dedup check, the commit and the publish under one lock.
    result = await run_in_threadpool(_monitor(request).ingest_body, body, actor)
    return Response(_json.encode(result.to_dict()), media_type="application/json")


@router.get("/api/v1/indicators", response_model=list[Indicators], **CONTRACT)
async def all_indicators(request: Request, response: Response, after: str | None = None,
                         limit: int = Query(listing.DEFAULT_LIMIT, ge=1, le=listing.MAX_LIMIT),
                         actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> list[dict[str, Any]]:
    """A page of visible services' indicators in id order (``X-Next-Cursor``: the next page's ``after``)."""
    page = await run_in_threadpool(lambda: listing.service_page(db, actor, after=after, limit=limit))
    if page.next:
        response.headers["X-Next-Cursor"] = page.next
    m = _monitor(request)
    return [m.indicators.snapshot(s["id"], m.now()) for s in page.items]


@router.get("/api/v1/indicators/{service_id}", response_model=Indicators, **CONTRACT)
async def service_indicators(service_id: str, request: Request, actor: Actor = Depends(current_actor),
                             db: Database = Depends(get_db)) -> dict[str, Any]:
    await run_in_threadpool(registry.get, db, actor, service_id)  # 404 / 403 as the registry says
    m = _monitor(request)
    return m.indicators.snapshot(service_id, m.now())


@router.get("/api/v1/services/{service_id}/telemetry-summary", response_model=TelemetrySummary, **CONTRACT)
async def telemetry_summary(service_id: str, start: str | None = Query(None, alias="from"), end: str | None = Query(None, alias="to"),
                            actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> dict[str, Any]:
    """Stored hourly summaries of one service (kept ≥ 183 days); ``from``/``to``: ISO 8601 or UNIX seconds."""
    return await run_in_threadpool(summaries.for_service, db, actor, service_id, start, end)


@router.get("/api/v1/coverage", response_model=list[CoverageRow], **CONTRACT)
async def get_coverage(request: Request, jurisdiction: str | None = None, actor: Actor = Depends(current_actor),
                       db: Database = Depends(get_db)) -> list[dict[str, Any]]:
    """Per node beneath ``jurisdiction`` (default: the whole tree): counts as SQL aggregates,
    and the first ids of the unmonitored and stale services (all of them: ``/coverage/services``)."""
    m = _monitor(request)
    return await run_in_threadpool(coverage.coverage, db, m.indicators, actor, jurisdiction, m.now())


@router.get("/api/v1/coverage/services", response_model=list[CoverageService], **CONTRACT)
async def get_coverage_services(request: Request, response: Response, jurisdiction: str | None = None,
                                status: str | None = None, after: str | None = pages.AFTER, limit: int = pages.LIMIT,
                                actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> list[dict[str, Any]]:
    """A page of the services beneath ``jurisdiction`` with their coverage status, in id order;
    ``status``: unmonitored, monitored, enforcing_current or stale_version (``X-Next-Cursor``:
    the next page's ``after``)."""
    m = _monitor(request)
    page = await run_in_threadpool(lambda: coverage.service_page(db, m.indicators, actor, jurisdiction, m.now(),
                                                                 status=status, after=after, limit=limit))
    pages.link_headers(response, request, page)
    return page.items


@router.get("/metrics", responses=text("text/plain", "Prometheus text format 0.0.4"))
async def metrics(request: Request, actor: Actor = Depends(current_actor), db: Database = Depends(get_db)) -> PlainTextResponse:
    # A scraper token (platform.roles) sees the metrics an auditor of the same scope would.
    reader = Actor(actor.name, Role.auditor, actor.provider_id, actor.jurisdiction_id) if actor.role is Role.scraper else actor
    services = sorted(await run_in_threadpool(listing.visible_ids, db, reader))
    m = _monitor(request)
    extra = []
    alerts = request.app.state.runtime.alerts
    if alerts is not None:
        extra = alerts.metric_families(set(services))
    return PlainTextResponse(render(m.indicators, services, m.now(), extra), media_type="text/plain; version=0.0.4")
