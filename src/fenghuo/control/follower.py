"""A minimal follower of the switch stream (``GET /api/v1/switch/stream``).

The guard builds its local cache on this; the demo and benchmarks use it to watch changes
arrive. It parses server-sent events itself because the format is three lines and the
follower must know the exact moment each event arrives.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx


def events(url: str, token: str, services: list[str] | None = None, timeout: float = 10.0) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield ``(event, data)`` pairs until the stream ends or the read times out."""
    params = [("service", s) for s in services or []]
    with httpx.Client(timeout=httpx.Timeout(timeout, connect=5.0)) as client, client.stream(
        "GET", f"{url.rstrip('/')}/api/v1/switch/stream", params=params, headers={"Authorization": f"Bearer {token}"}
    ) as r:
        r.raise_for_status()
        event, data = "message", []
        for line in r.iter_lines():
            if not line:
                if data:
                    yield event, json.loads("\n".join(data))
                event, data = "message", []
            elif line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
