"""Server settings, from the command line or FENGHUO_* environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError:
        raise SystemExit(f"{name}={raw!r} is not a number / 不是数字") from None


def _env(name: str, default: float, cast=float):
    """A field whose default is read from the environment when a ``Settings`` is made, not when
    this module is imported: a value from the config file (``config_file``) is exported into
    the environment by the CLI's root command, which may run after the import."""
    return field(default_factory=lambda: cast(_env_float(name, default)))


@dataclass
class Settings:
    db_url: str | None = None
    # nats://host:4222[,nats://…]: events on JetStream, switch in KV, replicas (fenghuo.scale); None = embedded
    bus_url: str | None = field(default_factory=lambda: os.environ.get("FENGHUO_BUS") or None)
    max_body_bytes: int = _env("FENGHUO_MAX_BODY_BYTES", 1_048_576, int)
    heartbeat_seconds: float = _env("FENGHUO_HEARTBEAT_SECONDS", 1.0)
    # How often the server looks for switch changes made by other processes (the local CLI,
    # another replica) so SSE followers hear of them too.
    poll_seconds: float = _env("FENGHUO_POLL_SECONDS", 0.25)
    checkpoint_seconds: float = _env("FENGHUO_CHECKPOINT_SECONDS", 300.0)
    # Failed authentications one client address may make per minute before 429 (0: no limit).
    auth_failures_per_minute: int = _env("FENGHUO_AUTH_FAILURES_PER_MINUTE", 20, int)
