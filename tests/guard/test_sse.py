"""The guard's own switch-stream reader and acknowledgement poster (guard.sse): against the real
control plane, and against raw servers that split, refuse, stall and close."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from fenghuo.control.follower import events as httpx_events
from fenghuo.guard import sse

from .conftest import command


class RawServer:
    """A one-connection-at-a-time TCP server answering with ``handler(conn, request_bytes)``."""

    def __init__(self, handler) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.handler, self.requests, self.connections = handler, [], 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        with conn:
            try:
                self.handler(self, conn)
            except OSError:
                pass

    def read_request(self, conn: socket.socket) -> bytes:
        data = b""
        while b"\r\n\r\n" not in data:
            part = conn.recv(65536)
            if not part:
                return b""
            data += part
        head, _, body = data.partition(b"\r\n\r\n")
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                n = int(line.split(b":")[1])
                while len(body) < n:
                    body += conn.recv(65536)
        self.requests.append(head + b"\r\n\r\n" + body)
        return head

    def close(self) -> None:
        self.sock.close()


def chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def test_same_events_as_the_httpx_reader_from_the_control_plane(control, token):
    def first(reader, n):
        out = []
        for ev in reader(control.url, token, ["open-chat"], timeout=5):
            out.append(ev)
            if len(out) == n:
                return out
        return out

    mine, theirs = first(sse.events, 3), first(httpx_events, 3)
    assert [e for e, _ in mine] == [e for e, _ in theirs] == ["hello", "state", "users"]
    assert mine[1][1] == theirs[1][1] and mine[1][1]["service"] == "open-chat"
    # A change arrives as the next state event.
    got = []
    t = threading.Thread(target=lambda: got.extend(
        ev for ev in _until(sse.events(control.url, token, ["open-chat"], timeout=5), lambda e: e[0] == "state" and e[1]["version"] > 1)))
    t.start()
    time.sleep(0.3)
    v = command(control, "open-chat", "throttle", rate=7)["version"]
    t.join(10)
    assert got and got[-1][1]["version"] == v and got[-1][1]["rate"] == 7


def _until(it, pred):
    for ev in it:
        yield ev
        if pred(ev):
            return


def test_split_crlf_chunks_and_comments():
    body = b": comment\r\nevent: state\r\ndata: {\"a\": 1}\r\n\r\nevent: heartbeat\r\ndata: {}\r\n\r\nevent: multi\r\ndata: [1,\r\ndata: 2]\r\n\r\n"

    def handler(srv, conn):
        srv.read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
        for i in range(0, len(body), 7):  # pieces that cut lines, and CR from LF
            conn.sendall(chunk(body[i:i + 7]))
            time.sleep(0.002)
        conn.sendall(b"0\r\n\r\n")

    srv = RawServer(handler)
    try:
        assert list(sse.events(srv.url, "tok", ["a b", "c/d"], timeout=5)) == [("state", {"a": 1}), ("heartbeat", {}), ("multi", [1, 2])]
        req = srv.requests[0]
        assert req.startswith(b"GET /api/v1/switch/stream?service=a%20b&service=c%2Fd HTTP/1.1\r\n")
        assert b"Authorization: Bearer tok\r\n" in req
    finally:
        srv.close()


def test_refused_unreachable_and_silent_streams():
    def refuse(srv, conn):
        srv.read_request(conn)
        conn.sendall(b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 12\r\n\r\nbad token!!!")

    def silent(srv, conn):
        srv.read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
        time.sleep(3)

    srv = RawServer(refuse)
    try:
        with pytest.raises(sse.StreamError, match="401"):
            list(sse.events(srv.url, "tok", timeout=5))
    finally:
        srv.close()
    with pytest.raises(sse.StreamError, match="cannot connect"):
        list(sse.events(f"http://127.0.0.1:{_dead_port()}", "tok", timeout=1))
    srv = RawServer(silent)
    try:
        t0 = time.monotonic()
        with pytest.raises(TimeoutError):
            list(sse.events(srv.url, "tok", timeout=0.3))
        assert time.monotonic() - t0 < 2
    finally:
        srv.close()
    with pytest.raises(sse.StreamError, match="http"):
        list(sse.events("ftp://example.org", "tok"))


def test_poster_keeps_the_connection_and_retries_once_when_the_server_dropped_it():
    def handler(srv, conn):
        # Answers two requests on a connection, then closes it (as an idle timeout would).
        for _ in range(2):
            if not srv.read_request(conn):
                return
            conn.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")

    srv = RawServer(handler)
    try:
        p = sse.Poster(srv.url, "tok")
        assert [p.post("/api/v1/instances/ack", {"n": i}) for i in range(5)] == [204] * 5
        assert srv.connections == 3  # two per connection; the dropped one was noticed and replaced
        assert all(r.endswith(b'{"n":%d}' % i) for i, r in enumerate(srv.requests))
        assert b"Content-Type: application/json\r\n" in srv.requests[0] and b"Authorization: Bearer tok\r\n" in srv.requests[0]
        p.close()
    finally:
        srv.close()
    with pytest.raises(sse.StreamError):
        sse.Poster(f"http://127.0.0.1:{_dead_port()}", "tok").post("/x", {})  # nothing listens


def _dead_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_a_proxy_from_the_environment_uses_the_httpx_reader(monkeypatch):
    monkeypatch.setenv("http_proxy", "http://proxy.example:3128")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    assert sse._proxied("http://control.example:8000")
    monkeypatch.setenv("no_proxy", "control.example")
    assert not sse._proxied("http://control.example:8000")
    monkeypatch.delenv("http_proxy")
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    monkeypatch.delenv("all_proxy", raising=False)
    monkeypatch.delenv("ALL_PROXY", raising=False)
    assert not sse._proxied("http://control.example:8000")
