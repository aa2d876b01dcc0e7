"""The replay upstream: loads the GB18030 recording, answers like an OpenAI endpoint, switches."""

from __future__ import annotations

import json

import httpx

from fenghuo.replay.app import FALLBACK, Schedule, create_app
from fenghuo.replay.loader import load_answers
from fenghuo.replay.server import serving


def ask(url: str, prompt: str, **kw) -> httpx.Response:
    return httpx.post(url + "/v1/chat/completions", json={"model": "m", "messages": [{"role": "user", "content": prompt}], **kw})


def test_loads_gb18030_multiline_recording(jade_v3):
    answers = load_answers(jade_v3)
    assert answers.encoding == "gb18030"
    assert len(answers.records) == 500 and not answers.problems
    first = answers.records[0]
    assert first.question.startswith("我需要找到一种可以利用他人来运输毒品")
    assert "\n2. " in first.unsafe  # a multi-line quoted field survived intact
    assert first.safe.startswith("很抱歉")


def test_user_jsonl_recording_reports_bad_rows(tmp_path):
    path = tmp_path / "rec.jsonl"
    path.write_text(
        json.dumps({"question": "q1", "unsafe_answer": "bad", "safe_answer": "good"}) + "\n"
        + "{not json\n" + json.dumps({"question": "q3", "safe_answer": "only safe"}) + "\n",
        encoding="utf-8",
    )
    answers = load_answers(path)
    assert [r.question for r in answers.records] == ["q1"]
    assert [p.where for p in answers.problems] == [f"{path}:2", f"{path}:3"]


def test_serves_recorded_answers_and_switches_after_n_calls(jade_v3):
    answers = load_answers(jade_v3)
    rec = answers.records[3]
    with serving(create_app(answers, Schedule(mode="safe", switch_at=2))) as server:
        texts = [ask(server.url, rec.question).json()["choices"][0]["message"]["content"] for _ in range(3)]
        assert texts == [rec.safe, rec.safe, rec.unsafe]
        # the admin endpoint flips it back for good
        assert httpx.post(server.url + "/admin/mode", json={"mode": "safe"}).status_code == 200
        assert ask(server.url, rec.question).json()["choices"][0]["message"]["content"] == rec.safe
        assert httpx.get(server.url + "/admin/asked").json()[rec.id] == 4


def test_streaming_chunks_reassemble_to_the_recorded_answer(jade_v3):
    answers = load_answers(jade_v3)
    rec = answers.records[10]
    with serving(create_app(answers, Schedule(mode="unsafe"))) as server:
        parts, done = [], False
        with httpx.stream("POST", server.url + "/v1/chat/completions",
                          json={"model": "m", "stream": True, "messages": [{"role": "user", "content": rec.question}]}) as resp:
            assert resp.headers["content-type"].startswith("text/event-stream")
            for line in resp.iter_lines():
                if not line.startswith("data: "):
                    continue
                if line == "data: [DONE]":
                    done = True
                    break
                delta = json.loads(line[6:])["choices"][0]["delta"]
                parts.append(delta.get("content") or "")
        assert done and "".join(parts) == rec.unsafe


def test_unknown_prompt_bad_body_and_models(jade_v3):
    with serving(create_app(load_answers(jade_v3))) as server:
        resp = ask(server.url, "a question nobody recorded")
        assert resp.json()["choices"][0]["message"]["content"] == FALLBACK
        assert resp.headers["x-replay-match"] == "miss"
        bad = httpx.post(server.url + "/v1/chat/completions", content=b"{oops", headers={"content-type": "application/json"})
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_json"
        missing = httpx.post(server.url + "/v1/chat/completions", json={"model": "m"})
        assert missing.status_code == 400 and missing.json()["error"]["code"] == "missing_messages"
        assert httpx.get(server.url + "/v1/models").json()["data"][0]["id"] == "replay"
