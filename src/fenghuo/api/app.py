"""The control-plane application: mounts each domain's routes, the SSE hub and the automatic
ledger checkpoints. Domains own their routes; this file only lists them."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI

from fenghuo import __version__
from fenghuo.api import errors
from fenghuo.api.limits import BodyLimit
from fenghuo.control.stream import SwitchHub
from fenghuo.platform.config import Settings
from fenghuo.platform.db import Database, open_database

log = logging.getLogger(__name__)

ROUTE_MODULES = [
    "fenghuo.api.admin_routes",
    "fenghuo.control.service_routes",
    "fenghuo.control.routes",
    "fenghuo.control.instance_routes",
    "fenghuo.api.ledger_routes",
    "fenghuo.monitor.routes",
    "fenghuo.alerts.routes",
    "fenghuo.response.routes",
    "fenghuo.recovery.routes",
]

# Domains that run something for the life of the app: each module has ``lifespan(app)``, an
# async context manager entered in this order at start-up and left in reverse at shutdown.
LIFESPAN_HOOKS = [
    "fenghuo.scale.runtime",  # --bus nats://: the JetStream bus, before monitoring takes app.state.bus
    "fenghuo.monitor.runtime",
    "fenghuo.alerts.runtime",
    "fenghuo.recovery.runtime",
    "fenghuo.response.runtime",
    "fenghuo.scale.replica",  # --bus nats://: KV switch, acks, heartbeat, the leader's duties (last)
]


async def _checkpoint_loop(db: Database, every: float) -> None:
    from fenghuo.ledger import service as ledger
    from fenghuo.ledger import store

    while True:
        await asyncio.sleep(every)
        try:
            with db.reader() as s:
                seq, _ = store.head(s)
            if seq > await asyncio.to_thread(ledger.latest_checkpoint_seq, db):
                cp = await asyncio.to_thread(ledger.checkpoint, db)
                log.info("ledger checkpoint at seq %s", cp.seq)
        except Exception:  # noqa: BLE001 - try again next interval
            log.warning("automatic checkpoint failed", exc_info=True)


def create_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    settings = settings or Settings()
    db = db or open_database(settings.db_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        hub = SwitchHub(db, settings.heartbeat_seconds, settings.poll_seconds)
        await hub.start()
        app.state.hub = hub
        tasks = []
        if settings.checkpoint_seconds > 0:
            tasks.append(asyncio.create_task(_checkpoint_loop(db, settings.checkpoint_seconds)))
        async with contextlib.AsyncExitStack() as hooks:
            for name in LIFESPAN_HOOKS:
                await hooks.enter_async_context(importlib.import_module(name).lifespan(app))
            try:
                yield
            finally:
                for t in tasks:
                    t.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await t
                await hub.stop()

    app = FastAPI(title="fenghuo 烽火 control plane", version=__version__, lifespan=lifespan)
    app.state.db = db
    app.state.settings = settings
    errors.install(app)
    for name in ROUTE_MODULES:
        app.include_router(importlib.import_module(name).router)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    return app
