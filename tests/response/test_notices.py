"""A plan's notify and escalate steps go out through the alerting channels, once each."""

from __future__ import annotations

from fenghuo.alerts.channels import Channel
from fenghuo.alerts.notify import Notifier
from fenghuo.response.executor import Executor
from fenghuo.response.library import PlanLibrary
from fenghuo.response.plans import parse_plan
from tests.alerts.conftest import Receiver
from tests.foundation.fixtures import seed
from tests.response.helpers import fire

PLAN = """\
plan: n
version: "1"
title: {zh: 通知, en: notices}
applies_to: {default: true}
owner: oncall
triggers:
  - id: red
    when: {level: red}
    actions:
      - {id: tell-oncall, do: notify, channels: [oncall, nobody-configured]}
      - {id: tell-regulator, do: escalate, after: 10m, to: [liaison]}
"""


def test_plan_notices_are_delivered_through_alert_channels(db, clock):
    seed(db)
    receiver = Receiver()
    try:
        notifier = Notifier(db, [Channel("oncall", "webhook", url=receiver.url + "/oncall"),
                                 Channel("liaison", "webhook", url=receiver.url + "/liaison")], max_attempts=1)
        e = Executor(db, PlanLibrary.of(parse_plan(PLAN)))
        fire(db, "a-chat", "red")
        e.tick()
        notifier.run_once()
        assert [r["path"] for r in receiver.requests] == ["/oncall"]
        body = receiver.requests[0]["json"]
        assert body["kind"] == "notify" and body["plan"] == "n@1" and body["warnings"][0]["service"] == "a-chat"
        e.tick()
        notifier.run_once()
        assert len(receiver.requests) == 1  # nothing queued twice
        clock.advance(600)
        e.tick()
        notifier.run_once()
        assert [r["path"] for r in receiver.requests] == ["/oncall", "/liaison"]
        assert receiver.requests[1]["json"]["kind"] == "escalate"
        from fenghuo.alerts.models import NotificationRow
        with db.reader() as s:
            unknown = [n for n in s.query(NotificationRow).all() if n.channel == "nobody-configured"]
        assert unknown and unknown[0].status == "failed" and "no longer configured" in unknown[0].last_error
    finally:
        receiver.close()
