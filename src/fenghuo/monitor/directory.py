"""A cached view of the registry that ingest and rules need on every batch: which services
exist, who owns them, and their grade, sector, labels and jurisdiction path.

Reading the registry per event would cost a query per batch; the cache refreshes every few
seconds and at once when an unknown id arrives (at most once a second, so a flood of events for
an unregistered service cannot turn into a flood of queries)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from sqlalchemy import select

from fenghuo.platform.db import Database
from fenghuo.registry.models import Service


@dataclass(frozen=True)
class ServiceInfo:
    id: str
    provider: str
    grade: str
    sector: str
    jurisdiction_path: str
    labels: dict[str, str] = field(default_factory=dict)


class Directory:
    def __init__(self, db: Database, refresh_seconds: float = 5.0) -> None:
        self.db = db
        self.refresh_seconds = refresh_seconds
        self.services: dict[str, ServiceInfo] = {}
        self._loaded_at = -1e18
        self._lock = threading.Lock()

    def reload(self) -> None:
        with self.db.reader() as s:
            rows = s.execute(select(Service.id, Service.provider_id, Service.grade, Service.attributes,
                                    Service.jurisdiction_path)).all()
        services = {r[0]: ServiceInfo(r[0], r[1], r[2], str((r[3] or {}).get("sector", "")), r[4],
                                      dict((r[3] or {}).get("labels") or {})) for r in rows}
        with self._lock:
            self.services = services
            self._loaded_at = time.monotonic()

    def fresh(self, force_if_older: float | None = None) -> dict[str, ServiceInfo]:
        age = time.monotonic() - self._loaded_at
        if age > self.refresh_seconds or (force_if_older is not None and age > force_if_older):
            self.reload()
        return self.services

    def lookup(self, ids: set[str]) -> dict[str, ServiceInfo]:
        services = self.fresh()
        if ids - services.keys():
            services = self.fresh(force_if_older=1.0)
        return services
