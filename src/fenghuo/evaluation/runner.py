"""Run a drawn sample against an endpoint: prepare once, execute (and re-execute) until done.

``prepare`` loads the banks, draws, and freezes everything into the run directory (including
the drawn questions themselves, so resuming never depends on the bank files still being
there). ``execute`` asks every question that has no recorded answer yet with a fixed pool of
workers, judges each answer as it arrives and appends it; stopping it (Ctrl-C, SIGTERM) lets
in-flight questions finish and be recorded, so a resumed run asks nothing twice.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from fenghuo.evaluation.bank import BankItem
from fenghuo.evaluation.client import ChatClient
from fenghuo.evaluation.draw import ask_order, draw
from fenghuo.evaluation.judges import Judges, default_judges
from fenghuo.evaluation.loaders import load_banks
from fenghuo.evaluation.profile import expand_generated, load_profile
from fenghuo.evaluation.stats import coverage
from fenghuo.evaluation.store import RunStore, file_sha256, new_run_id, read_jsonl
from fenghuo.platform import freshness
from fenghuo.platform.clock import iso


@dataclass(slots=True)
class RunConfig:
    banks: list[str]
    endpoint: str
    model: str
    seed: int = 0
    sizes: dict[str, int] | None = None  # None: the profile's min_n for each metric
    profile: str | None = None
    fmt: str | None = None
    encoding: str | None = None
    concurrency: int = 8
    rate: float | None = None
    timeout: float = 60.0
    retries: int = 3
    backoff: float = 0.5
    reference: str | None = None  # recorded answers with known labels (JADE v3 triples)
    use_checks: bool = True
    extra: dict = field(default_factory=lambda: {"temperature": 0})


def prepare(config: RunConfig, run_id: str | None = None, base: Path | None = None) -> RunStore:
    """Create the run directory: bank problems, coverage, draws, questions and manifest."""
    profile = load_profile(config.profile)
    bank = load_banks(config.banks, config.fmt, config.encoding)
    sizes = expand_generated(config.sizes) if config.sizes else {k: r.min_n for k, r in profile.rules.items()}
    draws = draw(bank.items, sizes, config.seed)
    order = ask_order(draws, config.seed)
    run_id = run_id or new_run_id()
    files = [p for b in config.banks for p in (sorted(Path(b).rglob("*")) if Path(b).is_dir() else [Path(b)]) if p.is_file()]
    manifest = {
        "run_id": run_id,
        "kind": "endpoint",
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "config": asdict(config),
        "bank_files": {str(p): file_sha256(p) for p in files},
        "bank_updated": iso(u) if (u := freshness.newest(files)) else None,  # CN-TC-21: monthly update
        "bank_coverage": coverage(bank.items).to_dict(),
        "profile": profile.to_dict(),
        "sizes": sizes,
        "draws": draws,
        "order": order,
    }
    store = RunStore.create(run_id, manifest, base)
    wanted = set(order)
    lines = [json.dumps(i.to_dict(), ensure_ascii=False) for i in bank.items if i.id in wanted]
    store.write("items.jsonl", "\n".join(lines) + "\n")
    for problem in bank.problems:
        store.append_problem(problem.to_dict())
    return store


def judges_for(manifest: dict) -> tuple[Judges, list[str]]:
    """Rebuild a run's judges from its manifest (same on first start and on resume)."""
    from fenghuo.replay.loader import load_answers

    cfg = manifest["config"]
    reference = load_answers(cfg["reference"]) if cfg.get("reference") else None
    return default_judges(reference, cfg.get("use_checks", True))


def load_items(store: RunStore) -> dict[str, BankItem]:
    return {d["id"]: BankItem(**d) for d in read_jsonl(store.path / "items.jsonl")}


class GroupWriter:
    """Appends answers from one background task: whatever queued up meanwhile goes in one write
    and one fsync (group commit), so disk flushes never stall the event loop per question.

    ``put`` waits until the record is on disk, so an answer counts as done only once it is.
    """

    def __init__(self, store: RunStore) -> None:
        self.store = store
        self.pending: list[tuple[dict, asyncio.Future]] = []
        self.wake = asyncio.Event()
        self.closed = False
        self.task: asyncio.Task | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._run())

    async def put(self, record: dict) -> None:
        future = asyncio.get_running_loop().create_future()
        self.pending.append((record, future))
        self.wake.set()
        await future

    async def _run(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            batch, self.pending = self.pending, []
            if batch:
                try:
                    await asyncio.to_thread(self.store.append_answers, [r for r, _ in batch])
                except Exception as exc:  # noqa: BLE001 - the disk failed: every waiting worker must know
                    for _, fut in batch:
                        fut.set_exception(exc)
                    continue
                for _, fut in batch:
                    fut.set_result(None)
            if self.closed and not self.pending:
                return

    async def close(self) -> None:
        self.closed = True
        self.wake.set()
        if self.task:
            await self.task


async def execute(
    store: RunStore,
    judges: Judges,
    *,
    endpoint: str | None = None,
    concurrency: int | None = None,
    retry_errors: bool = False,
    stop: asyncio.Event | None = None,
    on_answer=None,
    limit: int | None = None,
) -> dict:
    """Ask every question without a recorded answer; returns counts for this session."""
    manifest = store.manifest
    cfg = manifest["config"]
    items = load_items(store)
    done = {r["item_id"] for r in store.answers() if r.get("status") == "ok" or not retry_errors}
    todo = [i for i in manifest["order"] if i not in done and i in items]
    if limit is not None:
        todo = todo[:limit]
    workers = max(1, concurrency or cfg["concurrency"])
    client = ChatClient(
        endpoint or cfg["endpoint"], cfg["model"], timeout=cfg["timeout"], retries=cfg["retries"],
        backoff=cfg["backoff"], rate=cfg["rate"], concurrency=workers, extra=cfg.get("extra"),
    )
    queue: asyncio.Queue[str] = asyncio.Queue()
    for item_id in todo:
        queue.put_nowait(item_id)
    stop = stop or asyncio.Event()
    counts = {"asked": 0, "ok": 0, "errors": 0, "todo": len(todo), "already_done": len(done)}
    writer = GroupWriter(store)

    async def worker() -> None:
        while not stop.is_set():
            try:
                item_id = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            item = items[item_id]
            request_id = f"{store.run_id}/{item_id}"
            reply = await client.ask(item.messages(), request_id)
            counts["asked"] += 1
            record = {
                "item_id": item_id,
                "request_id": request_id,
                "risk": item.risk,
                "expectation": item.expectation,
                "status": "ok" if reply.ok else "error",
                "latency_ms": round(reply.latency_ms, 2),
                "attempts": reply.attempts,
                "http_status": reply.status,
                "request": {"model": cfg["model"], "messages": item.messages()},
                "answer": reply.text,
                "reply_model": reply.model,
                "error": reply.error,
                "at": time.time(),
            }
            if reply.ok:
                counts["ok"] += 1
                record["judgement"] = judges.judge(item.prompt, reply.text).to_dict()
            else:
                counts["errors"] += 1
                store.append_problem({"where": request_id, "message": reply.error, "kind": "endpoint"})
            await writer.put(record)
            if on_answer:
                on_answer(record)

    writer.start()
    try:
        await asyncio.gather(*(worker() for _ in range(min(workers, max(1, len(todo))))))
    finally:
        await writer.close()
        await client.close()
    counts["interrupted"] = stop.is_set() and not queue.empty()
    return counts
