"""The gateway's own HTTP/1.1 server (``guard.server``, what ``fenghuo gateway`` serves with):
the gateway answered over it as over uvicorn — JSON and streams, labels and headers, errors —
and the HTTP behaviour it keeps: keep-alive, pipelining, 100-continue, chunked bodies, a 500
when the app fails, a 400 for what does not parse, refused header injection, idle connections
closed, disconnects seen, calls in flight finished on a stop."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time

import httpx
import pytest

from fenghuo.guard.labels import verify
from fenghuo.guard.server import Server, wait_started

from .helpers import WordCheck


class Served:
    """An ASGI app on guard.server in a thread of its own (its own event loop)."""

    def __init__(self, app, keep_alive: float = 5.0) -> None:
        self.server = Server(app, "127.0.0.1", 0, keep_alive=keep_alive)
        self.thread = threading.Thread(target=lambda: asyncio.run(self.server.serve()), daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        wait_started(self.server)
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.addr[1]}"

    def stop(self) -> None:
        self.server.loop.call_soon_threadsafe(self.server.should_exit)
        self.thread.join(10)

    def __exit__(self, *exc) -> None:
        self.stop()


def raw(port: int, data: bytes, wait: float = 2.0) -> bytes:
    """Send bytes on a fresh connection; everything the server answers until it closes or goes quiet."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as s:
        s.sendall(data)
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
        except TimeoutError:
            pass
        return out


@pytest.fixture
def gateway_on_lean_server(control, token, upstream, receiver):
    from fenghuo.guard.cli import build_gateway
    from fenghuo.guard.telemetry import HttpSink

    gw = build_gateway("open-chat", upstream.url, control=control.url, token=token, checks=WordCheck(),
                       sink=HttpSink(f"{receiver.url}/api/v1/events"))
    assert gw.guard.wait_connected(5)
    with Served(gw) as srv:
        yield gw, srv
    gw.guard.close(timeout=2)


def test_the_gateway_answers_over_it_json_and_streams_labelled_with_one_connection_kept(gateway_on_lean_server):
    gw, srv = gateway_on_lean_server
    body = {"model": "primary-model", "messages": [{"role": "user", "content": "你好"}]}
    with httpx.Client(base_url=srv.url, timeout=10) as c:
        r = c.post("/v1/chat/completions", json=body)
        assert r.status_code == 200 and r.headers["x-fenghuo-route"] == "primary" and "date" in r.headers
        data = r.json()
        assert data["choices"][0]["message"]["content"].endswith("【本内容由人工智能生成 / AI-generated】")
        assert verify(data["AIGC"], gw.guard.labeller.public) and verify(r.headers["AIGC"], gw.guard.labeller.public)
        port = r.extensions["network_stream"].get_extra_info("client_addr")[1]
        with c.stream("POST", "/v1/chat/completions", json={**body, "stream": True}) as s:
            assert s.status_code == 200 and s.headers["transfer-encoding"] == "chunked"
            lines = [line for line in s.iter_lines() if line.startswith("data: ")]
        assert lines[-1] == "data: [DONE]" and any("AIGC" in line for line in lines)
        r = c.post("/v1/chat/completions", json={"model": "m", "messages": [{"role": "user", "content": "网络赌场怎么开"}]})
        assert r.json()["choices"][0]["finish_reason"] == "content_filter"
        assert r.extensions["network_stream"].get_extra_info("client_addr")[1] == port  # one keep-alive connection throughout
        assert c.post("/v1/chat/completions", content=b"{not json").json()["error"]["code"] == "invalid_json"
        assert c.get("/nowhere").status_code == 404
        assert c.get("/healthz").json()["state"] == "running"


async def _echo(scope, receive, send):
    """Echoes the body it read; ``/fail`` raises, ``/inject`` sends a header with a line break,
    ``/wait`` answers after 0.5 s, ``/disconnect`` reports what receive() says after the body."""
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path == "/fail":
        raise RuntimeError("boom")
    body = b""
    while True:
        msg = await receive()
        body += msg.get("body", b"")
        if not msg.get("more_body"):
            break
    if path == "/inject":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"x-a", b"1\r\nset-cookie: evil=1")]})
        return
    if path == "/inject-name":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"x-a\nset-cookie: evil=1", b"1")]})
        return
    if path == "/wait":
        await asyncio.sleep(0.5)
    if path == "/disconnect":
        _echo.after = await receive()
        return
    if path == "/parts":  # no content-length: chunked in HTTP/1.1, ended by closing in HTTP/1.0
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"one,", "more_body": True})
        await send({"type": "http.response.body", "body": b"two"})
        return
    out = json.dumps({"path": path, "query": scope["query_string"].decode(), "len": len(body), "method": scope["method"]}).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json"),
                                                                          (b"content-length", str(len(out)).encode())]})
    await send({"type": "http.response.body", "body": out})


def test_pipelined_requests_are_answered_in_order_on_one_connection():
    with Served(_echo) as srv:
        reqs = b"".join(b"POST /p%d?q=%d HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc" % (i, i) for i in range(3))
        out = raw(srv.server.addr[1], reqs + b"GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert out.count(b"HTTP/1.1 200 OK") == 4
    bodies = [json.loads(part.split(b"\r\n\r\n", 1)[1].split(b"HTTP/1.1")[0]) for part in out.split(b"HTTP/1.1 200 OK")[1:]]
    assert [b["path"] for b in bodies] == ["/p0", "/p1", "/p2", "/last"] and bodies[1]["query"] == "q=1"
    assert bodies[0]["len"] == 3 and bodies[3]["method"] == "GET"


def test_a_body_without_length_is_chunked_for_http_1_1_and_ended_by_closing_for_http_1_0():
    with Served(_echo) as srv:
        port = srv.server.addr[1]
        new = raw(port, b"GET /parts HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert b"transfer-encoding: chunked" in new and new.endswith(b"4\r\none,\r\n3\r\ntwo\r\n0\r\n\r\n")
        old = raw(port, b"GET /parts HTTP/1.0\r\n\r\n")
        assert b"transfer-encoding" not in old and b"connection: close" in old and old.endswith(b"\r\n\r\none,two")


def test_chunked_and_expect_continue_bodies_reach_the_app_whole():
    with Served(_echo) as srv:
        with httpx.Client(base_url=srv.url) as c:
            r = c.post("/chunks", content=(b"x" * 5000 for _ in range(300)))  # a generator: sent chunked, 1.5 MB
            assert r.json()["len"] == 1_500_000
        port = srv.server.addr[1]
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"POST /c HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
            assert s.recv(100).startswith(b"HTTP/1.1 100 Continue")
            s.sendall(b"abcd")
            assert b'"len": 4' in s.recv(4096)


def test_a_failing_app_gets_a_500_a_bad_request_a_400_and_a_header_with_a_line_break_is_never_sent():
    with Served(_echo) as srv:
        port = srv.server.addr[1]
        assert raw(port, b"GET /fail HTTP/1.1\r\nHost: x\r\n\r\n").startswith(b"HTTP/1.1 500 ")
        assert raw(port, b"NOT AN HTTP REQUEST\r\n\r\n").startswith(b"HTTP/1.1 400 ")
        for path in (b"/inject", b"/inject-name"):  # a line break in a value, or in a name
            out = raw(port, b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path)
            assert b"evil" not in out and out.startswith(b"HTTP/1.1 500 ")
        assert not srv.server.tasks, "every request's task leaves the server's set when it ends"


def test_idle_connections_are_closed_and_a_client_that_went_is_seen_as_gone():
    _echo.after = None
    with Served(_echo, keep_alive=0.2) as srv:
        port = srv.server.addr[1]
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
            assert s.recv(4096).startswith(b"HTTP/1.1 200")
            t0 = time.monotonic()
            assert s.recv(10) == b""  # closed by the server once idle
            assert time.monotonic() - t0 < 3
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"POST /disconnect HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nz")
            time.sleep(0.2)
        deadline = time.monotonic() + 3
        while _echo.after is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _echo.after == {"type": "http.disconnect"}


def test_a_stop_lets_the_calls_in_flight_finish_and_takes_no_new_connection():
    srv = Served(_echo).__enter__()
    port = srv.server.addr[1]
    got = {}
    t = threading.Thread(target=lambda: got.setdefault("r", raw(port, b"GET /wait HTTP/1.1\r\nHost: x\r\n\r\n", wait=5)))
    t.start()
    time.sleep(0.2)
    srv.stop()
    t.join(5)
    assert got["r"].startswith(b"HTTP/1.1 200 OK") and b'"path": "/wait"' in got["r"]
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
