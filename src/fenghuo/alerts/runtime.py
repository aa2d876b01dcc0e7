"""Wiring alerting into the control-plane process: an ``AlertEngine`` per app at
``app.state.alerts``, created after monitoring (``LIFESPAN_HOOKS`` in api/app.py).

Configuration: ``app.state.alerts_config`` (an AlertsConfig) when a test or embedder sets it;
otherwise the YAML file named by FENGHUO_ALERTS; otherwise the default rule packs and no
channels."""

from __future__ import annotations

import asyncio
import os
from contextlib import asynccontextmanager

from fastapi import FastAPI

from fenghuo.alerts.config import AlertsConfig, load_config, load_rule_set
from fenghuo.alerts.engine import AlertEngine
from fenghuo.alerts.packs import pack_paths


def config_from_env(windows: dict[str, float] | None) -> AlertsConfig:
    path = os.environ.get("FENGHUO_ALERTS")
    if path:
        return load_config(path, windows)
    return AlertsConfig(rules=load_rule_set(pack_paths("default"), windows))


@asynccontextmanager
async def lifespan(app: FastAPI):
    monitor = app.state.monitor
    config = getattr(app.state, "alerts_config", None) or config_from_env(monitor.indicators.window_lengths)
    engine = AlertEngine(monitor, config)
    engine.start()
    app.state.alerts = engine
    try:
        yield
    finally:
        await asyncio.to_thread(engine.stop)
