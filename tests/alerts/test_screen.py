"""The rule screen (issue 19) never misses: every service for which ``measure`` says a rule
holds is sent to the per-service pass, and the change rules' baselines, learned as arrays for
the others, equal what ``measure`` learns service by service."""

from __future__ import annotations

import random

import pytest

from fenghuo.alerts.evaluate import Baseline, measure
from fenghuo.alerts.rules import parse_rules
from fenghuo.alerts.screen import Screen
from fenghuo.monitor.directory import ServiceInfo
from fenghuo.monitor.indicators import Indicators
from tests.monitor.test_fold import T0, WINDOWS, random_event

RULES = """
rules:
  - {name: viol, services: {grades: [L3]}, indicator: output_violation_rate, window: 1m,
     threshold: {op: ">", value: 0.3}, for: 0s, min_samples: 3, level: red, description: x}
  - {name: viol-cat, services: {sectors: [medical]}, indicator: output_violation_rate, category: A1, window: 5m,
     threshold: {op: ">=", value: 0.1}, for: 0s, min_samples: 1, level: red, description: x}
  - {name: err, indicator: error_rate, window: 5m, threshold: {op: ">", value: 0.1}, for: 0s, min_samples: 2,
     level: blue, description: x}
  - {name: calls-low, indicator: calls, window: 1h, threshold: {op: "<", value: 3}, for: 0s, min_samples: 1,
     level: blue, description: x}
  - {name: risky, indicator: risky_compliance_rate, window: 5m, threshold: {op: ">=", value: 0.2}, for: 0s,
     min_samples: 1, level: blue, description: x}
  - {name: complaints, indicator: complaints, window: 1h, threshold: {op: ">=", value: 2}, for: 0s,
     level: yellow, description: x}
  - {name: p99, services: {grades: [L2, L3]}, indicator: latency_p99, window: 5m, threshold: {op: ">", value: 900},
     for: 0s, min_samples: 5, level: blue, description: x}
  - {name: p50, indicator: latency_p50, window: 1m, threshold: {op: ">=", value: 40}, for: 0s, min_samples: 2,
     level: blue, description: x}
  - {name: p95-low, indicator: latency_p95, window: 1m, threshold: {op: "<", value: 5}, for: 0s, min_samples: 2,
     level: blue, description: x}
  - {name: surge, indicator: output_violation_rate, window: 1m, change: {zscore: 1.5, alpha: 0.3, warmup: 3},
     for: 0s, min_samples: 1, level: blue, description: x}
  - {name: refusals-down, services: {labels: {tier: gold}}, indicator: refusal_rate, window: 5m,
     change: {zscore: 1, direction: both, warmup: 2}, for: 0s, min_samples: 1, level: blue, description: x}
"""


def _infos(n: int, rng: random.Random) -> dict[str, ServiceInfo]:
    return {f"s{i}": ServiceInfo(f"s{i}", "p", rng.choice(["L1", "L2", "L3"]), rng.choice(["medical", "finance"]), "cn",
                                 {"tier": rng.choice(["gold", "iron"])}) for i in range(n)}


@pytest.mark.parametrize("seed", range(5))
def test_screen_never_misses_and_baselines_learn_the_same(seed):
    """One screen per rule, so each rule is held to its own answer: a threshold rule on
    counts flags exactly the services where it holds (plus open warnings); a latency rule at
    least those; a change rule's baselines equal ``measure``'s, service by service."""
    rng = random.Random(seed)
    rules = parse_rules(RULES, windows=WINDOWS)
    infos = _infos(60, rng)
    ind = Indicators(WINDOWS)
    screens = {r.name: Screen([r], ind) for r in rules}
    mapped = {name: sc.baselines() for name, sc in screens.items()}
    plain: dict[tuple[str, str], Baseline] = {}
    held = {r.name: 0 for r in rules}
    now, n = T0, 0
    for step in range(25):
        batch = []
        for _ in range(rng.choice([20, 120, 400])):
            e = random_event(rng, n, now)
            e.service = f"s{rng.randrange(len(infos) + 3)}"  # a few services nobody registered
            batch.append(e)
            n += 1
        ind.apply(batch, now)
        touched = sorted({e.service for e in batch})
        open_services = {s for s in touched if rng.random() < 0.05}
        for r in rules:
            flagged = set(screens[r.name].run(touched, infos, open_services, now))
            step_s = ind.window_lengths[r.window] / 60
            for s in touched:
                info = infos.get(s)
                if info is None or not r.services.matches(info):
                    assert s not in flagged
                    continue
                want = measure(r, ind, s, now, plain, step=step_s)
                held[r.name] += bool(want.holds)
                if want.holds or s in open_services:
                    assert s in flagged, (step, r.name, s, want)
                elif r.threshold is not None and not r.indicator.startswith("latency"):
                    assert s not in flagged, (step, r.name, s, want)
                if s in flagged:  # the per-service pass, against the screen's baselines
                    m = measure(r, ind, s, now, mapped[r.name], step=step_s)
                    assert (m.holds, m.value) == (want.holds, want.value)
        for (rule, s), b in plain.items():
            got = mapped[rule].setdefault((rule, s), Baseline())
            assert (got.n, got.mean, got.var, got.last) == (b.n, b.mean, b.var, b.last), (step, rule, s)
        now += rng.choice([0.5, 2.0, 7.0, 30.0])
    assert all(held[k] for k in ("viol", "err", "calls-low", "p99", "p50", "surge")), held


GROUPED = """
rules:
  - {name: err-l3, services: {grades: [L3]}, indicator: error_rate, window: 5m, threshold: {op: ">", value: 0.05},
     for: 0s, min_samples: 2, level: red, description: x}
  - {name: err-med, services: {sectors: [medical]}, indicator: error_rate, window: 5m, threshold: {op: ">", value: 0.3},
     for: 0s, min_samples: 2, level: blue, description: x}
  - {name: err-all, indicator: error_rate, window: 5m, threshold: {op: ">", value: 0.6}, for: 0s, min_samples: 2,
     level: blue, description: x}
  - {name: err-gold, services: {labels: {tier: gold}}, indicator: error_rate, window: 5m,
     threshold: {op: ">=", value: 0.2}, for: 0s, min_samples: 2, level: blue, description: x}
  - {name: calls-low-l1, services: {grades: [L1]}, indicator: calls, window: 1h, threshold: {op: "<", value: 4},
     for: 0s, min_samples: 1, level: blue, description: x}
  - {name: calls-low-fin, services: {sectors: [finance]}, indicator: calls, window: 1h, threshold: {op: "<", value: 9},
     for: 0s, min_samples: 1, level: blue, description: x}
"""


@pytest.mark.parametrize("seed", range(4))
def test_grouped_thresholds_flag_exactly_where_a_rule_holds(seed):
    """Threshold rules on one indicator, op and minimum, selecting different services, share one
    screened column (the loosest threshold of the rules selecting each service): one screen for
    all of them flags exactly the services where some rule holds."""
    rng = random.Random(seed)
    rules = parse_rules(GROUPED, windows=WINDOWS)
    infos = _infos(60, rng)
    ind = Indicators(WINDOWS)
    screen = Screen(rules, ind)
    assert screen.grp_read.size == 3  # (error_rate, >), (error_rate, >=), (calls, <)
    now, n, hits = T0, 0, 0
    for _ in range(20):
        batch = []
        for _ in range(rng.choice([20, 120, 400])):
            e = random_event(rng, n, now)
            e.service = f"s{rng.randrange(len(infos))}"
            batch.append(e)
            n += 1
        ind.apply(batch, now)
        touched = sorted({e.service for e in batch})
        flagged = set(screen.run(touched, infos, set(), now))
        want = {s for s in touched for r in rules if r.services.matches(infos[s]) and measure(r, ind, s, now).holds}
        assert flagged == want
        hits += len(want)
        now += rng.choice([0.5, 2.0, 7.0, 30.0])
    assert hits
