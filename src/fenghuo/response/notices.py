"""Plan notifications: a plan's `notify` and `escalate` steps are queued on the alerting
notifier's delivery queue (``alert_notifications``), in the same transaction as the step, so
they go out through the channels configured for alerting (webhook, DingTalk, WeCom, Feishu,
e-mail) with the same retries and delivery log. A channel name the alerting configuration does
not know is recorded as failed with that reason, never silently dropped."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from fenghuo.alerts.models import NotificationRow


def queue(session: Session, now: str, action_id: str, plan_ref: str, step_key: str, do: str, warning: Any,
          channels: list[str], owner: str | None) -> list[str]:
    """Queue one notification per channel (``now``: ISO text, as the table holds); returns their ids
    (stable: a retried step queues nothing twice)."""
    ids = []
    for channel in channels:
        nid = f"{action_id}:{channel}"[:64]
        if session.get(NotificationRow, nid) is not None:
            continue
        what_zh = "按预案升级上报" if do == "escalate" else "按预案通知"
        what_en = "escalated per plan" if do == "escalate" else "notice per plan"
        payload = {"id": nid, "kind": do, "level": warning.level.value, "group": f"{warning.service}/{warning.alert}",
                   "channel": channel, "plan": plan_ref, "step": step_key,
                   "warnings": [{"id": warning.id, "alert": warning.alert, "service": warning.service, "rule": warning.rule,
                                 "level": warning.level.value, "state": "firing", "value": None,
                                 "condition": f"plan {plan_ref} step {step_key}",
                                 "description_zh": f"{what_zh}（预案 {plan_ref}，步骤 {step_key}，负责人 {owner or '-'}）",
                                 "description_en": f"{what_en} (plan {plan_ref}, step {step_key}, owner {owner or '-'})",
                                 "ack_owner": None, "labels": {}}]}
        session.add(NotificationRow(id=nid, group_key=payload["group"], warning_ids=[warning.id], channel=channel,
                                    kind=do, level=warning.level.value, payload=payload, status="pending", attempts=0,
                                    next_attempt_at=now, created_at=now))
        ids.append(nid)
    return ids
