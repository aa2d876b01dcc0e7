"""The knowledge-rules check: solicitation, fraud, gambling, drug and porn-ad patterns as data.

Rules live in versioned YAML files (``checks/rules/*.yaml``, format in ``rules_file.py`` and
docs/checks.md). Each rule is a set of regex patterns over the normalised text (evasions of
case, width, traditional characters and inserted separators already folded) or over the
original text (emoji, ``/``, the dots of a domain — what normalisation removes), combined as
"any of" or "all of within N characters", with optional "unless one of these is near"
patterns that veto a finding (「谨防刷单诈骗」 is a warning, not an offer).

Speed (the whole pipeline has ~100 µs per 1 KB message): the regexes are not run over every
message. Each pattern alternative is reduced at load time to literal sets every match holds one
string of each (``rules_regex.py``); a rule is due only when the rarest of them occurs and the
others occur close enough (``rules_due.py``: one hyperscan literal scan per side on every
message, a small second one when a key literal occurs — a C literal set on the codes, see
``rules_literals.code_set``) — then it is evaluated with
Python's ``re`` in short windows around the literals, or tried only where a match can start
(``rules_match.py``; the message's decoded forms in ``rules_message.py``). On harmless text
that is rarely the case, so most messages cost the two literal scans. Without hyperscan (``engine:
re``) every rule is evaluated with ``re`` over the whole text: same findings, slower; tests
check both agree.
"""

from __future__ import annotations

import re
import time
from bisect import bisect_left
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from fenghuo.checks.base import Action, Finding, Verdict
from fenghuo.checks.matcher import pack3
from fenghuo.checks.normalize import Normalised, Normaliser, default_normaliser
from fenghuo.checks.reloading import CompiledMemo, file_signature
from fenghuo.checks.rules_due import Clause, clause_recs, clauses_of, due_entry, due_rules, near
from fenghuo.checks.rules_file import RuleFile, RulesError, RuleSpec, expand_paths, load_rule_files
from fenghuo.checks.rules_literals import LiteralIndex
from fenghuo.checks.rules_match import MAX_WINDOW, PatternPlan, find_spans, make_plan, merge
from fenghuo.checks.rules_message import Message
from fenghuo.checks.rules_regex import (
    PatternError,
    case_insensitive,
    check_normalised,
    exact_strings,
    leading_literals,
    lookahead_width,
    max_width,
    required_literals,
    split_branches,
)

try:  # pragma: no cover - depends on the platform
    import hyperscan
except ImportError:  # pragma: no cover
    hyperscan = None

ENGINES = ("hyperscan", "re")


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


@dataclass(frozen=True)
class _Compiled:
    files: tuple[RuleFile, ...]
    rules: tuple[_Rule, ...]
    plans: tuple  # per pattern id: how it is found (rules_match.PatternPlan)
    always: frozenset  # pattern ids with no required literal: always candidates
    unconditional: tuple  # ids of rules evaluated on every message (no literal to wait for): slow
    index: LiteralIndex | None  # None: engine "re", every rule evaluated over the whole text
    risk_of: dict[str, str]  # category -> risk
    # The rules' clauses (``rules_due.py``) and the rules with none (due on every message).
    clauses: tuple = ()
    always_rules: tuple = ()
    # Per first-stage literal id: (rules due outright, clauses waiting for their other factors)
    # when it is the message's only one (most messages with a hit have one), worked out once.
    single_todo: tuple = ()
    # The same per set of several literals, worked out on first sight (~3 µs of set work; 1
    # in 20 50-character COLD cuts has several). Bounded: cleared when full.
    multi_todo: dict = field(default_factory=dict)
    recs: tuple = ()  # per clause: what ``rules_due.due_rules`` reads of it (``clause_recs``)


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


_MEMO = CompiledMemo()  # see RulesCheck._compile


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
        """The compiled rules, shared with any other rules check of this process built from the
        same files (same signatures) and options, as ``LexiconCheck._compile`` does: the state
        is immutable, and compiling the shipped rules (reading, the regexes, the due clauses)
        costs ~2 s of CPU — per check, per test and per reload otherwise."""
        try:
            key = (tuple((str(f), file_signature(f)) for f in expand_paths(self.paths)), tuple(sorted(self.disable)),
                   self.engine_name, self.normaliser.options, str(self.cache_dir))  # a new directory gets its database files
        except OSError:
            key = None  # a file that cannot be stat'ed: the compile says which
        return _MEMO.get(key, self._compile_now)

    def _compile_now(self) -> _Compiled:
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
        plans, always = [], set()
        required = {a for r in rules for a in r.atoms}
        for pid, (side, p) in enumerate(atom_id):
            try:
                if side == "norm":
                    check_normalised(p, self.normaliser.normalise_text)
                plans.append(_plan(side, p))
            except (PatternError, re.error) as exc:
                raise RulesError(f"{where[pid]}: {exc}") from None
            if not plans[-1].complete and pid in required:
                always.add(pid)
        # A rule's first pattern is searched in the whole message, the others near it: put a
        # pattern with literals first, so the whole-message search is a windowed one.
        rules = [_first_with_literals(r, always) for r in rules]
        clauses: list[Clause] = []
        always_rules = []
        for k, r in enumerate(rules):
            got = clauses_of(k, r.every, r.spec.within, r.atoms, plans)
            if got is None:
                always_rules.append(k)
            else:
                clauses += got
        unconditional = tuple(rules[k].spec.id for k in always_rules)
        index = None
        single_todo = recs = ()
        if self.engine_name == "hyperscan":
            encode = lambda w: pack3(self.normaliser.normalise(w).codes).tobytes()  # noqa: E731
            index = LiteralIndex(plans, clauses, encode, self.cache_dir)
            recs = clause_recs(clauses, index)
            single_todo = tuple(due_entry(rules, clauses, index, (i,), always_rules, recs) for i in range(len(index.keyed)))
        return _Compiled(
            files, tuple(rules), tuple(plans), frozenset(always), unconditional, index, {c: v[0] for c, v in risk_of.items()},
            tuple(clauses), tuple(always_rules), single_todo, recs=recs,
        )

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

    def todo_general(self, text: str, n: Normalised) -> list[str]:
        """Ids of the rules due, worked out the slow way: every clause's literals looked up with
        ``str.find`` in the decoded normalised text and ``bytes.find`` in the UTF-8 text — the
        reference the hyperscan path (``todo_fast``) is tested against."""
        c = self._compiled
        if c.index is None:
            return [r.spec.id for r in c.rules]
        msg = Message(text, n)
        ntext, raw = msg.ntext(), msg.utf8()
        norm = self.normaliser.normalise_text
        cache = self.__dict__.setdefault("_reference_words", {})  # factor -> its words normalised
        seen: dict = {}

        def occ(f) -> list[tuple[int, int]]:
            got = seen.get(f)
            if got is not None:
                return got
            out = seen[f] = []
            if f.side == "orig":
                target = raw.lower() if f.caseless else raw
                if any((w.encode().lower() if f.caseless else w.encode()) in target for w in f.words):
                    out.append((0, 0))
                return out
            words = cache.get(f)
            if words is None:
                words = cache[f] = [norm(w) for w in f.words]
            for w in words:
                i = ntext.find(w)
                while i >= 0:
                    out.append((i, i + len(w)))
                    i = ntext.find(w, i + 1)
            return out

        due = set(c.always_rules)
        for cl in c.clauses:
            if cl.rule in due:
                continue
            keys = occ(cl.key)
            if not keys:
                continue
            others = [occ(f) for f in cl.confirm]
            if not all(others):
                continue
            if cl.width is not None and (cl.strict or n.shift is None) and not near(keys, others, cl.width):
                continue
            due.add(cl.rule)
        return [c.rules[k].spec.id for k in sorted(due)]

    def todo_fast(self, text: str, n: Normalised) -> list[str]:
        """Ids of the rules ``find_in``'s fast path evaluates (the same steps, for the tests)."""
        c = self._compiled
        if c.index is None:
            return [r.spec.id for r in c.rules]
        return [r.spec.id for r in self._todo(c.index.prefilter(text, n), text, n)]

    def _todo(self, hits: list[int], text: str, n: Normalised) -> tuple:
        """The rules due for a message with first-stage ``hits``, in file order (``rules_due.due_rules``)."""
        return due_rules(self._compiled, hits, text, n)

    def find_in(self, text: str, n: Normalised | None) -> list[Finding]:
        """Findings with spans on the original text: what the pipeline calls per message."""
        if n is None:
            n = self.normaliser.normalise(text)
        c = self._compiled
        index = c.index
        if index is not None:
            hits = index.prefilter(text, n)
            if not hits and not c.always_rules:
                return []  # the common case: no clause's key literal in the message
            todo = self._todo(hits, text, n)
            if not todo:
                return []
        else:
            todo = c.rules
        msg = Message(text, n)
        cache: dict[int, list[tuple[int, int]]] = {}  # whole-message spans; a pattern shared by rules is searched once
        occurrences: dict[int, list] = {}  # literal occurrences per pattern, scanned once

        def spans(pid: int, region: list[tuple[int, int]] | None = None) -> list[tuple[int, int]]:
            if region is None and pid in cache:
                return cache[pid]
            # Where its literals occur (hyperscan), or None: search the whole text or region.
            plan = c.plans[pid]
            occ = None  # engine re: find_spans searches the whole text
            if index is not None:
                occ = occurrences.get(pid)
                if occ is None:
                    occ = occurrences[pid] = index.occurrences(pid, msg) if plan.found_by else []
            got = find_spans(plan, msg, occ, region)
            if region is None:
                cache[pid] = got
            return got

        out: list[Finding] = []
        for rule in todo:
            if rule.every:
                # The first pattern in the whole message, the others only near its matches.
                lists = [spans(rule.atoms[0])]
                w = rule.spec.within
                for a in rule.atoms[1:]:
                    if not lists[-1]:
                        break
                    lists.append(spans(a, merge([(max(s - w, 0), e + w) for s, e in lists[0]])))
                if not lists[-1]:
                    continue
                found = _windows(lists, w)
            else:
                found = merge([sp for a in rule.atoms for sp in spans(a)])
            if found and rule.unless:
                w = rule.spec.unless_within
                near = merge([(max(s - w, 0), e + w) for s, e in found])
                veto = [sp for a in rule.unless for sp in spans(a, near)]
                found = [(s, e) for s, e in found if not any(us < e + w and ue > s - w for us, ue in veto)]
            cat, name, action, risk = rule.template
            out += [Finding(cat, s, e, name, action, risk) for s, e in found]
        if len(out) > 1:
            out.sort(key=lambda f: (f.start, f.end))
        return out


def _plan(side: str, pattern: str) -> PatternPlan:
    """Split a pattern into word lists (found as literals) and regex alternatives."""
    re.compile(pattern, re.ASCII)  # the whole must be valid, also where the split is not used
    words: list[str] = []
    branches, leads = [], []
    for b in split_branches(pattern):
        exact = exact_strings(b)
        if exact is not None:
            words += exact
        else:
            # ASCII classes on both sides: \d is 0-9 and (?i) folds only A-Z, so the literals
            # hyperscan waits for cover exactly what re matches.
            # The window around a literal: the longest match, plus what a lookahead reads past it.
            width = max_width(b) + lookahead_width(b)
            branches.append((re.compile(b, re.ASCII), min(width, MAX_WINDOW), required_literals(b)))
            # Tried only where a leading string occurs when the window is exact (not capped).
            leads.append(leading_literals(b) if width <= MAX_WINDOW else None)
    return make_plan(side, list(dict.fromkeys(words)), branches, side == "orig" and case_insensitive(pattern), leads)


def _first_with_literals(rule: _Rule, always: set) -> _Rule:
    if not rule.every or rule.atoms[0] not in always:
        return rule
    atoms = tuple(sorted(rule.atoms, key=lambda a: a in always))  # stable: literal-bearing first
    return _Rule(rule.spec, atoms, rule.unless, rule.template, rule.need, rule.every)


def from_config(spec: dict, policy, base_dir: Path) -> RulesCheck:
    """``- type: rules`` in the pipeline YAML: ``files`` (rule files or directories, default the
    packaged ``checks/rules/``), ``disable`` (rule ids), ``engine`` (auto|hyperscan|re), ``name``.
    Actions and risk codes come from the rule files, not from ``categories:``."""
    from fenghuo.checks.config import check_keys, resolve_path
    from fenghuo.checks.derived_cache import cache_dir

    check_keys(spec, {"name", "files", "disable", "engine"}, "rules")
    files = spec.get("files")
    if files is not None and (not isinstance(files, list) or not all(isinstance(f, str) for f in files)):
        raise ValueError("rules.files: expected a list of paths / 应为路径列表")
    disable = spec.get("disable") or []
    if not isinstance(disable, list) or not all(isinstance(d, str) for d in disable):
        raise ValueError("rules.disable: expected a list of rule ids / 应为规则 id 列表")
    paths = [resolve_path(f, base_dir) for f in files] if files else None
    return RulesCheck(paths, disable, str(spec.get("engine", "auto")), name=str(spec.get("name", "rules")), cache_dir=cache_dir())  # FENGHUO_CACHE_DIR, else the data directory's cache/
