"""Fixes from the gateway review: non-streamed answers whose logprobs spelled out blocked or
masked text, the gateway's output text missing from captured events, masking the input off the
event loop when a check is slow, and stream connections that were not reused."""

from __future__ import annotations

import asyncio
import copy

import httpx
import pytest
from fastapi import FastAPI

from .conftest import served
from .helpers import WordCheck, wait_for

PHONE = "13812345678"


def lp(*tokens: str) -> dict:
    return {"content": [{"token": t, "logprob": -0.1, "bytes": list(t.encode()), "top_logprobs": []} for t in tokens]}


def answer(*choices: tuple[str, dict | None]) -> dict:
    return {"id": "x", "object": "chat.completion", "created": 0, "model": "up-model",
            "choices": [{"index": i, "message": {"role": "assistant", "content": text}, "logprobs": probs, "finish_reason": "stop"}
                        for i, (text, probs) in enumerate(choices)],
            "usage": {"prompt_tokens": 3, "completion_tokens": 9, "total_tokens": 12}}


def answer_app() -> FastAPI:
    """A non-streaming upstream that answers ``app.state.answer`` and records the bodies it got."""
    app = FastAPI()
    app.state.answer, app.state.seen = answer(("好的。", None)), []

    @app.post("/v1/chat/completions")
    async def chat(body: dict):
        app.state.seen.append(body)
        return copy.deepcopy(app.state.answer)

    return app


@pytest.fixture
def answering():
    yield from served(answer_app())


def ask(srv, content: str = "你好", **body) -> dict:
    r = httpx.post(f"{srv.url}/v1/chat/completions", json={"model": "m", "messages": [{"role": "user", "content": content}], **body},
                   timeout=20)
    assert r.status_code == 200, r.text
    return r.json()


def test_logprobs_are_dropped_for_blocked_and_masked_choices(answering, gateway_to):
    answering.app.state.answer = answer(
        ("去网络赌场玩。", lp("去", "网络", "赌场", "玩", "。")),
        (f"电话{PHONE}。", lp("电话", "138", "1234", "5678", "。")),
        ("今天晴。", lp("今天", "晴", "。")),
    )
    gw, srv = gateway_to(answering.url, labels=False)
    got = ask(srv, logprobs=True)["choices"]
    assert got[0]["finish_reason"] == "content_filter" and got[0]["logprobs"] is None
    assert PHONE not in got[1]["message"]["content"] and got[1]["logprobs"] is None
    assert [t["token"] for t in got[2]["logprobs"]["content"]] == ["今天", "晴", "。"]  # untouched text keeps them


def test_capture_text_carries_the_gateways_output_text(answering, gateway_to, receiver):
    answering.app.state.answer = answer((f"请拨打{PHONE}。", None))
    gw, srv = gateway_to(answering.url, labels=False, capture_text=True)
    ask(srv)
    gw.guard.telemetry.flush(5)
    assert wait_for(lambda: receiver.app.state.events)
    ev = receiver.app.state.events[-1]
    assert ev["status"] == "ok" and ev["output"]["masked"] == ["pii.phone"] and ev["output"]["risks"] == ["A4f"]
    assert ev["attributes"]["output_text"] == "请拨打" + "*" * 11 + "。"  # checked, i.e. masked
    assert ev["attributes"]["input_text"] == "你好"


def slow_guard_model_app() -> FastAPI:
    """An OpenAI-compatible guard model (Qwen3Guard-Gen style) that, before it answers, asks the
    gateway's ``/healthz`` (``app.state.probe``) and records whether the gateway answered while
    it was waiting for this guard answer. A gateway that held its event loop for the guard call
    cannot answer until the guard has: the probe then times out (``app.state.held``). Causal,
    not timed, so a busy machine does not fail it."""
    app = FastAPI()
    app.state.asked, app.state.probe, app.state.held = [], None, []

    @app.post("/v1/chat/completions")
    async def chat(body: dict):
        app.state.asked.append(body["messages"][-1]["content"])
        if app.state.probe:
            try:
                async with httpx.AsyncClient(timeout=10) as c:  # under the check's own 20 s
                    held = (await c.get(app.state.probe)).status_code != 200
            except httpx.TimeoutException:
                held = True
            app.state.held.append(held)
        return {"id": "g", "object": "chat.completion", "created": 0, "model": "qwen3guard",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "Safety: Safe\nCategories: None"},
                             "finish_reason": "stop"}]}

    return app


@pytest.fixture
def guard_model():
    yield from served(slow_guard_model_app())


def test_masking_the_input_with_an_llm_guard_does_not_block_the_loop(answering, gateway_to, guard_model):
    from fenghuo.checks.llm_guard import LLMGuardCheck
    from fenghuo.checks.pipeline import Pipeline
    from fenghuo.checks.policy import Policy

    policy = Policy()
    pipe = Pipeline([WordCheck(), LLMGuardCheck(guard_model.url + "/v1", "qwen3guard", policy=policy, timeout=20)], policy)
    gw, srv = gateway_to(answering.url, checks=pipe, labels=False)
    assert gw.slow_checks
    messages = [{"role": "user", "content": f"我的电话{PHONE}"}, {"role": "assistant", "content": "好的"},
                {"role": "user", "content": [{"type": "text", "text": f"号码{PHONE}"}]}, {"role": "user", "content": "再说一遍"}]

    guard_model.app.state.probe = f"{srv.url}/healthz"
    r = httpx.post(f"{srv.url}/v1/chat/completions", json={"model": "m", "messages": messages}, timeout=60)
    assert r.status_code == 200, r.text
    # the gateway answered /healthz while each guard answer was pending: the loop was not held
    assert guard_model.app.state.held == [False, False]
    assert len(guard_model.app.state.asked) == 2  # the input once, the answer once: not once more per message
    sent = answering.app.state.seen[-1]["messages"]  # masked in every text, list parts too
    assert sent[0]["content"] == "我的电话" + "*" * 11 and sent[1:] == [messages[1], {"role": "user", "content": [
        {"type": "text", "text": "号码" + "*" * 11}]}, messages[3]]


# -- stream connections are reused ----------------------------------------------------------------

class RawSSEServer:
    """A real HTTP/1.1 server (raw asyncio, on its own thread) that answers every request with one
    chunked SSE stream whose chunked terminator comes ``end_delay`` s after ``[DONE]`` (None:
    never); counts the connections it accepted."""

    def __init__(self, end_delay: float | None) -> None:
        import threading

        self.end_delay, self.connections = end_delay, 0
        self.loop = asyncio.new_event_loop()
        started = threading.Event()

        async def main() -> None:
            self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
            self.url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"
            started.set()

        self.thread = threading.Thread(target=lambda: (self.loop.run_until_complete(main()), self.loop.run_forever()), daemon=True)
        self.thread.start()
        assert started.wait(5)

    async def _handle(self, reader, writer) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                n = int(next(h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")).split(b":")[1])
                await reader.readexactly(n)
                body = (b'data: {"id":"u","object":"chat.completion.chunk","created":0,"model":"up-model",'
                        b'"choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n')
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                             + f"{len(body):x}\r\n".encode() + body + b"\r\n")
                await writer.drain()
                if self.end_delay is None:
                    await asyncio.sleep(3600)
                await asyncio.sleep(self.end_delay)
                writer.write(b"0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            writer.close()

    def stop(self) -> None:
        async def close() -> None:
            self.server.close()
            for t in asyncio.all_tasks():
                if t is not asyncio.current_task():
                    t.cancel()

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture
def raw_sse():
    servers = []

    def make(end_delay: float | None) -> RawSSEServer:
        servers.append(RawSSEServer(end_delay))
        return servers[-1]

    yield make
    for s in servers:
        s.stop()


def read_all(up, n: int) -> list[float]:
    """Open ``n`` streams one after the other, read each to [DONE]; the time each took to release."""
    async def run() -> list[float]:
        took = []
        for _ in range(n):
            async with up.stream({"messages": []}, None) as lines:
                async for line in lines:
                    if line == "data: [DONE]":
                        break
                t = asyncio.get_running_loop().time()
            took.append(asyncio.get_running_loop().time() - t)
        await up.aclose()
        return took

    return asyncio.run(run())


def test_consecutive_streams_reuse_one_connection(raw_sse):
    from fenghuo.guard.upstream import Upstream

    srv = raw_sse(0.005)  # the terminator a moment after [DONE], as servers send it
    read_all(Upstream(srv.url, timeout=5), 5)
    assert srv.connections == 1


def test_waiting_for_the_end_of_a_stream_is_bounded(raw_sse):
    from fenghuo.guard.upstream import STREAM_END_WAIT, Upstream

    assert STREAM_END_WAIT <= 0.05
    srv = raw_sse(None)  # never ends the response: each stream's connection is closed, not reused
    took = read_all(Upstream(srv.url, timeout=5), 3)
    assert srv.connections == 3 and max(took) < 0.5, took


def test_gateway_streams_reuse_the_upstream_connection(raw_sse, gateway_to):
    srv = raw_sse(0.005)
    gw, gsrv = gateway_to(srv.url, labels=False)
    for _ in range(4):
        with httpx.stream("POST", f"{gsrv.url}/v1/chat/completions", timeout=10,
                          json={"model": "m", "messages": [{"role": "user", "content": "你好"}], "stream": True}) as r:
            lines = [line for line in r.iter_lines() if line.startswith("data: ")]
        assert lines[-1] == "data: [DONE]" and '"hi' in lines[0]
    assert srv.connections == 1
