"""The demo names what came back when an answer is not the one it expected (it failed one run
in three with a bare KeyError 'choices', issue 15)."""

from __future__ import annotations

import httpx
import pytest

from fenghuo.demo.loop import Unexpected, body, content


def _response(status: int, payload=None, text: str | None = None, route: str | None = None) -> httpx.Response:
    req = httpx.Request("POST", "http://127.0.0.1:1/v1/chat/completions")
    headers = {"x-fenghuo-route": route} if route else {}
    if text is not None:
        return httpx.Response(status, text=text, request=req, headers=headers)
    return httpx.Response(status, json=payload, request=req, headers=headers)


def test_a_refusal_instead_of_a_completion_names_status_route_and_body():
    r = _response(503, {"error": {"code": "service_paused", "message": "paused"}}, route="refused")
    with pytest.raises(Unexpected) as e:
        content(r, "call 11 through the gateway")
    msg = str(e.value)
    assert msg.startswith("call 11 through the gateway: expected HTTP 200")
    assert "HTTP 503" in msg and "/v1/chat/completions" in msg and "route refused" in msg and "service_paused" in msg


def test_a_200_without_choices_and_a_non_json_body_are_named_too():
    with pytest.raises(Unexpected, match="expected a chat completion with choices, got HTTP 200"):
        content(_response(200, {"object": "chat.completion"}), "call 1")
    with pytest.raises(Unexpected, match="got HTTP 502 .*'<html>bad gateway</html>'"):
        body(_response(502, text="<html>bad gateway</html>"), "call 2")
    assert content(_response(200, {"choices": [{"message": {"content": "好"}}]}), "call 3") == "好"
    assert body(_response(409, {"error": {"code": "c"}}), "canary", 409)["error"]["code"] == "c"
