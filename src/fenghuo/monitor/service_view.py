"""Read-only per-service views of the column store (``Indicators.services`` / ``service``):
one service's windows as ``Bucket`` totals and quantiles, its guard instances and its snapshot,
for the API, the console and the tests. The hot path never builds these.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from fenghuo.monitor.catalogue import CATALOGUE, quantile_of
from fenghuo.monitor.colfold import NC
from fenghuo.monitor.columns import ColumnWindow
from fenghuo.monitor.window import COUNTERS, Bucket, LogHistogram

if TYPE_CHECKING:
    from fenghuo.monitor.indicators import Indicators

LIVE_INSTANCE_SECONDS = 60.0  # a guard instance is "live" if it reported within this time


def bucket_of(counts: np.ndarray, cats: tuple | None, hist: LogHistogram | None = None) -> Bucket:
    b = Bucket()
    for c, v in zip(COUNTERS, counts[:NC].tolist()):
        setattr(b, c, v)
    if cats is not None:
        if cats[0]:
            b.own_categories("in").update(cats[0])
        if cats[1]:
            b.own_categories("out").update(cats[1])
    b.hist = hist
    return b


class WindowView:
    """One window of one service, as the per-service ``Window`` read: ``total`` (a Bucket built
    from the row), ``quantile``, ``expire``."""

    __slots__ = ("cw", "row", "length")

    def __init__(self, cw: ColumnWindow, row: int | None) -> None:
        self.cw, self.row, self.length = cw, row, cw.length

    def expire(self, now: float) -> None:
        self.cw.expire(now)

    @property
    def total(self) -> Bucket:
        if self.row is None:
            return Bucket()
        return bucket_of(self.cw.total[self.row], self.cw.cats.get(self.row), self.cw.hist(self.row))

    def quantile(self, q: float) -> tuple[float, int]:
        h = self.cw.hist(self.row) if self.row is not None else None
        if h is None or h.count == 0:
            return 0.0, 0
        return float(h.quantile(q) or 0.0), h.count


class _CountersOnly(WindowView):
    """A view whose ``total`` skips the histogram (the non-latency reads)."""

    __slots__ = ()

    @property
    def total(self) -> Bucket:
        return bucket_of(self.cw.total[self.row], self.cw.cats.get(self.row)) if self.row is not None else Bucket()


class ServiceView:
    """The windows and guard instances of one service (a view of the column store)."""

    __slots__ = ("ind", "service", "row")

    def __init__(self, ind: Indicators, service: str, row: int | None) -> None:
        self.ind, self.service, self.row = ind, service, row

    @property
    def windows(self) -> dict[str, WindowView]:
        return {name: WindowView(cw, self.row) for name, cw in self.ind.windows.items()}

    @property
    def instances(self) -> dict[str, list[Any]]:
        """instance -> [last seen (epoch), enforced state version, state, failsafe] (a copy)."""
        return {k: list(v) for k, v in self.ind.instances_of(self.service).items()}

    @property
    def last_applied(self) -> float:
        return float(self.ind.last_applied[self.row]) if self.row is not None else 0.0

    def expire(self, now: float) -> None:
        for cw in self.ind.windows.values():
            cw.expire(now)

    def value(self, indicator: str, window: str, category: str | None, now: float) -> tuple[float, float]:
        cw = self.ind.windows[window]
        cw.expire(now)
        d = CATALOGUE[indicator]
        if d.kind == "ms":
            return WindowView(cw, self.row).quantile(quantile_of(indicator))
        v = _CountersOnly(cw, self.row)
        return d.read(v.total, v, category)  # type: ignore[arg-type]

    def live_instances(self, now: float, within: float = LIVE_INSTANCE_SECONDS) -> dict[str, list[Any]]:
        return {k: list(v) for k, v in self.ind.instances_of(self.service).items() if v[0] >= now - within}

    def snapshot(self, now: float) -> dict[str, Any]:
        out: dict[str, Any] = {"service": self.service, "windows": {}}
        for name, w in self.windows.items():
            w.expire(now)
            t = w.total
            vals = {d.name: CATALOGUE[d.name].read(t, w, None)[0] for d in CATALOGUE.values()}  # type: ignore[arg-type]
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


class ServiceViews(Mapping[str, ServiceView]):
    """``Indicators.services``: service → view, for the services that have a row."""

    def __init__(self, ind: Indicators) -> None:
        self.ind = ind

    def __getitem__(self, service: str) -> ServiceView:
        return ServiceView(self.ind, service, self.ind.row_of[service])

    def __iter__(self):
        return iter(list(self.ind.row_of))

    def __len__(self) -> int:
        return len(self.ind.row_of)

    def __contains__(self, service: object) -> bool:
        return service in self.ind.row_of
