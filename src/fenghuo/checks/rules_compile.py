"""The knowledge-rules check's compiled state: rule files turned into what a scan reads.

``compile_rules`` reads and validates the files (``rules_file.py``), numbers the distinct
patterns (a pattern shared by rules is found once per message), plans how each is found
(``rules_match.plan_pattern``), works out each rule's clauses (``rules_clauses.py``) and, on
engine hyperscan, builds the literal index (``rules_literals.py``) and the due entries of
single first-stage literals (``rules_due.due_entry``, on first use). The state is immutable but
for ``multi_todo`` and ``single_todo``, caches of due entries filled per message; ``RulesCheck``
(rules.py) shares it between checks built from the same files (``CompiledMemo``), and with a
cache directory it is kept on disk for the next process (``rules_cache.py``).

Split out of rules.py (session 22) when it passed 420 lines: rules.py keeps the check itself
(its options, what it reports, the scan).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from fenghuo.checks.base import Action
from fenghuo.checks.matcher import pack3
from fenghuo.checks.normalize import Normaliser
from fenghuo.checks.rules_clauses import Clause, clauses_of
from fenghuo.checks.rules_due import SingleEntries, clause_recs, due_plan
from fenghuo.checks.rules_file import RuleFile, RulesError, RuleSpec, load_rule_files
from fenghuo.checks.rules_literals import LiteralIndex
from fenghuo.checks.rules_match import plan_pattern
from fenghuo.checks.rules_pattern import PatternError, check_normalised


@dataclass(frozen=True, slots=True)
class CompiledRule:
    spec: RuleSpec
    atoms: tuple[int, ...]  # pattern ids that must (all) or may (any) match
    unless: tuple[int, ...]
    template: tuple  # (category, rule name, action, risk) for the findings
    every: bool  # mode "all"


@dataclass(frozen=True)
class CompiledRules:
    files: tuple[RuleFile, ...]
    rules: tuple[CompiledRule, ...]
    plans: tuple  # per pattern id: how it is found (rules_match.PatternPlan)
    always: frozenset  # pattern ids with no required literal: always candidates
    unconditional: tuple  # ids of rules evaluated on every message (no literal to wait for): slow
    index: LiteralIndex | None  # None: engine "re", every rule evaluated over the whole text
    risk_of: dict[str, str]  # category -> risk
    # The rules' clauses (``rules_clauses.py``) and the rules with none (due on every message).
    clauses: tuple = ()
    always_rules: tuple = ()
    # Per first-stage literal id: (rules due outright, clauses waiting for their other factors)
    # when it is the message's only one (most messages with a hit have one), worked out on
    # first use (``rules_due.SingleEntries``).
    single_todo: tuple = ()
    # The same per set of several literals, worked out on first sight (~3 µs of set work; 1
    # in 20 50-character COLD cuts has several). Bounded: cleared when full.
    multi_todo: dict = field(default_factory=dict)
    recs: tuple = ()  # per clause: what ``rules_due.due_rules`` reads of it (``clause_recs``)
    due_plan: object = None  # the rules due per message in C (``rules_due.due_plan``), or None
    from_cache: bool = False  # read back from the disk cache (``rules_cache.py``), not compiled


def compile_rules(paths: list[Path], disable: set[str], engine: str, normaliser: Normaliser, cache_dir: Path | None) -> CompiledRules:
    """The rules check's compiled state from its rule files and options (``RulesCheck``'s, which
    keeps it in a memo): raises RulesError naming the file, rule and field of what is wrong.

    With a ``cache_dir``, the state compiled from the same file bytes, options and compile code
    before is read back from it (``rules_cache.py``: ~0.3 s instead of ~8 s) and a state
    compiled here is stored there; a changed file has another key, so it is compiled (and its
    errors raised) as without the cache."""
    from fenghuo.checks import rules_cache

    key = rules_cache.state_key(paths, disable, engine, normaliser) if cache_dir is not None else None
    if key is not None:
        parts = rules_cache.load(cache_dir, key)
        if parts is not None:
            if parts["index"] is not None:
                parts["index"].attach(cache_dir)
                parts["index"].release_literals()
            return finish(parts, from_cache=True)
    parts = _compile_parts(paths, disable, engine, normaliser, cache_dir)
    if key is not None and rules_cache.state_key(paths, disable, engine, normaliser) == key:  # no file changed meanwhile
        rules_cache.store(cache_dir, key, parts)
    if parts["index"] is not None:
        parts["index"].release_literals()
    return finish(parts)


def finish(parts: dict, from_cache: bool = False) -> CompiledRules:
    """The compiled state from ``_compile_parts``' fields (or the same read back from the disk
    cache), with what is cheap to make or made on first use: the due entries of single literals
    (``rules_due.SingleEntries``) and the C plan of the rules due (``rules_due.due_plan``)."""
    index, rules, clauses, always_rules = parts["index"], parts["rules"], parts["clauses"], parts["always_rules"]
    single_todo, plan = (), None
    if index is not None:
        single_todo = SingleEntries(rules, clauses, index, always_rules, parts["recs"])
        plan = due_plan(clauses, index, len(rules), always_rules)
    return CompiledRules(**parts, single_todo=single_todo, due_plan=plan, from_cache=from_cache)


def _compile_parts(paths: list[Path], disable: set[str], engine: str, normaliser: Normaliser, cache_dir: Path | None) -> dict:
    """What compiling the files makes: ``CompiledRules``' fields but those ``finish`` adds."""
    files = tuple(load_rule_files(paths))
    specs = [r for f in files for r in f.rules]
    unknown = disable - {r.id for r in specs}
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
        if r.id in disable:
            continue
        atoms = tuple(dict.fromkeys(atom(p, r) for p in r.patterns))
        unless = tuple(dict.fromkeys(atom(p, r) for p in r.unless))
        rules.append(CompiledRule(r, atoms, unless, (r.category, f"rules:{r.id}", Action(r.action), r.risk), r.mode == "all"))
    plans, always = [], set()
    required = {a for r in rules for a in r.atoms}
    for pid, (side, p) in enumerate(atom_id):
        try:
            if side == "norm":
                check_normalised(p, normaliser.normalise_text)
            plans.append(plan_pattern(side, p))
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
    recs = ()
    if engine == "hyperscan":
        encode = lambda w: pack3(normaliser.normalise(w).codes).tobytes()  # noqa: E731
        index = LiteralIndex(plans, clauses, encode, cache_dir)
        recs = clause_recs(clauses, index)
    return {"files": files, "rules": tuple(rules), "plans": tuple(plans), "always": frozenset(always), "unconditional": unconditional,
            "index": index, "risk_of": {c: v[0] for c, v in risk_of.items()}, "clauses": tuple(clauses),
            "always_rules": tuple(always_rules), "recs": recs}


def _first_with_literals(rule: CompiledRule, always: set) -> CompiledRule:
    if not rule.every or rule.atoms[0] not in always:
        return rule
    atoms = tuple(sorted(rule.atoms, key=lambda a: a in always))  # stable: literal-bearing first
    return CompiledRule(rule.spec, atoms, rule.unless, rule.template, rule.every)
