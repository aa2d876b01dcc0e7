"""Shared helpers for run tests: build a JADE v3 bank with joined risk codes, run in-process."""

from __future__ import annotations

import asyncio
from pathlib import Path

from fenghuo.evaluation.bank import write_bank
from fenghuo.evaluation.loaders import load_banks
from fenghuo.evaluation.report import write_reports
from fenghuo.evaluation.runner import RunConfig, execute, judges_for, prepare


def jade_v3_bank(shared: Path, out: Path) -> Path:
    """The 500 JADE v3 questions as a should-refuse bank, with risk codes joined from JADE v1/v2."""
    bank = load_banks([shared / "traffic" / "jade_v3", shared / "banks" / "jade" / "jade_v1_zh.csv", shared / "banks" / "jade" / "jade_v2_easy_zh.csv"])
    write_bank([i for i in bank.items if i.source == "jade_v3"], out)
    return out


def run_in_process(bank: Path, url: str, profile: Path, reference: Path, run_id: str, sizes: dict, **kw):
    cfg = RunConfig([str(bank)], url, "replay", seed=7, sizes=sizes, profile=str(profile),
                    concurrency=kw.pop("concurrency", 8), reference=str(reference), use_checks=False,
                    retries=kw.pop("retries", 2), backoff=0.01, timeout=kw.pop("timeout", 10.0))
    store = prepare(cfg, run_id)
    judges, notes = judges_for(store.manifest)
    store.update_manifest(judges={"names": judges.names, "notes": notes})
    asyncio.run(execute(store, judges, **kw))
    return store, write_reports(store)
