"""The control-plane application: mounts each domain's routes and, while it runs, holds the
one runtime object (``fenghuo.api.runtime``). Domains own their routes; this file lists them."""

from __future__ import annotations

import importlib
from contextlib import asynccontextmanager

from fastapi import FastAPI

from fenghuo import __version__
from fenghuo.alerts.config import AlertsConfig
from fenghuo.api import errors
from fenghuo.api.inputs import RefuseNul
from fenghuo.api.limits import BodyLimit
from fenghuo.api.runtime import running
from fenghuo.monitor.fastpath import EventsFastPath
from fenghuo.monitor.ingest import IngestSettings
from fenghuo.platform.config import Settings
from fenghuo.platform.db import Database, open_database
from fenghuo.platform.settle import settle as settle_process

ROUTE_MODULES = [
    "fenghuo.api.admin_routes",
    "fenghuo.control.service_routes",
    "fenghuo.control.change_routes",  # registration changes awaiting a regulator (issue 14)
    "fenghuo.control.routes",
    "fenghuo.control.instance_routes",
    "fenghuo.control.user_measure_routes",  # warn, restrict or suspend one end user (issue 18, CN-PO-09)
    "fenghuo.api.ledger_routes",
    "fenghuo.monitor.routes",
    "fenghuo.alerts.routes",
    "fenghuo.response.routes",
    "fenghuo.response.complaint_routes",  # complaint and report tickets (issue 18, CN-TC-17)
    "fenghuo.recovery.routes",
    "fenghuo.recovery.model_routes",  # model versions gated by an evaluation (issue 18, CN-TC-18)
    "fenghuo.guard.label_waiver_routes",  # content supplied without the explicit label, logged (issue 18, CN-LB-18)
    "fenghuo.console.routes",  # the web console at / (HTML; same services, roles and scopes)
]

def create_app(settings: Settings | None = None, db: Database | None = None, *,
               monitor_settings: IngestSettings | None = None, alerts_config: AlertsConfig | None = None,
               settle: bool = False) -> FastAPI:
    """The app; its :class:`~fenghuo.api.runtime.Runtime` is built when the app starts
    (``monitor_settings`` / ``alerts_config``: a test's or an embedder's, else FENGHUO_*).
    ``settle``: the process is the server's own (``fenghuo serve``), so once the runtime is up
    its heap is frozen (``platform.settle``); an app hosted in a test or an embedder leaves the
    interpreter alone."""
    settings = settings or Settings()
    db = db or open_database(settings.db_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        async with running(settings, db, monitor_settings=monitor_settings, alerts_config=alerts_config) as runtime:
            app.state.runtime = runtime
            if settle:
                settle_process()
            yield

    app = FastAPI(title="fenghuo 烽火 control plane", version=__version__, lifespan=lifespan)
    errors.install(app)
    for name in ROUTE_MODULES:
        app.include_router(importlib.import_module(name).router)
    app.add_middleware(RefuseNul)  # NUL in a path or query: 422, not PostgreSQL's 500
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    # Outermost of ours: a POST of events with a cached token skips the router (issue 19).
    app.add_middleware(EventsFastPath, max_bytes=settings.max_body_bytes)
    return app
