"""Indicators in the Prometheus text exposition format (version 0.0.4), so existing Grafana
setups can chart them. Written by hand: the format is a few lines of text, and
prometheus_client's registry model (long-lived metric objects) does not fit indicators that are
computed from windows on demand."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fenghuo.monitor.catalogue import CATALOGUE
from fenghuo.monitor.indicators import Indicators

PREFIX = "fenghuo_"


def _esc(v: str) -> str:
    return v.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(**kv: str) -> str:
    return "{" + ",".join(f'{k}="{_esc(str(v))}"' for k, v in kv.items()) + "}"


def render(indicators: Indicators, services: Iterable[str], now: float, extra: list[tuple[str, str, str, list[tuple[dict[str, str], float]]]] | None = None) -> str:
    """``extra``: (name, type, help, [(labels, value)]) families from other parts (warnings)."""
    lines: list[str] = []
    snaps: list[dict[str, Any]] = [indicators.snapshot(s, now) for s in sorted(services)]
    for name, d in CATALOGUE.items():
        metric = PREFIX + name + ("_ratio" if d.kind == "rate" else "_ms" if d.kind == "ms" else "")
        lines.append(f"# HELP {metric} {d.help}")
        lines.append(f"# TYPE {metric} gauge")
        for snap in snaps:
            for window, vals in snap["windows"].items():
                lines.append(f"{metric}{_labels(service=snap['service'], window=window)} {float(vals[name])!r}")
    for side in ("input", "output"):
        metric = f"{PREFIX}{side}_violations_by_category"
        lines.append(f"# HELP {metric} {side} violations per check category in the window")
        lines.append(f"# TYPE {metric} gauge")
        for snap in snaps:
            for window, vals in snap["windows"].items():
                for cat, n in sorted(vals[f"{side}_violations_by_category"].items()):
                    lines.append(f"{metric}{_labels(service=snap['service'], window=window, category=cat)} {n}")
    lines.append(f"# HELP {PREFIX}guard_instances guard instances that reported in the window")
    lines.append(f"# TYPE {PREFIX}guard_instances gauge")
    for snap in snaps:
        for window, vals in snap["windows"].items():
            lines.append(f"{PREFIX}guard_instances{_labels(service=snap['service'], window=window)} {vals['guard_instances']}")
    lines.append(f"# HELP {PREFIX}guard_enforced_version live guard instances per enforced switch version")
    lines.append(f"# TYPE {PREFIX}guard_enforced_version gauge")
    for snap in snaps:
        for version, n in sorted(snap["guards"]["enforced_versions"].items()):
            lines.append(f"{PREFIX}guard_enforced_version{_labels(service=snap['service'], version=version)} {n}")
    lines.append(f"# HELP {PREFIX}events_counted_total events counted since start")
    lines.append(f"# TYPE {PREFIX}events_counted_total counter")
    lines.append(f"{PREFIX}events_counted_total {indicators.events_applied}")
    for name, typ, help_, samples in extra or []:
        lines.append(f"# HELP {PREFIX}{name} {help_}")
        lines.append(f"# TYPE {PREFIX}{name} {typ}")
        for labels, value in samples:
            lines.append(f"{PREFIX}{name}{_labels(**labels) if labels else ''} {float(value)!r}")
    return "\n".join(lines) + "\n"
