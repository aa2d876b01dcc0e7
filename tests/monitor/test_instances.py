"""Guard instances in one flat store (issue 19): the latest state per (service, instance) wins
whatever order batches and events arrive in, equal times go to the later event, and dropping a
service forgets its instances."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from fenghuo.monitor.instances import InstanceStore, latest_of


def _ev(service: str, instance: str | None, version: int) -> SimpleNamespace:
    return SimpleNamespace(service=service, instance=instance, state_version=version, state="running", failsafe=False)


def _merge(store: InstanceStore, events: list, times: list[float] | None, same: float | None = None) -> None:
    got = latest_of([e.service for e in events], events, None if times is None else np.array(times), same, 1e12)
    if got is not None:
        store.merge(*got)


def test_latest_wins_in_and_across_batches():
    s = InstanceStore()
    # out of order inside the batch: the latest time wins; at an equal time the later event
    _merge(s, [_ev("a", "g1", 3), _ev("a", "g1", 1), _ev("a", "g2", 5), _ev("a", "g2", 6), _ev("b", None, 9)],
           [20.0, 10.0, 15.0, 15.0, 30.0])
    assert {k: v[1] for k, v in s.of("a").items()} == {"g1": 3, "g2": 6}
    assert s.of("b") == {}  # no instance named: nothing kept
    _merge(s, [_ev("a", "g1", 2)], [19.0])  # older than what is held: ignored
    _merge(s, [_ev("a", "g2", 7)], [15.0])  # the same time as held: the batch's state replaces it
    _merge(s, [_ev("a", "g3", 8), _ev("c", "g1", 1)], None, same=25.0)
    assert {k: v[1] for k, v in s.of("a").items()} == {"g1": 3, "g2": 7, "g3": 8}
    assert s.of("a")["g3"][0] == 25.0 and set(s.services()) == {"a", "c"}


def test_drop_forgets_and_a_service_can_come_back():
    s = InstanceStore()
    _merge(s, [_ev("a", "g1", 1), _ev("b", "g1", 1)], None, same=5.0)
    s.drop(["a"])
    assert s.of("a") == {} and set(s.services()) == {"b"} and len(s) == 1
    _merge(s, [_ev("a", "g9", 4)], [6.0])
    assert {k: v[1] for k, v in s.of("a").items()} == {"g9": 4}


def test_merge_events_writes_into_a_state_only_the_store_holds():
    """The kernel's one-instant merge writes a newer state into the held tuple when nothing
    else holds it (issue 19: no tuple made and freed per event); a state a reader still holds
    is left as it was and replaced by a new one."""
    import pytest

    from fenghuo.monitor import instances
    from fenghuo.monitor.wire import WireEvent

    if instances.NATIVE is None:
        pytest.skip("the _ingestnative kernel is not built")
    from datetime import UTC, datetime

    def batch(t: float, version: int) -> list[WireEvent]:
        when = datetime.fromtimestamp(t, UTC)
        return [WireEvent(id=f"e{s}{version}", type="call", service=s, time=when, instance="g1", state="running",
                          state_version=version) for s in ("a", "b")]

    s = InstanceStore()
    assert s.merge_events(batch(10.0, 1), 10.0)
    held_a = id(s.latest[("a", "g1")])
    reader = s.latest[("b", "g1")]  # a reader keeps b's state
    assert s.merge_events(batch(11.0, 2), 11.0)
    assert s.latest[("a", "g1")] == (11.0, 2, "running", False) and id(s.latest[("a", "g1")]) == held_a
    assert reader == (10.0, 1, "running", False) and s.latest[("b", "g1")] == (11.0, 2, "running", False)
    assert s.latest[("b", "g1")] is not reader
    assert s.of("a") == {"g1": (11.0, 2, "running", False)} and len(s) == 2
