"""The guard's local copy of its service's switch state, and what it means when contact is lost.

Every call asks this cache, so a lookup is one attribute read, one ``time.monotonic()`` and
one comparison: the two possible answers (live, lease expired) are computed when a state
arrives, not per call. Followers (SSE now, NATS KV later) call :meth:`SwitchCache.apply` on a
change and :meth:`SwitchCache.touch` on any sign of life; nothing else writes here.

Lease and fail-safe (from the service's grade, ``failsafe: {mode, after_seconds}``):
- heard something within ``lease_seconds`` → the state as commanded;
- silent for longer, fail-closed → behave as ``paused`` until contact returns;
- silent for longer, fail-open → keep the last state, flagged ``failsafe`` so every event says so.
A guard that starts without contact uses a bootstrap state file if given (its state holds for
one lease from start, then the fail-safe applies), else the fail-safe at once.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

STATES = ("running", "degraded", "throttled", "paused", "stopped", "canary")


@dataclass(frozen=True, slots=True)
class Effective:
    """The state a guard enforces right now."""

    state: str
    version: int
    rate: int | None = None
    percent: int | None = None
    failsafe: bool = False  # not a live state: lease expired or bootstrap (see module doc)
    reason: str = ""
    incident: str | None = None
    source: str = "control"  # control | bootstrap | failsafe


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    """What the guard needs from the registry; cached in the state file for cold starts."""

    service: str
    failsafe_mode: str = "closed"  # open | closed; closed when unknown (the safe assumption)
    lease_seconds: float = 30.0
    backup_model: str | None = None
    primary_model: str | None = None
    provider: str | None = None
    public: dict[str, Any] | None = None  # the registration's public notices (errors.Notices), not hashed


Listener = Callable[[Effective, Effective], None]


class SwitchCache:
    def __init__(self, info: ServiceInfo, clock: Callable[[], float] = time.monotonic) -> None:
        self.info = info
        self.lease = info.lease_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []
        self.contact = clock()  # the lease runs from start until first contact
        self.changed_at = clock()  # monotonic time the current version was applied
        self._set(None, source="failsafe")

    # -- the hot path -------------------------------------------------------------------------
    def lookup(self) -> Effective:
        """The enforced state; well under a microsecond (see bench_guard)."""
        if self._clock() - self.contact <= self.lease:
            return self._fresh
        return self._expired

    # -- writers ------------------------------------------------------------------------------
    def touch(self) -> None:
        """Any sign of life from the control plane (a heartbeat, a reconnect's snapshot)."""
        before = self.lookup()
        self.contact = self._clock()
        if before is not self._fresh:
            self._notify(before, self._fresh)

    def apply(self, data: dict[str, Any]) -> bool:
        """A ``state`` event for this service; returns True if it changed the enforced state
        (a newer version, or the current one now naming its incident)."""
        if data.get("service") not in (None, self.info.service):
            return False
        with self._lock:
            before = self.lookup()
            cur = self._fresh
            version = int(data["version"])
            # Same version with an incident added: the control plane linked the command that set
            # this state to an incident after the fact (never the other way round).
            newer = (cur.source != "control" or version > cur.version
                     or (version == cur.version and data.get("incident") is not None and data.get("incident") != cur.incident))
            if newer:
                self._set(data, source="control")
                self.changed_at = self._clock()
            self.contact = self._clock()
            after = self._fresh
        if before != after:
            self._notify(before, after)
        return newer

    def bootstrap(self, data: dict[str, Any]) -> None:
        """Start from a saved state (no contact yet): it holds for one lease from now."""
        with self._lock:
            self._set(data, source="bootstrap")
            self.contact = self._clock()

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    # -- internals ----------------------------------------------------------------------------
    def _set(self, data: dict[str, Any] | None, source: str) -> None:
        if data is None:
            last = None
        else:
            state = data["state"]
            if state not in STATES:
                raise ValueError(f"unknown state {state!r}")
            last = Effective(state, int(data["version"]), data.get("rate"), data.get("percent"),
                             failsafe=source != "control", reason=data.get("reason") or "", incident=data.get("incident"),
                             source=source)
        self._fresh = last or self._failsafe(None)
        self._expired = self._failsafe(last)

    def _failsafe(self, last: Effective | None) -> Effective:
        version = last.version if last else 0
        if self.info.failsafe_mode == "open":
            if last is None:
                return Effective("running", 0, failsafe=True, reason="fail-open: no state known", source="failsafe")
            return Effective(last.state, last.version, last.rate, last.percent, failsafe=True, reason=last.reason,
                             incident=last.incident, source="failsafe")
        return Effective("paused", version, failsafe=True, reason="fail-closed: lease expired", source="failsafe")

    def _notify(self, before: Effective, after: Effective) -> None:
        for listener in list(self._listeners):
            try:
                listener(before, after)
            except Exception:
                import logging

                logging.getLogger(__name__).exception("switch cache listener failed")


def save_state_file(path: Path, info: ServiceInfo, data: dict[str, Any] | None) -> None:
    """Write the bootstrap file atomically (so a crash never leaves half a file)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps({"service": asdict(info), "state": data}, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def load_state_file(path: Path) -> tuple[ServiceInfo, dict[str, Any] | None]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return ServiceInfo(**raw["service"]), raw.get("state")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"状态文件 {path} 无法读取 / cannot read bootstrap state file {path}: {exc}") from exc
