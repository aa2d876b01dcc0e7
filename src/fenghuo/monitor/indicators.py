"""Per-service indicators over sliding windows: what rules read, the API shows and /metrics
exports.

``Indicators.apply`` is the hot path of ingest: it folds a batch into one partial bucket per
(service, second) with per-batch column counts (fold.py) and only then into each window, so
there is no per-event Python work beyond reading each field once, whatever the number of
windows.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from fenghuo.monitor.fold import partials
from fenghuo.monitor.window import Bucket, Window
from fenghuo.monitor.wire import WireEvent

DEFAULT_WINDOWS = {"1m": 60.0, "5m": 300.0, "1h": 3600.0}
LIVE_INSTANCE_SECONDS = 60.0  # a guard instance is "live" if it reported within this time


def _ratio(num: float, den: float) -> tuple[float, float]:
    return (num / den if den else 0.0), den


def _quantile(q: float) -> Callable[[Bucket, Window, str | None], tuple[float, float]]:
    def read(total: Bucket, window: Window, _c: str | None) -> tuple[float, float]:
        return window.quantile(q)
    return read


@dataclass(frozen=True)
class IndicatorDef:
    name: str
    kind: str  # "rate" (0..1), "count", "ms"
    read: Callable[[Bucket, Window, str | None], tuple[float, float]]
    by_category: bool = False
    help: str = ""


def _violations(side: str) -> Callable[[Bucket, Window, str | None], tuple[float, float]]:
    def read(t: Bucket, _w: Window, category: str | None) -> tuple[float, float]:
        checked = getattr(t, f"{side}_checked")
        if category:
            return _ratio(getattr(t, f"{side}_categories").get(category, 0), checked)
        return _ratio(getattr(t, f"{side}_violations"), checked)
    return read


# The catalogue: a rule may only name an indicator listed here (so `rules check` can refuse
# a condition that nothing measures). ``samples`` is what min_samples is compared with.
CATALOGUE: dict[str, IndicatorDef] = {d.name: d for d in [
    IndicatorDef("calls", "count", lambda t, w, c: (t.calls, t.calls), help="model calls / 调用次数"),
    IndicatorDef("refusals", "count", lambda t, w, c: (t.refusals, t.calls), help="refused calls / 拒绝次数"),
    IndicatorDef("refusal_rate", "rate", lambda t, w, c: _ratio(t.refusals, t.calls), help="share of calls refused / 拒答率"),
    IndicatorDef("error_rate", "rate", lambda t, w, c: _ratio(t.errors, t.calls), help="upstream errors and timeouts / 错误率"),
    IndicatorDef("backup_share", "rate", lambda t, w, c: _ratio(t.backup, t.calls), help="share served by the backup model / 备份承载比例"),
    IndicatorDef("failsafe_share", "rate", lambda t, w, c: _ratio(t.failsafe, t.calls), help="share decided on a guard's fail-safe / 失效保护比例"),
    IndicatorDef("input_violation_rate", "rate", _violations("in"), True, "inputs flagged by the checks / 输入违规率"),
    IndicatorDef("output_violation_rate", "rate", _violations("out"), True, "outputs flagged by the checks / 输出违规率"),
    # Masking is not a violation (issue 12 item 7): PII the guard masked has its own rate.
    IndicatorDef("output_masked_rate", "rate", lambda t, w, c: _ratio(t.out_masked, t.out_checked),
                 help="outputs with something masked (PII) / 输出脱敏率"),
    # Answers judged in the context of their prompt (issue 12 item 5): of the answers the model
    # gave (judged, not refused), the share that complied with a harmful request.
    IndicatorDef("risky_compliance_rate", "rate", lambda t, w, c: _ratio(t.out_compliance, t.out_judged - t.out_answer_refused),
                 help="answered calls that complied with a harmful request / 有害请求顺从率"),
    IndicatorDef("answer_refusal_rate", "rate", lambda t, w, c: _ratio(t.out_answer_refused, t.out_judged),
                 help="judged answers in which the model refused / 模型拒答率"),
    IndicatorDef("latency_p50", "ms", _quantile(0.50), help="latency median, ms / 延迟中位数"),
    IndicatorDef("latency_p95", "ms", _quantile(0.95), help="latency p95, ms"),
    IndicatorDef("latency_p99", "ms", _quantile(0.99), help="latency p99, ms"),
    IndicatorDef("complaints", "count", lambda t, w, c: (t.complaints, t.complaints), help="user complaints / 投诉"),
    IndicatorDef("factual_errors", "count", lambda t, w, c: (t.factual_errors, t.factual_errors), help="factual-error reports / 事实性错误报告"),
]}


class ServiceIndicators:
    """The windows and guard instances of one service."""

    __slots__ = ("service", "windows", "instances", "last_applied")

    def __init__(self, service: str, windows: dict[str, float]) -> None:
        self.service = service
        self.windows = {name: Window(length) for name, length in windows.items()}
        self.last_applied = 0.0  # when a batch last added to it (the eviction clock)
        # instance id -> [last seen (epoch), enforced state version, state, failsafe]
        self.instances: dict[str, list[Any]] = {}

    def expire(self, now: float) -> None:
        for w in self.windows.values():
            w.expire(now)

    def value(self, indicator: str, window: str, category: str | None, now: float) -> tuple[float, float]:
        w = self.windows[window]
        w.expire(now)
        return CATALOGUE[indicator].read(w.total, w, category)

    def live_instances(self, now: float, within: float = LIVE_INSTANCE_SECONDS) -> dict[str, list[Any]]:
        return {k: v for k, v in self.instances.items() if v[0] >= now - within}

    def snapshot(self, now: float) -> dict[str, Any]:
        out: dict[str, Any] = {"service": self.service, "windows": {}}
        for name, w in self.windows.items():
            w.expire(now)
            t = w.total
            vals = {d.name: CATALOGUE[d.name].read(t, w, None)[0] for d in CATALOGUE.values()}
            vals["input_violations_by_category"] = dict(t.in_categories)
            vals["output_violations_by_category"] = dict(t.out_categories)
            vals["guard_instances"] = len(self.live_instances(now, w.length))
            out["windows"][name] = {k: (round(v, 6) if isinstance(v, float) else v) for k, v in vals.items()}
        live = self.live_instances(now)
        versions: dict[str, int] = {}
        for _seen, version, _state, _fs in live.values():
            versions[str(version)] = versions.get(str(version), 0) + 1
        out["guards"] = {"live": len(live), "enforced_versions": versions,
                         "failsafe": sum(1 for v in live.values() if v[3])}
        return out


class Indicators:
    """All services' indicators; thread-safe (the ingest handler writes, rules and API read).

    Memory is bounded by configuration, not by the events counted (issue 19): a service whose
    last batch is older than the longest window (plus the live-instance time) has empty windows
    and no live instance, so it reads exactly as a service never seen, and a sweep every
    ``SWEEP_SECONDS`` drops it; ``max_services`` (optional) also bounds how many are kept,
    dropping the least recently updated first."""

    SWEEP_SECONDS = 30.0

    def __init__(self, windows: dict[str, float] | None = None, max_services: int | None = None) -> None:
        self.window_lengths = dict(windows or DEFAULT_WINDOWS)
        self.services: dict[str, ServiceIndicators] = {}
        self.lock = threading.RLock()
        self.events_applied = 0
        self.max_services = max_services
        self.idle_seconds = max(self.window_lengths.values(), default=0.0) + LIVE_INSTANCE_SECONDS
        self.evicted_total = 0
        self._swept_at = 0.0

    def evict(self, now: float) -> int:
        """Drop services idle past every window (and, over ``max_services``, the stalest)."""
        with self.lock:
            idle = [k for k, v in self.services.items() if v.last_applied < now - self.idle_seconds]
            for k in idle:
                del self.services[k]
            # over the cap: down to 90 % of it, so the sort is not repeated on every batch
            over = len(self.services) - int(self.max_services * 0.9) if self.max_services and len(self.services) > self.max_services else 0
            if over > 0:
                stalest = sorted(self.services.values(), key=lambda v: v.last_applied)[:over]
                for v in stalest:
                    del self.services[v.service]
            dropped = len(idle) + max(over, 0)
            self.evicted_total += dropped
            self._swept_at = now
            return dropped

    def service(self, service: str) -> ServiceIndicators:
        s = self.services.get(service)
        if s is None:
            s = self.services[service] = ServiceIndicators(service, self.window_lengths)
        return s

    def apply(self, events: Iterable[WireEvent], now: float,
              sink: Callable[[list[tuple[str, int, Bucket]]], None] | None = None) -> set[str]:
        """Fold validated, deduplicated events in; returns the services touched. The batch is
        folded outside the lock (see fold.py), then each (service, second) partial is added to
        every window. ``sink`` (the durable hourly summaries, monitor.summaries) gets the same
        partials, so they are folded once."""
        events = events if isinstance(events, list) else list(events)
        if not events:
            return set()
        parts, seen = partials(events, now)
        if sink is not None:
            sink(parts)
        touched: set[str] = set()
        with self.lock:
            self.events_applied += len(events)
            for service, second, p in parts:
                s = self.service(service)
                s.last_applied = now
                touched.add(service)
                for w in s.windows.values():
                    w.add(second, p, now)
            for service, inst in seen.items():
                known = self.service(service).instances
                for k, v in inst.items():
                    if k not in known or v[0] >= known[k][0]:
                        known[k] = v
            if now - self._swept_at >= self.SWEEP_SECONDS or (self.max_services and len(self.services) > self.max_services):
                self.evict(now)
        return touched

    def value(self, service: str, indicator: str, window: str, category: str | None, now: float) -> tuple[float, float]:
        with self.lock:
            s = self.services.get(service)
            if s is None:
                return 0.0, 0
            return s.value(indicator, window, category, now)

    def snapshot(self, service: str, now: float) -> dict[str, Any]:
        with self.lock:
            return self.service(service).snapshot(now)

    def series(self, service: str, indicator: str, window: str, now: float) -> list[tuple[float, float]]:
        """One indicator per bucket of a window, oldest first, as (bucket start in UNIX seconds,
        value): what the console draws as a small chart. Latency quantiles are read from each
        bucket's own histogram; a bucket without calls reads 0."""
        d = CATALOGUE[indicator]
        with self.lock:
            s = self.services.get(service)
            if s is None or window not in s.windows:
                return []
            w = s.windows[window]
            w.expire(now)
            out = []
            for key in sorted(w.buckets):
                b = w.buckets[key]
                if d.kind == "ms":
                    q = float(indicator.rpartition("_p")[2]) / 100
                    v = float(b.hist.quantile(q) or 0.0) if b.hist is not None and b.hist.count else 0.0
                else:
                    v = d.read(b, w, None)[0]
                out.append((key * w.width, float(v)))
            return out

