"""Anthropic-style /v1/messages through the gateway, driven with Anthropic's own client against
the replay upstream: checked and labelled (streamed and not), obeying the switch, errors in
Anthropic's shape and not retried where a retry cannot help."""

from __future__ import annotations

import anthropic
import httpx
import pytest

from .conftest import command
from .helpers import RECORDED, wait_for
from .test_openai_errors import PROMPT, replay  # noqa: F401 - the replay fixture

MSGS = [{"role": "user", "content": PROMPT}]


def client(srv) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=srv.url, api_key="caller-key", max_retries=2)


def test_messages_checked_labelled_refused_and_not_retried(control, gateway_to, replay, receiver):  # noqa: F811
    gw, srv = gateway_to(replay.url)
    label = gw.guard.labeller.suffix
    c = client(srv)
    m = c.messages.create(model="replay-1", max_tokens=200, system="你是客服", messages=MSGS)
    assert m.content[0].text == RECORDED + label and m.stop_reason == "end_turn"
    with c.messages.stream(model="replay-1", max_tokens=200, messages=MSGS) as s:
        text = "".join(s.text_stream)
        final = s.get_final_message()
    assert text == RECORDED + label and final.content[0].text == text and final.stop_reason == "end_turn"
    assert httpx.post(f"{replay.url}/admin/mode", json={"mode": "unsafe"}).status_code == 200
    m = c.messages.create(model="replay-1", max_tokens=200, messages=MSGS)
    assert m.stop_reason == "refusal" and "网络赌场" not in m.content[0].text and m.content[0].text.startswith(gw.guard.safe_answer)
    with c.messages.stream(model="replay-1", max_tokens=200, messages=MSGS) as s:
        text = "".join(s.text_stream)
        final = s.get_final_message()
    assert "网络赌场" not in text and gw.guard.safe_answer in text and final.stop_reason == "refusal"
    gw.guard.telemetry.flush(5)
    evs = [e for e in receiver.app.state.events if (e.get("attributes") or {}).get("endpoint") == "messages"]
    assert [(e["status"], e["stream"]) for e in evs] == [("ok", False), ("ok", True), ("output_blocked", False),
                                                         ("output_blocked", True)]
    # Errors in Anthropic's shape, retried only where a retry can help.
    with pytest.raises(anthropic.NotFoundError) as e:  # the upstream's 404, once
        c.messages.create(model="gpt-nope", max_tokens=10, messages=MSGS)
    assert e.value.body["type"] == "error" and e.value.body["error"]["type"] == "not_found_error"
    assert replay.app.state.requests["/v1/messages"] == 5
    v = command(control, "open-chat", "pause", reason="secret operator reason")["version"]
    assert wait_for(lambda: gw.guard.state().version == v)
    for stream in (False, True):
        with pytest.raises(anthropic.InternalServerError) as e:
            c.messages.create(model="replay-1", max_tokens=10, messages=MSGS, stream=stream)
        err = e.value.body["error"]
        assert e.value.status_code == 503 and err["code"] == "service_paused" and "secret" not in err["message"]
        assert e.value.response.headers["x-should-retry"] == "false"
    gw.guard.telemetry.flush(5)
    assert len([e for e in receiver.app.state.events if e["status"] == "refused"]) == 2  # not retried
