"""The fast msgspec decoder and the pydantic ``Event`` contract accept and refuse the same
documents, so guards built on ``schema.Event`` and ingest never disagree."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from fenghuo.monitor.schema import Event
from fenghuo.monitor.wire import decode_batch

BASE = {"id": "e1", "type": "call", "service": "svc", "time": "2026-01-01T00:00:00Z"}

CASES = [
    {},
    {"instance": "g-1", "state": "running", "state_version": 3, "route": "backup", "status": "ok", "latency_ms": 1.5},
    {"input": {"blocked": True, "categories": ["A1"], "risks": ["A1f"]}, "output": None},
    {"refusal": "paused", "status": "refused", "route": "refused"},
    {"type": "complaint", "detail": "投诉内容"},
    {"attributes": {"k": [1, 2]}},
    {"attributes": {}},
    {"attributes": None},
    {"time": "2026-01-01T08:00:00+08:00"},
    {"time": "2026-01-01T00:00:00"},
    {"id": ""},
    {"id": "x" * 65},
    {"type": "nope"},
    {"route": "sideways"},
    {"status": "fine"},
    {"latency_ms": -1},
    {"state_version": -1},
    {"tokens_in": 1.5},
    {"surprise": True},
    {"input": {"blocked": False, "extra": 1}},
    {"time": "yesterday"},
    {"detail": "x" * 4001},
    {"instance": "i" * 129},
    {"service": None},
]


@pytest.mark.parametrize("patch", CASES, ids=[json.dumps(c)[:40] for c in CASES])
def test_same_verdict(patch):
    doc = {**BASE, **patch}
    try:
        Event.model_validate_json(json.dumps(doc))
        pydantic_ok = True
    except ValidationError:
        pydantic_ok = False
    good, bad = decode_batch(json.dumps([doc]).encode())
    assert (len(good) == 1) == pydantic_ok, (doc, bad)
    if pydantic_ok:
        ours = good[0][1]
        theirs = Event.model_validate_json(json.dumps(doc))
        assert ours.epoch() == pytest.approx(theirs.time.timestamp() if theirs.time.tzinfo else
                                            theirs.time.replace(tzinfo=__import__("datetime").timezone.utc).timestamp())


def test_attributes_kept_and_absent_ones_unset():
    """Attributes sent are kept and re-encoded as sent; absent ones are left unset (no dict
    built per event, issue 19) and stay absent when the event is encoded again."""
    import msgspec

    from fenghuo.monitor.wire import decode_events, encode

    docs = [BASE, {**BASE, "id": "e2", "attributes": {"k": [1, 2]}}, {**BASE, "id": "e3", "attributes": {}}]
    events, _, bad = decode_events(json.dumps(docs).encode())
    assert not bad
    assert events[0].attributes is msgspec.UNSET
    assert events[1].attributes == {"k": [1, 2]} and events[2].attributes == {}
    again = json.loads(encode(events))
    assert "attributes" not in again[0] and again[1]["attributes"] == {"k": [1, 2]}
    assert [Event.model_validate(d).attributes for d in again] == [{}, {"k": [1, 2]}, {}]
