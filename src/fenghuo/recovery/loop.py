"""Where the control plane's loop runs, and whether one runs at all.

The canary ramp (``recovery.ramp.tick``) advances only when something ticks it: the plan
executor's loop, which ``fenghuo serve`` (and each replica) runs with the ramp as its extra
work, or ``fenghuo recovery ramp``, the same loop without the HTTP server for a deployment
driven from the command line. A CLI-only user used to stay at 5 % without being told (issue 15).

So each loop beats: one row per loop in the lease table (``scale_leases``, name
``loop:<holder>``), renewed every tick with a time to live of a few ticks and released on a
clean stop. :func:`running` lists the live ones; commands that depend on the loop (``canary``,
``recovery status``) say so when there is none. The lease rows need no migration and use the
database's clock on PostgreSQL, like the leader lease beside them.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from typing import Any

from sqlalchemy import text

from fenghuo.platform.db import Database
from fenghuo.scale import lease

PREFIX = "loop:"


def _now(db: Database) -> float:
    if db.is_sqlite:
        return time.time()
    with db.reader() as s:
        return float(s.execute(text("SELECT extract(epoch from clock_timestamp())")).scalar_one())


class Heartbeat:
    """``also=`` work for the executor: renew this loop's row on every tick (returns no results)."""

    def __init__(self, every: float = 1.0, holder: str | None = None) -> None:
        self.holder = holder or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.ttl = max(10.0, 5 * every)

    def __call__(self, db: Database) -> list[dict[str, Any]]:
        lease.take(db, PREFIX + self.holder, self.holder, self.ttl)
        return []

    def stop(self, db: Database) -> None:
        lease.release(db, PREFIX + self.holder, self.holder)


def running(db: Database) -> list[dict[str, Any]]:
    """The loops that beat within their time to live, newest first."""
    with db.reader() as s:
        rows = s.execute(text("SELECT holder, expires_at FROM scale_leases WHERE name LIKE :p AND expires_at > :now "
                              "ORDER BY expires_at DESC"), {"p": PREFIX + "%", "now": _now(db)}).all()
    return [{"holder": r[0], "expires_at": float(r[1])} for r in rows]


NONE_RUNNING = ("没有运行中的控制面循环：灰度不会推进、预案步骤不会执行；请运行 fenghuo serve 或 fenghuo recovery ramp",
                "no control-plane loop is running on this database: the canary ramp will not advance and plan steps "
                "will not run until one does (fenghuo serve, or fenghuo recovery ramp)")


def note(db: Database) -> str | None:
    """The bilingual warning when no loop runs, else None."""
    return None if running(db) else f"{NONE_RUNNING[0]} / {NONE_RUNNING[1]}"


class LoopProbe:
    """The switch's question "does a loop run?" (``control.gates.loop_probe``), answered here."""

    def note(self, db: Database) -> str | None:
        return note(db)


def install_probe() -> None:
    from fenghuo.control import gates

    if not isinstance(gates.loop_probe(), LoopProbe):
        gates.set_loop_probe(LoopProbe())
