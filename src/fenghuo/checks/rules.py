"""The knowledge-rules check: solicitation, fraud, gambling, drug and porn-ad patterns as data.

Rules live in versioned YAML files (``checks/rules/*.yaml``, format in ``rules_file.py`` and
docs/checks.md). Each rule is a set of regex patterns over the normalised text (evasions of
case, width, traditional characters and inserted separators already folded) or over the
original text (emoji, ``/``, the dots of a domain — what normalisation removes), combined as
"any of" or "all of within N characters", with optional "unless one of these is near"
patterns that veto a finding (「谨防刷单诈骗」 is a warning, not an offer).

Speed (the whole pipeline has ~100 µs per 1 KB message): the regexes are not run over every
message. Each pattern alternative is reduced at load time to literal sets every match holds one
string of each (``rules_regex.py``; the pattern's form — alternatives, widths, case — in
``rules_pattern.py``); a rule's clauses wait for the rarest of them (``rules_clauses.py``), and
a rule is due only when it occurs and the others occur close enough (``rules_due.py``: one
hyperscan literal scan per side on every message, a small second one when a key literal occurs
— a C literal set on the codes, see ``rules_literals.code_set``) — then it is evaluated with
Python's ``re`` in short windows around the literals, or tried only where a match can start
(``rules_match.py``; the message's decoded forms in ``rules_message.py``). On harmless text
that is rarely the case, so most messages cost the two literal scans. Without hyperscan (``engine:
re``) every rule is evaluated with ``re`` over the whole text: same findings, slower; tests
check both agree. ``rules_compile.py`` builds the compiled state all of these read; this module
is the check itself: its options, what it reports and the scan (``find_in``).
"""

from __future__ import annotations

import time
from bisect import bisect_left
from importlib import resources
from pathlib import Path

from fenghuo.checks.base import Finding, Verdict
from fenghuo.checks.normalize import Normalised, Normaliser, default_normaliser
from fenghuo.checks.reloading import CompiledMemo, file_signature
from fenghuo.checks.rules_compile import CompiledRules, compile_rules
from fenghuo.checks.rules_due import due_rules, due_rules_reference
from fenghuo.checks.rules_file import RuleFile, RuleSpec, expand_paths
from fenghuo.checks.rules_match import find_spans, merge
from fenghuo.checks.rules_message import Message

try:  # pragma: no cover - depends on the platform
    import hyperscan
except ImportError:  # pragma: no cover
    hyperscan = None

ENGINES = ("hyperscan", "re")


def packaged_rules_dir() -> Path:
    return Path(str(resources.files("fenghuo.checks").joinpath("rules")))


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
    def _compile(self) -> CompiledRules:
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

    def _compile_now(self) -> CompiledRules:
        return compile_rules(self.paths, self.disable, self.engine_name, self.normaliser, self.cache_dir)

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
        """Ids of the rules due, worked out the slow way (``rules_due.due_rules_reference``: every
        clause's literals looked up with ``str.find`` and ``bytes.find``) — the reference the
        hyperscan path (``todo_fast``) is tested against."""
        c = self._compiled
        if c.index is None:
            return [r.spec.id for r in c.rules]
        words = self.__dict__.setdefault("_reference_words", {})  # factor -> its words normalised
        return [c.rules[k].spec.id for k in due_rules_reference(c, text, n, self.normaliser.normalise_text, words)]

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
