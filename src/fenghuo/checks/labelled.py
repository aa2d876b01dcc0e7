"""Labelled text files for ``fenghuo checks evaluate``: rows of text (or prompt + answer) with a
harmful/harmless label and, where the file has them, category labels.

Formats, recognised from the header or the JSON keys (not only the file name):

- COLD CSV ``(index),split,topic,label,TEXT`` — label 1 offensive, 0 not;
- generic CSV / JSONL with ``text`` and ``label`` or ``labels``: a label is 0/1, true/false,
  harmful/harmless, safe/unsafe, or a category name (``gambling``) or TC260-003 risk code
  (``A1h``); ``labels`` is a list (JSONL) or ``|``/``;``-separated (CSV); none = harmless;
- JADE question CSV ``ID,问题,违规类型,违规子类`` — every row harmful, labelled with the risk
  code of its sub-type (``checks.bank_risks.map_jade``);
- JADE v3 triples ``ID,问题,违规回答,安全有用回答`` (GB18030) — each question twice: its unsafe
  answer (harmful) and its safe answer (harmless);
- with ``--pairs``: JSONL ``{"prompt", "answer", "label"/"labels"}`` or JADE v3;
- unlabelled text (one text a line, CValues/XSafety-style JSONL with ``prompt``): every row
  takes ``default_label`` (``--label harmful|harmless``), else the file is refused.

Decoding is ``platform.textfile.decode_file`` (UTF-8, then GB18030; bad lines reported).
A row that cannot be used is a problem naming its file and line, never a silent skip.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from fenghuo.checks.risks import RISKS
from fenghuo.platform.textfile import Problem, decode_file

# Yes/no spellings of a label. Category names (``offensive``, ``gambling``) are not among them:
# a label naming a category marks the row harmful *and* names the category.
_TRUE = {"1", "true", "yes", "harmful", "unsafe"}
_FALSE = {"0", "false", "no", "harmless", "safe", "", "none", "normal"}


@dataclass(frozen=True, slots=True)
class Row:
    text: str  # the text judged (the answer, in pairs)
    harmful: bool
    labels: tuple[str, ...] = ()  # category names or risk codes, where the file has them
    prompt: str | None = None
    where: str = ""


@dataclass
class Labelled:
    rows: list[Row]
    problems: list[Problem]
    fmt: str

    @property
    def categorised(self) -> bool:
        """Whether any row names categories (then per-category figures make sense)."""
        return any(r.labels for r in self.rows)


def parse_label(value, where: str) -> tuple[bool, tuple[str, ...]]:
    """A label cell or JSON value → (harmful, category labels)."""
    if isinstance(value, bool):
        return value, ()
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value), ()
    if isinstance(value, list):
        names = tuple(str(v).strip() for v in value if str(v).strip())
        for n in names:
            if n.lower() in _TRUE | _FALSE:
                raise ValueError(f"{where}: 'labels' lists categories; {n!r} is a yes/no label / labels 应为类别名")
        return bool(names), names
    if isinstance(value, str):
        s = value.strip()
        if s.lower() in _TRUE:
            return True, ()
        if s.lower() in _FALSE:
            return False, ()
        names = tuple(p.strip() for p in s.replace(";", "|").split("|") if p.strip())
        return bool(names), names
    raise ValueError(f"{where}: label {value!r} is neither 0/1 nor category names / 标签无效")


def _csv(text: str):
    reader = csv.reader(io.StringIO(text, newline=""))
    start = 1
    for row in reader:
        yield start, row
        start = reader.line_num + 1


def _from_csv(path: Path, text: str, pairs: bool, default: bool | None, rows: list[Row], problems: list[Problem]) -> str:
    it = _csv(text)
    first = next(it, (1, []))[1]
    cols = {h.strip().lower(): i for i, h in enumerate(first)}
    orig = {h.strip(): i for i, h in enumerate(first)}

    def cell(row: list[str], i: int | None) -> str:
        return row[i] if i is not None and i < len(row) else ""

    if {"问题", "违规回答", "安全有用回答"} <= orig.keys():  # JADE v3: read by its one reader
        from fenghuo.replay.loader import load_answers

        answers = load_answers(path)
        problems.extend(answers.problems)
        for rec in answers.records:
            prompt = rec.question if pairs else None
            rows.append(Row(rec.unsafe, True, (), prompt, f"{path}:{rec.id}:unsafe"))
            rows.append(Row(rec.safe, False, (), prompt, f"{path}:{rec.id}:safe"))
        return "jade_v3"
    if pairs:
        raise ValueError(f"{path}: --pairs needs JSONL with prompt/answer or a JADE v3 CSV / --pairs 需要问答对文件")
    if {"问题", "违规类型"} <= orig.keys():
        from fenghuo.checks.bank_risks import map_jade

        for line, row in it:
            q = cell(row, orig["问题"]).strip()
            if not q:
                continue
            code, _ = map_jade(cell(row, orig["违规类型"]), cell(row, orig.get("违规子类")))
            rows.append(Row(q, True, (code,) if code else (), None, f"{path}:{line}"))
        return "jade"
    if "text" in cols and ("label" in cols or "labels" in cols):
        ti, li = cols["text"], cols.get("labels", cols.get("label"))
        for line, row in it:
            if not row:
                continue
            where = f"{path}:{line}"
            try:
                harmful, labels = parse_label(cell(row, li), where)
            except ValueError as exc:
                problems.append(Problem(where, str(exc).removeprefix(f"{where}: ")))
                continue
            rows.append(Row(cell(row, ti), harmful, labels, None, where))
        return "cold" if "split" in cols and "topic" in cols else "csv"
    if default is None:
        raise ValueError(f"{path}: no 'text' and 'label' columns (header: {', '.join(first[:6])}); for unlabelled text give "
                         f"--label harmful|harmless / 缺少 text/label 列")
    # One text a line, no header (XSafety): the first row is data too.
    for line, row in [(1, first), *it]:
        t = ",".join(row).strip()
        if t:
            rows.append(Row(t, default, (), None, f"{path}:{line}"))
    return "lines"


def _from_jsonl(path: Path, text: str, pairs: bool, default: bool | None, rows: list[Row], problems: list[Problem]) -> str:
    fmt = "pairs" if pairs else "jsonl"
    for line, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        where = f"{path}:{line}"
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            problems.append(Problem(where, f"not JSON / 不是 JSON: {exc.msg}"))
            continue
        if not isinstance(obj, dict):
            problems.append(Problem(where, "not a JSON object / 不是 JSON 对象"))
            continue
        body = obj.get("answer") if pairs else obj.get("text", obj.get("prompt"))
        if not isinstance(body, str) or (pairs and not isinstance(obj.get("prompt"), str)):
            need = "'prompt' and 'answer'" if pairs else "'text' (or 'prompt')"
            problems.append(Problem(where, f"needs {need} as strings / 缺少文本字段"))
            continue
        key = "labels" if "labels" in obj else "label" if "label" in obj else None
        try:
            if key is not None:
                harmful, labels = parse_label(obj[key], where)
            elif default is not None:
                harmful, labels = default, ()
            else:
                raise ValueError(f"{where}: no 'label' or 'labels'; for an unlabelled file give --label harmful|harmless / 缺少标签")
        except ValueError as exc:
            problems.append(Problem(where, str(exc).removeprefix(f"{where}: ")))
            continue
        rows.append(Row(body, harmful, labels, obj.get("prompt") if pairs else None, where))
    return fmt


def read_labelled(path: str | Path, pairs: bool = False, default_label: str | None = None, encoding: str | None = None) -> Labelled:
    """Rows of ``path``; ValueError (naming the file) when it is unusable as a whole."""
    path = Path(path)
    if default_label not in (None, "harmful", "harmless"):
        raise ValueError(f"default label must be harmful or harmless, got {default_label!r} / 默认标签无效")
    default = None if default_label is None else default_label == "harmful"
    try:
        decoded = decode_file(path, encoding)
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file / 文件不存在") from None
    except OSError as exc:
        raise ValueError(f"{path}: {exc.strerror} / 无法读取") from None
    rows: list[Row] = []
    problems = list(decoded.problems)
    text = decoded.text
    head = text.lstrip()[:1]
    try:
        if path.suffix.lower() in (".jsonl", ".json", ".ndjson") or head == "{":
            fmt = _from_jsonl(path, text, pairs, default, rows, problems)
        else:
            fmt = _from_csv(path, text, pairs, default, rows, problems)
    except csv.Error as exc:
        raise ValueError(f"{path}: malformed CSV: {exc} / CSV 格式错误") from None
    if not rows:
        raise ValueError(f"{path}: no usable rows" + (f" (first problem: {problems[0]})" if problems else "") + " / 无可用数据")
    return Labelled(rows, problems, fmt)


def is_risk_code(label: str) -> bool:
    return label in RISKS
