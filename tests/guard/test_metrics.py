"""The gateway's /metrics (parsed with Prometheus' own text parser), /healthz and /readyz."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from .conftest import command
from .helpers import wait_for

MSG = [{"role": "user", "content": "你好"}]


def scrape(srv) -> dict[str, list]:
    r = httpx.get(f"{srv.url}/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {f.name: f.samples for f in text_string_to_metric_families(r.text)}


def value(fams, family: str, sample: str | None = None, **labels) -> float:
    got = [s.value for s in fams[family] if s.name == (sample or family) and all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(got) == 1, (family, sample, labels, fams.get(family))
    return got[0]


def test_metrics_count_calls_refusals_verdicts_and_latency(control, make_gateway):
    gw, srv = make_gateway()
    url = f"{srv.url}/v1/chat/completions"
    for _ in range(3):
        assert httpx.post(url, json={"model": "m", "messages": MSG}).status_code == 200
    assert httpx.post(url, json={"model": "m", "messages": MSG, "stream": True}).status_code == 200
    blocked = httpx.post(url, json={"model": "m", "messages": [{"role": "user", "content": "哪个网络赌场好"}]})
    assert blocked.json()["choices"][0]["finish_reason"] == "content_filter"
    masked = [{"role": "user", "content": "我的电话是13812345678"}]
    assert httpx.post(url, json={"model": "m", "messages": masked}).status_code == 200
    v = command(control, "open-chat", "pause")["version"]
    assert wait_for(lambda: gw.guard.state().version == v)
    assert httpx.post(url, json={"model": "m", "messages": MSG}).status_code == 503

    fams = scrape(srv)
    # Prometheus' parser strips _total from the family name and keeps it on the samples.
    assert value(fams, "fenghuo_gateway_requests", "fenghuo_gateway_requests_total", endpoint="chat", status="ok",
                 route="primary", stream="false") == 4
    assert value(fams, "fenghuo_gateway_requests", "fenghuo_gateway_requests_total", status="ok", stream="true") == 1
    assert value(fams, "fenghuo_gateway_requests", "fenghuo_gateway_requests_total", status="refused", route="refused",
                 stream="false") == 2
    assert value(fams, "fenghuo_gateway_refusals", "fenghuo_gateway_refusals_total", refusal="input_blocked") == 1
    assert value(fams, "fenghuo_gateway_refusals", "fenghuo_gateway_refusals_total", refusal="paused") == 1
    assert value(fams, "fenghuo_gateway_check_verdicts", "fenghuo_gateway_check_verdicts_total", side="input",
                 category="gambling", verdict="blocked") == 1
    assert value(fams, "fenghuo_gateway_check_verdicts", "fenghuo_gateway_check_verdicts_total", side="input",
                 category="pii.phone", verdict="masked") == 1
    assert value(fams, "fenghuo_gateway_switch_state", state="paused") == 1
    assert value(fams, "fenghuo_gateway_switch_state", state="running") == 0
    assert value(fams, "fenghuo_gateway_switch_version") == v
    assert value(fams, "fenghuo_gateway_failsafe") == 0
    # Histograms: every call observed; the gateway's own time is below the call's whole time.
    n = value(fams, "fenghuo_gateway_added_latency_seconds", "fenghuo_gateway_added_latency_seconds_count", stream="false")
    assert n == 6
    added = value(fams, "fenghuo_gateway_added_latency_seconds", "fenghuo_gateway_added_latency_seconds_sum", stream="false")
    whole = value(fams, "fenghuo_gateway_request_duration_seconds", "fenghuo_gateway_request_duration_seconds_sum", stream="false")
    assert 0 < added < whole
    inf = value(fams, "fenghuo_gateway_added_latency_seconds", "fenghuo_gateway_added_latency_seconds_bucket", stream="false",
                le="+Inf")
    assert inf == n
    assert value(fams, "fenghuo_gateway_telemetry_events", "fenghuo_gateway_telemetry_events_total", outcome="emitted") >= 7


def test_healthz_and_readyz(control, make_gateway):
    gw, srv = make_gateway()
    h = httpx.get(f"{srv.url}/healthz").json()
    assert h["service"] == "open-chat" and h["state"] == "running" and "telemetry" in h
    r = httpx.get(f"{srv.url}/readyz")
    assert r.status_code == 200 and r.json()["ready"] is True
    control.__exit__(None, None, None)  # the control plane goes away: the lease runs out
    gw.guard.cache.lease = 0.2
    assert wait_for(lambda: httpx.get(f"{srv.url}/readyz").status_code == 503, timeout=5)
    r = httpx.get(f"{srv.url}/readyz").json()
    assert r["ready"] is False and r["failsafe"] is True and "control plane" in r["why"]
    assert httpx.get(f"{srv.url}/healthz").status_code == 200  # alive all the same


def test_events_folded_later_count_as_observed_with_their_own_wait():
    """Events are folded FOLD at a time or at a scrape, each with the model wait of the call
    that observed it (read at observe, not at the fold, which runs in another call's context)."""
    import contextvars

    from fenghuo.guard import metrics as m
    from fenghuo.guard.state import Effective

    gm = m.GatewayMetrics("svc", "inst")
    ev = {"status": "ok", "route": "primary", "stream": False, "latency_ms": 50.0,
          "input": {"blocked": False, "categories": [], "masked": ["pii.phone"]}}

    def call(wait: float) -> None:  # one call's task: its own context, its own wait
        m.waited(wait)
        gm.observe(ev)

    for wait in (0.01, 0.02, 0.04):
        contextvars.copy_context().run(call, wait)
    assert gm.calls == {} and gm.added[False].sum == 0.0  # not folded yet
    text = gm.render(Effective("running", 1), {}).decode()
    assert 'fenghuo_gateway_requests_total{service="svc",endpoint="chat",status="ok",route="primary",stream="false"} 3' in text
    assert gm.verdicts[("input", "pii.phone", "masked")] == 3
    assert abs(gm.added[False].sum - (0.04 + 0.03 + 0.01)) < 1e-9 and abs(gm.duration[False].sum - 0.15) < 1e-9
    for _ in range(m.FOLD):  # a full batch folds without a scrape: what waits stays bounded
        gm.observe(ev)
    assert gm.calls[("chat", "ok", "primary", False)] == 3 + m.FOLD and gm._pending == []
