"""The knowledge-rules check: solicitation, fraud, gambling, drug and porn-ad patterns as data.

Rules live in versioned YAML files (``checks/rules/*.yaml``, format in ``rules_file.py`` and
docs/checks.md). Each rule is a set of regex patterns over the normalised text (evasions of
case, width, traditional characters and inserted separators already folded) or over the
original text (emoji, ``/``, the dots of a domain — what normalisation removes), combined as
"any of" or "all of within N characters", with optional "unless one of these is near"
patterns that veto a finding (「谨防刷单诈骗」 is a warning, not an offer).

Speed (the whole pipeline has ~100 µs per 1 KB message): the exact regexes are not run on every
message. At load time each pattern is reduced to literals every match must contain
(``rules_regex.py``); per message one hyperscan literal scan per side (normalised text in the
matcher's 3-byte form, original text as UTF-8) says which patterns can match, and a rule is
evaluated with Python's ``re`` only when every pattern it needs can. On harmless text that is
rarely the case, so most messages cost the two literal scans. Without hyperscan (``engine:
re``) every rule is evaluated with ``re`` — same findings, slower; tests check both agree.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
from bisect import bisect_left
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from fenghuo.checks.base import Action, Finding, Verdict
from fenghuo.checks.matcher import pack3
from fenghuo.checks.normalize import Normalised, Normaliser, default_normaliser
from fenghuo.checks.rules_file import RuleFile, RulesError, RuleSpec, load_rule_files
from fenghuo.checks.rules_regex import PatternError, case_insensitive, check_normalised, max_width, required_literals, to_pack3

try:  # pragma: no cover - depends on the platform
    import hyperscan
except ImportError:  # pragma: no cover
    hyperscan = None

ENGINES = ("hyperscan", "re")
MAX_WINDOW = 512  # characters searched back from a match end for patterns without a bounded width


def packaged_rules_dir() -> Path:
    return Path(str(resources.files("fenghuo.checks").joinpath("rules")))


@dataclass(frozen=True, slots=True)
class _Rule:
    spec: RuleSpec
    atoms: tuple[int, ...]  # pattern ids that must (all) or may (any) match
    unless: tuple[int, ...]
    template: tuple  # (category, rule name, action, risk) for the findings
    need: frozenset  # atoms, as a set: a subset test per rule is one C call
    every: bool  # mode "all"


class _Prefilter:
    """Which patterns *can* match a message: one hyperscan literal scan per side over every
    pattern's required literals (``rules_regex.required_literals``), one report per pattern
    (``HS_FLAG_SINGLEMATCH``). Patterns with no required literal are always candidates."""

    def __init__(self, lits: list[tuple[int, str, list[str], bool]], normaliser_codes, cache_dir: Path | None) -> None:
        self._local = threading.local()
        self.cache_dir = cache_dir
        norm_e, norm_i, orig_e, orig_i, orig_f = [], [], [], [], []
        for pid, side, words, caseless in lits:
            for w in words:
                if side == "norm":
                    norm_e.append(pack3(normaliser_codes(w)).tobytes())
                    norm_i.append(pid)
                else:
                    orig_e.append(w.encode("utf-8"))
                    orig_i.append(pid)
                    orig_f.append(hyperscan.HS_FLAG_SINGLEMATCH | (hyperscan.HS_FLAG_CASELESS if caseless else 0))
        self.norm_db = self._compile(norm_e, norm_i, [hyperscan.HS_FLAG_SINGLEMATCH] * len(norm_e))
        self.orig_db = self._compile(orig_e, orig_i, orig_f)

    def _compile(self, exprs: list[bytes], ids: list[int], flags: list[int]):
        """A literal database, cached on disk under a content hash (hashlib, not ``hash()``:
        the same key in every process)."""
        if not exprs:
            return None
        cached = None
        if self.cache_dir is not None:
            h = hashlib.sha256(f"{hyperscan.__version__}|{ids}|{flags}".encode())
            for e in exprs:
                h.update(len(e).to_bytes(4, "little") + e)
            cached = self.cache_dir / f"rules-{h.hexdigest()[:24]}.hsdb"
            if cached.exists():
                try:
                    return hyperscan.loadb(cached.read_bytes(), mode=hyperscan.HS_MODE_BLOCK)
                except Exception:  # noqa: BLE001 - a stale or foreign cache file: compile below
                    pass
        db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        db.compile(expressions=exprs, ids=ids, elements=len(exprs), flags=flags, literal=True)
        if cached is not None:
            try:
                cached.parent.mkdir(parents=True, exist_ok=True)
                tmp = cached.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_bytes(hyperscan.dumpb(db))
                tmp.replace(cached)
            except OSError:
                pass
        return db

    def _scratch(self):
        s = getattr(self._local, "s", None)
        if s is None:
            s = self._local.s = (
                hyperscan.Scratch(self.norm_db) if self.norm_db else None,
                hyperscan.Scratch(self.orig_db) if self.orig_db else None,
            )
        return s

    def candidates(self, text: str, n: Normalised, msg: "_Message") -> set[int]:
        found: set[int] = set()
        add = found.add
        ns, os_ = self._scratch()

        def on_norm(pid, _frm, to, _f, _c):
            if not to % 3:  # a literal ending mid-character is not there (matcher.py)
                add(pid)

        def on_orig(pid, _frm, _to, _f, _c):
            add(pid)

        if self.norm_db is not None and n.codes.size:
            self.norm_db.scan(msg.packed(), match_event_handler=on_norm, scratch=ns)
        if self.orig_db is not None and text:
            self.orig_db.scan(msg.utf8(), match_event_handler=on_orig, scratch=os_)
        return found


class _Exact:
    """Exact spans of one pattern at a time: hyperscan finds where matches *end* (one small
    database per pattern, so a message pays only for the patterns of its candidate rules), then
    Python's ``re`` finds the matches inside the short windows ending there — a window as long
    as the pattern's longest match (``rules_regex.max_width``, at most ``MAX_WINDOW``).

    Not hyperscan's start-of-match mode: with it, hyperscan 5.4 (python-hyperscan 0.9.1)
    crashed the process (SIGSEGV) scanning a 1 KB message with
    ``\\d+\\s*(?:💰|💴|💵|🧧)|(?:💰|💴|💵)\\s*\\d+``; the plain end-of-match mode is hyperscan's
    main path. A bonus: spans follow ``re``'s semantics with either engine.
    Compiling all databases takes ~1 s; they are cached on disk like the prefilter."""

    def __init__(self, patterns: list[tuple[str, str | bytes]], regex: tuple, where: list[str], cache_dir: Path | None) -> None:
        """``patterns``: (side, pattern) with normalised-text patterns already in byte form."""
        self._local = threading.local()
        self.regex = regex
        self.width = [min(max_width(rx.pattern), MAX_WINDOW) for _, rx in regex]
        exprs, flags = [], []
        for side, p in patterns:
            if side == "norm":
                exprs.append(p)
                flags.append(0)
            else:
                exprs.append(p.encode("utf-8"))
                # No UCP: \b, \d, \s and (?i) stay ASCII, exactly as with re.ASCII.
                flags.append(hyperscan.HS_FLAG_UTF8)
        self.sides = [side for side, _ in patterns]
        self.dbs = self._load(exprs, flags, where, cache_dir)

    @staticmethod
    def _load(exprs: list[bytes], flags: list[int], where: list[str], cache_dir: Path | None) -> list:
        cached = None
        if cache_dir is not None:
            h = hashlib.sha256(f"exact|{hyperscan.__version__}|{flags}".encode())
            for e in exprs:
                h.update(len(e).to_bytes(4, "little") + e)
            cached = cache_dir / f"rules-{h.hexdigest()[:24]}.hsdbs"
            if cached.exists():
                try:
                    blob, dbs, at = cached.read_bytes(), [], 0
                    for _ in exprs:
                        size = int.from_bytes(blob[at : at + 8], "little")
                        dbs.append(hyperscan.loadb(blob[at + 8 : at + 8 + size], mode=hyperscan.HS_MODE_BLOCK))
                        at += 8 + size
                    return dbs
                except Exception:  # noqa: BLE001 - a stale or foreign cache file: compile below
                    pass
        dbs = []
        for pid, (e, f) in enumerate(zip(exprs, flags)):
            db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            try:
                db.compile(expressions=[e], ids=[pid], elements=1, flags=[f])
            except hyperscan.error as exc:
                raise RulesError(f"{where[pid]}: hyperscan cannot compile this pattern: {exc} / hyperscan 无法编译该模式") from None
            dbs.append(db)
        if cached is not None:
            try:
                cached.parent.mkdir(parents=True, exist_ok=True)
                tmp = cached.with_suffix(f".{os.getpid()}.tmp")
                blobs = [hyperscan.dumpb(db) for db in dbs]
                tmp.write_bytes(b"".join(len(b).to_bytes(8, "little") + b for b in blobs))
                tmp.replace(cached)
            except OSError:
                pass
        return dbs

    def spans(self, pid: int, msg: "_Message", region: list[tuple[int, int]] | None = None) -> list[tuple[int, int]]:
        """Merged match spans (original characters) of pattern ``pid``: in the whole message, or
        only those overlapping ``region`` (sorted, disjoint original spans) — the second
        pattern of a rule need only be looked for near the first one's matches."""
        scratches = getattr(self._local, "s", None)
        if scratches is None:
            scratches = self._local.s = {}
        scratch = scratches.get(pid)
        if scratch is None:
            scratch = scratches[pid] = hyperscan.Scratch(self.dbs[pid])
        db, w = self.dbs[pid], self.width[pid]
        ends: list[int] = []
        norm = self.sides[pid] == "norm"
        if norm:
            codes = msg.packed()
            if not codes.size:
                return []
            # With one-to-many characters (ﬁ → fi) there is no cheap way back: scan it all.
            part = region if msg.n.shift is None else None
            for lo, hi in _parts(part, w, msg.n.length, msg.to_norm):

                def on_norm(_i, _frm, to, _f, _c, base=lo):
                    if not to % 3:  # ends mid-character: not a match (rules_regex.to_pack3)
                        ends.append(base + to // 3)

                db.scan(codes[lo:hi] if part is not None else codes, match_event_handler=on_norm, scratch=scratch)
        else:
            data = msg.utf8()
            if not data:
                return []
            for lo, hi in _parts(region, w, len(msg.text), msg.byte_at):
                db.scan(data[lo:hi] if region is not None else data, match_event_handler=lambda _i, _frm, to, _f, _c, lo=lo: ends.append(lo + to), scratch=scratch)
            if ends and len(data) != len(msg.text):  # not ASCII: bytes are not characters
                ends = _char_offsets(data, ends)
        if not ends:
            return []
        # Windows [end - width, end], merged; re finds the exact matches inside them.
        rx = self.regex[pid][1]
        target = msg.ntext() if norm else msg.text
        found: list[int] = []
        lo = hi = -1
        for e in sorted(set(ends)):
            a = max(e - w, 0)
            if a > hi:
                if hi >= 0:
                    found += _finds(rx, target, lo, hi)
                lo = a
            hi = e
        found += _finds(rx, target, lo, hi)
        if not found:
            return []
        if norm:
            found = msg.n.to_original_list(found)
        out = [(found[k], found[k + 1] + 1) for k in range(0, len(found), 2)]
        if region is not None:  # a match found through the margins but not touching the region
            out = [sp for sp in out if any(sp[0] < rh and sp[1] > rl for rl, rh in region)]
        return out


def _parts(region, width: int, length: int, convert):
    """The slices to scan: everything (one part), or each region part widened by the pattern's
    width so a match overlapping it lies inside, converted to the scanned unit by ``convert``."""
    if region is None:
        yield 0, None
        return
    prev = -1
    for lo, hi in region:
        a, b = convert(max(lo - width, 0)), convert(min(hi + width, length))
        if a < prev:
            a = prev
        if b > a:
            yield a, b
            prev = b


def _finds(rx, target: str, lo: int, hi: int) -> list[int]:
    out: list[int] = []
    for m in rx.finditer(target, lo, hi):
        out += (m.start(), m.end() - 1)
    return out


def _char_offsets(data: bytes, offsets: list[int]) -> list[int]:
    """UTF-8 byte offsets → character offsets (a few: decode the prefixes; many: one pass)."""
    if len(offsets) <= 16:
        return [len(data[:o].decode("utf-8", "replace")) for o in offsets]
    import numpy as np

    starts = (np.frombuffer(data, dtype=np.uint8) & 0xC0) != 0x80
    cum = np.concatenate([[0], np.cumsum(starts)])
    return cum[np.asarray(offsets)].tolist()


class _Message:
    """One message while it is checked: its encodings, each made once and only when needed."""

    __slots__ = ("text", "n", "_packed", "_utf8", "_ntext", "_dropped")

    def __init__(self, text: str, n: Normalised) -> None:
        self.text, self.n = text, n
        self._packed = self._utf8 = self._ntext = self._dropped = None

    def byte_at(self, c: int) -> int:
        """UTF-8 offset of character ``c``."""
        if len(self.utf8()) == len(self.text):
            return c
        return len(self.text[:c].encode("utf-8", "replace"))

    def to_norm(self, c: int) -> int:
        """The normalised position of the first character kept at or after original ``c``
        (only when characters were dropped, not expanded: ``Exact.spans`` checks)."""
        n = self.n
        if n.steps is None:
            return min(c, n.codes.size)
        if self._dropped is None:  # original positions of the dropped characters
            self._dropped = (n.steps + np.arange(n.steps.size)).tolist()
        return min(c - bisect_left(self._dropped, c), n.codes.size)

    def packed(self):
        if self._packed is None:
            self._packed = pack3(self.n.codes)
        return self._packed

    def utf8(self) -> bytes:
        if self._utf8 is None:
            # A lone surrogate becomes one '?' byte: character offsets stay exact.
            self._utf8 = self.text.encode("utf-8", "replace")
        return self._utf8

    def ntext(self) -> str:
        if self._ntext is None:
            self._ntext = self.n.text()
        return self._ntext


@dataclass(frozen=True)
class _Compiled:
    files: tuple[RuleFile, ...]
    rules: tuple[_Rule, ...]
    regex: tuple  # per pattern id: (side, compiled re)
    always: frozenset  # pattern ids with no required literal: always candidates
    unconditional: tuple  # ids of rules evaluated on every message (no literal to wait for): slow
    prefilter: _Prefilter | None  # None: engine "re", every rule is evaluated
    exact: _Exact | None  # None: engine "re", exact spans from Python's re
    risk_of: dict[str, str]  # category -> risk


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    if not spans:
        return spans
    spans.sort()
    out = [spans[0]]
    for s, e in spans[1:]:
        ls, le = out[-1]
        if s <= le:
            if e > le:
                out[-1] = (ls, e)
        else:
            out.append((s, e))
    return out


def _windows(lists: list[list[tuple[int, int]]], within: int) -> list[tuple[int, int]]:
    """Non-overlapping spans of at most ``within`` characters holding one span of each list.

    Each list is sorted and non-overlapping, so for a window starting at ``s`` the first span of
    each list starting at or after ``s`` also ends first: the narrowest window from ``s``."""
    starts = [[sp[0] for sp in lst] for lst in lists]
    found: list[tuple[int, int]] = []
    last_end = -1
    for s in sorted({sp[0] for lst in lists for sp in lst}):
        if s < last_end:
            continue
        e = s
        for lst, st in zip(lists, starts):
            k = bisect_left(st, s)
            if k == len(lst):
                return found  # this list has nothing at or after s, nor after any later s
            e = max(e, lst[k][1])
        if e - s <= within:
            found.append((s, e))
            last_end = e
    return found


def _re_spans(side: str, rx, msg: _Message) -> list[tuple[int, int]]:
    """Exact spans with Python's re (engine "re"): slow (200–450 µs per 1 KB for a big
    alternation), but needs no hyperscan."""
    if side == "orig":
        return [m.span() for m in rx.finditer(msg.text)]
    pos: list[int] = []
    for m in rx.finditer(msg.ntext()):
        pos += (m.start(), m.end() - 1)
    op = msg.n.to_original_list(pos) if pos else []
    return [(op[k], op[k + 1] + 1) for k in range(0, len(op), 2)]


class RulesCheck:
    """Knowledge rules from YAML files; thread-safe; see module docstring."""

    def __init__(
        self,
        paths: list[str | Path] | None = None,
        disable: list[str] | None = None,
        engine: str = "auto",
        normaliser: Normaliser | None = None,
        name: str = "rules",
        cache_dir: Path | None = None,
    ) -> None:
        self.name = name
        self.paths = [Path(p) for p in (paths or [packaged_rules_dir()])]
        self.disable = set(disable or [])
        if engine == "auto":
            engine = "hyperscan" if hyperscan is not None else "re"
        if engine not in ENGINES:
            raise ValueError(f"unknown rules engine {engine!r}; choose one of {', '.join(ENGINES)} / 未知规则引擎")
        if engine == "hyperscan" and hyperscan is None:
            raise ValueError("engine 'hyperscan' requested but the hyperscan package is not installed / 未安装 hyperscan")
        self.engine_name = engine
        self.normaliser = normaliser or default_normaliser()
        self.cache_dir = cache_dir
        self._compiled = self._compile()

    # -- building -------------------------------------------------------------------------
    def _compile(self) -> _Compiled:
        files = tuple(load_rule_files(self.paths))
        specs = [r for f in files for r in f.rules]
        unknown = self.disable - {r.id for r in specs}
        if unknown:
            raise RulesError(f"disable: no such rule(s) {', '.join(sorted(unknown))} / 要停用的规则不存在")
        risk_of: dict[str, tuple[str, str]] = {}
        for r in specs:
            # One risk code per category, as in the pipeline's policy: coverage reports and
            # per-category scores would otherwise depend on which rule fired.
            prev = risk_of.setdefault(r.category, (r.risk, r.id))
            if prev[0] != r.risk:
                raise RulesError(f"{r.source}: rule {r.id}: risk: {r.risk} differs from {prev[0]} of rule {prev[1]} for category {r.category} (one code per category) / 同一类别应使用同一风险代码")
        atom_id: dict[tuple[str, str], int] = {}
        where: list[str] = []

        def atom(p, r: RuleSpec) -> int:
            key = (p.side, p.regex)
            if key not in atom_id:
                atom_id[key] = len(where)
                where.append(f"{r.source}: rule {r.id}: {p.field}")
            return atom_id[key]

        rules = []
        for r in specs:
            if r.id in self.disable:
                continue
            atoms = tuple(dict.fromkeys(atom(p, r) for p in r.patterns))
            unless = tuple(dict.fromkeys(atom(p, r) for p in r.unless))
            rules.append(_Rule(r, atoms, unless, (r.category, f"rules:{r.id}", Action(r.action), r.risk), frozenset(atoms), r.mode == "all"))
        regex, lits, always, forms = [], [], set(), []
        required = {a for r in rules for a in r.atoms}
        for pid, (side, p) in enumerate(atom_id):
            try:
                if side == "norm":
                    # Checked with either engine, so a rule file valid for one is valid for both.
                    check_normalised(p, self.normaliser.normalise_text)
                    forms.append((side, to_pack3(p)))
                else:
                    forms.append((side, p))
                # ASCII classes on both sides: \d is 0-9 and (?i) folds only A-Z, so what
                # the prefilter's literals cover is exactly what re matches.
                regex.append((side, re.compile(p, re.ASCII)))
                words = required_literals(p)
            except (PatternError, re.error) as exc:
                raise RulesError(f"{where[pid]}: {exc}") from None
            if pid not in required:
                continue  # only in `unless`: searched when its rule is evaluated, never a trigger
            if words is None:
                always.add(pid)
            else:
                lits.append((pid, side, words, side == "orig" and case_insensitive(p)))
        prefilter = exact = None
        if self.engine_name == "hyperscan":
            prefilter = _Prefilter(lits, lambda w: self.normaliser.normalise(w).codes, self.cache_dir)
            exact = _Exact(forms, tuple(regex), where, self.cache_dir)
        unconditional = tuple(r.spec.id for r in rules if (r.need <= always if r.every else not r.need.isdisjoint(always)))
        return _Compiled(files, tuple(rules), tuple(regex), frozenset(always), unconditional, prefilter, exact, {c: v[0] for c, v in risk_of.items()})

    def reload(self) -> None:
        """Re-read the rule files; on error the old rules stay and the error is raised."""
        self._compiled = self._compile()

    # -- what it can report (fenghuo checks coverage) ---------------------------------------
    @property
    def rules(self) -> list[RuleSpec]:
        return [r.spec for r in self._compiled.rules]

    @property
    def files(self) -> tuple[RuleFile, ...]:
        return self._compiled.files

    def categories(self) -> set[str]:
        return {r.spec.category for r in self._compiled.rules}

    def risk_for(self, category: str) -> str | None:
        return self._compiled.risk_of.get(category)

    def __len__(self) -> int:
        return len(self._compiled.rules)

    @property
    def unconditional(self) -> tuple[str, ...]:
        """Rules with no literal the prefilter can wait for: evaluated on every message (slow;
        the shipped rules have none, and a test keeps it so)."""
        return self._compiled.unconditional

    # -- scanning -------------------------------------------------------------------------
    def scan(self, text: str) -> Verdict:
        return self.scan_normalised(text, self.normaliser.normalise(text))

    def scan_normalised(self, text: str, n: Normalised) -> Verdict:
        t0 = time.perf_counter()
        findings = self.find_in(text, n)
        return Verdict(findings, (time.perf_counter() - t0) * 1e6, (self.name,))

    def find_in(self, text: str, n: Normalised | None) -> list[Finding]:
        """Findings with spans on the original text: what the pipeline calls per message."""
        if n is None:
            n = self.normaliser.normalise(text)
        c = self._compiled
        msg = _Message(text, n)
        if c.prefilter is not None:
            can = c.prefilter.candidates(text, n, msg)
            if not can and not c.unconditional:
                return []  # the common case: no rule's literals in the message
            can |= c.always
            todo = [r for r in c.rules if (r.need <= can if r.every else not r.need.isdisjoint(can))]
            if not todo:
                return []
        else:
            todo = c.rules
        cache: dict[int, list[tuple[int, int]]] = {}  # a pattern shared by rules is searched once

        def spans(pid: int) -> list[tuple[int, int]]:
            sp = cache.get(pid)
            if sp is None:
                raw = c.exact.spans(pid, msg) if c.exact is not None else _re_spans(*c.regex[pid], msg)
                sp = cache[pid] = _merge(raw) if raw else []
            return sp

        out: list[Finding] = []
        for rule in todo:
            if rule.every:
                # The first pattern in the whole message, the others only near its matches.
                lists = [spans(rule.atoms[0])]
                w = rule.spec.within
                for a in rule.atoms[1:]:
                    if not lists[-1]:
                        break
                    near = _merge([(max(s - w, 0), e + w) for s, e in lists[0]])
                    lists.append(_merge(c.exact.spans(a, msg, near)) if c.exact is not None else spans(a))
                if not lists[-1]:
                    continue
                found = _windows(lists, w)
            else:
                hits = [sp for a in rule.atoms for sp in spans(a)]
                found = _merge(hits) if hits else []
            if found and rule.unless:
                w = rule.spec.unless_within
                near = _merge([(max(s - w, 0), e + w) for s, e in found])
                veto = [sp for a in rule.unless for sp in (c.exact.spans(a, msg, near) if c.exact is not None else spans(a))]
                found = [(s, e) for s, e in found if not any(us < e + w and ue > s - w for us, ue in veto)]
            cat, name, action, risk = rule.template
            out += [Finding(cat, s, e, name, action, risk) for s, e in found]
        if len(out) > 1:
            out.sort(key=lambda f: (f.start, f.end))
        return out


def from_config(spec: dict, policy, base_dir: Path) -> RulesCheck:  # noqa: ANN001 - the pipeline's factory signature
    """``- type: rules`` in the pipeline YAML: ``files`` (rule files or directories, default the
    packaged ``checks/rules/``), ``disable`` (rule ids), ``engine`` (auto|hyperscan|re), ``name``.
    Actions and risk codes come from the rule files, not from ``categories:``."""
    from fenghuo.checks.config import check_keys, resolve_path
    from fenghuo.platform.paths import data_dir

    check_keys(spec, {"name", "files", "disable", "engine"}, "rules")
    files = spec.get("files")
    if files is not None and (not isinstance(files, list) or not all(isinstance(f, str) for f in files)):
        raise ValueError("rules.files: expected a list of paths / 应为路径列表")
    disable = spec.get("disable") or []
    if not isinstance(disable, list) or not all(isinstance(d, str) for d in disable):
        raise ValueError("rules.disable: expected a list of rule ids / 应为规则 id 列表")
    paths = [resolve_path(f, base_dir) for f in files] if files else None
    return RulesCheck(paths, disable, str(spec.get("engine", "auto")), name=str(spec.get("name", "rules")), cache_dir=data_dir() / "cache")
