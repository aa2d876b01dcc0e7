"""The gateway's upstream HTTP/1.1 client against a real socket server that writes exact bytes:
framing (length, chunked, close-delimited), keep-alive reuse and stale connections, broken and
non-HTTP answers, compression, cancellation and timeouts."""

from __future__ import annotations

import asyncio
import gzip

import pytest

from fenghuo.guard.http1 import ConnectionPool, UpstreamConnectionError


class Script:
    """A TCP server; each accepted connection runs ``handler(reader, writer, n)`` (n counts
    connections from 0). Requests are read head + Content-Length body."""

    def __init__(self, handler) -> None:
        self.handler = handler
        self.connections = 0
        self.requests: list[bytes] = []

    async def __aenter__(self) -> Script:
        async def on_conn(reader, writer) -> None:
            n = self.connections
            self.connections += 1
            try:
                await self.handler(self, reader, writer, n)
            except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
                pass  # the client hung up, or the test ended while the script waited
            finally:
                writer.close()

        self.server = await asyncio.start_server(on_conn, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/v1"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()

    async def read_request(self, reader) -> bytes:
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        body = await reader.readexactly(length)
        self.requests.append(head + body)
        return head + body


def ok(body: bytes, extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), extra, body)


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 20))


async def keep_alive_server(s: Script, reader, writer, n: int) -> None:
    while True:
        await s.read_request(reader)
        writer.write(ok(b'{"n": %d}' % len(s.requests)))
        await writer.drain()


def test_request_line_headers_and_keep_alive_reuse() -> None:
    async def go() -> None:
        async with Script(keep_alive_server) as s:
            pool = ConnectionPool(s.url)
            bodies = []
            for _ in range(3):
                async with pool.request("POST", "/chat/completions", {"Authorization": "Bearer k"}, b'{"a":1}') as r:
                    assert r.status == 200 and r.headers["content-type"] == "application/json"
                    bodies.append(await r.read())
            await pool.aclose()
        assert bodies == [b'{"n": 1}', b'{"n": 2}', b'{"n": 3}']
        assert s.connections == 1, "answers with a length on a keep-alive connection must reuse it"
        first = s.requests[0]
        assert first.startswith(b"POST /v1/chat/completions HTTP/1.1\r\n")
        assert b"\r\nHost: 127.0.0.1:" in first and b"\r\nAuthorization: Bearer k\r\n" in first
        assert b"\r\nContent-Length: 7\r\n" in first and first.endswith(b'\r\n\r\n{"a":1}')

    run(go())


def test_chunked_stream_gives_lines_split_anywhere() -> None:
    async def handler(s: Script, reader, writer, n: int) -> None:
        await s.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
        for piece in (b"data: {\"x\"", b": 1}\r\n\r\nda", b"ta: \xe4\xbd", b"\xa0\xe5\xa5\xbd\n\ndata: [DONE]\n\n"):
            writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            await writer.drain()
            await asyncio.sleep(0.01)
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        await s.read_request(reader)  # the connection stays open for the next request

    async def go() -> list[str]:
        async with Script(handler) as s:
            pool = ConnectionPool(s.url)
            async with pool.request("POST", "/chat/completions", {}, b"{}") as r:
                lines = [line async for line in r.lines(5)]
            assert r.done and pool._idle, "a stream read to its end goes back to the pool"
            await pool.aclose()
            return lines

    assert [x for x in run(go()) if x] == ['data: {"x": 1}', "data: 你好", "data: [DONE]"]


def test_body_delimited_by_close_is_complete_and_connection_not_reused() -> None:
    async def handler(s: Script, reader, writer, n: int) -> None:
        await s.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + b"x" * 70_000)
        await writer.drain()

    async def go() -> None:
        async with Script(handler) as s:
            pool = ConnectionPool(s.url)
            for _ in range(2):
                async with pool.request("GET", "/models", {}) as r:
                    assert await r.read() == b"x" * 70_000
            assert s.connections == 2

    run(go())


@pytest.mark.parametrize("size", [3 << 20])
def test_large_bodies_read_whole_and_streamed(size: int) -> None:
    """Past the 1 MiB high-water mark reading pauses; read() must lift that, chunks() must
    resume as it drains. Either way the whole body arrives."""
    blob = bytes(range(256)) * (size // 256)

    async def handler(s: Script, reader, writer, n: int) -> None:
        while True:
            await s.read_request(reader)
            writer.write(ok(blob))
            await writer.drain()

    async def go() -> None:
        async with Script(handler) as s:
            pool = ConnectionPool(s.url)
            async with pool.request("GET", "/models", {}) as r:
                await asyncio.sleep(0.2)  # let the body pile up past the high-water mark first
                assert await r.read() == blob
            async with pool.request("GET", "/models", {}) as r:
                await asyncio.sleep(0.2)
                got = b"".join([c async for c in r.chunks(5)])
            assert got == blob
            assert s.connections == 1

    run(go())


def test_stale_keep_alive_connection_is_retried_once_on_a_new_one() -> None:
    async def handler(s: Script, reader, writer, n: int) -> None:
        await s.read_request(reader)
        writer.write(ok(b"{}"))  # says keep-alive, then drops the connection as an idle timeout would
        await writer.drain()

    async def go() -> None:
        async with Script(handler) as s:
            pool = ConnectionPool(s.url)
            for _ in range(3):
                async with pool.request("POST", "/chat/completions", {}, b"{}") as r:
                    assert await r.read() == b"{}"
                await asyncio.sleep(0.05)
            assert s.connections == 3

    run(go())


@pytest.mark.parametrize("answer, expect", [
    (b"", "closed the connection before answering"),
    (b"SSH-2.0-OpenSSH_9.2\r\n\r\n", "did not answer in HTTP/1.1"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b", "broke mid-answer"),
])
def test_broken_answers_raise_a_connection_error_naming_what_happened(answer: bytes, expect: str) -> None:
    async def handler(s: Script, reader, writer, n: int) -> None:
        await s.read_request(reader)
        writer.write(answer)
        await writer.drain()

    async def go() -> None:
        async with Script(handler) as s:
            pool = ConnectionPool(s.url)
            with pytest.raises(UpstreamConnectionError, match=expect):
                async with pool.request("POST", "/chat/completions", {}, b"{}") as r:
                    await r.read()

    run(go())


def test_refused_connection_names_the_address() -> None:
    async def go() -> None:
        async with Script(keep_alive_server) as s:
            url = s.url
        pool = ConnectionPool(url)
        with pytest.raises(UpstreamConnectionError, match="cannot connect to 127.0.0.1"):
            async with pool.request("GET", "/models", {}):
                pass

    run(go())


def test_gzip_body_is_decoded() -> None:
    payload = '{"text": "压缩的回答"}'.encode() * 50

    async def handler(s: Script, reader, writer, n: int) -> None:
        await s.read_request(reader)
        writer.write(ok(gzip.compress(payload), b"Content-Encoding: gzip\r\n"))
        await writer.drain()

    async def go() -> bytes:
        async with Script(handler) as s, ConnectionPool(s.url).request("GET", "/models", {}) as r:
            return await r.read()

    assert run(go()) == payload


def test_cancel_mid_answer_closes_the_connection_and_frees_its_slot() -> None:
    async def handler(s: Script, reader, writer, n: int) -> None:
        await s.read_request(reader)
        if n == 0:
            await asyncio.sleep(10)  # never answers the first connection
        writer.write(ok(b"{}"))
        await writer.drain()

    async def go() -> None:
        async with Script(handler) as s:
            pool = ConnectionPool(s.url, max_connections=1)

            async def call() -> bytes:
                async with pool.request("POST", "/chat/completions", {}, b"{}") as r:
                    return await r.read()

            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.2):
                    await call()
            assert await call() == b"{}", "the only slot must be free again, on a new connection"
            assert s.connections == 2

    run(go())


def test_silent_stream_times_out() -> None:
    async def handler(s: Script, reader, writer, n: int) -> None:
        await s.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\ndata:\n\r\n")
        await writer.drain()
        await asyncio.sleep(10)

    async def go() -> list[str]:
        got: list[str] = []
        async with Script(handler) as s:
            with pytest.raises(TimeoutError):
                async with ConnectionPool(s.url).request("POST", "/chat/completions", {}, b"{}") as r:
                    async for line in r.lines(0.2):
                        got.append(line)
        return got

    assert run(go()) == ["data:"]


def test_bad_url_and_header_injection_are_refused() -> None:
    with pytest.raises(ValueError, match="http:// or https://"):
        ConnectionPool("ftp://example.com/v1")
    pool = ConnectionPool("http://127.0.0.1:9/v1")
    with pytest.raises(ValueError, match="line break"):
        pool.request("POST", "/chat/completions", {"Authorization": "Bearer x\r\nX-Evil: 1"}, b"{}")


def test_upstream_serves_again_in_a_new_event_loop() -> None:
    """The gateway's Upstream keeps a pool per event loop: an app served, stopped and served
    again in a new loop must not reuse the old loop's connections or semaphore."""
    from fenghuo.guard.upstream import Upstream

    async def handler(s: Script, reader, writer, n: int) -> None:
        while True:
            await s.read_request(reader)
            writer.write(ok(b'{"choices": []}'))
            await writer.drain()

    async def serve_and_call(up: Upstream | None) -> Upstream:
        async with Script(handler) as s:
            up = up or Upstream(s.url)
            up.base = s.url  # the script listens on a new port each time; a stale pool would not
            assert await up.complete({"messages": []}, None) == {"choices": []}
            return up

    up = run(serve_and_call(None))
    run(serve_and_call(up))


def test_an_upstream_call_times_out_yet_a_cancel_from_elsewhere_stays_a_cancel() -> None:
    """Upstream.post's own timer (not asyncio.timeout): its expiry is a 504 upstream_timeout; a
    cancellation that is not the timer's (a stop cutting the call) goes on as a cancellation."""
    from fenghuo.guard import errors
    from fenghuo.guard.upstream import Upstream

    async def main() -> None:
        silent = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)  # accepts, never answers
        up = Upstream(f"http://127.0.0.1:{silent.sockets[0].getsockname()[1]}", timeout=0.2)
        with pytest.raises(errors.UpstreamError) as e:
            await up.post("/chat/completions", {"messages": []}, None)
        assert e.value.code == "upstream_timeout"
        up.timeout = 5
        task = asyncio.get_running_loop().create_task(up.post("/chat/completions", {"messages": []}, "Bearer x"))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await up.aclose()
        silent.close()

    run(main())


def test_upstream_calls_carry_the_callers_key_or_the_gateways_own_and_refuse_injection() -> None:
    """Upstream.post's headers, encoded once but Authorization: the caller's key passed on, or the
    configured upstream key instead of it; a key with a line break is refused, not sent."""
    from fenghuo.guard.upstream import Upstream

    answer = b'{"choices": []}'

    async def serve(s: Script, reader, writer, n: int) -> None:
        while True:
            await s.read_request(reader)
            writer.write(ok(answer))
            await writer.drain()

    async def go() -> None:
        async with Script(serve) as s:
            base = s.url.removesuffix("/v1")
            caller, own = Upstream(base), Upstream(base, api_key="gateway-key")
            for up, auth in ((caller, "Bearer caller-key"), (caller, None), (own, "Bearer caller-key")):
                assert await up.post("/chat/completions", {"model": "m"}, auth) == {"choices": []}
            with pytest.raises(ValueError):
                await caller.post("/chat/completions", {"model": "m"}, "Bearer x\r\nX-Evil: 1")
            for up in (caller, own):
                await up.aclose()
        first, bare, replaced = s.requests
        for req in s.requests:
            assert b"\r\nContent-Type: application/json\r\nAccept: application/json\r\nUser-Agent: fenghuo-gateway\r\n" in req
        assert b"\r\nAuthorization: Bearer caller-key\r\n" in first and b"Authorization" not in bare
        assert b"\r\nAuthorization: Bearer gateway-key\r\n" in replaced and b"caller-key" not in replaced
        assert all(b"X-Evil" not in r for r in s.requests)

    run(go())


def test_calls_beyond_the_slots_wait_their_turn_and_a_cancelled_waiter_loses_no_slot() -> None:
    """ConnectionPool's own slot count (not asyncio.Semaphore): at most max_connections at once,
    the others served in turn; a waiter cancelled before or after it was handed a slot gives
    it back; fetch() reads the whole body and leaves the headers to be decoded when asked."""
    async def handler(s: Script, reader, writer, n: int) -> None:
        while True:
            await s.read_request(reader)
            await asyncio.sleep(0.05)
            writer.write(ok(b'{"n": %d}' % len(s.requests), b"X-Seen: Yes\r\n"))
            await writer.drain()

    async def go() -> None:
        async with Script(handler) as s:
            pool = ConnectionPool(s.url, max_connections=2)
            got = await asyncio.gather(*[pool.fetch("POST", "/chat/completions", {}, b"{}") for _ in range(5)])
            assert len(got) == 5 and all(body.startswith(b'{"n": ') for _, body in got) and len(s.requests) == 5
            r = got[0][0]
            assert r.status == 200 and r.headers["x-seen"] == "Yes" and r.headers["content-type"] == "application/json"
            assert s.connections == 2 and pool._free == 2 and not pool._waiting

            one = ConnectionPool(s.url, max_connections=1)
            first = asyncio.ensure_future(one.fetch("POST", "/chat/completions", {}, b"{}"))
            await asyncio.sleep(0.01)
            waiter = asyncio.ensure_future(one.fetch("POST", "/chat/completions", {}, b"{}"))
            await asyncio.sleep(0.01)
            waiter.cancel()  # cancelled while waiting for the only slot
            await first
            with pytest.raises(asyncio.CancelledError):
                await waiter
            assert one._free == 1 and not one._waiting
            last = asyncio.ensure_future(one.fetch("POST", "/chat/completions", {}, b"{}"))
            handed = asyncio.ensure_future(one.fetch("POST", "/chat/completions", {}, b"{}"))
            await asyncio.sleep(0.01)
            await last  # frees the slot: it is handed to the waiter, which is cancelled before it runs
            handed.cancel()
            with pytest.raises(asyncio.CancelledError):
                await handed
            _, body = await one.fetch("POST", "/chat/completions", {}, b"{}")
            assert body.startswith(b'{"n":') and one._free == 1 and not one._waiting

    run(go())
