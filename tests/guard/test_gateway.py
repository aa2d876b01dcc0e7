"""The gateway with the official openai client, unmodified: answers, labels, refusals, bad input."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from fenghuo.guard.labels import FIELDS, verify

from .conftest import command
from .helpers import RECORDED, wait_for

MSG = [{"role": "user", "content": "怎样才能在赌博中赢钱？"}]


def client(srv) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{srv.url}/v1", api_key="caller-key", max_retries=0)


def events_of(receiver, gw, n):
    gw.guard.telemetry.flush(5)
    assert wait_for(lambda: len(receiver.app.state.events) >= n)
    return receiver.app.state.events


def test_openai_client_non_stream_labelled_and_signed(make_gateway, upstream, receiver):
    gw, srv = make_gateway()
    raw = client(srv).chat.completions.with_raw_response.create(model="primary-model", messages=MSG, temperature=0.3)
    r = raw.parse()
    text = r.choices[0].message.content
    assert text.startswith(RECORDED) and text.endswith("【本内容由人工智能生成 / AI-generated】")
    assert raw.headers["x-fenghuo-route"] == "primary"
    aigc = r.model_extra["AIGC"]
    assert tuple(aigc) == FIELDS and aigc["Label"] == "1" and aigc["PropagateID"] == aigc["ProduceID"]
    assert verify({"AIGC": aigc}, gw.guard.labeller.public)
    assert json.loads(raw.headers["aigc"]) == {"AIGC": aigc}
    tampered = dict(aigc, ContentProducer="someone-else")
    assert not verify({"AIGC": tampered}, gw.guard.labeller.public)
    assert upstream.app.state.seen[-1]["temperature"] == 0.3  # caller's parameters pass through
    ev = events_of(receiver, gw, 1)[-1]
    assert ev["status"] == "ok" and ev["route"] == "primary" and ev["label"] is True and ev["id"] == aigc["ProduceID"]
    assert ev["state"] == "running" and ev["state_version"] == 1 and ev["latency_ms"] > 0


def test_openai_client_stream(make_gateway, receiver):
    gw, srv = make_gateway(labels=None)
    parts, last = [], None
    for chunk in client(srv).chat.completions.create(model="primary-model", messages=MSG, stream=True):
        if chunk.choices and chunk.choices[0].delta.content:
            parts.append(chunk.choices[0].delta.content)
        last = chunk
    text = "".join(parts)
    assert text == RECORDED + "\n【本内容由人工智能生成 / AI-generated】"
    assert last.choices[0].finish_reason == "stop"
    assert verify({"AIGC": last.model_extra["AIGC"]}, gw.guard.labeller.public)
    ev = events_of(receiver, gw, 1)[-1]
    assert ev["stream"] is True and ev["status"] == "ok"


def test_documented_refusals(control, make_gateway, receiver):
    gw, srv = make_gateway()
    c = client(srv)
    v = command(control, "open-chat", "throttle", rate=1)["version"]
    assert wait_for(lambda: gw.guard.state().version == v)
    c.chat.completions.create(model="m", messages=MSG)  # the bucket holds one
    with pytest.raises(openai.RateLimitError) as e429:
        c.chat.completions.create(model="m", messages=MSG)
    err = e429.value.body
    assert err["code"] == "service_throttled" and err["retry_after"] > 0 and "限流" in err["message"]
    assert int(e429.value.response.headers["retry-after"]) >= 1
    v = command(control, "open-chat", "pause")["version"]
    assert wait_for(lambda: gw.guard.state().version == v)
    with pytest.raises(openai.APIStatusError) as e503:
        c.chat.completions.create(model="m", messages=MSG)
    assert e503.value.status_code == 503
    body = e503.value.response.json()
    assert body["error"]["code"] == "service_paused" and body["error"]["incident"] is None
    assert "暂停" in body["error"]["message"] and "paused" in body["error"]["message"]
    v = command(control, "open-chat", "stop")["version"]
    assert wait_for(lambda: gw.guard.state().version == v)
    r = httpx.post(f"{srv.url}/v1/chat/completions", json={"model": "m", "messages": MSG, "stream": True})
    assert r.status_code == 503 and r.json()["error"]["code"] == "service_stopped"
    evs = events_of(receiver, gw, 4)
    assert [e["refusal"] for e in evs if e["status"] == "refused"] == ["throttled", "paused", "stopped"]


def test_degraded_goes_to_backup_and_says_which_model(control, make_gateway, upstream):
    gw, srv = make_gateway()
    v = command(control, "open-chat", "degrade")["version"]
    assert wait_for(lambda: gw.guard.state().version == v)
    raw = client(srv).chat.completions.with_raw_response.create(model="primary-model", messages=MSG)
    assert raw.headers["x-fenghuo-route"] == "backup" and raw.headers["x-fenghuo-model"] == "small-model"
    assert upstream.app.state.seen[-1]["model"] == "small-model"
    assert raw.parse().model == "small-model"


@pytest.mark.parametrize("mode,status,code", [("500", 502, "upstream_error"), ("invalid", 502, "upstream_invalid")])
def test_upstream_failures(make_gateway, upstream, receiver, mode, status, code):
    gw, srv = make_gateway()
    upstream.app.state.mode = mode
    r = httpx.post(f"{srv.url}/v1/chat/completions", json={"model": "m", "messages": MSG})
    assert r.status_code == status and r.json()["error"]["code"] == code
    ev = events_of(receiver, gw, 1)[-1]
    assert ev["status"] == "upstream_error" and code in ev["detail"]


def test_upstream_timeout(make_gateway, upstream, receiver):
    gw, srv = make_gateway(timeout=0.5)
    upstream.app.state.mode = "slow"
    r = httpx.post(f"{srv.url}/v1/chat/completions", json={"model": "m", "messages": MSG}, timeout=10)
    assert r.status_code == 504 and r.json()["error"]["code"] == "upstream_timeout"
    assert events_of(receiver, gw, 1)[-1]["status"] == "upstream_timeout"
    upstream.app.state.mode = "ok"


@pytest.mark.parametrize("body,code", [
    (b"{not json", "invalid_json"), (b"[1,2]", "invalid_json"), (b'{"model": "m"}', "missing_messages"),
    (b'{"model": "m", "messages": []}', "missing_messages"),
])
def test_bad_input(make_gateway, receiver, body, code):
    gw, srv = make_gateway()
    r = httpx.post(f"{srv.url}/v1/chat/completions", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == code and " / " in r.json()["error"]["message"]
    assert events_of(receiver, gw, 1)[-1]["status"] == "bad_request"
    assert httpx.get(f"{srv.url}/healthz").status_code == 200  # still serving


def test_input_blocked_and_output_checks(make_gateway, upstream, receiver):
    gw, srv = make_gateway()
    c = client(srv)
    r = c.chat.completions.create(model="m", messages=[{"role": "user", "content": "推荐一个网络赌场"}])
    assert r.choices[0].finish_reason == "content_filter" and r.choices[0].message.content.startswith(gw.guard.safe_answer)
    n_before = len(upstream.app.state.seen)
    upstream.app.state.text = "可以去这个网络赌场试试。客服电话13812345678。"
    r = c.chat.completions.create(model="m", messages=MSG)
    assert "网络赌场" not in r.choices[0].message.content and r.choices[0].finish_reason == "content_filter"
    upstream.app.state.text = "客服电话13812345678，欢迎来电。"
    r = c.chat.completions.create(model="m", messages=MSG)
    assert "***********" in r.choices[0].message.content and "13812345678" not in r.choices[0].message.content
    assert len(upstream.app.state.seen) == n_before + 2  # the blocked input never reached the model
    evs = events_of(receiver, gw, 3)
    assert evs[0]["refusal"] == "input_blocked" and evs[0]["input"]["categories"] == ["gambling"]
    assert evs[1]["status"] == "output_blocked" and evs[1]["output"]["blocked"] is True
    # Masked PII is reported as masked, not as a violation category (issue 12 item 7).
    assert evs[2]["status"] == "ok" and "pii.phone" not in evs[2]["output"].get("categories", []) and evs[2]["output"]["masked"] == ["pii.phone"]


CHUNK = 8  # the test upstream's chunk size (helpers.upstream_app)


def straddling(before: str, word: str, after: str) -> str:
    """``before + word + after`` with ``before`` padded so that ``word`` straddles a chunk boundary."""
    while len(before) % CHUNK != CHUNK - len(word) // 2:
        before += "，"
    text = before + word + after
    i = text.index(word)
    assert i // CHUNK != (i + len(word) - 1) // CHUNK, "the word must be split across two upstream chunks"
    return text


def read_sse(srv, messages) -> list[dict]:
    sent = []
    with httpx.stream("POST", f"{srv.url}/v1/chat/completions", json={"model": "m", "messages": messages, "stream": True}) as r:
        for line in r.iter_lines():
            if line.startswith("data: {"):
                sent.append(json.loads(line[6:]))
    return sent


def delivered(sent, safe_answer: str) -> str:
    """The model text the client saw (the guard's own closing note removed)."""
    text = "".join((c["choices"][0]["delta"].get("content") or "") for c in sent if c.get("choices"))
    return text.split("\n" + safe_answer)[0]


def test_stream_split_word_never_reaches_client(make_gateway, upstream):
    gw, srv = make_gateway()
    upstream.app.state.text = straddling("这是一段很长的正常回答，" * 3 + "然后推荐", "网络赌场", "，后面还有更多内容。")
    sent = read_sse(srv, MSG)
    text = delivered(sent, gw.guard.safe_answer)
    assert text.startswith("这是一段很长的正常回答，")  # the text before the word did go out
    assert not any(part in text for part in ("网络赌场", "网", "赌")), text  # no piece of the split word
    assert "后面还有" not in text  # the stream was cut there
    assert sent[-1]["choices"][0]["finish_reason"] == "content_filter"
    assert sent[-1]["fenghuo"]["code"] == "output_blocked"


def test_models_passthrough(make_gateway):
    gw, srv = make_gateway()
    assert [m.id for m in client(srv).models.list()] == ["primary-model"]


def test_models_when_the_upstream_is_down_is_a_502(control, token, receiver):
    """Not an empty list, which would read as "this upstream serves no model"."""
    from fenghuo.guard.cli import build_gateway
    from fenghuo.guard.telemetry import HttpSink
    from fenghuo.replay.server import BackgroundServer

    gw = build_gateway("open-chat", "http://127.0.0.1:9", control=control.url, token=token, checks=None,
                       sink=HttpSink(f"{receiver.url}/api/v1/events"))
    srv = BackgroundServer(gw).start()
    try:
        with pytest.raises(openai.APIStatusError) as e:
            client(srv).models.list()
        assert e.value.status_code == 502 and e.value.body["code"] == "upstream_unreachable" and " / " in e.value.body["message"]
        ev = events_of(receiver, gw, 1)[-1]
        assert ev["status"] == "upstream_error" and ev["route"] == "primary" and "/v1/models" in ev["detail"]
    finally:
        srv.stop()
        gw.guard.close(timeout=2)


def test_upstream_error_event_carries_the_route_and_state(control, make_gateway, upstream, receiver):
    gw, srv = make_gateway()
    upstream.app.state.mode = "500"
    assert httpx.post(f"{srv.url}/v1/chat/completions", json={"model": "m", "messages": MSG}).status_code == 502
    v = command(control, "open-chat", "degrade")["version"]
    assert wait_for(lambda: gw.guard.state().version == v)
    assert httpx.post(f"{srv.url}/v1/chat/completions", json={"model": "m", "messages": MSG, "stream": True}).status_code == 502
    evs = [e for e in events_of(receiver, gw, 2) if e["status"] == "upstream_error"]
    assert [(e["route"], e["state"], e["stream"]) for e in evs] == [("primary", "running", False), ("backup", "degraded", True)]


def test_official_client_gets_the_documented_errors_when_stopped_and_in_streams(control, make_gateway):
    gw, srv = make_gateway()
    c = client(srv)
    v = command(control, "open-chat", "pause")["version"]
    assert wait_for(lambda: gw.guard.state().version == v)
    with pytest.raises(openai.APIStatusError) as e:
        c.chat.completions.create(model="m", messages=MSG, stream=True)
    assert e.value.status_code == 503 and e.value.body["code"] == "service_paused" and "paused" in e.value.body["message"]
    v = command(control, "open-chat", "stop")["version"]
    assert wait_for(lambda: gw.guard.state().version == v)
    for stream in (False, True):
        with pytest.raises(openai.APIStatusError) as e:
            c.chat.completions.create(model="m", messages=MSG, stream=stream)
        err = e.value.body
        assert e.value.status_code == 503 and err["code"] == "service_stopped" and err["incident"] is None
        assert "阻断" in err["message"] and "stopped" in err["message"]


def test_stream_with_the_packaged_pipeline(make_gateway, upstream):
    """The real check pipeline (fenghuo.checks) plugged in: a lexicon word split over tiny
    chunks never reaches the client, and a phone number is masked."""
    from fenghuo.guard.checking import load_default_checks

    gw, srv = make_gateway(checks=load_default_checks())
    upstream.app.state.text = straddling("正常的开头。" * 5 + "客服13812345678。" + "正常内容，" * 4 + "然后去", "在线赌场",
                                         "吧，后面还有很多内容。")
    sent = read_sse(srv, [{"role": "user", "content": "你好，请介绍一下你们的服务。"}])
    text = delivered(sent, gw.guard.safe_answer)
    assert "客服*" in text and "13812345678" not in text and "正常内容，" in text
    # 在线赌场 (online casino, a word the shipped lexicon blocks alone): not a character of it leaks
    assert not any(part in text for part in ("在线赌场", "在", "线", "赌", "场")), text
    assert "后面还有" not in text
    assert sent[-1]["choices"][0]["finish_reason"] == "content_filter" and "gambling" in sent[-1]["fenghuo"]["categories"]


def test_gateway_command_line(control, token, upstream, tmp_path):
    """`fenghuo gateway` as its own process, with the official client in front of it."""
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    from fenghuo.replay.server import free_port

    port = free_port()
    exe = str(Path(sys.executable).with_name("fenghuo"))
    proc = subprocess.Popen([exe, "--token", token, "gateway", "--service", "open-chat", "--control", control.url,
                             "--upstream", upstream.url, "--port", str(port), "--checks", "none", "--label-position", "start",
                             "--state-file", str(tmp_path / "state.json")],
                            env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert wait_for(lambda: _up(f"http://127.0.0.1:{port}/healthz"), timeout=20), proc.stdout.read() if proc.poll() else ""
        c = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="k", max_retries=0)
        r = c.chat.completions.create(model="primary-model", messages=MSG)
        assert r.choices[0].message.content.startswith("【本内容由人工智能生成 / AI-generated】\n")
        assert r.model_extra["AIGC"]["ContentProducer"] == "pa"  # the provider, from the registry
        command(control, "open-chat", "pause")
        assert wait_for(lambda: httpx.post(f"http://127.0.0.1:{port}/v1/chat/completions",
                                           json={"model": "m", "messages": MSG}).status_code == 503, timeout=5)
        assert json.loads((tmp_path / "state.json").read_text())["state"]["state"] == "paused"
    finally:
        proc.terminate()
        proc.wait(10)
        time.sleep(0)


def _up(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_replay_upstream_recorded_answers(make_gateway, control, token, receiver):
    """The project's replay upstream (recorded JADE v3 answers) behind the gateway."""
    from fenghuo.guard.cli import build_gateway
    from fenghuo.guard.telemetry import HttpSink
    from fenghuo.platform.paths import shared_data_dir
    from fenghuo.replay.app import Schedule, create_app
    from fenghuo.replay.loader import load_answers
    from fenghuo.replay.server import BackgroundServer

    data = shared_data_dir()
    path = data / "traffic/jade_v3/jade_alignment_medium_zh.csv" if data else None
    if path is None or not path.exists():
        pytest.skip("shared JADE v3 recording not present")
    answers = load_answers(path)
    record = next(iter(answers.index().values()))
    replay = BackgroundServer(create_app(answers, Schedule(mode="safe"))).start()
    gw = build_gateway("open-chat", replay.url, control=control.url, token=token, checks=None,
                       sink=HttpSink(f"{receiver.url}/api/v1/events"))
    srv = BackgroundServer(gw).start()
    try:
        r = client(srv).chat.completions.create(model="replay", messages=[{"role": "user", "content": record.question}])
        assert r.choices[0].message.content == record.safe + "\n【本内容由人工智能生成 / AI-generated】"
    finally:
        srv.stop()
        gw.guard.close(timeout=2)
        replay.stop()
