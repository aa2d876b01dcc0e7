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


def test_upstream_deadlines_cancel_only_the_calls_past_theirs():
    """One timer for every upstream call's timeout (guard.upstream._Deadlines): a call that ends
    in time is never cancelled and leaves the queue; one past its deadline is cancelled at it,
    not before; a shortened timeout (out of order) still fires on time."""
    from fenghuo.guard.upstream import _Deadlines

    async def main() -> None:
        loop = asyncio.get_running_loop()
        dl = _Deadlines(loop)
        got: dict[str, float] = {}

        async def call(name: str, timeout: float, lasts: float) -> None:
            e = dl.add(asyncio.current_task(), timeout)
            t0 = loop.time()
            try:
                await asyncio.sleep(lasts)
                got[name] = -1.0  # ended in time
            except asyncio.CancelledError:
                assert e.fired
                got[name] = loop.time() - t0
            finally:
                dl.done(e)

        quick = [loop.create_task(call(f"q{i}", 0.3, 0.01)) for i in range(50)]
        slow = loop.create_task(call("slow", 0.15, 1.0))  # shorter than the queued ones: a timer of its own
        late = loop.create_task(call("late", 0.3, 1.0))
        await asyncio.gather(*quick, slow, late)
        assert all(got[f"q{i}"] == -1.0 for i in range(50))
        assert 0.14 <= got["slow"] < 0.5 and 0.29 <= got["late"] < 0.7, got
        assert not dl.queue  # every call left the queue

        # many calls in turn: the queue holds about the calls in flight, not every call made
        for _ in range(200):
            e = dl.add(asyncio.current_task(), 60)
            await asyncio.sleep(0)
            dl.done(e)
        assert len(dl.queue) == 0
        assert dl.timer is not None  # armed for a call long ended: fires, finds nothing, stays off

    asyncio.run(main())


def test_a_call_hanging_at_the_front_does_not_keep_every_later_one_queued():
    from fenghuo.guard.upstream import _Deadlines

    async def main() -> None:
        dl = _Deadlines(asyncio.get_running_loop())
        me = asyncio.current_task()
        hung = dl.add(me, 60)
        for _ in range(3 * _Deadlines.COMPACT_AT):
            dl.done(dl.add(me, 60))
        assert len(dl.queue) < _Deadlines.COMPACT_AT and dl.queue[0] is hung
        dl.done(hung)
        dl.done(dl.add(me, 60))
        assert not dl.queue

    asyncio.run(main())
