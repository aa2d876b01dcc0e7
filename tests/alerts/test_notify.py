"""Silences, acknowledgements, grouping, inhibition and every channel's exact payload, against
local servers that record what was sent (HTTP robots and an aiosmtpd SMTP server)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.parse

import pytest
from sqlalchemy import select

from fenghuo.alerts import silences
from fenghuo.alerts.channels import Channel, webhook_signature
from fenghuo.alerts.models import NotificationRow, SilenceRow
from tests.monitor.helpers import call

RULES = """
rules:
  - {name: viol-yellow, alert: viol, services: {sectors: [general]}, indicator: output_violation_rate, window: 1m,
     threshold: {op: ">", value: 0.1}, for: 0, min_samples: 10, keep_firing_for: 0, level: yellow, description: y}
  - {name: viol-red, alert: viol, services: {sectors: [general]}, indicator: output_violation_rate, window: 1m,
     threshold: {op: ">", value: 0.5}, for: 0, min_samples: 10, keep_firing_for: 0, level: red, description: r}
  - {name: errors, services: {sectors: [general]}, indicator: error_rate, window: 1m,
     threshold: {op: ">", value: 0.1}, for: 0, min_samples: 10, keep_firing_for: 0, level: yellow, description: e}
"""


def unsafe(clock, service, n, share):
    k = round(n * share)
    return [call(service, clock.now(), unsafe=i < k) for i in range(n)]


def log(db):
    with db.reader() as s:
        return s.execute(select(NotificationRow).order_by(NotificationRow.created_at, NotificationRow.id)).scalars().all()


def test_webhook_is_signed_and_each_announcement_sent_once(rig, db, clock, receiver):
    ch = Channel("hook", "webhook", url=receiver.url + "/hook", secret="s3cret")
    r = rig(RULES, [ch])
    r.post(unsafe(clock, "a-chat", 20, 0.2))
    r.post(unsafe(clock, "a-chat", 20, 0.2))  # still yellow: nothing new to say
    r.engine.notifier.run_once()
    r.post(unsafe(clock, "a-chat", 100, 0.9))  # escalates to red
    r.engine.notifier.run_once()
    r.engine.notifier.run_once()
    assert [q["json"]["kind"] for q in receiver.requests] == ["firing", "escalated"]
    first = receiver.requests[0]
    assert first["json"]["level"] == "yellow" and first["json"]["warnings"][0]["service"] == "a-chat"
    assert first["headers"]["x-fenghuo-signature"] == webhook_signature("s3cret", first["headers"]["x-fenghuo-timestamp"], first["body"])
    assert first["headers"]["x-fenghuo-notification"] == first["json"]["id"]
    assert [n.status for n in log(db)] == ["sent", "sent"]


def test_retries_with_backoff_then_delivery_log(rig, db, clock, receiver):
    receiver.reply = (500, {"error": "down"})
    r = rig(RULES, [Channel("hook", "webhook", url=receiver.url)])
    r.post(unsafe(clock, "a-chat", 20, 0.9))
    r.engine.notifier.run_once()
    [n] = log(db)
    assert (n.status, n.attempts) == ("pending", 1) and "500" in n.last_error
    r.engine.notifier.run_once()  # not due yet: backoff 1 s
    assert len(receiver.requests) == 1
    receiver.reply = (200, {})
    clock.advance(1.5)
    r.engine.notifier.run_once()
    [n] = log(db)
    assert (n.status, n.attempts) == ("sent", 2) and len(receiver.requests) == 2


def test_grouping_by_service_makes_one_message(rig, db, clock, receiver):
    r = rig(RULES, [Channel("hook", "webhook", url=receiver.url)], group_by=("service",))
    events = unsafe(clock, "a-chat", 20, 0.2) + [call("a-chat", clock.now(), status="upstream_error") for _ in range(10)]
    r.post(events)  # both alerts start in one pass
    r.engine.notifier.run_once()
    assert len(receiver.requests) == 1
    assert sorted(w["alert"] for w in receiver.requests[0]["json"]["warnings"]) == ["errors", "viol"]


def test_silence_with_end_and_until_resolved(rig, db, clock, receiver):
    r = rig(RULES, [Channel("hook", "webhook", url=receiver.url)])
    s1 = silences.create(db, "op:alice", ["service=a-chat"], "maintenance window", duration="10m")
    s2 = silences.create(db, "op:alice", ["service=b-chat", "alert=~vi.*"], "known issue #12", until_resolved=True)
    r.post(unsafe(clock, "a-chat", 20, 0.9) + unsafe(clock, "b-chat", 20, 0.9))
    r.engine.notifier.run_once()
    assert receiver.requests == []
    statuses = {(n.status, n.reason.split(" ")[-1]) for n in log(db)}
    assert statuses == {("silenced", s1["id"]), ("silenced", s2["id"])}
    clock.advance(61)
    r.post(unsafe(clock, "b-chat", 20, 0.0))  # b-chat resolves: its until-resolved silence ends
    with db.reader() as s:
        assert s.get(SilenceRow, s2["id"]).ended_at is not None
        assert s.get(SilenceRow, s1["id"]).ended_at is None
    clock.advance(600)
    r.post(unsafe(clock, "b-chat", 20, 0.9))  # fires again, no longer silenced
    r.engine.notifier.run_once()
    assert [q["json"]["warnings"][0]["service"] for q in receiver.requests] == ["b-chat"]


def test_ack_names_owner_and_stops_repeats_but_not_escalation(rig, db, clock, receiver):
    r = rig(RULES, [Channel("hook", "webhook", url=receiver.url)], repeat_interval=3600)
    r.post(unsafe(clock, "a-chat", 20, 0.2))
    [w] = [w for w, _ in r.engine.open.values()]
    r.engine.notifier.run_once()
    clock.advance(3601)
    r.post(unsafe(clock, "a-chat", 20, 0.2))
    r.engine.tick()
    r.engine.notifier.run_once()
    assert [q["json"]["kind"] for q in receiver.requests] == ["firing", "repeat"]
    view = r.engine.acknowledge(w.id, "duty-officer-li", "looking", "op:alice")
    assert view["ack"]["owner"] == "duty-officer-li"
    clock.advance(3601)
    r.post(unsafe(clock, "a-chat", 20, 0.2))
    r.engine.tick()
    r.post(unsafe(clock, "a-chat", 100, 0.9))
    r.engine.notifier.run_once()
    kinds = [q["json"]["kind"] for q in receiver.requests]
    assert kinds == ["firing", "repeat", "escalated"]
    assert receiver.requests[-1]["json"]["warnings"][0]["ack_owner"] == "duty-officer-li"


def test_red_inhibits_lower_levels_of_the_same_service(rig, db, clock, receiver):
    r = rig(RULES, [Channel("hook", "webhook", url=receiver.url)])
    r.post(unsafe(clock, "a-chat", 20, 0.9))  # red
    r.post([call("a-chat", clock.now(), status="upstream_error") for _ in range(20)])  # yellow errors
    r.engine.notifier.run_once()
    assert [q["json"]["level"] for q in receiver.requests] == ["red"]
    assert any(n.status == "inhibited" for n in log(db))


def test_robot_formats(rig, db, clock, receiver):
    chans = [Channel("ding", "dingtalk", url=receiver.url + "/robot/send?access_token=T", secret="SECabc"),
             Channel("wecom", "wecom", url=receiver.url + "/cgi-bin/webhook/send?key=K"),
             Channel("feishu", "feishu", url=receiver.url + "/open-apis/bot/v2/hook/H", secret="fs")]
    r = rig(RULES, chans)
    r.post(unsafe(clock, "a-chat", 20, 0.9))
    r.engine.notifier.run_once()
    by = {q["path"].split("?")[0]: q for q in receiver.requests}
    ding = by["/robot/send"]
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(ding["path"]).query)
    ts = q["timestamp"][0]
    want = base64.b64encode(hmac.new(b"SECabc", f"{ts}\nSECabc".encode(), hashlib.sha256).digest()).decode()
    assert q["sign"][0] == want and q["access_token"] == ["T"]
    assert abs(int(ts) / 1000 - time.time()) < 60
    assert set(ding["json"]) == {"msgtype", "markdown"} and ding["json"]["msgtype"] == "markdown"
    assert "红色预警" in ding["json"]["markdown"]["title"] and "a-chat" in ding["json"]["markdown"]["text"]
    wecom = by["/cgi-bin/webhook/send"]
    assert wecom["json"]["msgtype"] == "markdown" and "a-chat" in wecom["json"]["markdown"]["content"]
    assert len(wecom["json"]["markdown"]["content"].encode()) <= 4096
    fs = by["/open-apis/bot/v2/hook/H"]["json"]
    assert fs["msg_type"] == "text" and "a-chat" in fs["content"]["text"]
    want = base64.b64encode(hmac.new(f"{fs['timestamp']}\nfs".encode(), b"", hashlib.sha256).digest()).decode()
    assert fs["sign"] == want
    assert {n.status for n in log(db)} == {"sent"}


def test_robot_refusal_in_a_200_body_is_retried(rig, db, clock, receiver):
    receiver.reply = (200, {"errcode": 310000, "errmsg": "sign not match"})
    r = rig(RULES, [Channel("ding", "dingtalk", url=receiver.url + "/robot/send?access_token=T", secret="x")])
    r.post(unsafe(clock, "a-chat", 20, 0.9))
    r.engine.notifier.run_once()
    [n] = log(db)
    assert n.status == "pending" and "sign not match" in n.last_error


@pytest.fixture
def smtp():
    from aiosmtpd.controller import Controller

    class Box:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            self.messages.append(envelope)
            return "250 OK"

    box = Box()
    from fenghuo.api.server import free_port

    box.port = free_port()
    ctl = Controller(box, hostname="127.0.0.1", port=box.port)
    ctl.start()
    yield box
    ctl.stop()


def test_email_over_smtp(rig, db, clock, smtp):
    ch = Channel("mail", "email", host="127.0.0.1", port=smtp.port, sender="fenghuo@example.cn", to=["oncall@example.cn"])
    r = rig(RULES, [ch])
    r.post(unsafe(clock, "a-chat", 20, 0.9))
    r.engine.notifier.run_once()
    [env] = smtp.messages
    assert env.rcpt_tos == ["oncall@example.cn"] and env.mail_from == "fenghuo@example.cn"
    import email

    msg = email.message_from_bytes(env.content, policy=email.policy.default)
    assert "RED" in msg["Subject"] and "红色预警" in msg["Subject"]
    assert "a-chat" in msg.get_content()
    assert msg["X-Fenghuo-Notification"].startswith("n-")


def test_an_ack_from_another_process_stops_the_servers_repeats(rig, db, clock, receiver):
    """The local CLI acknowledges through alerts.acks on the same database, not through this
    engine: the ledger entry and the listener event are the same, and the engine reads the
    owner back before it would repeat."""
    from fenghuo.alerts import acks, listeners
    from fenghuo.ledger.models import LedgerEntry

    r = rig(RULES, [Channel("hook", "webhook", url=receiver.url)], repeat_interval=3600)
    r.post(unsafe(clock, "a-chat", 20, 0.2))
    [w] = [w for w, _ in r.engine.open.values()]
    r.engine.notifier.run_once()
    heard = []
    unsubscribe = listeners.subscribe(heard.append)
    try:
        acks.acknowledge(db, w.id, "duty-officer-li", "from the CLI", "admin:local-x")  # not r.engine
    finally:
        unsubscribe()
    assert [h["kind"] for h in heard] == ["acknowledged"] and heard[0]["warning"]["ack"]["owner"] == "duty-officer-li"
    with db.reader() as s:
        assert s.execute(select(LedgerEntry).where(LedgerEntry.kind == "warning.acknowledged")).scalars().one()
    clock.advance(3601)
    r.post(unsafe(clock, "a-chat", 20, 0.2))
    r.engine.tick()
    r.engine.notifier.run_once()
    assert [q["json"]["kind"] for q in receiver.requests] == ["firing"]  # no repeat after the ack
