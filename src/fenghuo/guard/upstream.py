"""Talking to an OpenAI-compatible model server (vLLM, Ollama, a hosted API, the replay
upstream): one pooled keep-alive client per upstream, errors turned into guard errors.

aiohttp rather than httpx here (httpx stays for everything else): measured on this project's
2-core machine against the same local upstream, an httpx ``AsyncClient`` spent ≈ 1.0 ms of
CPU per request at concurrency 1 and ≈ 2.0 ms at 16, aiohttp ≈ 0.23 and ≈ 0.16 ms — on the
gateway's hot path that difference alone decides the ≥ 1,000 requests/s per core target.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import orjson

from fenghuo.guard import errors

READ_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError)


class Upstream:
    def __init__(self, url: str, *, timeout: float = 60.0, api_key: str | None = None, max_connections: int = 256) -> None:
        base = url.rstrip("/")
        self.base = base if base.endswith("/v1") else base + "/v1"
        self.timeout = timeout
        self.api_key = api_key
        self.max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None
        self._whole = aiohttp.ClientTimeout(total=timeout, sock_connect=min(timeout, 5.0))
        self._streamed = aiohttp.ClientTimeout(total=None, sock_connect=min(timeout, 5.0), sock_read=timeout)

    @property
    def session(self) -> aiohttp.ClientSession:
        """Created on first use, inside the server's event loop (aiohttp binds to one loop)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=self.max_connections),
                                                  json_serialize=lambda o: orjson.dumps(o).decode())
        return self._session

    def _headers(self, caller_auth: str | None) -> dict[str, str]:
        h = {"Content-Type": "application/json"}
        auth = f"Bearer {self.api_key}" if self.api_key else caller_auth
        if auth:
            h["Authorization"] = auth
        return h

    async def complete(self, body: dict[str, Any], caller_auth: str | None) -> dict[str, Any]:
        """A non-streaming chat completion; raises a guard error for anything but a valid answer."""
        try:
            async with self.session.post(f"{self.base}/chat/completions", data=orjson.dumps(body),
                                         headers=self._headers(caller_auth), timeout=self._whole) as r:
                status, content = r.status, await r.read()
        except asyncio.TimeoutError:
            raise errors.upstream_timeout(self.timeout) from None
        except aiohttp.ClientError as exc:
            raise errors.upstream_failed(f"无法连接上游模型：{exc}", f"cannot reach the upstream model: {exc}", "upstream_unreachable") from None
        return self._parse(status, content)

    @staticmethod
    def _parse(status: int, content: bytes) -> dict[str, Any]:
        try:
            data = orjson.loads(content)
        except orjson.JSONDecodeError:
            data = None
        if status >= 400:
            msg = (data or {}).get("error", {}).get("message") if isinstance(data, dict) and isinstance(data.get("error"), dict) else None
            msg = msg or content[:300].decode("utf-8", "replace")
            raise errors.upstream_failed(f"上游模型返回错误 {status}：{msg}", f"the upstream model answered {status}: {msg}",
                                         "upstream_error", upstream_status=status)
        if not isinstance(data, dict) or not isinstance(data.get("choices"), list):
            raise errors.upstream_failed("上游模型返回的不是有效的 JSON 补全", "the upstream model returned invalid JSON (no completion)",
                                         "upstream_invalid")
        return data

    @asynccontextmanager
    async def stream(self, body: dict[str, Any], caller_auth: str | None) -> AsyncIterator[AsyncIterator[str]]:
        """Open a streaming completion; yields an iterator of SSE lines once the upstream said 200."""
        try:
            r = await self.session.post(f"{self.base}/chat/completions", data=orjson.dumps(body),
                                        headers=self._headers(caller_auth), timeout=self._streamed)
        except asyncio.TimeoutError:
            raise errors.upstream_timeout(self.timeout) from None
        except aiohttp.ClientError as exc:
            raise errors.upstream_failed(f"无法连接上游模型：{exc}", f"cannot reach the upstream model: {exc}", "upstream_unreachable") from None
        try:
            if r.status >= 400:
                self._parse(r.status, await r.read())

            async def lines() -> AsyncIterator[str]:
                async for raw in r.content:
                    yield raw.decode("utf-8", "replace").rstrip("\r\n")
            yield lines()
        finally:
            if r.content.at_eof():
                r.release()
            else:
                r.close()  # cut or broken: do not put a half-read connection back in the pool

    async def models(self, caller_auth: str | None) -> dict[str, Any] | None:
        try:
            async with self.session.get(f"{self.base}/models", headers=self._headers(caller_auth), timeout=self._whole) as r:
                return orjson.loads(await r.read()) if r.status == 200 else None
        except (*READ_ERRORS, orjson.JSONDecodeError):
            return None

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
