"""Read recorded question / unsafe answer / safe answer triples (JADE v3 and files like it).

The JADE v3 file is GB18030 with multi-line quoted fields; a user's own recording may be UTF-8
CSV with English column names, or JSONL. All become :class:`Recording` objects keyed by a
normalised question, so a prompt that differs only in spacing still finds its answer.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from fenghuo.platform.textfile import Problem, decode_file

_COLUMNS = {
    "id": ("ID", "id"),
    "question": ("问题", "question", "prompt"),
    "unsafe": ("违规回答", "unsafe_answer", "unsafe"),
    "safe": ("安全有用回答", "safe_answer", "safe"),
}
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """The lookup key for a question: whitespace collapsed, ends trimmed."""
    return _SPACE.sub(" ", text).strip()


@dataclass(frozen=True, slots=True)
class Recording:
    id: str
    question: str
    unsafe: str
    safe: str


@dataclass(slots=True)
class Answers:
    records: list[Recording] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    encoding: str = "utf-8"

    def index(self) -> dict[str, Recording]:
        return {normalise(r.question): r for r in self.records}


def _pick(row: dict, key: str) -> str:
    for name in _COLUMNS[key]:
        if name in row and row[name] is not None:
            return str(row[name]).strip()
    return ""


def _add(answers: Answers, row: dict, where: str, fallback_id: str) -> None:
    question, unsafe, safe = _pick(row, "question"), _pick(row, "unsafe"), _pick(row, "safe")
    if not question:
        answers.problems.append(Problem(where, "缺少问题 / no question"))
    elif not unsafe or not safe:
        answers.problems.append(Problem(where, "缺少违规回答或安全回答 / missing unsafe or safe answer"))
    else:
        answers.records.append(Recording(_pick(row, "id") or fallback_id, question, unsafe, safe))


def load_answers(path: str | Path, encoding: str | None = None) -> Answers:
    """Load a recording (CSV or JSONL); bad rows are reported with file and line."""
    path = Path(path)
    decoded = decode_file(path, encoding)
    answers = Answers(problems=list(decoded.problems), encoding=decoded.encoding)
    if path.suffix.lower() in (".jsonl", ".json"):
        for number, line in enumerate(decoded.text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                answers.problems.append(Problem(f"{path}:{number}", f"不是合法 JSON / invalid JSON: {exc.msg}"))
                continue
            _add(answers, row if isinstance(row, dict) else {}, f"{path}:{number}", str(number))
        return answers
    reader = csv.DictReader(io.StringIO(decoded.text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if not any(name in header for name in _COLUMNS["question"]):
        answers.problems.append(Problem(f"{path}:1", f"找不到问题列 / no question column in header {header}"))
        return answers
    reader.fieldnames = header
    start = 2
    try:
        for row in reader:
            _add(answers, row, f"{path}:{start}", str(start))
            start = reader.line_num + 1
    except csv.Error as exc:
        answers.problems.append(Problem(f"{path}:{reader.line_num}", f"CSV 无法解析 / malformed CSV: {exc}"))
    return answers
