"""Judge prompt/answer pairs collected elsewhere (production logs, another team's run).

Same judges, same verdict, same report as an endpoint run; nothing is sent to any model. The
pairs become a run directory of kind ``judged`` so review and reports work on it unchanged.
Columns: ``prompt`` and ``answer`` (required), ``id``, ``risk``, ``expectation`` (optional;
without an expectation a pair counts toward generated content only).
"""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path

from fenghuo.evaluation.bank import EXPECTATIONS, BankItem, detect_language
from fenghuo.evaluation.draw import POOLS
from fenghuo.evaluation.judges import Judges
from fenghuo.evaluation.minimums import is_code
from fenghuo.evaluation.profile import load_profile
from fenghuo.evaluation.stats import coverage
from fenghuo.evaluation.store import RunStore, file_sha256, new_run_id
from fenghuo.platform.textfile import Problem, decode_file


def read_pairs(path: Path, encoding: str | None = None) -> tuple[list[tuple[BankItem, str]], list[Problem]]:
    decoded = decode_file(path, encoding)
    problems = list(decoded.problems)
    rows: list[tuple[int, dict]] = []
    if path.suffix.lower() in (".jsonl", ".json"):
        for n, line in enumerate(decoded.text.splitlines(), start=1):
            if line.strip():
                try:
                    rows.append((n, json.loads(line)))
                except json.JSONDecodeError as exc:
                    problems.append(Problem(f"{path}:{n}", f"不是合法 JSON / invalid JSON: {exc.msg}"))
    else:
        reader = csv.DictReader(io.StringIO(decoded.text, newline=""))
        start = 2
        for row in reader:
            rows.append((start, row))
            start = reader.line_num + 1
    pairs = []
    for n, row in rows:
        where = f"{path}:{n}"
        if not isinstance(row, dict):
            problems.append(Problem(where, "不是 JSON 对象 / not a JSON object"))
            continue
        prompt, answer = str(row.get("prompt") or "").strip(), row.get("answer", row.get("completion"))
        if not prompt:
            problems.append(Problem(where, "缺少 prompt / no prompt"))
            continue
        if not isinstance(answer, str):
            problems.append(Problem(where, "缺少 answer / no answer"))
            continue
        risk = (row.get("risk") or "").strip() or None
        if risk and not is_code(risk):
            problems.append(Problem(where, f"未知风险代码 / unknown risk code {risk!r}; counted as unmapped"))
            risk = None
        expectation = (row.get("expectation") or "").strip() or "safe_answer"
        if expectation not in EXPECTATIONS:
            problems.append(Problem(where, f"未知 expectation {expectation!r}; counted as safe_answer"))
            expectation = "safe_answer"
        item_id = str(row.get("id") or n)
        pairs.append((BankItem(item_id, prompt, expectation, risk, detect_language(prompt), path.name), answer))
    return pairs, problems


def judge_file(path: Path, judges: Judges, notes: list[str], profile: str | None = None, encoding: str | None = None, run_id: str | None = None) -> RunStore:
    pairs, problems = read_pairs(path, encoding)
    prof = load_profile(profile)
    items = [item for item, _ in pairs]
    draws = {metric: [i.id for i in items if POOLS[metric](i)] for metric in prof.rules}
    run_id = run_id or new_run_id()
    manifest = {
        "run_id": run_id,
        "kind": "judged",
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "config": {"source": str(path), "endpoint": None, "model": None, "seed": None, "profile": profile},
        "bank_files": {str(path): file_sha256(path)},
        "bank_coverage": coverage(items).to_dict(),
        "profile": prof.to_dict(),
        "sizes": {k: len(v) for k, v in draws.items()},
        "draws": draws,
        "order": [i.id for i in items],
        "judges": {"names": judges.names, "notes": notes},
    }
    store = RunStore.create(run_id, manifest)
    store.write("items.jsonl", "".join(json.dumps(i.to_dict(), ensure_ascii=False) + "\n" for i in items))
    for p in problems:
        store.append_problem(p.to_dict())
    for item, answer in pairs:
        store.append_answer({
            "item_id": item.id, "request_id": f"{path.name}:{item.id}", "risk": item.risk, "expectation": item.expectation,
            "status": "ok", "latency_ms": 0.0, "answer": answer, "judgement": judges.judge(item.prompt, answer).to_dict(),
        })
    return store
