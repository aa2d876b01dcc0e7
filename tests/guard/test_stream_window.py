"""Checks that judge whole texts, in streams: a real classifier (trained here on the COLD
offensive-language data) stops the stream before offending text is sent; an LLM guard
(the real check, asking a scripted guard model) judges the whole answer at the end, or holds
the whole answer back when the gateway is told to."""

from __future__ import annotations

import json

import httpx
import pytest
from fastapi import FastAPI

from fenghuo.checks.base import Action
from fenghuo.checks.pipeline import Pipeline
from fenghuo.checks.policy import DEFAULT_RULES, Policy, Rule
from fenghuo.replay.server import BackgroundServer

from .helpers import wait_for

SAFE = "今天天气很好，我们去公园散步，看到很多人在锻炼身体，孩子们在草地上玩耍。"  # 36 characters
OFFENSIVE = "遇到妈宝男真是恶心，更恶心的是那女人，这女人恶心。"  # in the style of COLD's offensive rows
MSG = [{"role": "user", "content": "说说今天的见闻。"}]


@pytest.fixture(scope="module")
def classifier_path(tmp_path_factory):
    from fenghuo.checks.classifier.train import read_labelled, train
    from fenghuo.platform.paths import shared_data_dir

    data = shared_data_dir()
    src = data / "classifier" / "cold" / "train.csv" if data else None
    if src is None or not src.exists():
        pytest.skip("shared COLD data not present")
    texts, labels = read_labelled(src, limit=3000)
    path = tmp_path_factory.mktemp("model") / "cold.npz"
    train(texts, labels).save(path)
    return path


def blocking_classifier(path) -> Pipeline:
    from fenghuo.checks.classifier.check import ClassifierCheck

    policy = Policy(rules={**DEFAULT_RULES, "offensive": Rule(Action.BLOCK, "A2i")})  # a deployment that blocks it
    return Pipeline([ClassifierCheck(path, 0.9, policy=policy)], policy)


def read(srv) -> tuple[str, list[dict]]:
    sent = []
    with httpx.stream("POST", f"{srv.url}/v1/chat/completions", json={"model": "m", "messages": MSG, "stream": True},
                      timeout=20) as r:
        for line in r.iter_lines():
            if line.startswith("data: {"):
                sent.append(json.loads(line[6:]))
    return "".join((c["choices"][0]["delta"].get("content") or "") for c in sent if c["choices"]), sent


def test_classifier_stops_the_stream_before_the_offending_text(classifier_path, make_gateway, upstream, receiver):
    pipe = blocking_classifier(classifier_path)
    answer = SAFE * 8 + OFFENSIVE + SAFE * 8
    # Scored whole, the answer passes: the offending sentence is diluted by the safe text
    # around it. Only a window on the recent text catches it.
    assert pipe.scan(answer).findings == [] and pipe.scan(SAFE * 3 + OFFENSIVE).blocked
    gw, srv = make_gateway(checks=pipe, labels=False)
    upstream.app.state.text = answer
    text, sent = read(srv)
    before = text.split("\n" + gw.guard.safe_answer)[0]
    assert before and (SAFE * 8).startswith(before), before  # only safe text went out
    assert not any(ch in before for ch in "妈宝恶心"), before
    assert sent[-1]["choices"][0]["finish_reason"] == "content_filter" and sent[-1]["fenghuo"]["categories"] == ["offensive"]
    gw.guard.telemetry.flush(5)
    assert wait_for(lambda: receiver.app.state.events)
    ev = receiver.app.state.events[-1]
    assert ev["status"] == "output_blocked" and ev["output"]["categories"] == ["offensive"]


def test_classifier_lets_a_safe_answer_through_whole(classifier_path, make_gateway, upstream):
    gw, srv = make_gateway(checks=blocking_classifier(classifier_path), labels=False)
    upstream.app.state.text = SAFE * 12
    text, sent = read(srv)
    assert text == SAFE * 12 and sent[-1]["choices"][0]["finish_reason"] == "stop"


def test_window_scores_a_long_release_in_overlapping_windows(classifier_path):
    """A release longer than the window (a big upstream chunk) is scored piece by piece."""
    from fenghuo.guard.stream_window import ModelWindow

    scanner = blocking_classifier(classifier_path).stream()
    w = ModelWindow(scanner, 64)
    w.feed(SAFE * 10 + OFFENSIVE + SAFE * 10)
    hit = w.check()
    assert hit is not None and hit.category == "offensive"
    assert hit.start <= len(SAFE * 10) < hit.end  # the window that holds the sentence, not the whole text
    with pytest.raises(ValueError, match="16"):
        ModelWindow(scanner, 8)


VIOLENT = "他拿起刀就去砍人了。"


def guard_model_app() -> FastAPI:
    """An OpenAI-compatible endpoint answering like Qwen3Guard-Gen (unsafe when the text it is
    asked about tells of violence); records what it was asked."""
    app = FastAPI()
    app.state.asked = []

    @app.post("/v1/chat/completions")
    async def chat(body: dict):
        text = body["messages"][-1]["content"]
        app.state.asked.append(text)
        verdict = "Safety: Unsafe\nCategories: Violent" if "砍人" in text else "Safety: Safe\nCategories: None"
        return {"id": "g", "object": "chat.completion", "created": 0, "model": "qwen3guard",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": verdict}, "finish_reason": "stop"}]}

    return app


@pytest.mark.parametrize("hold", [False, True])
def test_llm_guard_judges_the_whole_answer_at_the_end(make_gateway, upstream, hold):
    from fenghuo.checks.llm_guard import LLMGuardCheck

    guard_model = BackgroundServer(guard_model_app()).start()
    try:
        policy = Policy()
        pipe = Pipeline([LLMGuardCheck(guard_model.url + "/v1", "qwen3guard", policy=policy, timeout=5)], policy)
        gw, srv = make_gateway(checks=pipe, labels=False, hold_whole=hold)
        upstream.app.state.text = SAFE * 3 + VIOLENT + SAFE
        text, sent = read(srv)
        assert sent[-1]["choices"][0]["finish_reason"] == "content_filter" and "violence" in sent[-1]["fenghuo"]["categories"]
        assert guard_model.app.state.asked[-1] == SAFE * 3 + VIOLENT + SAFE  # asked once, about the whole answer
        assert len(guard_model.app.state.asked) == 2  # the input, then the whole answer: not per chunk
        if hold:
            assert text == "\n" + gw.guard.safe_answer  # nothing of the answer went out before the verdict
        else:
            assert text.startswith(SAFE * 3)  # documented: without hold, the verdict comes after the text
    finally:
        guard_model.stop()
