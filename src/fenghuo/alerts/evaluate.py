"""Does a rule's condition hold for a service right now? ``None`` means "cannot say": fewer
samples than the rule's minimum, or a change baseline still warming up. The lifecycle keeps the
previous answer then, so a quiet service (or a restarted process with empty windows) neither
raises nor forgets a warning."""

from __future__ import annotations

import math
from dataclasses import dataclass

from fenghuo.alerts.rules import Rule
from fenghuo.monitor.indicators import Indicators


@dataclass
class Baseline:
    """Exponentially weighted mean and variance of one indicator of one service (in memory:
    after a restart a change rule warms up again, during which it holds its last state)."""

    mean: float = 0.0
    var: float = 0.0
    n: int = 0
    last: float = -math.inf

    def update(self, x: float, alpha: float) -> None:
        if self.n == 0:
            self.mean, self.var = x, 0.0
        else:
            d = x - self.mean
            incr = alpha * d
            self.mean += incr
            self.var = (1 - alpha) * (self.var + d * incr)
        self.n += 1

    def z(self, x: float) -> float:
        sd = math.sqrt(self.var)
        floor = max(1e-9, 0.01 * abs(self.mean))  # a flat baseline: small moves are not infinite
        return (x - self.mean) / max(sd, floor)


@dataclass(frozen=True)
class Measurement:
    holds: bool | None
    value: float
    samples: float


def measure(rule: Rule, indicators: Indicators, service: str, now: float,
            baselines: dict[tuple[str, str], Baseline] | None = None, step: float = 1.0) -> Measurement:
    value, samples = indicators.value(service, rule.indicator, rule.window, rule.category, now)
    if samples < rule.min_samples or (rule.min_samples and samples == 0):
        return Measurement(None, value, samples)
    if rule.threshold is not None:
        return Measurement(rule.threshold.holds(value), value, samples)
    ch = rule.change
    assert ch is not None and baselines is not None
    b = baselines.setdefault((rule.name, service), Baseline())
    holds: bool | None
    if b.n < ch.warmup:
        holds = None
    else:
        z = b.z(value)
        holds = z > ch.zscore if ch.direction == "up" else z < -ch.zscore if ch.direction == "down" else abs(z) > ch.zscore
    # learn the baseline once per step, and not from the anomaly it is meant to detect
    if not holds and now - b.last >= step:
        b.update(value, ch.alpha)
        b.last = now
    return Measurement(holds, value, samples)
