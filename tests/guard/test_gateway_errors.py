"""The gateway's own refusals besides the switch's: too large, wrong method, degraded without
a backup — each an OpenAI-style error in 中文 and English, with an event, the gateway still up."""

from __future__ import annotations

import httpx

from .conftest import command
from .helpers import wait_for

MSG = [{"role": "user", "content": "你好"}]


def test_body_too_large_and_wrong_method(make_gateway, upstream):
    from fenghuo.guard.gateway import MAX_BODY

    gw, srv = make_gateway()
    n = len(upstream.app.state.seen)
    big = b'{"model": "m", "messages": [{"role": "user", "content": "' + b"a" * MAX_BODY + b'"}]}'
    r = httpx.post(f"{srv.url}/v1/chat/completions", content=big, headers={"content-type": "application/json"}, timeout=30)
    err = r.json()["error"]
    assert r.status_code == 400 and err["code"] == "body_too_large" and "过大" in err["message"] and str(MAX_BODY) in err["message"]
    r = httpx.get(f"{srv.url}/v1/chat/completions")
    err = r.json()["error"]
    assert r.status_code == 405 and err["code"] == "method_not_allowed" and "POST" in err["message"]
    assert len(upstream.app.state.seen) == n  # neither reached the model
    assert httpx.post(f"{srv.url}/v1/chat/completions", json={"model": "m", "messages": MSG}).status_code == 200


def test_degraded_without_a_backup_is_a_503_no_backup(control, make_gateway, upstream, receiver):
    gw, srv = make_gateway(has_backup=False)
    v = command(control, "open-chat", "degrade")["version"]
    assert wait_for(lambda: gw.guard.state().version == v)
    n = len(upstream.app.state.seen)
    for stream in (False, True):
        r = httpx.post(f"{srv.url}/v1/chat/completions", json={"model": "m", "messages": MSG, "stream": stream})
        err = r.json()["error"]
        assert r.status_code == 503 and err["code"] == "no_backup" and "备份" in err["message"] and "backup" in err["message"]
    assert len(upstream.app.state.seen) == n  # the primary was not called instead
    gw.guard.telemetry.flush(5)
    assert wait_for(lambda: len(receiver.app.state.events) >= 2)
    assert all(e["status"] == "refused" and e["route"] == "refused" for e in receiver.app.state.events[-2:])

