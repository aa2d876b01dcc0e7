"""Reading the switch stream (``GET /api/v1/switch/stream``) on a plain socket, for the guard.

Why not httpx, which ``control.follower.events`` uses: httpx parses HTTP/1.1 with h11, in
Python, chunk by chunk, and every switch change reaches every guard at once. Measured with 100
followers in 4 processes (the propagation benchmark), the last of a process's 25 followers had
a change ≈ 11 ms after the first, on interpreter time spent parsing; the time until the last
instance enforces a change is what the switch promises. Here the response is parsed by
httptools (llhttp, C; the gateway's HTTP client uses it too) and the events are split with
``bytes.split``.

Only what the stream needs: one GET, ``http://`` or ``https://``, a bearer token, chunked or
connection-delimited bodies. When the environment names a proxy for the URL, the httpx reader
is used instead, since it honours proxies and this one does not.
"""

from __future__ import annotations

import json
import socket
import ssl
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit

import httptools


class StreamError(ConnectionError):
    """The stream could not be opened, was refused (status), or broke."""


class _Head:
    """httptools callbacks: the status, and the body pieces as they arrive."""

    def __init__(self) -> None:
        self.done_head = False
        self.ended = False
        self.body: list[bytes] = []

    def on_headers_complete(self) -> None:
        self.done_head = True

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.ended = True


def _proxied(url: str) -> bool:
    u = urlsplit(url)
    proxies = urllib.request.getproxies()
    return bool(proxies.get(u.scheme) or proxies.get("all")) and not urllib.request.proxy_bypass(u.hostname or "")


def _parse(block: bytes) -> tuple[str, dict[str, Any]] | None:
    event, data = "message", []
    for line in block.split(b"\n"):
        line = line.rstrip(b"\r")
        if line.startswith(b"event:"):
            event = line[6:].strip().decode()
        elif line.startswith(b"data:"):
            data.append(line[5:].strip())
    return (event, json.loads(b"\n".join(data))) if data else None


def events(url: str, token: str, services: list[str] | None = None, timeout: float = 10.0,
           connect_timeout: float = 5.0) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield ``(event, data)`` pairs until the stream ends; ``TimeoutError`` when nothing
    arrives for ``timeout`` seconds, :class:`StreamError` when it cannot be read."""
    if _proxied(url):
        from fenghuo.control.follower import events as httpx_events

        yield from httpx_events(url, token, services, timeout=timeout)
        return
    u = urlsplit(url.rstrip("/"))
    if u.scheme not in ("http", "https") or not u.hostname:
        raise StreamError(f"control URL must be http:// or https:// with a host, got {url!r}")
    tls = u.scheme == "https"
    port = u.port or (443 if tls else 80)
    query = "&".join(f"service={quote(s, safe='')}" for s in services or [])
    host = (f"[{u.hostname}]" if ":" in u.hostname else u.hostname) + ("" if port == (443 if tls else 80) else f":{port}")
    request = (f"GET {u.path}/api/v1/switch/stream{'?' + query if query else ''} HTTP/1.1\r\nHost: {host}\r\n"
               f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\nConnection: close\r\n\r\n").encode("latin-1")
    try:
        sock = socket.create_connection((u.hostname, port), timeout=connect_timeout)
    except OSError as exc:
        raise StreamError(f"cannot connect to {u.hostname}:{port}: {exc}") from None
    try:
        if tls:
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=u.hostname)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(timeout)
        sock.sendall(request)
        head = _Head()
        parser = httptools.HttpResponseParser(head)
        rest = b""
        while True:
            data = sock.recv(65536)  # socket.timeout is a TimeoutError
            if not data:  # the server ended the stream (a connection-delimited body ends here too)
                return
            try:
                parser.feed_data(data)
            except httptools.HttpParserError as exc:
                raise StreamError(f"the control plane did not answer in HTTP/1.1: {exc}") from None
            if head.done_head and parser.get_status_code() != 200:
                raise StreamError(f"switch stream answered {parser.get_status_code()}: {b''.join(head.body)[:300]!r}")
            if head.body:
                rest = (rest + b"".join(head.body)).replace(b"\r\n", b"\n")  # a CR may end the last piece
                head.body.clear()
                *blocks, rest = rest.split(b"\n\n")
                for block in blocks:
                    ev = _parse(block)
                    if ev is not None:
                        yield ev
            if head.ended:
                return
    finally:
        sock.close()


class Poster:
    """POST JSON to the control plane on one keep-alive connection (the acknowledgements,
    one at a time or a batch of them).

    A hundred guards acknowledge each change within a few tens of milliseconds, while the last
    of them may still be applying it; httpx spent ≈ 0.3–0.5 ms of interpreter time per POST,
    this ≈ a tenth of that. Not thread-safe: callers hold ``lock``. Behind a proxy (from the
    environment) it posts with httpx instead."""

    def __init__(self, url: str, token: str, timeout: float = 5.0) -> None:
        import threading

        u = urlsplit(url.rstrip("/"))
        if u.scheme not in ("http", "https") or not u.hostname:
            raise StreamError(f"control URL must be http:// or https:// with a host, got {url!r}")
        self.url, self.token, self.timeout = url.rstrip("/"), token, timeout
        self.tls = u.scheme == "https"
        self.host, self.port, self.base = u.hostname, u.port or (443 if self.tls else 80), u.path
        self.host_header = (f"[{self.host}]" if ":" in self.host else self.host) + \
            ("" if self.port == (443 if self.tls else 80) else f":{self.port}")
        self.proxied = _proxied(url)
        self.lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._http = None

    def post(self, path: str, body: dict[str, Any]) -> int:
        """The answer's status; :class:`StreamError` (a ``ConnectionError``) when there is none."""
        return self._request(path, body)[0]

    def exchange(self, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        """The answer's status and its JSON body (None when it has none or it is not JSON)."""
        status, raw = self._request(path, body)
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, None

    def _request(self, path: str, body: dict[str, Any]) -> tuple[int, bytes]:
        data = json.dumps(body, separators=(",", ":")).encode()
        if self.proxied:
            import httpx

            if self._http is None:
                self._http = httpx.Client(base_url=self.url, timeout=self.timeout, headers={"Authorization": f"Bearer {self.token}"})
            r = self._http.post(path, content=data, headers={"Content-Type": "application/json"})
            return r.status_code, r.content
        request = (f"POST {self.base}{path} HTTP/1.1\r\nHost: {self.host_header}\r\nAuthorization: Bearer {self.token}\r\n"
                   f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n").encode("latin-1") + data
        for attempt in range(2):
            fresh = self._sock is None
            try:
                if fresh:
                    self._sock = self._connect()
                return self._exchange(self._sock, request)
            except (OSError, httptools.HttpParserError) as exc:
                self.close()
                if fresh or attempt:  # a reused connection the server closed meanwhile: once more on a new one
                    raise StreamError(f"acknowledgement not answered: {exc}") from None
        raise StreamError("acknowledgement not answered")  # never: the loop returns or raises

    def _connect(self) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        if self.tls:
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def _exchange(self, sock: socket.socket, request: bytes) -> tuple[int, bytes]:
        sock.sendall(request)
        head = _Head()
        parser = httptools.HttpResponseParser(head)
        while not head.ended:
            data = sock.recv(65536)
            if not data:
                raise OSError("connection closed before the answer ended")
            parser.feed_data(data)
        if not parser.should_keep_alive():
            self.close()
        return parser.get_status_code(), b"".join(head.body)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        if self._http is not None:
            self._http.close()
            self._http = None
