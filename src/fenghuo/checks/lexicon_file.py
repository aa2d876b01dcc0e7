"""Reading lexicon files a user supplies, and the coverage report against TC260-003 §8.1.

Format, one entry a line, UTF-8: ``word`` or ``word tag[,tag]`` (tag separated by whitespace).
A tag is a category name (``gambling``) or a numeric code mapped to one (the shared lexicon's
``0 politics, 1 drugs, 2 porn, 3 gambling, 4 crime``). Blank lines and lines starting with
``#`` are skipped. A word may itself contain spaces: the last token counts as tags only if
every part of it is a known tag, so ``make love`` stays one word.

Bad input is refused with the file and line that is wrong, because a silently skipped line in
a block list is a hole nobody notices.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from fenghuo.checks.risks import A1, A2, MIN_PER_A1, MIN_PER_A2, MIN_TOTAL

DEFAULT_TAG_CODES = {"0": "politics", "1": "drugs", "2": "porn", "3": "gambling", "4": "crime"}
UNTAGGED = "sensitive"
_SPLIT = re.compile(r"^(.*?\S)[ \t]+([^ \t]+)[ \t]*$")
# A token shaped like numeric tags ("7", "1,,2", "1,9"): unknown codes here are an error,
# not part of the word.
_CODE_LIST = re.compile(r"^\d{1,2}(,\d{0,2})*$")


class LexiconError(ValueError):
    """A lexicon file that cannot be used; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class Entry:
    word: str
    categories: tuple[str, ...]
    source: str
    line: int


def decode_lines(path: Path) -> list[str]:
    """UTF-8 lines of ``path``; invalid bytes are reported with their line number."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise LexiconError(f"{path}:{line}: not UTF-8 (byte {data[exc.start]:#04x}) / 第{line}行不是 UTF-8 编码") from None
    return text.split("\n")


def parse_line(raw: str, where: str, tag_codes: dict[str, str], known: set[str]) -> tuple[str, tuple[str, ...]] | None:
    """One line → (word, categories), None for a blank/comment line; LexiconError if malformed."""
    line = raw.rstrip("\r\n")
    if not line.strip() or line.lstrip().startswith("#"):
        return None
    # Only ASCII space/tab separate tags: lexicon words may contain other Unicode spaces.
    m = _SPLIT.match(line)
    if m:
        word, token = m.group(1), m.group(2)
        tokens = token.split(",")
        if all(t in tag_codes or t in known for t in tokens):
            cats = [tag_codes.get(t, t) for t in tokens]
            return word.strip(" \t"), tuple(dict.fromkeys(cats))
        if _CODE_LIST.match(token):
            bad = [t for t in tokens if t not in tag_codes]
            raise LexiconError(f"{where}: unknown tag code(s) {', '.join(repr(b) for b in bad) or repr(token)}; known: {', '.join(sorted(tag_codes))} / 未知标签代码")
    return line.strip(), ()


def read_lexicon(
    path: str | Path,
    tag_codes: dict[str, str] | None = None,
    categories: set[str] | None = None,
) -> list[Entry]:
    """Read one lexicon file. ``categories`` are the tag names accepted besides numeric codes.

    An untagged word gets no categories here: it becomes ``sensitive`` only if no other file
    tags it (the shared lexicon lists every word untagged and tags a subset in a second file).
    """
    path = Path(path)
    if not path.is_file():
        raise LexiconError(f"{path}: no such lexicon file / 词表文件不存在")
    codes = DEFAULT_TAG_CODES if tag_codes is None else tag_codes
    known = set(codes.values()) | set(categories or ())
    entries: list[Entry] = []
    for n, raw in enumerate(decode_lines(path), 1):
        parsed = parse_line(raw, f"{path}:{n}", codes, known)
        if parsed is None:
            continue
        word, cats = parsed
        if any(c in word for c in "\t"):
            raise LexiconError(f"{path}:{n}: tab inside a word; separate tags with one space / 词中含制表符")
        entries.append(Entry(word, cats, str(path), n))
    if not entries:
        raise LexiconError(f"{path}: empty lexicon: no words / 词表为空")
    return entries


@dataclass
class Stats:
    """Coverage of a lexicon against TC260-003 §8.1 (CN-TC-20)."""

    total: int
    by_category: Counter
    by_risk: Counter
    unmapped: Counter  # categories with no risk code
    duplicates: int
    rows: list[tuple[str, int, int, bool]] = field(default_factory=list)  # (what, have, need, ok)

    @property
    def ok(self) -> bool:
        return all(r[3] for r in self.rows)

    def to_dict(self) -> dict:
        return {
            "total": self.total,
            "duplicates": self.duplicates,
            "by_category": dict(self.by_category),
            "by_risk": dict(sorted(self.by_risk.items())),
            "unmapped_categories": dict(self.unmapped),
            "requirement": "TC260-003 §8.1 (CN-TC-20)",
            "checks": [{"what": w, "have": h, "need": n, "ok": ok} for w, h, n, ok in self.rows],
            "ok": self.ok,
        }


def lexicon_stats(entries: list[Entry], risk_of: dict[str, str | None], normalise=None) -> Stats:
    """Count distinct words per category and per risk code, and compare with the minimums.

    Untagged words count toward the total only: they carry no risk code, so they cannot make
    a per-risk minimum look met.

    Words are counted after normalisation when ``normalise`` is given, so ``賭博`` and ``赌博``
    are one word, as they are to the matcher.
    """
    keys = normalise_many([e.word for e in entries], normalise)
    seen: dict[str, set[str]] = {}
    for k, e in zip(keys, entries):
        seen.setdefault(k, set()).update(e.categories)
    by_cat: Counter = Counter()
    by_risk: Counter = Counter()
    unmapped: Counter = Counter()
    for cats in seen.values():
        cats = cats or {UNTAGGED}
        risks = set()
        for c in cats:
            by_cat[c] += 1
            r = risk_of.get(c)
            if r:
                risks.add(r)
            else:
                unmapped[c] += 1
        for r in risks:
            by_risk[r] += 1
    rows = [("total words / 总词数", len(seen), MIN_TOTAL, len(seen) >= MIN_TOTAL)]
    rows += [(f"{code} (A.1)", by_risk[code], MIN_PER_A1, by_risk[code] >= MIN_PER_A1) for code in A1]
    rows += [(f"{code} (A.2)", by_risk[code], MIN_PER_A2, by_risk[code] >= MIN_PER_A2) for code in A2]
    return Stats(len(seen), by_cat, by_risk, unmapped, len(entries) - len(seen), rows)


def normalise_many(words: list[str], normalise=None) -> list[str]:
    """Normalise many words in one pass: they are joined by newlines, which normalisation keeps
    as a boundary, so splitting afterwards gives one result per word."""
    if normalise is None:
        return list(words)
    out = normalise("\n".join(words)).split("\n")
    if len(out) != len(words):  # a word containing a line break: fall back to one by one
        out = [normalise(w) for w in words]
    return out


def format_stats(stats: Stats) -> str:
    """Plain-text report for the CLI."""
    out = [f"TC260-003 §8.1 keyword library (CN-TC-20): {'PASS 达标' if stats.ok else 'FAIL 未达标'}"]
    out.append(f"  distinct words 不同词数: {stats.total}   duplicates 重复: {stats.duplicates}")
    out.append("  by category 按类别: " + ", ".join(f"{c}={n}" for c, n in stats.by_category.most_common()))
    if stats.unmapped:
        out.append("  categories without a risk code 未映射风险代码: " + ", ".join(sorted(stats.unmapped)))
    out.append(f"  {'requirement 要求':<24}{'have':>8}{'need':>8}")
    for what, have, need, ok in stats.rows:
        out.append(f"  {what:<24}{have:>8}{need:>8}  {'ok' if ok else 'MISSING 不足'}")
    return "\n".join(out)
