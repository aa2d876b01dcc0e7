"""The per-call rules of each state, on the cache alone (no server): canary shares, the token
bucket, degraded without a backup, lease expiry, and the lookup's cost."""

from __future__ import annotations

import random
import timeit

import pytest

from fenghuo.guard import errors
from fenghuo.guard.core import Guard
from fenghuo.guard.state import ServiceInfo, SwitchCache


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def guard(**kw) -> Guard:
    g = Guard("svc", checks=None, follow=False, sink=None, **kw)
    return g


def test_canary_share_goes_to_primary_rest_to_backup_or_refused():
    random.seed(7)
    g = guard(backup_model="small")
    g.cache.apply({"service": "svc", "state": "canary", "percent": 30, "version": 5})
    routes = [g.admit().route for _ in range(2000)]
    assert 0.25 < routes.count("primary") / 2000 < 0.35 and set(routes) == {"primary", "backup"}
    g.has_backup = False
    outcomes = []
    for _ in range(500):
        try:
            outcomes.append(g.admit().route)
        except errors.ServiceRefused as e:
            assert e.code == "service_canary" and e.status == 503
            outcomes.append("refused")
    assert 0.6 < outcomes.count("refused") / 500 < 0.8
    g.close(timeout=1)


def test_throttle_bucket_and_degraded_without_backup():
    g = guard()
    g.cache.apply({"service": "svc", "state": "throttled", "rate": 5, "version": 2})
    admitted = refused = 0
    for _ in range(20):
        try:
            g.admit()
            admitted += 1
        except errors.ServiceRefused as e:
            assert e.status == 429 and e.retry_after > 0
            refused += 1
    assert admitted == 5 and refused == 15  # a burst of one second's worth, then refusals
    g.cache.apply({"service": "svc", "state": "degraded", "version": 3})
    with pytest.raises(errors.ServiceRefused) as e:
        g.admit()
    assert e.value.code == "no_backup"
    g.close(timeout=1)


@pytest.mark.parametrize("mode,expect", [("closed", ("paused", True)), ("open", ("stopped", True))])
def test_lease_expiry_by_clock(mode, expect):
    clock = Clock()
    cache = SwitchCache(ServiceInfo("svc", mode, lease_seconds=10), clock=clock)
    cache.apply({"service": "svc", "state": "stopped", "version": 4})
    assert (cache.lookup().state, cache.lookup().failsafe) == ("stopped", False)
    clock.t = 10.5
    eff = cache.lookup()
    assert (eff.state, eff.failsafe) == expect and eff.version == 4
    cache.touch()
    assert cache.lookup().failsafe is False
    assert not cache.apply({"service": "svc", "state": "running", "version": 3})  # older versions are ignored
    assert not cache.apply({"service": "other", "state": "running", "version": 9})


def test_lookup_is_under_a_microsecond():
    cache = SwitchCache(ServiceInfo("svc", "closed", 30))
    cache.apply({"service": "svc", "state": "running", "version": 1})
    per = min(timeit.repeat(cache.lookup, number=100_000, repeat=5)) / 100_000
    assert per < 1e-6, f"{per * 1e9:.0f} ns"
