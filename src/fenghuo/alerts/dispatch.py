"""Dispatch (grouping): turn one evaluation pass's transitions into notifications, one per
group and kind, so that one incident is one message. Groups are by service and alert by
default (``group_by``); with ``[service]`` every warning of a service that changes in the same
pass shares one message.

Before grouping each warning passes the inhibit and silence stages; a held-back warning is
still logged (status ``inhibited`` / ``silenced`` with the reason) so the delivery log shows
what was *not* sent and why."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from typing import Any

from fenghuo.alerts.channels import Channel
from fenghuo.alerts.inhibit import inhibited_by
from fenghuo.alerts.levels import Level, highest
from fenghuo.alerts.models import NotificationRow
from fenghuo.alerts.silence_match import silencing
from fenghuo.platform.clock import iso_seconds

NOTIFY_KINDS = ("firing", "escalated", "resolved", "repeat")


def notification_id(channel: str, kind: str, parts: list[str], extra: str = "") -> str:
    raw = "\x00".join([channel, kind, *sorted(parts), extra])
    return "n-" + hashlib.sha256(raw.encode()).hexdigest()[:40]


def warning_payload(w, labels: dict[str, Any], rule) -> dict[str, Any]:
    return {"id": w.id, "alert": w.alert, "service": w.service, "rule": w.rule, "level": w.level.value,
            "state": w.state, "value": w.value, "condition": rule.condition_text() if rule else "",
            "description_zh": rule.description_zh if rule else "", "description_en": rule.description_en if rule else "",
            "ack_owner": w.ack_owner, "labels": labels}


def build(items: list[dict[str, Any]], *, group_by: tuple[str, ...], channels: list[Channel], directory: dict,
          firing: list, silences: list, now: float) -> list[NotificationRow]:
    """``items``: dicts with ``kind``, ``warning`` (WarningState), ``labels``, ``rule`` and
    ``extra`` (distinguishes repeats). Returns rows to insert (the caller skips ids it has)."""
    rows: list[NotificationRow] = []
    stamp = iso_seconds(now)  # once per pass: rows and silences hold ISO text
    groups: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for it in items:
        if it["kind"] not in NOTIFY_KINDS:
            continue
        w = it["warning"]
        reason = None
        status = None
        inhibitor = inhibited_by(w.level, w.service, w.id, firing) if it["kind"] != "resolved" else None
        if inhibitor:
            status, reason = "inhibited", f"inhibited by firing warning {inhibitor}"
        else:
            hit = silencing(silences, it["labels"], stamp)
            if hit:
                status, reason = "silenced", "silenced by " + ", ".join(s.id for s in hit)
                w.silenced_by = [s.id for s in hit]
        if status:
            rows.append(NotificationRow(
                id=notification_id("-", it["kind"], [f"{w.id}:{w.level.value}"], it.get("extra", "")),
                group_key=f"{w.service}/{w.alert}", warning_ids=[w.id], channel="-", kind=it["kind"], level=w.level.value,
                payload={}, status=status, attempts=0, next_attempt_at=stamp, created_at=stamp, reason=reason))
            continue
        key = tuple(getattr(w, "service" if g == "service" else "alert") for g in group_by)
        groups[(key, it["kind"], it.get("extra", ""))].append(it)
    for (key, kind, extra), members in groups.items():
        level = highest(m["warning"].level for m in members) or Level.blue
        group_key = "/".join(key)
        parts = [f"{m['warning'].id}:{m['warning'].level.value}" for m in members]
        for ch in channels:
            if not any(ch.routes(m["warning"].level, directory.get(m["warning"].service)) for m in members):
                continue
            nid = notification_id(ch.name, kind, parts, extra)
            payload = {"id": nid, "kind": kind, "level": level.value, "group": group_key, "channel": ch.name,
                       "warnings": [warning_payload(m["warning"], m["labels"], m["rule"]) for m in members]}
            rows.append(NotificationRow(id=nid, group_key=group_key, warning_ids=[m["warning"].id for m in members],
                                        channel=ch.name, kind=kind, level=level.value, payload=payload, status="pending",
                                        attempts=0, next_attempt_at=stamp, created_at=stamp))
    return rows
