"""/v1/completions, /v1/responses (streamed and not), /v1/embeddings and /v1/models through the
gateway, driven with the official ``openai`` client against the recorded-traffic upstream
(``fenghuo.replay``): each obeys the switch, checks the caller's text, checks and labels the
answer (embeddings: input only), and reports an event naming its endpoint."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import httpx
import openai
import pytest

from fenghuo.replay.app import create_app
from fenghuo.replay.endpoints import embed
from fenghuo.replay.loader import load_answers
from fenghuo.replay.server import BackgroundServer

from .conftest import command
from .helpers import RECORDED, wait_for
from .test_openai_errors import PROMPT, clients, replay  # noqa: F401 - the replay fixture

UNSAFE = "去网络赌场下注，包赢。"


def unsafe(replay_server) -> None:
    assert httpx.post(f"{replay_server.url}/admin/mode", json={"mode": "unsafe"}).status_code == 200


def events(receiver, gw, endpoint: str) -> list[dict]:
    gw.guard.telemetry.flush(5)
    return [e for e in receiver.app.state.events if (e.get("attributes") or {}).get("endpoint") == endpoint]


def test_completions_checked_and_labelled_streamed_and_not(gateway_to, replay, receiver):  # noqa: F811
    gw, srv = gateway_to(replay.url)
    label = gw.guard.labeller.suffix
    sync, _ = clients(srv, retries=0)
    r = sync.completions.with_raw_response.create(model="replay-1", prompt=PROMPT)
    assert r.headers["aigc"] and r.headers["x-fenghuo-route"] == "primary"
    c = r.parse()
    assert c.choices[0].text == RECORDED + label and c.choices[0].finish_reason == "stop"
    text = "".join(ch.choices[0].text for ch in sync.completions.create(model="replay-1", prompt=PROMPT, stream=True) if ch.choices)
    assert text == RECORDED + label
    unsafe(replay)
    c = sync.completions.create(model="replay-1", prompt=PROMPT)
    assert c.choices[0].finish_reason == "content_filter" and "网络赌场" not in c.choices[0].text
    assert c.choices[0].text.startswith(gw.guard.safe_answer)
    chunks = list(sync.completions.create(model="replay-1", prompt=PROMPT, stream=True))
    assert "网络赌场" not in "".join(ch.choices[0].text for ch in chunks if ch.choices)
    assert chunks[-1].choices[0].finish_reason == "content_filter"
    n = replay.app.state.requests["/v1/completions"]
    c = sync.completions.create(model="replay-1", prompt=["哪个网络赌场好"])  # blocked input: the model is not asked
    assert c.choices[0].finish_reason == "content_filter" and replay.app.state.requests["/v1/completions"] == n
    evs = events(receiver, gw, "completions")
    assert [(e["status"], e["stream"]) for e in evs] == [("ok", False), ("ok", True), ("output_blocked", False),
                                                         ("output_blocked", True), ("refused", False)]
    assert "gambling" in evs[2]["output"]["categories"] and evs[-1]["refusal"] == "input_blocked"
    with pytest.raises(openai.BadRequestError) as e:  # token ids cannot be checked: refused, not passed unchecked
        sync.completions.create(model="replay-1", prompt=[1, 2, 3])
    assert e.value.code == "unsupported_input"


def test_responses_checked_and_labelled_streamed_and_not(gateway_to, replay, receiver):  # noqa: F811
    gw, srv = gateway_to(replay.url)
    label = gw.guard.labeller.suffix
    sync, aio = clients(srv, retries=0)
    r = sync.responses.create(model="replay-1", input=PROMPT, instructions="你是客服")
    assert r.output_text == RECORDED + label and r.status == "completed"
    evs = list(sync.responses.create(model="replay-1", input=[{"role": "user", "content": PROMPT}], stream=True))
    deltas = "".join(e.delta for e in evs if e.type == "response.output_text.delta")
    assert deltas == RECORDED + label
    assert evs[-1].type == "response.completed" and evs[-1].response.output_text == RECORDED + label
    assert [e.sequence_number for e in evs] == list(range(1, len(evs) + 1))
    unsafe(replay)

    async def run():
        return await aio.responses.create(model="replay-1", input=PROMPT)
    r = asyncio.run(run())
    assert "网络赌场" not in r.output_text and r.output_text.startswith(gw.guard.safe_answer)
    evs = list(sync.responses.create(model="replay-1", input=PROMPT, stream=True))
    sent = "".join(e.delta for e in evs if e.type == "response.output_text.delta")
    assert "网络赌场" not in sent and gw.guard.safe_answer in sent
    done = evs[-1].response
    assert done.output_text == sent and "网络赌场" not in done.model_dump_json()
    ends = events(receiver, gw, "responses")
    assert [(e["status"], e["stream"]) for e in ends] == [("ok", False), ("ok", True), ("output_blocked", False),
                                                          ("output_blocked", True)]


def test_embeddings_check_the_input_and_pass_vectors_through(gateway_to, replay, receiver):  # noqa: F811
    gw, srv = gateway_to(replay.url)
    sync, _ = clients(srv, retries=2)
    r = sync.embeddings.create(model="replay-1", input=["你好", PROMPT])  # the client asks for base64 and decodes it
    assert [len(d.embedding) for d in r.data] == [64, 64]
    assert r.data[1].embedding == pytest.approx(embed(PROMPT), abs=1e-6)
    masked = sync.embeddings.create(model="replay-1", input="我的电话是13812345678", encoding_format="float")
    assert masked.data[0].embedding == pytest.approx(embed("我的电话是***********"), abs=1e-6)  # masked before it left
    n = replay.app.state.requests["/v1/embeddings"]
    with pytest.raises(openai.BadRequestError) as e:
        sync.embeddings.create(model="replay-1", input=["你好", "哪个网络赌场好"])
    assert e.value.code == "input_blocked" and e.value.body["categories"] == ["gambling"]
    assert replay.app.state.requests["/v1/embeddings"] == n  # not sent, and not retried
    evs = events(receiver, gw, "embeddings")
    assert [e["status"] for e in evs] == ["ok", "ok", "refused"] and all(e["label"] is False for e in evs)
    assert evs[1]["input"]["masked"] == ["pii.phone"]


def test_every_endpoint_obeys_the_switch_and_models_reflect_the_upstream(control, gateway_to, replay, receiver):  # noqa: F811
    gw, srv = gateway_to(replay.url)
    sync, _ = clients(srv, retries=2)
    assert [m.id for m in sync.models.list()] == ["replay-1"]
    for stream in (False, True):  # an unknown model: the upstream's 404, as it came, not retried
        with pytest.raises(openai.NotFoundError) as e:
            sync.responses.create(model="gpt-nope", input=PROMPT, stream=stream)
        assert e.value.code == "model_not_found" and e.value.response.headers["x-fenghuo-error-source"] == "upstream"
    assert replay.app.state.requests["/v1/responses"] == 2
    v = command(control, "open-chat", "pause", reason="maintenance window")["version"]
    assert wait_for(lambda: gw.guard.state().version == v)
    calls = [lambda: sync.completions.create(model="replay-1", prompt=PROMPT),
             lambda: sync.responses.create(model="replay-1", input=PROMPT, stream=True),
             lambda: sync.embeddings.create(model="replay-1", input=PROMPT)]
    for call in calls:
        with pytest.raises(openai.InternalServerError) as e:
            call()
        assert e.value.status_code == 503 and e.value.code == "service_paused" and "maintenance" not in e.value.message
    assert sum(replay.app.state.requests[p] for p in ("/v1/completions", "/v1/responses", "/v1/embeddings")) == 2
    gw.guard.telemetry.flush(5)
    refused = [e for e in receiver.app.state.events if e["status"] == "refused"]
    assert len([e for e in receiver.app.state.events if e["status"] == "bad_request"]) == 2
    assert sorted(e["attributes"]["endpoint"] for e in refused) == ["completions", "embeddings", "responses"]  # once each


@pytest.fixture
def slow_replay(tmp_path):
    """The replay upstream streaming 4 characters every 40 ms, like a model's tokens."""
    rec = tmp_path / "rec.jsonl"
    rec.write_text(json.dumps({"question": PROMPT, "unsafe_answer": UNSAFE, "safe_answer": RECORDED}, ensure_ascii=False) + "\n",
                   encoding="utf-8")
    app = create_app(load_answers(rec), models=["replay-1"], chunk_chars=4, chunk_delay_ms=40)
    server = BackgroundServer(app).start()
    yield server
    server.stop()


def test_a_stop_cuts_responses_and_completions_streams(control, gateway_to, slow_replay, receiver):
    gw, srv = gateway_to(slow_replay.url)
    sync, _ = clients(srv, retries=0)
    got: dict[str, list] = {}

    def read(kind: str) -> None:
        if kind == "responses":
            got[kind] = list(sync.responses.create(model="replay-1", input=PROMPT, stream=True))
        else:
            got[kind] = list(sync.completions.create(model="replay-1", prompt=PROMPT, stream=True))

    threads = [threading.Thread(target=read, args=(k,)) for k in ("responses", "completions")]
    for t in threads:
        t.start()
    assert wait_for(lambda: len(gw.inflight) == 2)
    time.sleep(0.15)  # both streams under way
    command(control, "open-chat", "stop", reason="operator: leaked prompt")
    for t in threads:
        t.join(10)
    last = got["responses"][-1]
    assert last.type == "response.completed"
    tag = last.response.model_dump()["fenghuo"]
    assert tag["code"] == "service_stopped" and "leaked" not in tag["message"]
    assert last.response.output_text.endswith(gw.guard.labeller.suffix) and "已被阻断" in last.response.output_text
    chunks = got["completions"]
    assert chunks[-1].model_dump()["fenghuo"]["code"] == "service_stopped"
    assert "已被阻断" in "".join(c.choices[0].text for c in chunks if c.choices)
    gw.guard.telemetry.flush(5)
    cut = [e for e in receiver.app.state.events if e["status"] == "cut"]
    assert sorted(e["attributes"]["endpoint"] for e in cut) == ["completions", "responses"]
    assert all("leaked" in e["detail"] and e["attributes"]["cut_ms"] < 150 for e in cut)
