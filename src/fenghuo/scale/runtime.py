"""The first step of a scaled-out control plane (``fenghuo.api.runtime``): connect to NATS,
declare the event stream and the switch bucket, and make the JetStream bus that monitoring
publishes to. Without ``--bus`` / FENGHUO_BUS there is nothing to connect and the embedded
in-process bus stays.
"""

from __future__ import annotations

import os

from fenghuo.monitor.directory import Directory
from fenghuo.platform.config import Settings
from fenghuo.platform.db import Database
from fenghuo.scale.connection import NatsLink, NatsSettings
from fenghuo.scale.jsbus import JetStreamBus


def bus_url(settings: Settings) -> str | None:
    url = getattr(settings, "bus_url", None) or os.environ.get("FENGHUO_BUS")
    if url and not url.startswith(("nats://", "tls://")):
        raise SystemExit(f"--bus {url!r}: only nats:// URLs are known / 只支持 nats:// 地址")
    return url or None


def make_bus(link: NatsLink, directory: Directory) -> JetStreamBus:
    def provider_of(service: str) -> str | None:
        info = directory.lookup({service}).get(service)
        return info.provider if info else None

    return JetStreamBus(link, provider_of)


def connect(url: str, db: Database) -> tuple[NatsLink, JetStreamBus]:
    """Blocking: the link (stream and bucket declared) and the bus over it."""
    link = NatsLink(NatsSettings.from_url(url), name="fenghuo-control").connect()
    try:
        link.ensure_stream()
        link.bucket()
        directory = Directory(db)
        directory.reload()
        return link, make_bus(link, directory)
    except BaseException:
        link.close()
        raise
