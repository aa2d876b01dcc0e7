"""Reading lexicon files a user supplies, and the coverage report against TC260-003 §8.1.

Format, one entry a line, UTF-8. Blank lines and lines starting with ``#`` are skipped.

- ``word<TAB>tag[,tag]`` — a TAB separates the word from its tags, in any file. This is the
  unambiguous form: the word may contain spaces (``domestic violence<TAB>violence``).
- ``word<TAB>tag[,tag]<TAB>action`` — the same with an action (``block``, ``flag``, ``mask``,
  ``context-flag``, ``context-block``) for this word that overrides its categories' action.
  ``context-…`` marks a topic word whose action applies only where the pipeline's classifier
  sees something in the text (``corroborate.py``): the curated lexicon gives it to words that
  also fire on harmless text and to everyday dictionary words. The action may be left empty
  (``word<TAB>tag<TAB><TAB>…``) to keep the category's.
- ``word<TAB>tag[,tag]<TAB>action<TAB>evasions`` — and which evasion layers
  (``variants.LAYERS``: ``pinyin,homophone,split``, or ``none``) this word gets; without the
  column a block word gets all the check enables. The curated lexicon turns a layer off for a
  word whose variant fired on harmless text (``国家级`` sounds like a listed word).
- ``word`` — a plain word; the whole line is the word, spaces included, so ``domestic violence``,
  ``win 3`` and ``ak 47`` are words, never word + tag.
- ``word tag[,tag]`` with a *space* — read as word + tags only in a file that is tagged
  throughout: either every entry line without a TAB ends in a space and known tags (the shared
  lexicon's ``sensitive_word_tags.txt``: ``赌博 3``) — at least 10 such lines when the file also
  has TAB lines — or the file says so with a comment line
  ``# fenghuo-lexicon: tagged`` before its first entry. ``# fenghuo-lexicon: words`` says the
  opposite (a word list whose every line happens to end in a number).

A tag is a category name (``gambling``) or a numeric code mapped to one (the shared lexicon's
``0 politics, 1 drugs, 2 porn, 3 gambling, 4 crime``).

Bad input is refused with the file and line that is wrong, because a silently skipped line in
a block list is a hole nobody notices: unknown tags after a TAB or in a tagged file, and a
file whose lines without a TAB are almost all ``word tag`` (at least 90 % of 10 or more) but not quite — a typo
there would otherwise turn every line of a tag file into a plain word. A word list with a few
lines that merely end in something tag-like is read as words, with one logged warning.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from fenghuo.checks.base import Action
from fenghuo.checks.risks import A1, A2, MIN_PER_A1, MIN_PER_A2, MIN_TOTAL

log = logging.getLogger("fenghuo.checks.lexicon")

DEFAULT_TAG_CODES = {"0": "politics", "1": "drugs", "2": "porn", "3": "gambling", "4": "crime"}
UNTAGGED = "sensitive"
# Only ASCII space/tab separate tags: lexicon words may contain other Unicode spaces.
_SPLIT = re.compile(r"^(.*?\S)[ ]+([^ \t]+)[ \t]*$")
# A token shaped like numeric tags ("7", "1,,2", "1,9"): in a tagged file, unknown codes here
# are an error, not part of the word.
_CODE_LIST = re.compile(r"^\d{1,2}(,\d{0,2})*$")
_DIRECTIVE = re.compile(r"^#\s*fenghuo-lexicon\s*:\s*(\w+)\s*$", re.I)
# A file this tag-like is a tag file with a mistake in it, not a word list (see docstring).
_MOSTLY, _MOSTLY_MIN = 0.9, 10


class LexiconError(ValueError):
    """A lexicon file that cannot be used; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class Entry:
    word: str
    categories: tuple[str, ...]
    source: str
    line: int
    action: Action | None = None  # overrides the categories' action (third TAB column)
    evasions: tuple[str, ...] | None = None  # evasion layers for this word (fourth column)


def decode_lines(path: Path) -> list[str]:
    """UTF-8 lines of ``path``; invalid bytes are reported with their line number."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise LexiconError(f"{path}:{line}: not UTF-8 (byte {data[exc.start]:#04x}) / 第{line}行不是 UTF-8 编码") from None
    return text.split("\n")


def _tags(token: str, where: str, tag_codes: dict[str, str], known: set[str]) -> tuple[str, ...]:
    tokens = token.split(",")
    bad = [t for t in tokens if t not in tag_codes and t not in known]
    if bad:
        raise LexiconError(
            f"{where}: unknown tag code(s) or categor(ies) {', '.join(repr(b) for b in bad)}; "
            f"known codes: {', '.join(sorted(tag_codes)) or '-'} / 未知标签代码或类别"
        )
    return tuple(dict.fromkeys(tag_codes.get(t, t) for t in tokens))


def _known_tail(line: str, tag_codes: dict[str, str], known: set[str]) -> tuple[str, str] | None:
    """(word, tag token) when ``line`` ends in a space and tags that all exist, else None."""
    m = _SPLIT.match(line)
    if m and all(t in tag_codes or t in known for t in m.group(2).split(",")):
        return m.group(1), m.group(2)
    return None


def _tag_shaped(line: str, tag_codes: dict[str, str], known: set[str]) -> bool:
    m = _SPLIT.match(line)
    return bool(m) and (_known_tail(line, tag_codes, known) is not None or bool(_CODE_LIST.match(m.group(2))))


def parse_line(
    raw: str, where: str, tag_codes: dict[str, str], known: set[str], tagged: bool = False
) -> tuple[str, tuple[str, ...], Action | None] | None:
    """One line → (word, categories, action or None, evasion layers or None), None for a
    blank/comment line;
    LexiconError if malformed.

    ``tagged``: the file is a tagged file, so a space-separated last token is tags (see module
    docstring); otherwise only a TAB introduces tags.
    """
    line = raw.rstrip("\r\n")
    if not line.strip() or line.lstrip().startswith("#"):
        return None
    if "\t" in line:
        word, _, token = line.partition("\t")
        token, _, act = token.partition("\t")
        act, _, ev = act.partition("\t")
        token, act, ev = token.strip(" "), act.strip(" "), ev.strip(" \t")
        if not word.strip(" "):
            raise LexiconError(f"{where}: no word before the TAB / 制表符前没有词")
        if not token or "\t" in token or " " in token:
            raise LexiconError(f"{where}: after the TAB expected tag[,tag], got {token!r} / 制表符后应为标签")
        action = None
        if act:
            try:
                action = Action(act)
            except ValueError:
                raise LexiconError(f"{where}: action {act!r} is not one of block, flag, mask, context-flag, context-block / 动作无效") from None
        evasions = None
        if ev:
            from fenghuo.checks.variants import LAYERS

            evasions = () if ev == "none" else tuple(ev.split(","))
            bad = [e for e in evasions if e not in LAYERS]
            if bad:
                raise LexiconError(f"{where}: unknown evasion layer(s) {', '.join(bad)}; known: {', '.join(LAYERS)}, none / 未知变体层")
        return word.strip(" "), _tags(token, where, tag_codes, known), action, evasions
    if tagged:
        m = _SPLIT.match(line)
        if not m:
            raise LexiconError(f"{where}: tagged file: expected `word tag[,tag]`, got {line.strip()!r} / 该词表每行应为“词 标签”")
        return m.group(1).strip(" "), _tags(m.group(2), where, tag_codes, known), None, None
    return line.strip(), (), None, None


def file_mode(lines: list[str], path: Path, tag_codes: dict[str, str], known: set[str]) -> bool:
    """Whether a space-separated last token is tags in this file (see module docstring)."""
    entries: list[tuple[int, str]] = []  # the lines without a TAB: only they can be ambiguous
    tabbed = False
    for n, raw in enumerate(lines, 1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        if line.lstrip().startswith("#"):
            d = _DIRECTIVE.match(line.strip())
            if d and not entries and not tabbed:
                mode = d.group(1).lower()
                if mode not in ("tagged", "words"):
                    raise LexiconError(f"{path}:{n}: fenghuo-lexicon: expected 'tagged' or 'words', got {mode!r} / 格式声明无效")
                return mode == "tagged"
            continue
        if "\t" in line:  # unambiguous whatever the file is; the other lines are judged on their own
            tabbed = True
            continue
        entries.append((n, line))
    if not entries:
        return False
    # A file that also uses TABs needs as many `word tag` lines as the "almost all" rule
    # before its space form counts as tags (one `win 3` next to TAB lines stays a word).
    if all(_known_tail(line, tag_codes, known) for _, line in entries) and (not tabbed or len(entries) >= _MOSTLY_MIN):
        return True
    shaped = [_tag_shaped(line, tag_codes, known) for _, line in entries]
    if len(entries) >= _MOSTLY_MIN and sum(shaped) >= _MOSTLY * len(entries):
        n, line = next((n, line) for (n, line), ok in zip(entries, shaped) if not ok or not _known_tail(line, tag_codes, known))
        raise LexiconError(
            f"{path}:{n}: {sum(shaped)} of {len(entries)} lines are `word tag` but this one is not: {line.strip()!r} "
            f"(unknown tag or missing tag; tag with a TAB, or put `# fenghuo-lexicon: words` first to read every line as a word) "
            f"/ 该行标签缺失或未知"
        )
    suspicious = [(n, line) for (n, line), ok in zip(entries, shaped) if ok]
    if suspicious:
        n, line = suspicious[0]
        log.warning(
            "%s: %d line(s) end in a space and something tag-like but were read as whole words (first: line %d %r); "
            "separate tags with a TAB / 以空格结尾的标签已按整词读取，请用制表符分隔标签",
            path, len(suspicious), n, line.strip(),
        )
    return False


def read_lexicon(
    path: str | Path,
    tag_codes: dict[str, str] | None = None,
    categories: set[str] | None = None,
    tagged: bool | None = None,
) -> list[Entry]:
    """Read one lexicon file. ``categories`` are the tag names accepted besides numeric codes.

    ``tagged``: None decides from the file (module docstring); False reads every line without
    a TAB as a word (allow-lists); True treats the file as tagged throughout.

    An untagged word gets no categories here: it becomes ``sensitive`` only if no other file
    tags it (the shared lexicon lists every word untagged and tags a subset in a second file).
    """
    path = Path(path)
    if not path.is_file():
        raise LexiconError(f"{path}: no such lexicon file / 词表文件不存在")
    codes = DEFAULT_TAG_CODES if tag_codes is None else tag_codes
    known = set(codes.values()) | set(categories or ())
    lines = decode_lines(path)
    if tagged is None:
        tagged = file_mode(lines, path, codes, known)
    entries: list[Entry] = []
    for n, raw in enumerate(lines, 1):
        parsed = parse_line(raw, f"{path}:{n}", codes, known, tagged)
        if parsed is None:
            continue
        word, cats, action, evasions = parsed
        entries.append(Entry(word, cats, str(path), n, action, evasions))
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
