"""Streams through the gateway against a scripted upstream: a small real HTTP server that sends
exactly the SSE lines a test gives it (what vLLM or a hosted API sends: several choices,
tool calls, refusals, logprobs, the usage chunk; or a broken stream), at any path."""

from __future__ import annotations

import asyncio
import json

import httpx
import openai
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from .conftest import served
from .helpers import wait_for

MSG = [{"role": "user", "content": "你好"}]
LABEL = "\n【本内容由人工智能生成 / AI-generated】"


def sse(obj) -> str:
    return "data: " + (obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False)) + "\n\n"


def ck(*choices, **top):
    return {"id": "up-1", "object": "chat.completion.chunk", "created": 1, "model": "up-model", **top, "choices": list(choices)}


def delta(i, fin=None, lp=None, **d):
    c = {"index": i, "delta": d, "finish_reason": fin}
    if lp is not None:
        c["logprobs"] = {"content": [{"token": t, "logprob": -0.1, "bytes": list(t.encode()), "top_logprobs": []} for t in lp]}
    return c


def scripted_app() -> FastAPI:
    """``app.state.script``: SSE strings to send, numbers to sleep; ``status`` / ``head_delay``
    make it fail before the stream starts. Every request is recorded as (method, path, body)."""
    app = FastAPI()
    app.state.script, app.state.status, app.state.head_delay, app.state.seen = [], 200, 0.0, []

    @app.api_route("/{path:path}", methods=["GET", "POST"])
    async def any_path(path: str, request: Request):
        raw = await request.body()
        app.state.seen.append((request.method, "/" + path, json.loads(raw) if raw else None))
        if app.state.head_delay:
            await asyncio.sleep(app.state.head_delay)
        if app.state.status != 200:
            return JSONResponse({"error": {"message": "scripted failure"}}, status_code=app.state.status)
        if request.method == "GET":
            return {"object": "list", "data": [{"id": "up-model", "object": "model", "created": 0, "owned_by": "x"}]}

        async def gen():
            for item in app.state.script:
                if isinstance(item, (int, float)):
                    await asyncio.sleep(item)
                else:
                    yield item
        return StreamingResponse(gen(), media_type="text/event-stream")

    return app


@pytest.fixture
def scripted():
    yield from served(scripted_app())


def read_stream(srv, **body):
    chunks = []
    with httpx.stream("POST", f"{srv.url}/v1/chat/completions", json={"model": "m", "messages": MSG, "stream": True, **body},
                      timeout=20) as r:
        assert r.status_code == 200, r.read()
        for line in r.iter_lines():
            if line.startswith("data: {"):
                chunks.append(json.loads(line[6:]))
            elif line.startswith("data: "):
                assert line == "data: [DONE]"
    return chunks


def texts(chunks) -> dict[int, str]:
    out: dict[int, str] = {}
    for c in chunks:
        for ch in c["choices"]:
            out[ch["index"]] = out.get(ch["index"], "") + (ch["delta"].get("content") or "")
    return out


def last_event(receiver, gw, **match):
    gw.guard.telemetry.flush(5)
    pick = lambda: [e for e in receiver.app.state.events if all(e.get(k) == v for k, v in match.items())]  # noqa: E731
    assert wait_for(lambda: pick(), timeout=5), receiver.app.state.events
    return pick()[-1]


TOOL = {"index": 0, "id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": ""}}


def full_script():
    return [
        sse(ck(delta(0, role="assistant", content=""), delta(1, role="assistant", content=""), system_fingerprint="fp_1")),
        sse(ck(delta(0, content="北京今天", lp=["北京", "今天"]), delta(1, refusal="我不能"))),
        sse(ck(delta(0, content="晴，", lp=["晴", "，"]), delta(1, refusal="回答这个。"))),
        sse(ck(delta(0, tool_calls=[TOOL]))),
        sse(ck(delta(0, tool_calls=[{"index": 0, "function": {"arguments": '{"city": "北京"}'}}]))),
        sse(ck(delta(0, fin="tool_calls"), delta(1, fin="stop"))),
        sse(ck(usage={"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18})),
        sse("[DONE]"),
    ]


def test_every_field_and_choice_passes_through_and_usage_is_asked_for(scripted, gateway_to, receiver):
    scripted.app.state.script = full_script()
    gw, srv = gateway_to(scripted.url)
    chunks = read_stream(srv, n=2)
    sent = scripted.app.state.seen[-1][2]
    assert sent["stream_options"] == {"include_usage": True} and sent["n"] == 2  # asked for, caller's params unchanged
    assert not any(c.get("usage") for c in chunks) and all(c["choices"] for c in chunks)  # the caller did not ask: stripped
    assert texts(chunks) == {0: "北京今天晴，" + LABEL, 1: ""}  # the label goes on text; choice 1 only refused
    deltas = [ch for c in chunks for ch in c["choices"]]
    assert [d["delta"]["tool_calls"] for d in deltas if "tool_calls" in d["delta"]] == \
        [[TOOL], [{"index": 0, "function": {"arguments": '{"city": "北京"}'}}]]
    assert "".join(d["delta"].get("refusal") or "" for d in deltas if d["index"] == 1) == "我不能回答这个。"
    assert [t["token"] for d in deltas for t in (d.get("logprobs") or {}).get("content", [])] == ["北京", "今天", "晴", "，"]
    finals = {d["index"]: d["finish_reason"] for d in deltas if d["finish_reason"]}
    assert finals == {0: "tool_calls", 1: "stop"}
    assert all(c["system_fingerprint"] == "fp_1" for c in chunks)
    assert "AIGC" in chunks[-1]
    ev = last_event(receiver, gw, stream=True)
    assert (ev["status"], ev["tokens_in"], ev["tokens_out"], ev["model"]) == ("ok", 11, 7, "up-model")


def test_caller_who_asked_for_usage_gets_it_with_the_official_client(scripted, gateway_to):
    scripted.app.state.script = full_script()
    gw, srv = gateway_to(scripted.url)
    c = openai.OpenAI(base_url=f"{srv.url}/v1", api_key="k", max_retries=0)
    got = list(c.chat.completions.create(model="m", messages=MSG, stream=True, n=2, stream_options={"include_usage": True}))
    assert got[-1].choices == [] and got[-1].usage.total_tokens == 18
    calls = [tc for ch in got for choice in ch.choices for tc in (choice.delta.tool_calls or [])]
    assert calls[0].function.name == "get_weather"


def test_blocked_word_in_the_second_choice_cuts_the_stream(scripted, gateway_to, receiver):
    scripted.app.state.script = [
        sse(ck(delta(0, content="这是第一个回答，内容正常。" * 4), delta(1, content="第二个回答推荐一个网络"))),
        sse(ck(delta(1, content="赌场给你，" + "后面还有很多内容。" * 6))),
        sse(ck(delta(0, fin="stop"), delta(1, fin="stop"))), sse("[DONE]"),
    ]
    gw, srv = gateway_to(scripted.url)
    chunks = read_stream(srv, n=2)
    t = texts(chunks)
    assert "网络赌场" not in t[1] and "网络" not in t[1] and "赌场" not in t[1] and "后面" not in t[1]
    assert gw.guard.safe_answer in t[1] and "网络" not in t[0]
    assert {ch["index"]: ch["finish_reason"] for c in chunks for ch in c["choices"] if ch["finish_reason"]} == \
        {0: "content_filter", 1: "content_filter"}
    assert chunks[-1]["fenghuo"]["code"] == "output_blocked"
    assert last_event(receiver, gw, stream=True)["status"] == "output_blocked"


def test_upstream_url_with_its_own_version_path(scripted, gateway_to):
    from fenghuo.guard.upstream import Upstream

    assert Upstream("http://h:8000").base == "http://h:8000/v1"
    assert Upstream("http://h:8000/").base == "http://h:8000/v1"
    assert Upstream("http://h:8000/v1/").base == "http://h:8000/v1"
    assert Upstream("https://open.bigmodel.cn/api/paas/v4").base == "https://open.bigmodel.cn/api/paas/v4"
    scripted.app.state.script = full_script()
    gw, srv = gateway_to(scripted.url + "/api/paas/v4")
    read_stream(srv)
    assert httpx.get(f"{srv.url}/v1/models").json()["data"][0]["id"] == "up-model"
    assert [(m, p) for m, p, _ in scripted.app.state.seen] == [("POST", "/api/paas/v4/chat/completions"),
                                                              ("GET", "/api/paas/v4/models")]


# -- bad upstreams ------------------------------------------------------------------------------

def test_stream_upstream_500_before_the_stream(scripted, gateway_to, receiver):
    scripted.app.state.status = 500
    gw, srv = gateway_to(scripted.url)
    c = openai.OpenAI(base_url=f"{srv.url}/v1", api_key="k", max_retries=0)
    with pytest.raises(openai.APIStatusError) as e:
        list(c.chat.completions.create(model="m", messages=MSG, stream=True))
    assert e.value.status_code == 502 and e.value.body["code"] == "upstream_error" and "500" in e.value.body["message"]
    ev = last_event(receiver, gw, status="upstream_error")
    assert ev["stream"] is True and ev["route"] == "primary" and ev["state"] == "running" and "500" in ev["detail"]


def test_stream_upstream_timeout_before_the_stream(scripted, gateway_to, receiver):
    scripted.app.state.head_delay = 2.0
    gw, srv = gateway_to(scripted.url, timeout=0.5)
    r = httpx.post(f"{srv.url}/v1/chat/completions", json={"model": "m", "messages": MSG, "stream": True}, timeout=10)
    assert r.status_code == 504 and r.json()["error"]["code"] == "upstream_timeout" and " / " in r.json()["error"]["message"]
    ev = last_event(receiver, gw, status="upstream_timeout")
    assert ev["stream"] is True and ev["route"] == "primary"


def test_stream_chunk_that_is_not_json(scripted, gateway_to, receiver):
    scripted.app.state.script = [sse(ck(delta(0, role="assistant", content="前面的内容是正常的。"))), sse("{not json"),
                                 sse(ck(delta(0, content="不会被发送。"))), sse("[DONE]")]
    gw, srv = gateway_to(scripted.url)
    chunks = read_stream(srv)
    text = texts(chunks)[0]
    assert text.startswith("前面的内容是正常的。") and "不会被发送" not in text and "upstream model failed" in text
    assert chunks[-1]["fenghuo"]["code"] == "upstream_error" and "not a JSON object" in chunks[-1]["fenghuo"]["message"]
    ev = last_event(receiver, gw, status="upstream_error")
    assert ev["stream"] is True and "not a JSON object" in ev["detail"] and ev["route"] == "primary"


def test_stream_stall_mid_stream(scripted, gateway_to, receiver):
    scripted.app.state.script = [sse(ck(delta(0, role="assistant", content="开始回答，"))), sse(ck(delta(0, content="然后"))),
                                 3.0, sse(ck(delta(0, content="太迟了。"))), sse("[DONE]")]
    gw, srv = gateway_to(scripted.url, timeout=0.5)
    chunks = read_stream(srv)
    text = texts(chunks)[0]
    assert text.startswith("开始回答，然后") and "太迟了" not in text
    assert chunks[-1]["fenghuo"]["code"] == "upstream_timeout" and chunks[-1]["choices"][0]["finish_reason"] == "stop"
    ev = last_event(receiver, gw, status="upstream_timeout")
    assert ev["stream"] is True and "stalled" in ev["detail"]


# -- review fixes -------------------------------------------------------------------------------

def test_classifier_window_runs_when_a_lexicon_hit_is_in_the_same_chunk(scripted, gateway_to):
    """A lexicon hit cuts the chunk; the text before it must still pass the whole-text check."""
    from fenghuo.checks.lexicon import LexiconCheck
    from fenghuo.checks.pipeline import Pipeline

    from .helpers import WordCheck

    pipe = Pipeline([LexiconCheck(words={"BAD": ("gambling",)}), WordCheck(block=("EVIL",))])  # EVIL: a whole-text check
    scripted.app.state.script = [sse(ck(delta(0, role="assistant", content="hello world, EVIL thing here BAD and more"))),
                                 sse(ck(delta(0, fin="stop"))), sse("[DONE]")]
    gw, srv = gateway_to(scripted.url, checks=pipe, labels=False)
    chunks = read_stream(srv)
    text = texts(chunks)[0]
    assert "EVIL" not in text and "hello" not in text and gw.guard.safe_answer in text
    assert chunks[-1]["choices"][0]["finish_reason"] == "content_filter"
    assert set(chunks[-1]["fenghuo"]["categories"]) == {"gambling", "drugs"}


def test_logprobs_do_not_spell_out_masked_text(scripted, gateway_to):
    scripted.app.state.script = [
        sse(ck(delta(0, role="assistant", content="您好，", lp=["您好", "，"]))),
        sse(ck(delta(0, content="我的电话是13812345678，", lp=["我的", "电话", "是", "138", "1234", "5678", "，"]))),
        sse(ck(delta(0, content="请来电。" * 12, lp=["请", "来电", "。"] * 12))),
        sse(ck(delta(0, fin="stop"))), sse("[DONE]"),
    ]
    gw, srv = gateway_to(scripted.url, labels=False)
    chunks = read_stream(srv, logprobs=True)
    text = texts(chunks)[0]
    assert "13812345678" not in text and "*" * 11 in text
    tokens = "".join(t["token"] for c in chunks for ch in c["choices"] for t in (ch.get("logprobs") or {}).get("content", []))
    assert not any(d in tokens for d in ("138", "1234", "5678")), tokens


@pytest.mark.parametrize("err", [{"object": "error", "message": "engine dead: CUDA out of memory", "type": "InternalServerError",
                                  "param": None, "code": 500},
                                 {"error": {"message": "engine dead: CUDA out of memory", "type": "server_error", "code": 500}}])
def test_stream_error_object_mid_stream_is_an_upstream_error(scripted, gateway_to, receiver, err):
    scripted.app.state.script = [sse(ck(delta(0, role="assistant", content="前面的内容是正常的。"))), sse(err), sse("[DONE]")]
    gw, srv = gateway_to(scripted.url)
    chunks = read_stream(srv)
    text = texts(chunks)[0]
    assert text.startswith("前面的内容是正常的。") and "upstream model failed" in text
    assert chunks[-1]["fenghuo"]["code"] == "upstream_error" and "CUDA out of memory" in chunks[-1]["fenghuo"]["message"]
    ev = last_event(receiver, gw, status="upstream_error")
    assert ev["stream"] is True and "CUDA out of memory" in ev["detail"]
