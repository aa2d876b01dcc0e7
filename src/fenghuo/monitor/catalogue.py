"""The indicator catalogue: every indicator a rule may name, how it reads a window's counts
(a ``Bucket``) and what it means. Kept apart from the column store (indicators.py) so the rules,
the console and /metrics can list what is measured without the store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fenghuo.monitor.window import Bucket, Window


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


def quantile_of(indicator: str) -> float:
    """The quantile a latency indicator reads (latency_p99 → 0.99)."""
    return float(indicator.rpartition("_p")[2]) / 100
