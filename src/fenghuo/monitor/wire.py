"""Fast decoding of event batches: the ``Event`` contract of ``schema.py`` mirrored as msgspec
structs.

Why a mirror: validating a 1,000-event batch with pydantic costs ~12 µs per event on our
2-core machine (measured: ``bench/bench_monitor.py``), which alone caps ingest below the
100,000 events/s target; msgspec decodes and validates the same batch in ~3 µs per event.
``schema.Event`` stays the contract (guards build events with it); ``tests/monitor/
test_wire_parity.py`` proves both accept and refuse the same documents, so the two cannot drift
silently.

Structs are created with ``gc=False``: they hold no reference cycles, and a batch of 1,000
tracked objects otherwise triggers the cyclic collector over the whole heap (measured: decode
time per event tripled once the process held a large dedup set). For the same reason check
categories decode as tuples and ``decode_events`` returns the events without one
``(index, event)`` tuple each: measured in the HTTP server (a large heap: FastAPI, SQLAlchemy,
the app), ~5 tracked allocations per event set off a full collection every ~25 batches,
~17 % of the server's time.

A batch that decodes whole takes the fast path. If any event is bad, the batch is split into
raw items and each is decoded alone, so the good ones are kept and every bad one is named by
its index and reason.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec

from fenghuo.monitor.schema import CallStatus, EventType, Refusal, Route

Str64 = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
NonNegInt = Annotated[int, msgspec.Meta(ge=0)]
NonNegFloat = Annotated[float, msgspec.Meta(ge=0)]


class WireCheck(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, gc=False):
    # Tuples, not lists: an empty array decodes to the shared empty tuple, so the common check
    # allocates no container the cyclic GC must track (see the module doc).
    blocked: bool = False
    categories: tuple[str, ...] = ()
    risks: tuple[str, ...] = ()
    masked: tuple[str, ...] = ()  # only masked: not a violation (schema.CheckSummary)
    refused: bool | None = None
    compliance_risk: bool | None = None


class WireEvent(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, gc=False):
    id: Str64
    type: EventType
    service: Str64
    time: datetime
    instance: Annotated[str, msgspec.Meta(max_length=128)] | None = None
    state: str | None = None
    state_version: NonNegInt | None = None
    failsafe: bool = False
    route: Route | None = None
    refusal: Refusal | None = None
    status: CallStatus | None = None
    model: str | None = None
    latency_ms: NonNegFloat | None = None
    tokens_in: NonNegInt | None = None
    tokens_out: NonNegInt | None = None
    input: WireCheck | None = None
    output: WireCheck | None = None
    label: bool | None = None
    stream: bool | None = None
    detail: Annotated[str, msgspec.Meta(max_length=4000)] | None = None
    # Unset when absent (nearly always), not ``{}``: msgspec builds a fresh dict for a mutable
    # default in every event, ~60 µs of a 1,000-event batch's ~1 ms decode (issue 19). Ingest
    # reads no attributes; an encoded event omits them either way.
    attributes: dict[str, Any] | msgspec.UnsetType = msgspec.UNSET

    def epoch(self) -> float:
        """Event time as UNIX seconds; a time without a zone is read as UTC (as pydantic does)."""
        t = self.time
        if t.tzinfo is None:
            t = t.replace(tzinfo=UTC)
        return t.timestamp()


# strict=False lets numbers stand for datetimes and "1" for ints where pydantic (lax mode) does.
_batch = msgspec.json.Decoder(list[WireEvent], strict=False)
_one = msgspec.json.Decoder(WireEvent, strict=False)
_raw_list = msgspec.json.Decoder(list[msgspec.Raw])
_encoder = msgspec.json.Encoder()


# An event is at most 3 deep (batch → event → checks → check); anything nested far deeper is
# refused as a whole instead of recursing until the interpreter gives up.
TOO_DEEP = "nested too deeply (limit max_depth) / 嵌套过深"


class BatchError(ValueError):
    """The body is not a batch at all (not JSON, not an array, not NDJSON)."""


def decode_batch(body: bytes) -> tuple[list[tuple[int, WireEvent]], list[dict[str, Any]]]:
    """Decode a JSON array or NDJSON body into ``(index, event)`` pairs plus rejections
    ``{"index", "reason"}``; raises BatchError if the body as a whole is unreadable."""
    head = body.lstrip()[:1]
    if head == b"[":
        try:
            return list(enumerate(_batch.decode(body))), []
        except msgspec.ValidationError:
            try:
                items = [bytes(r) for r in _raw_list.decode(body)]
            except msgspec.DecodeError as exc:  # pragma: no cover - decoded once already
                raise BatchError(f"body is not a JSON array: {exc}") from None
            except RecursionError:
                raise BatchError(TOO_DEEP) from None
        except msgspec.DecodeError as exc:
            raise BatchError(f"body is not a JSON array: {exc}") from None
        except RecursionError:  # msgspec's depth cap is the interpreter's (issue 14: was a 500)
            raise BatchError(TOO_DEEP) from None
    elif head == b"{":
        items = [line for line in body.split(b"\n") if line.strip()]
    elif not head:
        raise BatchError("empty body: send a JSON array or NDJSON of events")
    else:
        raise BatchError("body is neither a JSON array nor NDJSON of event objects")
    good: list[tuple[int, WireEvent]] = []
    bad: list[dict[str, Any]] = []
    for i, raw in enumerate(items):
        try:
            good.append((i, _one.decode(raw)))
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            bad.append({"index": i, "reason": str(exc).replace("`$", "`event")})
        except RecursionError:
            bad.append({"index": i, "reason": TOO_DEEP})
    return good, bad


def decode_events(body: bytes) -> tuple[list[WireEvent], list[int] | None, list[dict[str, Any]]]:
    """``decode_batch`` without a tuple per event: ``(events, indices, rejections)`` where
    ``indices`` is None when every event decoded (event i is item i of the body)."""
    if body.lstrip()[:1] == b"[":
        try:
            return _batch.decode(body), None, []
        except (msgspec.ValidationError, msgspec.DecodeError, RecursionError):
            pass  # decode_batch names the bad events, or raises BatchError for the body
    good, bad = decode_batch(body)
    return [e for _, e in good], [i for i, _ in good], bad


def encode(events: list[WireEvent]) -> bytes:
    return _encoder.encode(events)


def encode_built(raw: dict[str, Any]) -> bytes:
    """Validate one event built in Python (a guard's ``report``) against the contract and encode
    it as JSON; raises ``msgspec.ValidationError`` naming the bad field. ≈ 1 µs, where pydantic's
    validate + dump took ≈ 7 µs: a guard's telemetry thread runs this for every call, and at
    thousands of calls a second its batches held the interpreter lock long enough (≈ 3 ms per
    50 ms batch) to show up as the gateway's tail latency."""
    return _encoder.encode(msgspec.convert(raw, WireEvent, strict=False))
