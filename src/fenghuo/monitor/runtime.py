"""Wiring monitoring into the control-plane process: one ``Monitor`` per app, created in the
app's lifespan (see ``LIFESPAN_HOOKS`` in api/app.py) and found at ``app.state.monitor``.

Settings come from ``app.state.monitor_settings`` when a test or embedder sets it, otherwise
from FENGHUO_* environment variables (documented in docs/monitoring.md)."""

from __future__ import annotations

import os
from contextlib import asynccontextmanager

from fastapi import FastAPI

from fenghuo.monitor.ingest import IngestSettings, Monitor
from fenghuo.platform.durations import parse_duration





def settings_from_env() -> IngestSettings:
    s = IngestSettings()
    if os.environ.get("FENGHUO_WINDOWS"):
        s.windows = {w.strip(): parse_duration(w.strip()) for w in os.environ["FENGHUO_WINDOWS"].split(",") if w.strip()}
    if os.environ.get("FENGHUO_MAX_EVENTS"):
        s.max_events = int(os.environ["FENGHUO_MAX_EVENTS"])
    if os.environ.get("FENGHUO_EVENT_MAX_AGE"):
        s.max_age_seconds = parse_duration(os.environ["FENGHUO_EVENT_MAX_AGE"])
    return s


@asynccontextmanager
async def lifespan(app: FastAPI):
    settings = getattr(app.state, "monitor_settings", None) or settings_from_env()
    monitor = Monitor(app.state.db, settings, getattr(app.state, "bus", None))  # bus: set by fenghuo.scale.runtime
    monitor.start()
    app.state.monitor = monitor
    yield
