"""The knowledge-rules check: solicitation, fraud, gambling, drug and porn-ad patterns as data.

Rules live in versioned YAML files (``checks/rules/*.yaml``, format in ``rules_file.py`` and
docs/checks.md). Each rule is a set of regex patterns over the normalised text (evasions of
case, width, traditional characters and inserted separators already folded) or over the
original text (emoji, ``/``, the dots of a domain — what normalisation removes), combined as
"any of" or "all of within N characters", with optional "unless one of these is near"
patterns that veto a finding (「谨防刷单诈骗」 is a warning, not an offer).

Speed (the whole pipeline has ~100 µs per 1 KB message): the regexes are not run over every
message. Each pattern is reduced at load time to literals every match must contain
(``rules_regex.py``); per message one hyperscan literal scan per side says which patterns can
match, and a rule is evaluated only when all the patterns it needs can — then with Python's
``re`` in short windows around the literals (``rules_match.py``). On harmless text that is
rarely the case, so most messages cost the two literal scans. Without hyperscan (``engine:
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
from fenghuo.checks.rules_file import RuleFile, RulesError, RuleSpec, load_rule_files
from fenghuo.checks.rules_match import MAX_WINDOW, LiteralIndex, Message, PatternPlan, find_spans, make_plan, merge
from fenghuo.checks.rules_regex import (
    PatternError,
    case_insensitive,
    check_normalised,
    exact_strings,
    max_width,
    required_literals,
    split_branches,
)

try:  # pragma: no cover - depends on the platform
    import hyperscan
except ImportError:  # pragma: no cover
    hyperscan = None

ENGINES = ("hyperscan", "re")
MULTI_TODO_MAX = 4096  # entries of ``_Compiled.multi_todo``


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
    # Per prefilter literal id: the indices (in ``rules``) of the rules one of whose patterns it
    # stands for; and the rules with a pattern that is always a candidate. A message then
    # tests only the rules its literals touch, not every rule.
    lit_rules: tuple = ()
    always_rules: tuple = ()
    # Per literal id: the rules due when it is the message's only literal (most messages with
    # one have one), worked out once with the same test as below.
    single_todo: tuple = ()
    # Rules due per set of several literals, worked out on first sight (``_due`` is ~3 µs of
    # set work; 1 in 20 50-character COLD cuts has several literals, nearly always common
    # pairs such as 加 + 群). Bounded: cleared when full.
    multi_todo: dict = field(default_factory=dict)


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
        index = None
        if self.engine_name == "hyperscan":
            encode = lambda w: pack3(self.normaliser.normalise(w).codes).tobytes()  # noqa: E731
            index = LiteralIndex(plans, required, encode, self.cache_dir)
        unconditional = tuple(r.spec.id for r in rules if (r.need <= always if r.every else not r.need.isdisjoint(always)))
        rules_of: dict[int, set[int]] = {}
        for k, r in enumerate(rules):
            for a in r.need:
                rules_of.setdefault(a, set()).add(k)
        lit_rules = () if index is None else tuple(tuple(sorted({k for p in pids for k in rules_of.get(p, ())})) for pids in index.pre_pids)
        always_rules = tuple(sorted({k for p in always for k in rules_of.get(p, ())}))
        single_todo = ()
        if index is not None:
            single_todo = tuple(
                _due(rules, set(lit_rules[i]) | set(always_rules), set(pids) | always) for i, pids in enumerate(index.pre_pids)
            )
        return _Compiled(
            files, tuple(rules), tuple(plans), frozenset(always), unconditional, index, {c: v[0] for c, v in risk_of.items()}, lit_rules, always_rules, single_todo
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
        """Ids of the rules ``find_in`` evaluates, found the general way (every rule tested
        against ``LiteralIndex.candidates``): the reference its fast path is tested against."""
        c = self._compiled
        if c.index is None:
            return [r.spec.id for r in c.rules]
        can = c.index.candidates(Message(text, n))
        if not can and not c.unconditional:
            return []
        can |= c.always
        return [r.spec.id for r in c.rules if (r.need <= can if r.every else not r.need.isdisjoint(can))]

    def todo_fast(self, text: str, n: Normalised) -> list[str]:
        """Ids of the rules ``find_in``'s fast path evaluates (the same steps, for the tests)."""
        c = self._compiled
        if c.index is None:
            return [r.spec.id for r in c.rules]
        lit = c.index.candidate_literals(text, n)
        if not lit and not c.unconditional:
            return []
        if len(lit) == 1:
            return [r.spec.id for r in c.single_todo[lit[0]]]
        touched = {k for i in lit for k in c.lit_rules[i]}.union(c.always_rules)
        return [r.spec.id for r in _due(c.rules, touched, {p for i in lit for p in c.index.pre_pids[i]} | c.always)]

    def find_in(self, text: str, n: Normalised | None) -> list[Finding]:
        """Findings with spans on the original text: what the pipeline calls per message."""
        if n is None:
            n = self.normaliser.normalise(text)
        c = self._compiled
        index = c.index
        if index is not None:
            lit = index.candidate_literals(text, n)
            if not lit and not c.unconditional:
                return []  # the common case: no rule's literals in the message
            # Only the rules the literals touch (an "any" rule touched is due; an "all" rule
            # when every pattern it needs can match), in file order: findings of equal span
            # keep the order ``todo_general`` gives them.
            if len(lit) == 1:
                todo = c.single_todo[lit[0]]
            else:
                key = frozenset(lit)
                todo = c.multi_todo.get(key)
                if todo is None:
                    lr, pids = c.lit_rules, index.pre_pids
                    todo = _due(c.rules, {k for i in lit for k in lr[i]}.union(c.always_rules), {p for i in lit for p in pids[i]}.union(c.always))
                    if len(c.multi_todo) >= MULTI_TODO_MAX:
                        c.multi_todo.clear()
                    c.multi_todo[key] = todo
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
                    occ = occurrences[pid] = index.occurrences(pid, msg) if plan.literals else []
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


def _due(rules, touched: set[int], can: set[int]) -> tuple:
    """The touched rules (indices) whose patterns can match, in file order: an "any" rule
    touched is due; an "all" rule when every pattern it needs can match. File order keeps
    findings of equal span in the order ``todo_general`` gives them."""
    return tuple(r for r in (rules[k] for k in sorted(touched)) if not r.every or r.need <= can)


def _plan(side: str, pattern: str) -> PatternPlan:
    """Split a pattern into word lists (found as literals) and regex alternatives."""
    re.compile(pattern, re.ASCII)  # the whole must be valid, also where the split is not used
    words: list[str] = []
    branches = []
    for b in split_branches(pattern):
        exact = exact_strings(b)
        if exact is not None:
            words += exact
        else:
            # ASCII classes on both sides: \d is 0-9 and (?i) folds only A-Z, so the literals
            # hyperscan waits for cover exactly what re matches.
            branches.append((re.compile(b, re.ASCII), min(max_width(b), MAX_WINDOW), required_literals(b)))
    return make_plan(side, list(dict.fromkeys(words)), branches, side == "orig" and case_insensitive(pattern))


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
