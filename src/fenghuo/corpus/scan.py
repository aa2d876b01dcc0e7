"""``corpus scan``: the content checks over every sample or a seeded fraction (CN-TC-01/02,
CN-TC-10, CN-TC-27), PII joined against consent records (CN-TC-07/08).

A pipeline of small stages, as in ``alerts``: read (``readers``) → select (``figures.selected``)
→ batch → check (``engines``) → join consent → write one Parquet row per scanned sample and count
per source. The counts and the results hash are folded as the rows stream past, so nothing
grows with the corpus except the list of unconsented PII (capped in the summary; complete in
the Parquet file).
"""

from __future__ import annotations

import hashlib
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from fenghuo.corpus import engines
from fenghuo.corpus.consent import load_consents
from fenghuo.corpus.figures import (
    TECHNICAL_MIN_FRACTION,
    TECHNICAL_PASS_MIN,
    pass_rate,
    selected,
    source_figures,
)
from fenghuo.corpus.manifest import Manifest
from fenghuo.corpus.provenance import consent_matches
from fenghuo.corpus.readers import Sample, read_corpus

BATCH = 256
UNCONSENTED_LISTED = 1000
WRITE_ROWS = 32_768


@dataclass(frozen=True)
class Settings:
    fraction: float = 1.0
    seed: int = 0
    checks: str | None = None  # pipeline config path; None: the packaged default
    engine: str = "local"  # inline | local | ray
    workers: int | None = None
    address: str | None = None
    batch: int = BATCH

    def recorded(self) -> dict[str, Any]:
        """What decides the numbers (not how fast they came): engine and workers are left out
        on purpose, since every engine gives the same result."""
        return {"fraction": self.fraction, "seed": self.seed, "checks": self.checks or "default"}


@dataclass
class Tally:
    samples: int = 0  # read, selected or not
    scanned: int = 0
    harmful: int = 0
    unreadable: int = 0
    flagged: int = 0
    pii: int = 0
    pii_unconsented: int = 0
    categories: Counter = field(default_factory=Counter)
    blocked_by: Counter = field(default_factory=Counter)  # check -> harmful samples it blocked (CN-TC-10 stages)


class ResultsWriter:
    """Per-sample rows to Parquet in large row groups; None path: count and hash only."""

    COLUMNS = ("source", "file", "line", "verdict", "harmful", "categories", "risks", "pii", "blocked_by", "consent_id",
               "consented", "error")

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.rows: dict[str, list] = {c: [] for c in self.COLUMNS}
        self.writer = None
        self.digest = hashlib.sha256()

    def add(self, row: tuple) -> None:
        self.digest.update(orjson.dumps(row))
        self.digest.update(b"\n")
        if self.path is None:
            return
        for c, v in zip(self.COLUMNS, row):
            self.rows[c].append(v)
        if len(self.rows["source"]) >= WRITE_ROWS:
            self.flush()

    def _schema(self):
        import pyarrow as pa

        s, lst = pa.string(), pa.list_(pa.string())
        return pa.schema([("source", s), ("file", s), ("line", pa.int64()), ("verdict", s), ("harmful", pa.bool_()),
                          ("categories", lst), ("risks", lst), ("pii", lst), ("blocked_by", lst), ("consent_id", s),
                          ("consented", pa.bool_()),
                          ("error", s)])

    def flush(self) -> None:
        if self.path is None:
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self.writer is None:
            self.writer = pq.ParquetWriter(str(self.path), self._schema(), compression="zstd")
        self.writer.write_table(pa.table(self.rows, schema=self._schema()))
        self.rows = {c: [] for c in self.COLUMNS}

    def close(self) -> str:
        self.flush()
        if self.writer is not None:
            self.writer.close()
        return self.digest.hexdigest()


def _batches(samples: Iterator[Sample], s: Settings, tallies: dict[str, Tally], held: deque,
             progress: Callable[[int], None] | None) -> Iterator[list[str]]:
    """Selected, readable samples in batches of texts; their Sample objects wait in ``held``."""
    chunk: list[Sample] = []
    for smp in samples:
        t = tallies[smp.source]
        t.samples += 1
        if progress is not None and t.samples % 1000 == 0:
            progress(1000)
        if not selected(s.seed, s.fraction, smp.source, smp.file, smp.line):
            continue
        chunk.append(smp)
        if len(chunk) >= s.batch:
            held.append(chunk)
            yield [x.text or "" for x in chunk]
            chunk = []
    if chunk:
        held.append(chunk)
        yield [x.text or "" for x in chunk]


def run_scan(m: Manifest, s: Settings, out: Path | None, progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    consents = load_consents(m.consent_records)
    tallies = {src.id: Tally() for src in m.sources}
    writer = ResultsWriter(out)
    unconsented: list[dict[str, Any]] = []
    held: deque = deque()
    batches = _batches(read_corpus(m.sources), s, tallies, held, progress)
    for results in engines.run(s.engine, s.checks, batches, workers=s.workers, address=s.address):
        for smp, (verdict, cats, risks, pii, stages) in zip(held.popleft(), results):
            t = tallies[smp.source]
            consent_id = smp.meta.get("consent_id")
            if smp.error is not None:
                t.unreadable += 1
                writer.add((smp.source, smp.file, smp.line, "error", False, [], [], [], [], consent_id, None, smp.error))
                continue
            t.scanned += 1
            harmful = verdict == "block"
            t.harmful += harmful
            t.flagged += verdict == "flag"
            t.categories.update(cats)
            t.blocked_by.update(stages)
            consented = None
            if pii:
                t.pii += 1
                consented = consents is not None and consent_matches(consents, consent_id, smp.meta.get("user_id"))
                if not consented:
                    t.pii_unconsented += 1
                    if len(unconsented) < UNCONSENTED_LISTED:
                        unconsented.append({"source": smp.source, "file": smp.file, "line": smp.line,
                                            "pii": list(pii), "consent_id": consent_id})
            writer.add((smp.source, smp.file, smp.line, verdict, harmful, list(cats), list(risks), list(pii), list(stages),
                        consent_id, consented, None))
    if progress is not None:
        progress(sum(t.samples for t in tallies.values()) % 1000)
    results_sha = writer.close()
    return summarise(m, s, tallies, unconsented, results_sha)


def summarise(m: Manifest, s: Settings, tallies: dict[str, Tally], unconsented: list, results_sha: str) -> dict[str, Any]:
    sources = []
    for src in m.sources:
        t = tallies[src.id]
        fig = source_figures(src.id, t.scanned, t.harmful)
        fig.update({"kind": src.kind, "language": src.language, "samples": t.samples, "unreadable": t.unreadable,
                    "flagged": t.flagged, "pii": t.pii, "pii_unconsented": t.pii_unconsented,
                    "categories": dict(sorted(t.categories.items())), "blocked_by": dict(sorted(t.blocked_by.items()))})
        sources.append(fig)
    samples = sum(t.samples for t in tallies.values())
    scanned = sum(t.scanned for t in tallies.values())
    harmful = sum(t.harmful for t in tallies.values())
    totals = source_figures("total", scanned, harmful)
    del totals["id"], totals["verdict"]
    categories: Counter = Counter()
    blocked_by: Counter = Counter()
    for t in tallies.values():
        categories.update(t.categories)
        blocked_by.update(t.blocked_by)
    technical = pass_rate(scanned - harmful, scanned, TECHNICAL_PASS_MIN, 1)
    share = scanned / samples if samples else 0.0
    if share + 1e-12 < TECHNICAL_MIN_FRACTION:
        technical["status"] = "insufficient"
    totals.update({
        "samples": samples, "fraction": s.fraction, "seed": s.seed, "scanned_share": round(share, 6),
        "unreadable": sum(t.unreadable for t in tallies.values()),
        "pii": sum(t.pii for t in tallies.values()),
        "pii_unconsented": sum(t.pii_unconsented for t in tallies.values()),
        "do_not_use": [x["id"] for x in sources if x["verdict"] == "do-not-use"],
        "categories": dict(sorted(categories.items())),
        "blocked_by": dict(sorted(blocked_by.items())),  # CN-TC-10: harmful samples each check blocked (overlapping)
        "technical_sample": technical,  # CN-TC-27: ≥ 10 % of the corpus, ≥ 98 % passing
    })
    return {"corpus": m.name, "manifest_sha256": m.sha256, "checks": list(engines.pipeline_for(s.checks).names),
            "sources": sources, "totals": totals, "unconsented_pii": unconsented, "results_sha256": results_sha}
