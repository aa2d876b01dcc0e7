"""The demo's notification inbox: the channels its emergency plan notifies (oncall, management,
regulator-liaison), delivered for real as signed webhooks to a small receiver on a local socket.

Without them the plan's notify steps had nowhere to go and every run printed "notification …
failed for good: channel oncall is no longer configured" (issue 15). The alerting
configuration is written next to the demo's database because the receiver's port is known
only once it listens; the rules are the demo's own (``rules.yaml``).
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from pathlib import Path

CHANNELS = ("oncall", "management", "regulator-liaison")
RULES = Path(__file__).with_name("rules.yaml")


class Inbox:
    """An ASGI app that accepts ``POST /<channel>`` and counts what each channel received."""

    def __init__(self) -> None:
        self.received: Counter[str] = Counter()
        self.kinds: Counter[str] = Counter()
        self._lock = threading.Lock()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        channel = scope["path"].strip("/")
        try:
            kind = json.loads(body).get("kind", "?")
        except (ValueError, AttributeError):
            kind = "?"
        with self._lock:
            self.received[channel] += 1
            self.kinds[kind] += 1
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": b'{"ok":true}'})

    def summary(self) -> str:
        with self._lock:
            if not self.received:
                return "none"
            return ", ".join(f"{c} {n}" for c, n in sorted(self.received.items()))


def write_alerts_config(path: Path, inbox_url: str) -> Path:
    """The demo's alerting file: its own 20-second rules, no shipped packs, and the plan's
    channels as webhooks to the inbox (YAML is a superset of JSON, so JSON is written)."""
    config = {
        "packs": "none",
        "rules": [str(RULES)],
        "group_by": ["service", "alert"],
        "repeat_interval": 0,
        "channels": [{"name": c, "type": "webhook", "url": f"{inbox_url}/{c}"} for c in CHANNELS],
    }
    path.write_text(json.dumps(config, ensure_ascii=False, indent=2), encoding="utf-8")
    return path
