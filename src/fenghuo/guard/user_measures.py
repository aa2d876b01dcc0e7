"""Per-user measures at the guard (CN-PO-09): warn, restrict or suspend one end user.

The end user is the id the caller sends: the ``x-fenghuo-user`` header, else the request's
OpenAI ``user`` field (``safety_identifier`` for the Responses API, ``metadata.user_id`` for
Anthropic's Messages API); the SDK takes ``guard.call(..., user=ID)``.

:class:`UserTable` holds the measures in force on this guard's service. The hot path costs
nothing while no measure exists (``if table.users`` is one attribute read and a falsy dict),
and one dict lookup per call otherwise. :class:`UserFollower` keeps it current by polling the
control plane (``GET /api/v1/services/{id}/user-measures``) or, embedded, the local database,
every ``poll_seconds`` (1 s by default). A measure's expiry (``until``) is also checked here,
so it ends on time even between polls.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fenghuo.guard import errors
from fenghuo.guard.poller import Poller
from fenghuo.platform.clock import seconds

log = logging.getLogger(__name__)
HEADER = b"x-fenghuo-user"
WINDOW = 60.0  # restrict: rate is per minute
WARNING = "您的账号已被服务提供者警告，请遵守使用规范 / Your account has been warned by the service provider; please follow the terms of use."


def notice_text(notice: str) -> str:
    """The notice as the text a streamed answer opens with (CN-PO-09): a warned end user reads it
    in the stream itself, not only in a header."""
    return f"【{notice}】\n"


@dataclass(slots=True)
class Measure:
    id: str
    measure: str  # warn | restrict | suspend
    rate: int | None
    until: float | None  # UNIX seconds
    reason: str
    calls: deque = field(default_factory=deque)  # restrict: admission times in the last minute


class UserTable:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.users: dict[str, Measure] = {}
        self.version: tuple = ()
        self._clock = clock
        self._lock = threading.Lock()

    def replace(self, items: list[dict[str, Any]]) -> bool:
        """The measures in force now (the control plane's list); True if anything changed.
        A restriction that stays keeps its count of recent calls."""
        version = tuple(sorted(m["id"] for m in items))
        if version == self.version:
            return False
        new: dict[str, Measure] = {}
        for m in items:
            old = self.users.get(m["user"])
            calls = old.calls if old is not None and old.id == m["id"] else deque()
            new[m["user"]] = Measure(m["id"], m["measure"], m.get("rate"), seconds(m.get("until")), m.get("reason") or "", calls)
        self.users, self.version = new, version  # one assignment: readers see the old or the new dict
        return True

    def check(self, user: str) -> Measure | None:
        """Raise the refusal for a suspended or over-rate user; return a warn measure (the
        answer then carries the notice), else None."""
        m = self.users.get(user)
        if m is None:
            return None
        now = self._clock()
        if m.until is not None and now >= m.until:
            return None
        if m.measure == "suspend":
            raise errors.user_suspended(m.reason, None if m.until is None else m.until - now)
        if m.measure == "restrict":
            with self._lock:
                calls = m.calls
                while calls and now - calls[0] >= WINDOW:
                    calls.popleft()
                if len(calls) >= (m.rate or 1):
                    raise errors.user_restricted(m.rate or 1, WINDOW - (now - calls[0]), m.reason)
                calls.append(now)
            return None
        return m


def user_of(headers: list[tuple[bytes, bytes]] | None, body: dict[str, Any]) -> str | None:
    """The end user's id of one request (see the module doc), or None."""
    for k, v in headers or ():
        if k == HEADER:
            return v.decode("utf-8", "replace").strip() or None
    for key in ("user", "safety_identifier"):
        u = body.get(key)
        if isinstance(u, str) and u:
            return u
    meta = body.get("metadata")
    if isinstance(meta, dict) and isinstance(meta.get("user_id"), str) and meta["user_id"]:
        return meta["user_id"]
    return None


class UserFollower(Poller):
    """Polls the measures in force on one service into a :class:`UserTable`."""

    def __init__(self, table: UserTable, service: str, *, control: str | None = None, token: str | None = None, db=None,
                 poll_seconds: float = 1.0, watch=None) -> None:
        super().__init__(f"users-{service}", control=control, token=token, poll_seconds=poll_seconds, watch=watch)
        self.table, self.service, self.db = table, service, db

    def poll(self) -> None:
        if self._http is not None:
            items, after = [], None  # every page: the list is paged (issue 19)
            while True:
                r = self._http.get(f"/api/v1/services/{self.service}/user-measures",
                                   params={"limit": 1000, **({"after": after} if after else {})})
                r.raise_for_status()
                items += r.json()["measures"]
                after = r.headers.get("X-Next-Cursor")
                if not after:
                    break
        else:
            from fenghuo.control import user_measures
            from fenghuo.platform.roles import local_actor

            items = user_measures.listing(self.db, local_actor(), self.service, limit=None)["measures"]
        self.polls += 1
        if self.table.replace(items):
            log.info("user measures for %s: %d in force", self.service, len(items))

