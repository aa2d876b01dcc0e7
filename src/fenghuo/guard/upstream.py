"""Talking to an OpenAI-compatible model server (vLLM, Ollama, a hosted API, the replay
upstream): one pooled keep-alive client per upstream, errors turned into guard errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import orjson

from fenghuo.guard import errors


class Upstream:
    def __init__(self, url: str, *, timeout: float = 60.0, api_key: str | None = None, max_connections: int = 256) -> None:
        base = url.rstrip("/")
        self.base = base if base.endswith("/v1") else base + "/v1"
        self.timeout = timeout
        self.api_key = api_key
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        )

    def _headers(self, caller_auth: str | None) -> dict[str, str]:
        h = {"Content-Type": "application/json"}
        auth = f"Bearer {self.api_key}" if self.api_key else caller_auth
        if auth:
            h["Authorization"] = auth
        return h

    async def complete(self, body: dict[str, Any], caller_auth: str | None) -> dict[str, Any]:
        """A non-streaming chat completion; raises a guard error for anything but a valid answer."""
        try:
            r = await self.client.post(f"{self.base}/chat/completions", content=orjson.dumps(body), headers=self._headers(caller_auth))
        except httpx.TimeoutException:
            raise errors.upstream_timeout(self.timeout) from None
        except httpx.HTTPError as exc:
            raise errors.upstream_failed(f"无法连接上游模型：{exc}", f"cannot reach the upstream model: {exc}", "upstream_unreachable") from None
        return self._parse(r.status_code, r.content)

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
        req = self.client.build_request("POST", f"{self.base}/chat/completions", content=orjson.dumps(body),
                                        headers=self._headers(caller_auth))
        try:
            r = await self.client.send(req, stream=True)
        except httpx.TimeoutException:
            raise errors.upstream_timeout(self.timeout) from None
        except httpx.HTTPError as exc:
            raise errors.upstream_failed(f"无法连接上游模型：{exc}", f"cannot reach the upstream model: {exc}", "upstream_unreachable") from None
        try:
            if r.status_code >= 400:
                self._parse(r.status_code, await r.aread())
            yield r.aiter_lines()
        finally:
            await r.aclose()

    async def models(self, caller_auth: str | None) -> dict[str, Any] | None:
        try:
            r = await self.client.get(f"{self.base}/models", headers=self._headers(caller_auth))
            return r.json() if r.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            return None

    async def aclose(self) -> None:
        await self.client.aclose()
