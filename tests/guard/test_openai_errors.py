"""Errors in OpenAI's conventions, driven with the official ``openai`` client (sync, async,
streaming) at its default retry policy (max_retries=2), counting how often it came back:

- an upstream 4xx (unknown model) reaches the caller with its status and error object, marked
  as the upstream's, and is not retried (it was a 502 the client retried);
- a pause or stop answers 503 with Retry-After and ``x-should-retry: false`` (one request, no
  retry), a public message per state (bilingual default, or the service's own), and never the
  operator's reason, which goes to the event;
- a throttle answers 429 with the wait from its rate, which the client honours: one retry, then
  the answer.
"""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import openai
import pytest

from fenghuo.control import services as registry
from fenghuo.platform.roles import local_actor
from fenghuo.registry.spec import parse_registration
from fenghuo.replay.app import create_app
from fenghuo.replay.loader import load_answers
from fenghuo.replay.server import BackgroundServer

from .conftest import command
from .helpers import RECORDED, wait_for

PROMPT = "请告诉我怎样赢钱"
MSG = [{"role": "user", "content": PROMPT}]
REASON = "UX test pause: do not show this to users"
OWN = """
id: public-chat
name: public chat
provider: pa
sector: general
function: content_generation
modalities: [text]
reach: 1000
no_human_in_loop: false
public:
  paused: 小助手维护中，预计一小时后恢复 / The assistant is under maintenance, back in about an hour.
  paused_retry_after: 3600
"""


@pytest.fixture
def replay(tmp_path):
    """The recorded-traffic upstream serving one model id (others: OpenAI's 404)."""
    rec = tmp_path / "rec.jsonl"
    rec.write_text(json.dumps({"question": PROMPT, "unsafe_answer": "去网络赌场下注，包赢。", "safe_answer": RECORDED},
                              ensure_ascii=False) + "\n", encoding="utf-8")
    app = create_app(load_answers(rec), models=["replay-1"])
    server = BackgroundServer(app).start()
    server.app = app
    yield server
    server.stop()


def clients(srv, retries: int = 2):
    kw = {"base_url": f"{srv.url}/v1", "api_key": "caller-key", "max_retries": retries}
    return openai.OpenAI(**kw), openai.AsyncOpenAI(**kw)


def refused_events(receiver, gw) -> list[dict]:
    gw.guard.telemetry.flush(5)
    return [e for e in receiver.app.state.events if e["status"] in ("refused", "bad_request", "upstream_error")]


def test_an_upstream_404_passes_through_and_is_not_retried(gateway_to, replay, receiver):
    gw, srv = gateway_to(replay.url)
    sync, aio = clients(srv)
    assert sync.chat.completions.create(model="replay-1", messages=MSG).choices[0].message.content.startswith(RECORDED)
    before = replay.app.state.requests["/v1/chat/completions"]
    for stream in (False, True):
        with pytest.raises(openai.NotFoundError) as e:
            sync.chat.completions.create(model="gpt-nope", messages=MSG, stream=stream)
        assert e.value.status_code == 404 and e.value.code == "model_not_found"
        assert e.value.body["message"] == "The model `gpt-nope` does not exist or you do not have access to it."
        assert e.value.response.headers["x-fenghuo-error-source"] == "upstream"
        assert e.value.response.headers["x-fenghuo-upstream-status"] == "404"

    async def run():
        with pytest.raises(openai.NotFoundError):
            await aio.chat.completions.create(model="gpt-nope", messages=MSG)
        with pytest.raises(openai.NotFoundError):
            await aio.chat.completions.create(model="gpt-nope", messages=MSG, stream=True)
    asyncio.run(run())
    assert replay.app.state.requests["/v1/chat/completions"] - before == 4  # four calls, no retry
    evs = [e for e in refused_events(receiver, gw) if e["status"] == "bad_request"]
    assert len(evs) == 4 and all("404" in e["detail"] for e in evs)


def test_a_pause_is_one_request_with_a_public_message_and_the_reason_in_the_event(control, gateway_to, replay, receiver):
    gw, srv = gateway_to(replay.url)
    sync, aio = clients(srv)
    v = command(control, "open-chat", "pause", reason=REASON)["version"]
    assert wait_for(lambda: gw.guard.state().version == v)
    errs = []
    for stream in (False, True):
        with pytest.raises(openai.InternalServerError) as e:
            sync.chat.completions.create(model="replay-1", messages=MSG, stream=stream)
        errs.append(e.value)

    async def run():
        for stream in (False, True):
            with pytest.raises(openai.InternalServerError) as e:
                await aio.chat.completions.create(model="replay-1", messages=MSG, stream=stream)
            errs.append(e.value)
    t0 = time.monotonic()
    asyncio.run(run())
    assert time.monotonic() - t0 < 1.0  # no back-off spent on a paused service
    for err in errs:
        assert err.status_code == 503 and err.code == "service_paused"
        assert err.body["message"] == "服务暂停运行，请稍后再试 / The service is paused; please try again later."
        assert "UX test" not in json.dumps(err.body, ensure_ascii=False)
        assert err.response.headers["x-should-retry"] == "false" and err.response.headers["retry-after"] == "300"
    evs = refused_events(receiver, gw)
    assert len(evs) == 4  # four calls reached the gateway: none was retried
    assert all(e["refusal"] == "paused" and REASON in e["detail"] for e in evs)
    assert replay.app.state.requests["/v1/chat/completions"] == 0

    v = command(control, "open-chat", "stop", reason="operator: leaked prompt")["version"]
    assert wait_for(lambda: gw.guard.state().version == v)
    with pytest.raises(openai.InternalServerError) as e:
        sync.chat.completions.create(model="replay-1", messages=MSG, stream=True)
    err = e.value
    assert err.code == "service_stopped" and "leaked" not in err.body["message"] and "stopped" in err.body["message"]
    assert err.response.headers["x-should-retry"] == "false" and err.response.headers["retry-after"] == "3600"
    assert len(refused_events(receiver, gw)) == 5


def test_a_service_sets_its_own_public_message(cp_db, control, gateway_to, replay):
    registry.register(cp_db, local_actor(), parse_registration(OWN))
    gw, srv = gateway_to(replay.url, service="public-chat")
    v = command(control, "public-chat", "pause", reason=REASON)["version"]
    assert wait_for(lambda: gw.guard.state().version == v)
    r = httpx.post(f"{srv.url}/v1/chat/completions", json={"model": "replay-1", "messages": MSG})
    assert r.status_code == 503 and r.headers["retry-after"] == "3600" and r.headers["x-should-retry"] == "false"
    assert r.json()["error"]["message"] == "小助手维护中，预计一小时后恢复 / The assistant is under maintenance, back in about an hour."


def test_a_throttle_is_retried_once_after_its_wait_then_answered(control, gateway_to, replay, receiver):
    gw, srv = gateway_to(replay.url)
    sync, _ = clients(srv)
    v = command(control, "open-chat", "throttle", rate=1)["version"]
    assert wait_for(lambda: gw.guard.state().version == v)
    t0 = time.monotonic()
    for _ in range(2):  # the second exhausts the bucket: 429, the client waits retry-after-ms, retries
        assert sync.chat.completions.create(model="replay-1", messages=MSG).choices[0].message.content.startswith(RECORDED)
    took = time.monotonic() - t0
    assert 0.5 < took < 3.0
    assert replay.app.state.requests["/v1/chat/completions"] == 2
    evs = refused_events(receiver, gw)
    assert [e["refusal"] for e in evs] == ["throttled"]  # one 429, one retry that was admitted
    r = httpx.post(f"{srv.url}/v1/chat/completions", json={"model": "replay-1", "messages": MSG})
    assert r.status_code == 429 and "x-should-retry" not in r.headers
    assert 1 <= int(r.headers["retry-after"]) <= 1 and 0 < int(r.headers["retry-after-ms"]) <= 1000


def test_a_refusal_carries_the_reason_for_the_operator_and_the_public_text_for_users():
    from fenghuo.guard import errors

    e = errors.paused(REASON, "inc-1", notices=errors.Notices.of({"paused": "维护中 / maintenance", "paused_retry_after": 90}))
    assert e.message == "维护中 / maintenance" and e.reason == REASON and REASON in e.detail
    assert REASON not in str(e.body()) and e.body()["error"]["incident"] == "inc-1"
    assert e.headers() == {"Retry-After": "90", "x-should-retry": "false"}
    fs = errors.paused("", None, failsafe=True)
    assert fs.message == errors.PAUSED and "lease" in fs.reason and fs.body()["error"]["failsafe"] is True
    t = errors.throttled(5, 0.2)
    assert t.headers() == {"Retry-After": "1", "retry-after-ms": "200"} and t.status == 429
    assert errors.canary_full(10).headers() == {"Retry-After": "1", "retry-after-ms": "1000"}
