"""Ingest over real HTTP: batches, NDJSON, per-event rejections, dedup, limits."""

from __future__ import annotations

import json
import time

from tests.monitor.helpers import call, other


def post(api, events, who="admin", ndjson=False):
    if ndjson:
        body = "\n".join(json.dumps(e) for e in events)
        return api("POST", "/api/v1/events", who, content=body, headers={"content-type": "application/x-ndjson"})
    return api("POST", "/api/v1/events", who, json=events)


def ind(api, service, window="1m"):
    r = api("GET", f"/api/v1/indicators/{service}")
    assert r.status_code == 200, r.text
    return r.json()["windows"][window]


def test_batch_counts_calls_violations_latency_and_reports(api):
    now = time.time()
    events = [call("a-chat", now, latency=100 + i) for i in range(90)]
    events += [call("a-chat", now, unsafe=True, category="A1") for _ in range(6)]
    events += [call("a-chat", now, unsafe=True, category="B2") for _ in range(4)]
    events += [call("a-chat", now, route="backup"), call("a-chat", now, status="refused", route="refused")]
    events += [other("complaint", "a-chat", now, detail="bad"), other("factual_error", "a-chat", now)]
    r = post(api, events)
    assert r.status_code == 200, r.text
    assert r.json() == {"accepted": len(events), "duplicates": 0, "rejected": []}
    w = ind(api, "a-chat")
    assert w["calls"] == 102
    assert w["refusals"] == 1
    assert w["backup_share"] == round(1 / 102, 6)
    assert w["output_violation_rate"] == round(10 / 102, 6)
    assert w["output_violations_by_category"] == {"A1": 6, "B2": 4}
    assert w["complaints"] == 1 and w["factual_errors"] == 1
    assert 100 <= w["latency_p50"] <= 150
    assert w["guard_instances"] == 1


def test_ndjson_is_accepted(api):
    now = time.time()
    r = post(api, [call("a-chat", now), call("a-chat", now)], ndjson=True)
    assert r.json()["accepted"] == 2
    assert ind(api, "a-chat")["calls"] == 2


def test_bad_events_are_named_and_good_ones_kept(api):
    now = time.time()
    events = [
        call("a-chat", now),
        {"id": "x1", "type": "call", "service": "a-chat"},  # no time
        call("nope", now),  # unknown service
        call("a-chat", now + 3600),  # far future
        call("a-chat", now - 7200),  # far past
        call("a-chat", now, latency=-5),  # schema: ge=0
        {**call("a-chat", now), "surprise": 1},  # unknown field
        call("a-chat", now),
    ]
    r = post(api, events)
    body = r.json()
    assert r.status_code == 200
    assert body["accepted"] == 2
    rejected = {x["index"]: x["reason"] for x in body["rejected"]}
    assert sorted(rejected) == [1, 2, 3, 4, 5, 6]
    assert "time" in rejected[1]
    assert "unknown service: nope" in rejected[2]
    assert "future" in rejected[3]
    assert "past" in rejected[4]
    assert "latency_ms" in rejected[5]
    assert "surprise" in rejected[6]
    assert ind(api, "a-chat")["calls"] == 2  # nothing from the bad events leaked in


def test_duplicates_count_once_within_and_across_batches(api):
    now = time.time()
    e = call("a-chat", now, id="dup-1")
    assert post(api, [e, e]).json() == {"accepted": 1, "duplicates": 1, "rejected": []}
    assert post(api, [e]).json() == {"accepted": 0, "duplicates": 1, "rejected": []}
    assert ind(api, "a-chat")["calls"] == 1


def test_operator_may_only_report_for_its_own_services(api):
    now = time.time()
    r = post(api, [call("a-chat", now), call("b-chat", now)], who="op_a")
    assert r.json()["accepted"] == 1
    assert "may not report" in r.json()["rejected"][0]["reason"]
    assert post(api, [call("a-chat", now)], who="reg_bj").status_code == 403


def test_unreadable_and_oversized_batches_are_refused_whole(api):
    r = api("POST", "/api/v1/events", content=b"not json")
    assert r.status_code == 422 and "unreadable" in r.json()["error"]["message"]
    r = api("POST", "/api/v1/events", content=b"[1, 2")
    assert r.status_code == 422
    big = [call("a-chat", time.time()) for _ in range(5001)]
    r = api("POST", "/api/v1/events", content=json.dumps(big, separators=(",", ":")).encode())
    assert r.status_code == 413
    assert ind(api, "a-chat")["calls"] == 0


def test_metrics_are_prometheus_text(api):
    now = time.time()
    post(api, [call("a-chat", now, unsafe=True), call("a-chat", now)])
    r = api("GET", "/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert 'fenghuo_calls{service="a-chat",window="1m"} 2.0' in text
    assert 'fenghuo_output_violation_rate_ratio{service="a-chat",window="1m"} 0.5' in text
    assert 'fenghuo_output_violations_by_category{service="a-chat",window="1m",category="A1"} 1' in text
    assert "# TYPE fenghuo_latency_p99_ms gauge" in text


def test_coverage_per_jurisdiction(api):
    now = time.time()
    post(api, [call("a-chat", now, version=1), call("b-chat", now, version=99)])
    rows = {r["jurisdiction"]: r for r in api("GET", "/api/v1/coverage", "reg_cn").json()}
    assert rows["cn"]["registered"] == 3 and rows["cn"]["monitored"] == 2
    assert rows["cn-bj"]["unmonitored"] == ["a-med"]
    assert rows["cn-bj"]["enforcing_current"] == 1  # a-chat's switch is at version 1
    assert rows["cn-sh"]["stale_version"] == ["b-chat"]
    only_bj = api("GET", "/api/v1/coverage", "reg_bj").json()
    assert {r["jurisdiction"]: r["registered"] for r in only_bj}["cn"] == 2  # scope: sees only Beijing's services
