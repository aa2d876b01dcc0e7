"""Monitoring's settings for the control-plane process: the ``Monitor`` is built by
``fenghuo.api.runtime`` with the settings a test or embedder passes to ``create_app``, otherwise
with these, from FENGHUO_* environment variables (documented in docs/monitoring.md)."""

from __future__ import annotations

import os

from fenghuo.monitor.ingest import IngestSettings
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
