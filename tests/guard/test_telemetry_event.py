"""A call event's check summaries built on the short path are the same dicts, and the same
wire bytes, as the general path's (issue 19: the summary of a side without findings and with
one judged choice skips the sets, sorts and generators)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from fenghuo.checks.base import Action, Finding, Verdict
from fenghuo.guard.checking import Checked, summarise
from fenghuo.monitor.wire import decode_events, encode_built


def _reference(findings, blocked, judgements=None) -> dict:
    """The summary as it was built before the short path (one general loop)."""
    cats, risks, masked = set(), set(), set()
    for f in findings:
        (masked if f.action.value == "mask" else cats).add(f.category)
        if f.risk:
            risks.add(f.risk)
    out = {"blocked": blocked, "categories": sorted(cats), "risks": sorted(risks)}
    if masked:
        out["masked"] = sorted(masked - cats)
    if judgements:
        out["refused"] = all(j.refused for j in judgements)
        out["compliance_risk"] = any(j.compliance_risk for j in judgements)
    return out


FINDINGS = [
    [],
    [Finding("gambling", 0, 2, "lexicon", Action.FLAG, "A1a")],
    [Finding("pii.cn_phone", 3, 14, "pii", Action.MASK), Finding("violence", 0, 2, "rules", Action.BLOCK, "A1c", 0.9)],
]
JUDGED = [None, []] + [[SimpleNamespace(refused=r, compliance_risk=c) for r, c in combo]
                       for n in (1, 2) for combo in itertools.product(itertools.product((False, True), repeat=2), repeat=n)]


@pytest.mark.parametrize("findings", FINDINGS)
@pytest.mark.parametrize("blocked", [False, True])
def test_summaries_equal_the_general_path(findings, blocked):
    for judged in JUDGED:
        got = summarise(findings, blocked, judged)
        want = _reference(findings, blocked, judged)
        assert got == want and list(got) == list(want)  # same keys in the same order: same bytes
        assert all(type(got[k]) is type(want[k]) for k in want)


def test_a_call_event_encodes_to_the_same_bytes():
    judged = [SimpleNamespace(refused=False, compliance_risk=False)]
    inp = Checked(Verdict(), "你好", False)
    for findings in FINDINGS:
        ev = {"id": "0190f3c4-0000-7000-8000-000000000001", "type": "call", "service": "svc",
              "time": datetime(2026, 12, 5, 6, 0, tzinfo=UTC), "instance": "gw-1", "state": "normal", "state_version": 3,
              "failsafe": False, "route": "primary", "refusal": None, "status": "ok", "model": "m", "tokens_in": 12,
              "tokens_out": 30, "label": True, "stream": False, "detail": None, "latency_ms": 0.5}
        new = encode_built({**ev, "input": inp.summary, "output": summarise(findings, False, judged)})
        old = encode_built({**ev, "input": _reference([], False), "output": _reference(findings, False, judged)})
        assert new == old
        events, _, bad = decode_events(b"[" + new + b"]")
        assert not bad and events[0].status == "ok"
