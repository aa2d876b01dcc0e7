"""Issue 18 item 9 (CN-PO-09) in streams: a warned end user reads the warning in the stream itself
(in 中文 and English), not only in a header. A real control plane applies the measure, a real
gateway in front of the recorded-traffic upstream enforces it; chat and completions open with a
chunk of their own carrying the notice, responses (which must open with ``response.created``)
carry it at the start of the first text delta. Another user's stream has no notice."""

from __future__ import annotations

import json

import httpx
import pytest

from fenghuo.guard.user_measures import WARNING, notice_text
from fenghuo.platform.roles import Role, local_actor
from fenghuo.registry.tokens import create_token

from .helpers import RECORDED, wait_for
from .test_openai_errors import PROMPT, clients, replay  # noqa: F401 - the replay fixture

MSG = [{"role": "user", "content": PROMPT}]
NOTICE = notice_text(WARNING)


@pytest.fixture
def warned(control, cp_db, gateway_to, replay):  # noqa: F811
    """A gateway in front of the replay upstream with end user alice warned."""
    tok = create_token(cp_db, local_actor(), "op-a", Role.operator, provider_id="pa")
    gw, srv = gateway_to(replay.url)
    r = httpx.post(f"{control.url}/api/v1/services/open-chat/user-measures", json={"user": "alice", "measure": "warn", "reason": "t"},
                   headers={"Authorization": f"Bearer {tok}"}, timeout=10)
    assert r.status_code == 200, r.text
    assert wait_for(lambda: "alice" in gw.guard.users.users, timeout=3)
    return gw, srv


def sse(srv, path: str, body: dict) -> tuple[httpx.Headers, list[dict]]:
    with httpx.stream("POST", f"{srv.url}{path}", json={**body, "stream": True}, timeout=10) as r:
        assert r.status_code == 200
        return r.headers, [json.loads(line[5:]) for line in r.iter_lines() if line.startswith("data: {")]


def test_chat_stream_opens_with_the_notice(warned):
    gw, srv = warned
    assert "警告" in WARNING and "warned" in WARNING  # both languages
    headers, chunks = sse(srv, "/v1/chat/completions", {"model": "replay-1", "messages": MSG, "user": "alice"})
    assert headers["x-fenghuo-user-notice"] == "user_warned"
    first = chunks[0]
    assert first["object"] == "chat.completion.chunk" and first["fenghuo"] == {"code": "user_warned", "message": WARNING}
    assert first["choices"][0]["delta"]["content"] == NOTICE
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c.get("choices"))
    assert text == NOTICE + RECORDED + gw.guard.labeller.suffix
    # the official client reads it as the answer's opening text
    sync, _ = clients(srv, retries=0)
    got = "".join(c.choices[0].delta.content or "" for c in sync.chat.completions.create(model="replay-1", messages=MSG, user="alice",
                                                                                          stream=True) if c.choices)
    assert got.startswith(NOTICE)
    # another user's stream: no notice anywhere
    headers, chunks = sse(srv, "/v1/chat/completions", {"model": "replay-1", "messages": MSG, "user": "bob"})
    assert "x-fenghuo-user-notice" not in headers and all("fenghuo" not in c for c in chunks)
    assert WARNING not in "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c.get("choices"))


def test_completions_and_responses_streams_carry_the_notice(warned):
    gw, srv = warned
    _, chunks = sse(srv, "/v1/completions", {"model": "replay-1", "prompt": PROMPT, "user": "alice"})
    assert chunks[0]["choices"][0]["text"] == NOTICE and chunks[0]["fenghuo"]["code"] == "user_warned"
    assert "".join(c["choices"][0]["text"] for c in chunks if c.get("choices")) == NOTICE + RECORDED + gw.guard.labeller.suffix

    _, events = sse(srv, "/v1/responses", {"model": "replay-1", "input": PROMPT, "safety_identifier": "alice"})
    assert events[0]["type"] == "response.created"  # the protocol's first event stays first
    deltas = [e["delta"] for e in events if e["type"] == "response.output_text.delta"]
    assert deltas[0].startswith(NOTICE) and "".join(deltas) == NOTICE + RECORDED + gw.guard.labeller.suffix
    done = next(e for e in events if e["type"] == "response.output_text.done")
    assert done["text"].startswith(NOTICE)  # what the caller was sent

    _, events = sse(srv, "/v1/responses", {"model": "replay-1", "input": PROMPT, "safety_identifier": "bob"})
    assert not "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta").startswith(NOTICE)
