"""The console's routes, one module per page area, mounted by the app at ``/`` (the JSON API
keeps ``/api/v1``). Static files are the console's own CSS and JavaScript, served from the
package: nothing is fetched from elsewhere."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from fenghuo.console import (
    alerts_page,
    auth,
    complaints_page,
    corpus_page,
    incidents_page,
    ledger_page,
    live,
    measures_page,
    overview,
    recovery_forms,
    regulator_page,
    retention_page,
    service_page,
)
from fenghuo.console.web import HERE
from fenghuo.platform.errors import NotFound

router = APIRouter(include_in_schema=False)
STATIC = {"console.css": "text/css; charset=utf-8", "console.js": "text/javascript; charset=utf-8"}


@router.get("/static/console/{name}")
def static(name: str) -> Response:
    if name not in STATIC:
        raise NotFound("未知文件", "unknown file")
    return FileResponse(HERE / "static" / name, media_type=STATIC[name], headers={"Cache-Control": "no-cache"})


for module in (auth, overview, service_page, measures_page, recovery_forms, alerts_page, incidents_page, complaints_page,
               regulator_page, retention_page, ledger_page, corpus_page, live):
    router.include_router(module.router)
