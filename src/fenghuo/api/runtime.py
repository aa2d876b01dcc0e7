"""The control plane's runtime: every long-lived part of the server, built once, in order, in
one place, and handed to the routes as one typed object.

Order matters and is written here only: the switch hub; with ``--bus`` the NATS link and the
JetStream bus; monitoring (which publishes to that bus); the guard-instance book; with
``--bus`` the replica (lease, counter, KV publisher, acks, heartbeat), whose ``leadership`` the
alert engine and the plan executor take as a constructor input; then the engine, the executor,
the replica's campaign for the lease, and the automatic ledger checkpoints. Shutdown runs the
same list backwards. Nothing is patched after construction.

Routes reach their part through a small dependency in their own package that reads
``request.app.state.runtime`` (the one attribute the app holds), e.g. ``monitor.routes.get_monitor``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fenghuo.alerts.config import AlertsConfig
from fenghuo.alerts.engine import AlertEngine
from fenghuo.alerts.runtime import config_from_env
from fenghuo.control.instances import InstanceBook
from fenghuo.control.stream import SwitchHub
from fenghuo.monitor.ingest import IngestSettings, Monitor
from fenghuo.monitor.runtime import settings_from_env
from fenghuo.platform.auth_failures import AuthFailures
from fenghuo.platform.config import Settings
from fenghuo.platform.db import Database
from fenghuo.platform.leadership import SOLE, Leadership
from fenghuo.response.executor import Executor
from fenghuo.response.runtime import ExecutorThread, tick_from_env

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Runtime:
    db: Database
    settings: Settings
    hub: SwitchHub  # SSE followers of the switch
    monitor: Monitor  # events → indicators
    alerts: AlertEngine  # rules → graded warnings, notifications
    response: ExecutorThread  # plans → actions, reporting clocks, canary ramp
    instance_book: InstanceBook  # which guard instances enforce which state
    leadership: Leadership  # SOLE, or the replica's lease
    replica: object | None = None  # fenghuo.scale.replica.Replica with --bus, else None
    auth_failures: AuthFailures | None = None  # failed authentications per client address (429)


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
        except Exception:
            log.warning("automatic checkpoint failed", exc_info=True)


@asynccontextmanager
async def running(settings: Settings, db: Database, *, monitor_settings: IngestSettings | None = None,
                  alerts_config: AlertsConfig | None = None) -> AsyncIterator[Runtime]:
    """Build the runtime, yield it while the app serves, take it down in reverse order.

    ``monitor_settings`` / ``alerts_config``: given by a test or an embedder; otherwise read
    from FENGHUO_* variables (docs/monitoring.md, docs/alerts.md)."""
    from fenghuo.recovery import ramp
    from fenghuo.recovery.gate import install
    from fenghuo.recovery.loop import Heartbeat
    from fenghuo.scale.runtime import bus_url

    install()  # the server's switch asks the recovery procedure before any resume
    async with contextlib.AsyncExitStack() as stack:
        hub = SwitchHub(db, settings.heartbeat_seconds, settings.poll_seconds)
        await hub.start()
        stack.push_async_callback(hub.stop)
        bus, link = None, None
        url = bus_url(settings)
        if url:
            from fenghuo.scale.runtime import connect

            link, bus = await asyncio.to_thread(connect, url, db)
            stack.push_async_callback(asyncio.to_thread, link.close)
        monitor = Monitor(db, monitor_settings or settings_from_env(), bus)
        await asyncio.to_thread(monitor.start)
        # the hourly summaries still in memory are written last, after the loops below stopped
        stack.push_async_callback(asyncio.to_thread, monitor.summaries.flush)
        book = InstanceBook(db)
        # written last, after the replica (which books NATS acknowledgements into it) stopped
        stack.push_async_callback(asyncio.to_thread, book.close)
        replica, leadership = None, SOLE
        if link is not None:
            from fenghuo.scale.replica import Replica

            replica = await asyncio.to_thread(Replica, db, link, monitor, bus, book, settings.heartbeat_seconds)
            stack.push_async_callback(asyncio.to_thread, replica.stop)
            leadership = replica.leadership
        config = alerts_config or config_from_env(monitor.indicators.window_lengths)
        engine = AlertEngine(monitor, config, leadership)
        engine.start()
        stack.push_async_callback(asyncio.to_thread, engine.stop)
        # The loop beats (recovery.loop) so a CLI on the same database can tell a canary will advance.
        beat = Heartbeat(tick_from_env())
        stack.push_async_callback(asyncio.to_thread, beat.stop, db)  # after the loop stops (reverse order)
        response = ExecutorThread(Executor(db, leadership=leadership, also=(ramp.tick, beat, monitor.summaries.tick)), tick_from_env()).start()
        stack.push_async_callback(asyncio.to_thread, response.stop)
        if replica is not None:
            replica.start(reload=engine.load)  # stopped by the replica.stop registered above
        if settings.checkpoint_seconds > 0:
            task = asyncio.create_task(_checkpoint_loop(db, settings.checkpoint_seconds))
            stack.push_async_callback(_cancel, task)
        yield Runtime(db=db, settings=settings, hub=hub, monitor=monitor, alerts=engine, response=response,
                      instance_book=book, leadership=leadership, replica=replica,
                      auth_failures=AuthFailures(settings.auth_failures_per_minute, 60.0))


async def _cancel(task: asyncio.Task) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
