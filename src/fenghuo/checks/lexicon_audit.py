"""How often each lexicon word and tag fires on harmless text (``fenghuo lexicon audit``).

A word that fires on text a moderator would pass is a false positive waiting to happen; the
audit ranks them so a person (or the curated-lexicon build step) can drop or demote them.
Counts are *texts* a word fired in (one text with the word three times counts once) and
total hits; variants (``法轮功~pinyin``) are counted under their own rule so an evasion layer
that misfires can be told apart from the word.

Harmless text comes from a user's files: one text per line, or CSV / JSONL with a text column
(``text``, ``TEXT``, ``prompt``, ``content``, ``问题`` … or the one named), optionally gzipped.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

TEXT_COLUMNS = ("text", "TEXT", "prompt", "content", "question", "问题", "sentence", "安全有用回答")


class AuditInputError(ValueError):
    """A benign-text file that cannot be read; the message names the file and what is wrong."""


def _decode(path: Path) -> str:
    from fenghuo.platform.textfile import decode_file

    if path.suffix == ".gz":
        raw = gzip.decompress(path.read_bytes())
        for enc in ("utf-8-sig", "gb18030"):
            try:
                return raw.decode(enc)
            except UnicodeDecodeError:
                continue
        raise AuditInputError(f"{path}: neither UTF-8 nor GB18030 / 文件编码无法识别")
    decoded = decode_file(path)
    if decoded.problems:
        raise AuditInputError(f"{decoded.problems[0]} ({len(decoded.problems)} line(s)) / 文件含无法解码的行")
    return decoded.text


def read_texts(path: str | Path, column: str | None = None) -> list[str]:
    """The texts of one file (see module docstring); blank texts are skipped."""
    path = Path(path)
    if not path.is_file():
        raise AuditInputError(f"{path}: no such file / 文件不存在")
    text = _decode(path)
    kind = path.name.removesuffix(".gz").rsplit(".", 1)[-1].lower()
    if kind == "jsonl":
        out = []
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise AuditInputError(f"{path}:{n}: invalid JSON ({exc.msg}) / 不是合法 JSON") from None
            col = column or next((c for c in TEXT_COLUMNS if c in row), None)
            if col is None or col not in row:
                raise AuditInputError(f"{path}:{n}: no text column ({column or ', '.join(TEXT_COLUMNS)}); use --column / 缺少文本列")
            out.append(str(row[col] or ""))
        return [t for t in out if t.strip()]
    if kind == "csv":
        reader = csv.DictReader(io.StringIO(text))
        names = reader.fieldnames or []
        col = column or next((c for c in TEXT_COLUMNS if c in names), None)
        if col is None or col not in names:
            raise AuditInputError(f"{path}: no text column among {names}; use --column / 缺少文本列")
        return [r[col] for r in reader if (r.get(col) or "").strip()]
    return [line for line in text.splitlines() if line.strip()]


@dataclass
class Audit:
    texts: int = 0
    flagged: int = 0  # texts with at least one finding
    blocked: int = 0  # texts with a blocking finding
    words: Counter = field(default_factory=Counter)  # rule -> texts it fired in
    hits: Counter = field(default_factory=Counter)  # rule -> hits
    tags: Counter = field(default_factory=Counter)  # category -> texts
    examples: dict = field(default_factory=dict)  # rule -> first text it fired in (cut)

    def to_dict(self, top: int | None = None) -> dict:
        def ranked(c: Counter) -> list:
            return c.most_common(top)

        return {
            "texts": self.texts,
            "flagged": self.flagged,
            "blocked": self.blocked,
            "flagged_rate": round(self.flagged / self.texts, 4) if self.texts else 0.0,
            "blocked_rate": round(self.blocked / self.texts, 4) if self.texts else 0.0,
            "words": [{"word": w.removeprefix("lexicon:"), "texts": n, "hits": self.hits[w], "example": self.examples.get(w, "")} for w, n in ranked(self.words)],
            "tags": [{"tag": t, "texts": n} for t, n in ranked(self.tags)],
        }


def audit(check, texts: Iterable[str], keep_examples: bool = True) -> Audit:
    """Scan every text with ``check`` (a LexiconCheck or any check) and count what fires."""
    a = Audit()
    for text in texts:
        a.texts += 1
        findings = check.scan(text).findings
        if not findings:
            continue
        a.flagged += 1
        a.blocked += any(f.action.value == "block" for f in findings)
        rules = Counter(f.rule for f in findings)
        for r, n in rules.items():
            a.words[r] += 1
            a.hits[r] += n
            if keep_examples and r not in a.examples:
                a.examples[r] = text[:80]
        for c in {f.category for f in findings}:
            a.tags[c] += 1
    return a


def format_audit(a: Audit, top: int | None = None) -> str:
    d = a.to_dict(top)
    out = [
        f"harmless texts 无害文本: {a.texts}   flagged 命中: {a.flagged} ({d['flagged_rate']:.2%})   blocked 拦截: {a.blocked} ({d['blocked_rate']:.2%})",
        "by tag 按类别 (texts):",
    ]
    out += [f"  {t['tag']:<16}{t['texts']:>8}" for t in d["tags"]]
    out.append("by word 按词 (texts, hits, first example):")
    out += [f"  {w['word']:<20}{w['texts']:>8}{w['hits']:>8}  {w['example']!r}" for w in d["words"]]
    return "\n".join(out)
