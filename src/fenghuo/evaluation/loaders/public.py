"""Loaders for the public bank formats (XSafety, JADE, CValues, Flames, XSTest, JADE v3 traffic).

Each reads a user's file into :class:`~fenghuo.evaluation.bank.Bank`, mapping categories with
the tables in :mod:`.mapping`. Ids are ``<source>:<id or line>`` so items from different
files never collide and a problem can be traced back to its row.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from fenghuo.checks import bank_risks as mapping
from fenghuo.checks.bank_risks import map_jade
from fenghuo.evaluation.bank import Bank, BankItem, detect_language
from fenghuo.platform.textfile import Problem, decode_file


def _csv_rows(path: Path, encoding: str | None, bank: Bank):
    """(line number, row) pairs of a CSV whose quoted fields may span lines."""
    decoded = decode_file(path, encoding)
    bank.problems.extend(decoded.problems)
    reader = csv.reader(io.StringIO(decoded.text, newline=""))
    start = 1
    try:
        for row in reader:
            yield start, row
            start = reader.line_num + 1
    except csv.Error as exc:
        bank.problems.append(Problem(f"{path}:{reader.line_num}", f"CSV 无法解析 / malformed CSV: {exc}"))


def _jsonl_records(path: Path, encoding: str | None, bank: Bank):
    decoded = decode_file(path, encoding)
    bank.problems.extend(decoded.problems)
    for number, line in enumerate(decoded.text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            bank.problems.append(Problem(f"{path}:{number}", f"不是合法 JSON / invalid JSON: {exc.msg}"))
            continue
        if not isinstance(record, dict):
            bank.problems.append(Problem(f"{path}:{number}", "不是 JSON 对象 / not a JSON object"))
            continue
        yield number, record


def _prompt_or_problem(prompt, where: str, bank: Bank) -> str | None:
    text = (prompt or "").strip() if isinstance(prompt, str) else ""
    if not text:
        bank.problems.append(Problem(where, "缺少 prompt / no prompt"))
        return None
    return text


def xsafety_category(path: Path) -> str:
    """``Insult_n.csv`` / ``Crimes_And_Illegal_Activities_en.csv`` → ``Insult`` / ``Crimes_…``."""
    stem = path.stem
    for suffix in ("_en", "_n", "_zh"):
        if stem.endswith(suffix) and stem[: -len(suffix)] in mapping.XSAFETY:
            return stem[: -len(suffix)]
    return stem


def load_xsafety(path: str | Path, encoding: str | None = None) -> Bank:
    """XSafety: no header, one prompt a row, the category is the file name."""
    path = Path(path)
    bank = Bank(sources=[str(path)])
    category = xsafety_category(path)
    code, expectation, _ = mapping.XSAFETY.get(category, (None, "safe_answer", "none"))
    if category not in mapping.XSAFETY:
        bank.problems.append(Problem(str(path), f"未知 XSafety 类别 / unknown XSafety category {category!r}: no risk code"))
    for line, row in _csv_rows(path, encoding, bank):
        prompt = _prompt_or_problem(",".join(row), f"{path}:{line}", bank)
        if prompt is None:
            continue
        lang = detect_language(prompt)
        bank.items.append(BankItem(f"xsafety:{lang}:{category}:{line}", prompt, expectation, code, lang, "xsafety", category))
    return bank


def load_jade(path: str | Path, encoding: str | None = None) -> Bank:
    """JADE ``ID,问题,违规类型,违规子类``: questions a model must not comply with."""
    path = Path(path)
    bank = Bank(sources=[str(path)])
    rows = _csv_rows(path, encoding, bank)
    header = next(rows, (0, []))[1]
    cols = {name.strip(): i for i, name in enumerate(header)}
    if not {"问题", "违规类型", "违规子类"} <= cols.keys():
        bank.problems.append(Problem(f"{path}:1", f"不是 JADE 表头 / not a JADE header: {header}"))
        return bank
    for line, row in rows:
        get = lambda name, row=row: row[cols[name]].strip() if cols.get(name, 99) < len(row) else ""  # noqa: E731
        where = f"{path}:{line}"
        prompt = _prompt_or_problem(get("问题"), where, bank)
        if prompt is None:
            continue
        vtype = get("违规类型")
        code, category = map_jade(vtype, get("违规子类"))
        if code is None:
            bank.problems.append(Problem(where, f"JADE 类别无法映射 / unmapped JADE category {vtype}/{category}"))
        rid = get("ID") or str(line)
        bank.items.append(BankItem(f"jade:{path.stem}:{rid}", prompt, "refuse", code, detect_language(prompt), "jade", f"{vtype}/{category}"))
    return bank


def load_cvalues(path: str | Path, encoding: str | None = None) -> Bank:
    """CValues responsibility prompts: answer responsibly, do not refuse."""
    path = Path(path)
    bank = Bank(sources=[str(path)])
    code, expectation, _ = mapping.CVALUES
    for line, rec in _jsonl_records(path, encoding, bank):
        prompt = _prompt_or_problem(rec.get("prompt"), f"{path}:{line}", bank)
        if prompt is None:
            continue
        rid = rec.get("id_", line)
        bank.items.append(BankItem(f"cvalues:{rid}", prompt, expectation, code, detect_language(prompt), "cvalues", rec.get("domain_en")))
    return bank


def load_flames(path: str | Path, encoding: str | None = None) -> Bank:
    """Flames ``dimension, subcomponent, prompt``: adversarial value-alignment prompts."""
    path = Path(path)
    bank = Bank(sources=[str(path)])
    for line, rec in _jsonl_records(path, encoding, bank):
        where = f"{path}:{line}"
        prompt = _prompt_or_problem(rec.get("prompt"), where, bank)
        if prompt is None:
            continue
        sub = str(rec.get("subcomponent") or "").strip()
        if sub not in mapping.FLAMES:
            bank.problems.append(Problem(where, f"未知 Flames 子类 / unknown Flames subcomponent {sub!r}: no risk code"))
        code, expectation, _ = mapping.FLAMES.get(sub, (None, "safe_answer", "none"))
        category = f"{rec.get('dimension', '')}/{sub}"
        bank.items.append(BankItem(f"flames:{line}", prompt, expectation, code, detect_language(prompt), "flames", category))
    return bank


def load_xstest(path: str | Path, encoding: str | None = None) -> Bank:
    """XSTest ``id,prompt,type,label,…``: safe look-alikes to answer, unsafe contrasts to refuse."""
    path = Path(path)
    bank = Bank(sources=[str(path)])
    decoded = decode_file(path, encoding)
    bank.problems.extend(decoded.problems)
    reader = csv.DictReader(io.StringIO(decoded.text, newline=""))
    for row in reader:
        where = f"{path}:{reader.line_num}"
        prompt = _prompt_or_problem(row.get("prompt"), where, bank)
        if prompt is None:
            continue
        kind, label = (row.get("type") or "").strip(), (row.get("label") or "").strip()
        if label == "safe":
            code, expectation, _ = mapping.XSTEST_SAFE
        elif label == "unsafe":
            code, expectation, _ = mapping.XSTEST_UNSAFE.get(kind, (None, "refuse", "none"))
        else:
            bank.problems.append(Problem(where, f"XSTest label 必须是 safe/unsafe / must be safe or unsafe; got {label!r}"))
            continue
        bank.items.append(BankItem(f"xstest:{row.get('id') or reader.line_num}", prompt, expectation, code, "en", "xstest", kind))
    return bank


def load_jade_v3(path: str | Path, encoding: str | None = None) -> Bank:
    """JADE v3 traffic triples as a should-refuse bank (questions only; risk codes by join)."""
    from fenghuo.replay.loader import load_answers  # the triples' one reader

    path = Path(path)
    bank = Bank(sources=[str(path)])
    answers = load_answers(path, encoding)
    bank.problems.extend(answers.problems)
    for rec in answers.records:
        bank.items.append(BankItem(f"jade_v3:{rec.id}", rec.question, "refuse", None, detect_language(rec.question), "jade_v3"))
    return bank
