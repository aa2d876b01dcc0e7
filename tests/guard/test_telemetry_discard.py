"""A sink that keeps nothing (NullSink: a guard without a control plane) gets nothing: emit()
counts the event discarded and returns, so the worker neither wakes for it nor encodes it
(issue 19: the embedded gateway encoded every event for a sink that then dropped it)."""

from __future__ import annotations

import threading

from fenghuo.guard.telemetry import NullSink, Telemetry


class _Counting:
    def __init__(self) -> None:
        self.batches: list[int] = []

    def send(self, body: bytes, count: int) -> None:
        self.batches.append(count)


def test_a_discarding_sink_is_never_handed_an_event():
    sent: list[bytes] = []

    class Null(NullSink):
        def send(self, body: bytes, count: int) -> None:
            sent.append(body)

    tel = Telemetry(Null(), linger_seconds=0.001)
    try:
        for i in range(1000):
            tel.emit({"id": i, "unencodable": object()})  # would be counted invalid if it were encoded
        assert not tel._q  # never queued
        assert tel.flush(5)
        st = tel.stats
        assert st["emitted"] == 1000 and st["discarded"] == 1000, st
        assert st["invalid"] == 0 and st["dropped"] == 0 and st["sent"] == 0 and not sent, st
    finally:
        tel.close(timeout=2)


def test_discarded_counts_add_up_across_threads():
    tel = Telemetry(None)  # no sink: a NullSink
    try:
        def run() -> None:
            for _ in range(5000):
                tel.emit({"x": 1})

        ts = [threading.Thread(target=run) for _ in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        st = tel.stats
        assert st["emitted"] == st["discarded"] == 20_000 and st["dropped"] == 0, st
    finally:
        tel.close(timeout=2)


def test_a_sink_that_keeps_events_still_gets_them_encoded():
    sink = _Counting()
    tel = Telemetry(sink, linger_seconds=0.001)
    try:
        tel.emit({"id": "x", "unencodable": object()})  # not a valid event: counted invalid by the worker
        assert tel.flush(5)
        assert tel.stats["invalid"] == 1 and tel.stats["discarded"] == 0
    finally:
        tel.close(timeout=2)
