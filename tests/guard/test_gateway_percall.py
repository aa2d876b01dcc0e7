"""The gateway's per-call shortcuts (issue 19) give what the long way gives: the call's task asked
of the gateway's own loop, also after the app moved to a new loop."""

from __future__ import annotations

import asyncio

from fenghuo.guard.core import Guard
from fenghuo.guard.gateway import Gateway
from fenghuo.guard.telemetry import NullSink


def _gateway() -> Gateway:
    g = Guard("open-chat", checks=None, failsafe="open", sink=NullSink(), follow=False, kind="gateway", spool_dir=False)
    return Gateway(g, "http://127.0.0.1:9")


def test_current_task_under_the_gateways_loop_and_after_a_new_one():
    gw = _gateway()
    try:
        async def ask() -> bool:
            gw.loop = gw.loop or asyncio.get_running_loop()  # as Gateway.__call__ sets it, once
            return gw.current_task() is asyncio.current_task()

        assert asyncio.run(ask())  # the first loop: found under gw.loop
        first = gw.loop
        assert first.is_closed()
        assert asyncio.run(ask())  # a new loop while gw.loop is the closed one: asked for, still this task
        assert gw.loop is first
    finally:
        gw.guard.close()
