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

import msgspec

from fenghuo.monitor.schema import CallStatus, EventType, Refusal, Route
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


# every field, in the decoder's order (_ingestdecode.h), with the default it fills in when absent
_DECODE_EVENT = {"id": ..., "type": ..., "service": ..., "time": ..., "instance": None, "state": None,
                 "state_version": None, "failsafe": False, "route": None, "refusal": None, "status": None,
                 "model": None, "latency_ms": None, "tokens_in": None, "tokens_out": None, "input": None,
                 "output": None, "label": None, "stream": None, "detail": None, "attributes": msgspec.UNSET}
_DECODE_CHECK = {"blocked": False, "categories": (), "risks": (), "masked": (), "refused": None,
                 "compliance_risk": None}

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
    if _decoder_fits():
        _ingestnative.bind_decoder(WireEvent, WireCheck, tuple(_DECODE_EVENT), tuple(_DECODE_CHECK),
                                   tuple(tuple(e) for e in (EventType, Route, Refusal, CallStatus)), msgspec.UNSET)
    return _ingestnative


def _decoder_fits() -> bool:
    """Whether the structs still have exactly the fields and defaults the C decoder fills in;
    if the contract grew a field, ingest keeps msgspec's decoding (``decoder`` is None) until
    the decoder learns it."""
    def defaults(t: type) -> dict[str, Any]:
        f = t.__struct_fields__
        d = t.__struct_defaults__
        return dict(zip(f, (...,) * (len(f) - len(d)) + d))
    return defaults(WireEvent) == _DECODE_EVENT and defaults(WireCheck) == _DECODE_CHECK


KERNEL = _load()
# the C batch decoder (``_ingestdecode.h``) when it is bound: ``decoder(body)`` -> events or None
decoder = KERNEL.decode_batch if KERNEL is not None and _decoder_fits() else None
