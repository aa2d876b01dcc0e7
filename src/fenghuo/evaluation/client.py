"""Asking an OpenAI-compatible endpoint one question, politely and stubbornly.

Politely: a shared rate limit and bounded concurrency (the caller's worker count), so an
evaluation never becomes a load test of someone's production model. Stubbornly: timeouts,
retries with exponential backoff and jitter on 429/5xx/timeouts/garbage, and when it still
fails, a :class:`Reply` that says what happened under the request id instead of an exception.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass

import httpx

RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


def chat_url(endpoint: str) -> str:
    """Accept ``http://host:port``, ``…/v1`` or the full ``…/v1/chat/completions``."""
    url = endpoint.rstrip("/")
    if url.endswith("/chat/completions"):
        return url
    if not url.endswith("/v1"):
        url += "/v1"
    return url + "/chat/completions"


class RateLimiter:
    """At most ``rate`` request starts per second across all workers (``None``: unlimited)."""

    def __init__(self, rate: float | None) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self.next_at = 0.0
        self.lock = asyncio.Lock()

    async def wait(self) -> None:
        if not self.interval:
            return
        async with self.lock:
            now = time.monotonic()
            start = max(now, self.next_at)
            self.next_at = start + self.interval
        if start > now:
            await asyncio.sleep(start - now)


@dataclass(slots=True)
class Reply:
    request_id: str
    ok: bool
    text: str | None
    latency_ms: float  # of the last attempt: what the endpoint took to answer
    attempts: int
    status: int | None = None
    error: str | None = None
    model: str | None = None


def parse_reply(body: bytes) -> tuple[str | None, str | None, str | None]:
    """(answer text, model, error): an answer is ``choices[0].message.content`` as a string."""
    try:
        data = json.loads(body)
        content = data["choices"][0]["message"]["content"]
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, IndexError, TypeError):
        snippet = body[:120].decode("utf-8", "replace")
        return None, None, f"无法解析的回复 / unparseable reply: {snippet!r}"
    if not isinstance(content, str):
        return None, None, "回复内容不是文本 / reply content is not text"
    return content, data.get("model"), None


class ChatClient:
    def __init__(
        self,
        endpoint: str,
        model: str,
        *,
        api_key: str | None = None,
        timeout: float = 60.0,
        retries: int = 3,
        backoff: float = 0.5,
        rate: float | None = None,
        concurrency: int = 8,
        extra: dict | None = None,
    ) -> None:
        self.url, self.model = chat_url(endpoint), model
        self.retries, self.backoff = retries, backoff
        self.limiter = RateLimiter(rate)
        self.extra = extra or {"temperature": 0}
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        self.http = httpx.AsyncClient(timeout=timeout, headers=headers, limits=limits)

    async def close(self) -> None:
        await self.http.aclose()

    async def ask(self, messages: list[dict], request_id: str) -> Reply:
        payload = {"model": self.model, "messages": messages, "stream": False, **self.extra}
        error, status, latency = "", None, 0.0
        for attempt in range(1, self.retries + 2):
            await self.limiter.wait()
            started = time.perf_counter()
            try:
                resp = await self.http.post(self.url, json=payload, headers={"X-Request-Id": request_id})
                latency = (time.perf_counter() - started) * 1000
                status = resp.status_code
                if resp.status_code == 200:
                    text, model, error = parse_reply(resp.content)
                    if error is None:
                        return Reply(request_id, True, text, latency, attempt, status, model=model)
                elif resp.status_code in RETRY_STATUS:
                    error = f"HTTP {resp.status_code}: {resp.text[:120]}"
                else:  # 4xx other than the above: asking again will not help
                    return Reply(request_id, False, None, latency, attempt, status, f"HTTP {resp.status_code}: {resp.text[:200]}")
            except httpx.TimeoutException:
                latency = (time.perf_counter() - started) * 1000
                error, status = "超时 / timeout", None
            except httpx.HTTPError as exc:
                latency = (time.perf_counter() - started) * 1000
                error, status = f"连接错误 / connection error: {type(exc).__name__}: {exc}", None
            if attempt <= self.retries:
                retry_after = self.backoff * (2 ** (attempt - 1))
                await asyncio.sleep(retry_after * (0.5 + random.random()))
        return Reply(request_id, False, None, latency, self.retries + 1, status, error)
