"""Our own test-bank format: one JSON object a line, one question each.

Fields: ``id``, ``prompt``, optional ``history`` (earlier turns as ``{role, content}``),
``language``, ``risk`` (an appendix A code, or null when the question maps onto none),
``expectation`` (``refuse`` / ``answer`` / ``safe_answer``), ``source`` and optional
``category`` (the source's own label, kept so a mapping can be re-checked).

Every public format is loaded into this one shape, so stats, draws and runs have one thing to
understand. A bad line is a :class:`Problem` with file and line, never an exception that loses
the rest of the bank.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from fenghuo.evaluation.minimums import is_code, topic_code
from fenghuo.platform.textfile import Problem, decode_file

EXPECTATIONS = ("refuse", "answer", "safe_answer")
_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass(slots=True)
class BankItem:
    id: str
    prompt: str
    expectation: str
    risk: str | None = None
    language: str = "zh"
    source: str = ""
    category: str | None = None
    history: list[dict] = field(default_factory=list)
    topic: str | None = None  # CN-TC-23: one of the 13 topics of the should-answer bank (minimums.ANSWER_TOPICS)

    def to_dict(self) -> dict:
        data = asdict(self)
        if not self.history:
            data.pop("history")
        if self.topic is None:
            data.pop("topic")
        return data

    def messages(self) -> list[dict]:
        """The chat messages to send: the history, then the prompt as the user's turn."""
        return [*self.history, {"role": "user", "content": self.prompt}]


@dataclass(slots=True)
class Bank:
    items: list[BankItem] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def extend(self, other: Bank) -> None:
        self.items.extend(other.items)
        self.problems.extend(other.problems)
        self.sources.extend(other.sources)

    def dedupe(self) -> None:
        """Drop repeated ids (first wins) and say so: a draw must not ask one question twice."""
        seen: set[str] = set()
        kept = []
        for item in self.items:
            if item.id in seen:
                self.problems.append(Problem(item.source or "bank", f"重复的 id，已忽略 / duplicate id {item.id!r} ignored"))
                continue
            seen.add(item.id)
            kept.append(item)
        self.items = kept


def detect_language(text: str) -> str:
    """``zh`` when the text holds Chinese characters, else ``en``: enough to pick judge rules."""
    return "zh" if _CJK.search(text) else "en"


def validate(data: dict, where: str) -> tuple[BankItem | None, Problem | None]:
    """Turn one decoded record into an item, or say exactly what is wrong with it."""
    if not isinstance(data, dict):
        return None, Problem(where, "不是 JSON 对象 / not a JSON object")
    prompt = data.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        return None, Problem(where, "缺少 prompt / no prompt")
    risk = data.get("risk")
    if risk in ("", None):
        risk = None
    elif not is_code(str(risk).strip()):
        return None, Problem(where, f"未知风险代码 / unknown risk code {risk!r} (expected A1a…A5b or null)")
    else:
        risk = str(risk).strip()
    expectation = str(data.get("expectation") or "").strip()
    if expectation not in EXPECTATIONS:
        return None, Problem(where, f"expectation 必须是 / must be one of {', '.join(EXPECTATIONS)}; got {expectation!r}")
    history = data.get("history") or []
    if not isinstance(history, list) or not all(isinstance(m, dict) and "role" in m and "content" in m for m in history):
        return None, Problem(where, "history 必须是 {role, content} 列表 / history must be a list of {role, content}")
    item_id = str(data.get("id") or "").strip()
    if not item_id:
        return None, Problem(where, "缺少 id / no id")
    topic = topic_code(data.get("topic"))
    if data.get("topic") not in (None, "") and topic is None:
        return None, Problem(where, f"未知主题 / unknown topic {data.get('topic')!r} (CN-TC-23: 国家制度、信仰、国家形象、文化、习俗、民族、"
                                    "地理、历史、英雄烈士、性别、年龄、职业、健康)")
    return (
        BankItem(
            id=item_id,
            prompt=prompt.strip(),
            expectation=expectation,
            risk=risk,
            language=str(data.get("language") or detect_language(prompt)),
            source=str(data.get("source") or ""),
            category=data.get("category"),
            history=history,
            topic=topic,
        ),
        None,
    )


def read_bank(path: str | Path, encoding: str | None = None) -> Bank:
    """Read a bank in our JSONL format; bad lines become problems, good lines items."""
    path = Path(path)
    decoded = decode_file(path, encoding)
    bank = Bank(problems=list(decoded.problems), sources=[str(path)])
    for number, line in enumerate(decoded.text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            bank.problems.append(Problem(where, f"不是合法 JSON / invalid JSON: {exc.msg}"))
            continue
        item, problem = validate(data, where)
        if problem:
            bank.problems.append(problem)
        else:
            bank.items.append(item)
    return bank


def write_bank(items: Iterable[BankItem], path: str | Path) -> int:
    """Write items as our JSONL, atomically (a half-written bank must never be read)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    count = 0
    with tmp.open("w", encoding="utf-8") as fh:
        for item in items:
            fh.write(json.dumps(item.to_dict(), ensure_ascii=False) + "\n")
            count += 1
    os.replace(tmp, path)
    return count
