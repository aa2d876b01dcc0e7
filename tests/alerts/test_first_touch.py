"""First touch at scale (issue 19): the alert screen finds the rule set of rows it has not met
by gathers (row -> directory slot -> kind -> rule set) instead of looking every service up in
the directory's dict. What it answers must be what the lookup by name answers, and a kind is
matched against the rules once, not once per service."""

from __future__ import annotations

import random

import numpy as np
import pytest

from fenghuo.alerts.rules import parse_rules
from fenghuo.alerts.screen import Screen
from fenghuo.control import services as registry
from fenghuo.monitor.directory import Directory, ServiceInfo
from fenghuo.monitor.indicators import Indicators
from fenghuo.registry.spec import RegistrationFile, ServiceSpec
from tests.alerts.test_screen import RULES
from tests.monitor.helpers import ADMIN
from tests.monitor.test_fold import T0, WINDOWS
from tests.monitor.test_reserve import _distinct


class _CountingInfos(dict):
    """The directory's services, counting lookups by ``get`` (how the screen reads them)."""

    gets = 0

    def get(self, key, default=None):
        type(self).gets += 1
        return super().get(key, default)


def _directory(db, n: int, rng: random.Random) -> tuple[Directory, _CountingInfos]:
    """A directory publishing ``n`` services of a few kinds (grade, sector, tier label)."""
    d = Directory(db)
    infos = _CountingInfos()
    for i in range(n):
        grade, sector, labels = rng.choice(["L1", "L2", "L3"]), rng.choice(["medical", "finance"]), {"tier": rng.choice(["gold", "iron"])}
        infos[f"s{i}"] = ServiceInfo(f"s{i}", "p", grade, sector, "cn", labels, d.kind_of(grade, sector, labels))
    with d._lock:
        d._publish(infos, d._slots(infos, {}))
    return d, infos


def test_directory_publishes_each_slots_kind(db):
    d = Directory(db)
    d.reload()
    services, kinds = d.services_and_kinds
    assert services is d.services and kinds.size == len(d.names)
    assert all(kinds[d.slot_of[s]] == info.kind for s, info in services.items())
    spec = {"id": "new-svc", "name": "N", "provider": "pa", "sector": "finance", "function": "content_generation",
            "modalities": ["text"], "reach": 10, "no_human_in_loop": False}
    registry.register(db, ADMIN, RegistrationFile(services=[ServiceSpec.model_validate(spec)]))
    d.catch_up()  # only the changed service's kind is set, in a copy of the array held
    services, after = d.services_and_kinds
    assert after is not kinds and after.size == len(d.names) == 4
    assert all(after[d.slot_of[s]] == info.kind for s, info in services.items())
    assert after[:3].tolist() == kinds.tolist()


@pytest.mark.parametrize("seed", range(3))
def test_rule_sets_by_kind_are_the_rule_sets_by_name(db, seed):
    rng = random.Random(seed)
    rules = parse_rules(RULES, windows=WINDOWS)
    d, infos = _directory(db, 400, rng)
    ind = Indicators(WINDOWS)
    by_kind, by_name = Screen(rules, ind), Screen(rules, ind)
    names = list(infos)
    n = 0
    for k in range(6):
        picked = list(dict.fromkeys(rng.choice(names) for _ in range(120)))
        batch = _distinct(rng, picked, T0 + k, n)
        n += len(batch)
        slots = np.array([d.slot_of[e.service] for e in batch], dtype=np.int64)
        ind.apply(batch, T0 + k, slot_of=slots)
        with ind.lock:
            services, rows = ind.batch_rows(batch)
        _, kinds = d.services_and_kinds
        _CountingInfos.gets = 0
        got = by_kind._sigs_of(services, rows, infos, kinds)
        # a service the screen has not met is looked up by name only for a kind not met before
        looked = _CountingInfos.gets
        assert looked <= len({infos[s].kind for s in services})
        want = by_name._sigs_of(services, rows, infos)
        assert got.tolist() == want.tolist()
        # the same rule sets (rows of ``applies``) either way, whatever their numbering
        assert np.array_equal(by_kind.applies[got], by_name.applies[want])
        assert by_kind.run(services, infos, set(), T0 + k, rows, kinds) == by_name.run(services, infos, set(), T0 + k, rows)
    assert looked == 0  # 12 kinds: by the last batch all were met before
    assert int((by_kind._kind_sig_arr >= 0).sum()) == len({i.kind for i in infos.values()}) == 12


def test_rows_without_a_slot_or_kind_are_looked_up_by_name(db):
    rng = random.Random(4)
    rules = parse_rules(RULES, windows=WINDOWS)
    d, infos = _directory(db, 50, rng)
    ind = Indicators(WINDOWS)
    screen, ref = Screen(rules, ind), Screen(rules, ind)
    plain = _distinct(rng, ["s1", "s2", "s3"], T0, 0)
    ind.apply(plain, T0)  # rows made by name: no slot known for them
    with ind.lock:
        services, rows = ind.batch_rows(plain)
    _, kinds = d.services_and_kinds
    assert screen._sigs_of(services, rows, infos, kinds).tolist() == ref._sigs_of(services, rows, infos).tolist()
    # a slot whose kind the array does not hold (-1): the same answer, by name
    batch = _distinct(rng, ["s4", "s5"], T0, 10)
    ind.apply(batch, T0, slot_of=np.array([d.slot_of["s4"], d.slot_of["s5"]], dtype=np.int64))
    with ind.lock:
        services, rows = ind.batch_rows(batch)
    holey = kinds.copy()
    holey[d.slot_of["s5"]] = -1
    _CountingInfos.gets = 0
    got = screen._sigs_of(services, rows, infos, holey)
    assert _CountingInfos.gets == 2 and got.tolist() == ref._sigs_of(services, rows, infos).tolist()
