"""The optional C kernel of ingest (``_ingestnative.c``), bound to the event structs, or None.

None when it was not built (no compiler: setup.py lists it as optional) or when
``FENGHUO_NATIVE=0`` forces the Python/numpy paths, which stay the reference
(``tests/monitor/test_ingest_native.py`` holds both to the same results). Binding gives the
kernel the slot offsets of ``WireEvent``/``WireCheck`` fields, the enum members it compares
by identity and the counter columns, so nothing about the event's shape is written twice.
"""

from __future__ import annotations

import os
from typing import Any

from fenghuo.monitor.schema import CallStatus, EventType, Route
from fenghuo.monitor.window import COUNTERS
from fenghuo.monitor.wire import WireCheck, WireEvent

_EVENT_FIELDS = ("type", "instance", "state", "state_version", "failsafe", "route", "status", "latency_ms",
                 "tokens_in", "tokens_out", "input", "output", "service", "time")
_CHECK_FIELDS = ("blocked", "categories", "masked", "refused", "compliance_risk")
_MEMBERS = (EventType.call, EventType.complaint, EventType.factual_error, EventType.operator_note,
            EventType.external_signal, CallStatus.refused, CallStatus.upstream_error, CallStatus.upstream_timeout,
            Route.refused, Route.backup)
# the kernel's column order (its K_* enum) by name
_COLUMNS = ("calls", "refusals", "errors", "backup", "failsafe", "in_checked", "in_violations", "out_checked",
            "out_violations", "out_blocked", "complaints", "factual_errors", "operator_notes", "external_signals",
            "tokens_in", "tokens_out", "out_masked", "out_judged", "out_answer_refused", "out_compliance")


NCOL = len(COUNTERS) + 2  # colfold.NCOL: the counters, then latencies counted and zero latencies


def _load() -> Any:
    if os.environ.get("FENGHUO_NATIVE", "").strip() == "0":
        return None
    try:
        from fenghuo.monitor import _ingestnative
    except ImportError:
        return None
    _ingestnative.bind(WireEvent, WireCheck, _EVENT_FIELDS, _CHECK_FIELDS, _MEMBERS,
                       tuple(COUNTERS.index(c) for c in _COLUMNS), NCOL)
    return _ingestnative


KERNEL = _load()
