"""Where the content checks run: in this process, on every local core, or on a Ray cluster.

An engine takes batches of texts in order and gives back, in the same order, one tuple per text:
``(verdict, categories, risks, pii kinds, blocking checks)``. Workers see texts only — no paths, no metadata,
no consent records — so whatever an engine does, the scan around it decides the same things;
results come back in batch order, so the Parquet file is the same row for row.

Memory stays flat: at most ``2 × workers`` batches are in flight; the reader waits for the
oldest before it reads on.

- ``inline``: one process (tests, one core, debugging);
- ``local`` (default): a spawned process per core, each loading the pipeline once (a fork
  would inherit it for free, but can inherit a lock held by the lexicon's reload thread);
- ``ray``: a Ray task per batch; each worker process loads the pipeline once (from the same
  config file) and keeps it.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

# (verdict, categories, risks, PII kinds, checks that blocked it — the CN-TC-10 stages)
Result = tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]

_PIPELINES: dict[str, Any] = {}


def pipeline_for(config: str | None):
    """The pipeline for a config path (None: the default), loaded once per process."""
    key = config or ""
    if key not in _PIPELINES:
        from fenghuo.checks.pipeline import load_pipeline

        _PIPELINES[key] = load_pipeline(config)
    return _PIPELINES[key]


def scan_texts(config: str | None, texts: list[str]) -> list[Result]:
    p = pipeline_for(config)
    out: list[Result] = []
    for text in texts:
        v = p.scan(text)
        cats = v.categories
        pii = tuple(c for c in cats if c.startswith("pii"))
        # A finding's rule is "<check>:<what>" (lexicon:出售冰毒, rules:drugs.trade, classifier:…).
        stages = tuple(sorted({f.rule.split(":", 1)[0] for f in v.findings if f.action.value == "block"}))
        out.append((v.verdict, tuple(cats), tuple(v.risks), pii, stages))
    return out


def local_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def run_inline(config: str | None, batches: Iterable[list[str]]) -> Iterator[list[Result]]:
    for texts in batches:
        yield scan_texts(config, texts)


def run_local(config: str | None, batches: Iterable[list[str]], workers: int) -> Iterator[list[Result]]:
    import multiprocessing as mp

    if workers <= 1:
        yield from run_inline(config, batches)
        return
    # Spawned, not forked: the lexicon reloads its files from a background thread holding a
    # lock, and a fork taken while it is held leaves the child waiting on that lock forever
    # (seen in the benchmark). Each worker loads the pipeline once, in its initializer.
    with mp.get_context("spawn").Pool(workers, initializer=pipeline_for, initargs=(config,)) as pool:
        pending: deque = deque()
        for texts in batches:
            pending.append(pool.apply_async(scan_texts, (config, texts)))
            if len(pending) >= 2 * workers:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


def run_ray(config: str | None, batches: Iterable[list[str]], address: str | None = None) -> Iterator[list[Result]]:
    import ray

    if not ray.is_initialized():
        ray.init(address=address, ignore_reinit_error=True, log_to_driver=False, include_dashboard=False)
    remote = ray.remote(scan_texts)
    slots = max(2, int(ray.cluster_resources().get("CPU", 1)) * 2)
    pending: deque = deque()
    for texts in batches:
        pending.append(remote.remote(config, texts))
        if len(pending) >= slots:
            yield ray.get(pending.popleft())
    while pending:
        yield ray.get(pending.popleft())


def run(engine: str, config: str | None, batches: Iterable[list[str]], *, workers: int | None = None,
        address: str | None = None) -> Iterator[list[Result]]:
    if engine == "inline":
        return run_inline(config, batches)
    if engine == "local":
        return run_local(config, batches, workers or local_cores())
    if engine == "ray":
        return run_ray(config, batches, address)
    raise ValueError(f"unknown engine {engine!r}")
