"""Alerting's configuration for the control-plane process: the ``AlertEngine`` is built by
``fenghuo.api.runtime`` with the AlertsConfig a test or embedder passes to ``create_app``;
otherwise with the YAML file named by FENGHUO_ALERTS; otherwise the default rule packs and no
channels."""

from __future__ import annotations

import os

from fenghuo.alerts.config import AlertsConfig, load_config, load_rule_set
from fenghuo.alerts.packs import pack_paths


def config_from_env(windows: dict[str, float] | None) -> AlertsConfig:
    path = os.environ.get("FENGHUO_ALERTS")
    if path:
        return load_config(path, windows)
    return AlertsConfig(rules=load_rule_set(pack_paths("default"), windows))
