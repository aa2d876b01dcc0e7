"""CN-LB-18 in the SDK: ``Guard(labels=False)`` serves without the explicit label only under a
recorded waiver of its service (``label_waiver=ID``), checked the way ``fenghuo gateway
--no-label --label-waiver ID`` is, and every call event names the waiver."""

from __future__ import annotations

import json

import pytest

from fenghuo.guard import label_waivers
from fenghuo.guard.core import Guard
from fenghuo.guard.labels import DEFAULT_TEXT, LabelConfig
from fenghuo.platform.roles import local_actor

FULL = {"user": "u-42", "request": "ticket 881: no AI notice, we label it in our app",
        "agreement": "用户协议 v3 第 7.2 条 / ToS v3 §7.2", "recipient": "Acme Publishing Ltd"}


class Recorder:
    """Keeps the events it is sent (a sink: the guard's real telemetry queue delivers to it)."""

    def __init__(self) -> None:
        self.events: list[dict] = []

    def send(self, body: bytes, count: int) -> None:
        self.events.extend(json.loads(body))


def guard(cp_db, **kw) -> Guard:
    return Guard("open-chat", db=cp_db, checks=None, judge=None, follow=False, spool_dir=False, **kw)


@pytest.mark.parametrize("labels", [False, LabelConfig(enabled=False)])
def test_labels_off_without_a_waiver_is_refused_with_the_gateways_error(cp_db, labels):
    with pytest.raises(ValueError) as e:
        guard(cp_db, labels=labels, sink=None)
    assert "--label-waiver" in str(e.value) and "须给出已登记的免标识记录" in str(e.value) and "CN-LB-18" in str(e.value)


def test_unknown_or_another_services_waiver_is_refused(cp_db):
    other = label_waivers.record(cp_db, local_actor(), "closed-med", **FULL)
    with pytest.raises(ValueError, match="cannot be confirmed"):
        guard(cp_db, labels=False, label_waiver="no-such-waiver", sink=None)
    with pytest.raises(ValueError) as e:
        guard(cp_db, labels=False, label_waiver=other["id"], sink=None)
    assert "closed-med" in str(e.value) and "不是 open-chat" in str(e.value) and "not open-chat" in str(e.value)


def test_no_control_plane_and_no_database_means_no_unlabelled_content(cp_db):
    w = label_waivers.record(cp_db, local_actor(), "open-chat", **FULL)
    with pytest.raises(ValueError, match="cannot be confirmed"):
        Guard("open-chat", checks=None, judge=None, sink=None, labels=False, label_waiver=w["id"])


def test_unlabelled_sdk_calls_name_their_waiver(cp_db):
    w = label_waivers.record(cp_db, local_actor(), "open-chat", **FULL)
    sink = Recorder()
    g = guard(cp_db, labels=False, label_waiver=w["id"], sink=sink)
    try:
        with g.call("你好") as call:
            shown = call.output("答案")
        assert shown == "答案" and DEFAULT_TEXT not in shown and call.aigc["AIGC"]["Label"] == "1"  # implicit label still written
        g.telemetry.flush(5)
        ev = sink.events[-1]
        assert ev["label"] is False and ev["attributes"]["label_waiver"] == w["id"]
    finally:
        g.close(timeout=1)
    # the waiver may come inside the config too
    g = guard(cp_db, labels=LabelConfig(enabled=False, waiver=w["id"]), sink=None)
    assert g.labeller.config.waiver == w["id"] and not g.labeller.config.enabled
    g.close(timeout=1)


def test_labelled_sdk_calls_say_label_true_and_name_no_waiver(cp_db):
    sink = Recorder()
    g = guard(cp_db, sink=sink)
    try:
        with g.call("你好") as call:
            assert DEFAULT_TEXT in call.output("答案")
        g.telemetry.flush(5)
        ev = sink.events[-1]
        assert ev["label"] is True and "label_waiver" not in (ev.get("attributes") or {})
    finally:
        g.close(timeout=1)
