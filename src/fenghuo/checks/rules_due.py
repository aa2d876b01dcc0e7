"""When a knowledge rule is due for a message: the per-message side of the rules check's
two-stage prefilter.

A rule's clauses (``rules_clauses.py``: conjunctions of literal factors found near each other,
each woken by its rarest factor, the *key*) are held against what the message holds: the
first-stage scan (``rules_literals.LiteralIndex.prefilter``) reports the key literals; a clause
with no other factor makes its rule due outright; one with others is *pending*, and its other
factors' literals are scanned only near its key occurrences. Every step only drops rules with
no possible match, so the findings are the same as evaluating every rule (engine ``re``).

Per message (``due_rules``): most 1 KB messages hold a key literal of ~3 rules whose other
factors do not occur nearby, so that path is kept short — per rule one pass over the hits for
its stretch (the widest of its clauses' distances around its key occurrences, prepared by
``due_entry`` once per set of key literals) and one scan of it; the clauses are tested one by
one only when the scan found something. The stretch is a superset of each clause's, and each
clause's own test is exact, so the rules due are the same (tests compare with
``RulesCheck.todo_general``).

Since session 23 that per-rule loop runs in C for every pending rule whose other factors are one
``CodeSet`` (~5 µs of Python per pending rule, ~5 pending rules per 1 KB COLD cut); since
session 24 the whole of it does (``_textnative.DuePlan``, ``_rules_due.h``: the entry worked out
per message from flat arrays, so no Python set, tuple or PyLong is read per hit and rule). The
Python loop (``pending_loop``) takes what it leaves (original-text factors) and everything
without the kernel or with ``FENGHUO_NATIVE=0``, with the same answers
(tests/checks/test_rules_native.py).

``due_rules_reference`` works the same answer out the slow way, with ``str.find`` and
``bytes.find`` per clause: the reference the fast path is tested against.
"""

from __future__ import annotations

from bisect import bisect_left

from fenghuo.checks.matcher import pack3
from fenghuo.checks.normalize import NATIVE
from fenghuo.checks.rules_literals import HIT_BITS, HIT_MASK, message_codes, on_norm_literal
from fenghuo.checks.rules_message import Message

MULTI_TODO_MAX = 4096  # entries of the compiled state's ``multi_todo``

# The whole per-message test in C when the kernel is built (``_textnative.DuePlan``, in
# _rules_due.h; why there, measured): built once per compiled state (``due_plan``), it works the
# entry out from flat arrays and tests every pending rule with a ``CodeSet``; what it leaves
# (original-text factors) comes back for ``pending_loop``. Without the kernel or with
# FENGHUO_NATIVE=0, the cached entries and ``pending_loop`` do it all. Same answers.
_DUE_PLAN = getattr(NATIVE, "DuePlan", None)


def due_plan(clauses, index, n_rules: int, always_rules, native=None):
    """The compiled rules' ``DuePlan`` (see ``_DUE_PLAN``), or None without the kernel."""
    native = native or _DUE_PLAN
    if native is None:
        return None
    sets, facs = [], []
    for r in range(n_rules):
        d = index.confirm_norm.get(r, -1)
        cs = index.confirm_sets[d] if d >= 0 else None
        sets.append(cs)
        facs.append(index.confirm_factor[d] if cs is not None else None)
    recs = [(cl.rule, cl.width, cl.strict, bool(cl.confirm), index.confirm_idx[k]) for k, cl in enumerate(clauses)]
    return native(index.keyed, index.key_lengths, recs, sets, facs, list(always_rules))


def due_rules(compiled, hits: list[int], text: str, n) -> tuple:
    """The rules due for a message with first-stage ``hits`` (``LiteralIndex.prefilter``) of
    the rules check's compiled state, in file order (findings of equal span keep the order
    ``RulesCheck.todo_general`` gives them)."""
    c = compiled
    if not hits:
        return tuple(c.rules[k] for k in c.always_rules)
    plan = c.due_plan
    if plan is not None and n.codes.size:
        got, rest = plan.due(hits, message_codes(n), n.shift is None)
        if rest is not None:  # rules whose other factors are not one CodeSet
            pending = tuple(pending_entry(c.index, r, [c.recs[k] for k in ks]) for r, ks in rest)
            got = sorted(set(got).union(pending_loop(c, pending, hits, text, n)))
        rules = c.rules
        return tuple([rules[r] for r in got])
    if len(hits) == 1:
        todo, ks, pending = c.single_todo[hits[0] & HIT_MASK]
    else:
        key = frozenset([h & HIT_MASK for h in hits])
        entry = c.multi_todo.get(key)
        if entry is None and len(key) == 1:  # one literal, several occurrences
            entry = c.single_todo[hits[0] & HIT_MASK]
        elif entry is None:
            entry = due_entry(c.rules, c.clauses, c.index, key, c.always_rules, c.recs)
            if len(c.multi_todo) >= MULTI_TODO_MAX:
                c.multi_todo.clear()
            c.multi_todo[key] = entry
        todo, ks, pending = entry
    if not pending:
        return todo
    got = pending_loop(c, pending, hits, text, n)
    if not got:
        return todo
    return tuple(c.rules[r] for r in sorted(set(ks).union(got)))


def pending_loop(c, pending: tuple, hits: list[int], text: str, n) -> list[int]:
    """The rules of ``pending`` (``due_entry``'s tuples) found due: the Python side of
    ``due_rules``, for every pending rule without the kernel and for those with original-text
    factors (or a database hyperscan matches) with it."""
    # Clauses whose key occurs wait for their other factors: one scan of the rule's other
    # factors' literals — only of the stretch where they could be, within the widest of its
    # clauses' distances of its key occurrences — and, when any occurs (rarely), the test of
    # each clause: its factors near one of its own key occurrences. The rule's stretch comes
    # from one pass over the hits with what ``due_entry`` prepared, and the clause test only
    # when the scan found something.
    index = c.index
    due: list[int] = []
    kl = index.key_lengths
    near_ok = n.shift is None
    size = n.codes.size
    packed = codes = first = keys_by = scratches = None
    for r, width, strict, mine, recs, d in pending:
        if width is not None and (strict or near_ok):
            # Another factor of a match holding the key [s, e) lies in [e - w, s + w).
            e0, s1 = size, 0
            for h in hits:
                i = h & HIT_MASK
                if i in mine:
                    e = h >> HIT_BITS
                    if e < e0:
                        e0 = e
                    if e - kl[i] > s1:
                        s1 = e - kl[i]
            lo, hi = e0 - width, s1 + width
            if lo < 0:
                lo = 0
            if hi > size:
                hi = size
            if lo >= hi:
                continue
        else:
            lo, hi = 0, size
        if d >= 0 and size:
            # ``index.confirm`` inlined for a rule with one database, on the normalised side
            # (nearly all): the call and its loops were most of a pending rule's ~4 µs. Its
            # literals in C on the codes when the kernel is built (``rules_literals.code_set``):
            # a hyperscan scan of its own database started cold, ~2.5-3.5 µs in the pipeline.
            cs = index.confirm_sets[d]
            if cs is not None:
                if codes is None:
                    codes = message_codes(n)
                found = cs.find(codes, lo, hi, lo)
            else:
                if packed is None:
                    packed = n.packed if n.packed is not None else pack3(n.codes).tobytes()
                if scratches is None:
                    scratches = index.confirm_scratches()
                scratch = scratches[d]
                if scratch is None:
                    scratch = scratches[d] = index.new_scratch(d)
                found = []
                index.confirm_dbs[d].scan(packed[3 * lo : 3 * hi], on_norm_literal, 0, found, scratch)
            if not found:
                continue  # none of the rule's other factors occurs: the common answer
            occ = index.confirm_hits(r, d, found, lo)
        else:
            if packed is None:
                packed = n.packed if n.packed is not None else pack3(n.codes).tobytes()
            occ = index.confirm(r, text, n, lo, hi, packed)
            if occ is None:
                continue
        if first is None:
            first, keys_by = {}, {}
            for h in hits:
                first.setdefault(h & HIT_MASK, []).append(h >> HIT_BITS)
        for g, w, strict1, keyset, idxs in recs:
            for j in idxs:
                if not occ[j]:
                    break
            else:
                if w is not None and (strict1 or near_ok):
                    keys = keys_by.get(g)
                    if keys is None:
                        keys = keys_by[g] = [(e - kl[i], e) for i, ends in first.items() if i in keyset for e in ends]
                    if not near_all(keys, occ, idxs, w):
                        continue
                due.append(r)
                break
    return due


def near(keys: list[tuple[int, int]], others: list[list[tuple[int, int]]], width: int) -> bool:
    """Whether some key occurrence has an occurrence of every other factor with both inside
    ``width`` characters (each pair: a necessary condition for one match holding them all)."""
    return any(all(any(max(e, e2) - min(s, s2) <= width for s2, e2 in o) for o in others) for s, e in keys)


def close(keys: list[tuple[int, int]], occ: list[tuple[int, int]], starts: list[int], width: int) -> frozenset:
    """Indices of the key occurrences [s, e) with an occurrence [s2, e2) of ``occ`` (sorted, with
    their ``starts``) inside ``width`` characters: s2 >= e - width and e2 <= s + width (``near``
    for one factor, by bisection)."""
    out = set()
    n = len(starts)
    for k, (s, e) in enumerate(keys):
        lim = s + width
        a = bisect_left(starts, e - width)
        while a < n and starts[a] < lim:
            if occ[a][1] <= lim:
                out.add(k)
                break
            a += 1
    return frozenset(out)


def near_all(keys: list[tuple[int, int]], occ: list[list[tuple[int, int]]], idxs: tuple[int, ...], width: int) -> bool:
    """Whether some key occurrence [s, e) has, for every factor ``j`` of ``idxs``, an occurrence
    [s2, e2) in ``occ[j]`` with s2 >= e - width and e2 <= s + width: ``near`` per factor, for
    one key at a time. A plain loop while the pairs are few (a 1 KB message: a key or two and a
    few occurrences); by bisection (``close``) beyond that, where long texts would make the
    loop quadratic."""
    if len(keys) * sum(len(occ[j]) for j in idxs) > 64:
        ok = None
        for j in idxs:
            o = sorted(occ[j])
            got = close(keys, o, [x for x, _ in o], width)
            ok = got if ok is None else ok & got
            if not ok:
                return False
        return True
    for s, e in keys:
        lo, hi = e - width, s + width
        for j in idxs:
            for s2, e2 in occ[j]:
                if s2 >= lo and e2 <= hi:
                    break
            else:
                break
        else:
            return True
    return False


def clause_recs(clauses, index) -> tuple:
    """Per clause, what ``due_rules`` reads of it, as one tuple: (key group, width or None, strict,
    key literal ids, other factors' indices in its rule's confirm list)."""
    return tuple((index.key_group[k], cl.width, cl.strict, index.key_sets[k], index.confirm_idx[k]) for k, cl in enumerate(clauses))


def due_entry(rules, clauses, index, lits, always_rules, recs) -> tuple:
    """For a set of first-stage literal ids: (rules due outright, their indices, the rules whose
    clauses wait for other factors as (rule, widest distance or None, all strict, their key
    literal ids, their ``clause_recs``, their only confirmation database on the normalised side
    or -1), the rules in file order."""
    ks = set(always_rules)
    pending = set()
    for i in lits:
        for k in index.keyed[i]:
            cl = clauses[k]
            if cl.confirm:
                pending.add(k)
            else:
                ks.add(cl.rule)
    by_rule: dict[int, list] = {}
    for k in sorted(pending):
        if clauses[k].rule not in ks:
            by_rule.setdefault(clauses[k].rule, []).append(recs[k])
    out = tuple(pending_entry(index, r, v) for r, v in by_rule.items())
    return tuple(rules[k] for k in sorted(ks)), frozenset(ks), out


class SingleEntries:
    """``due_entry`` of each single first-stage literal (the compiled state's ``single_todo``),
    worked out the first time that literal is a message's only one rather than for all of them
    at load (~56,000 literals of the shipped rules: ~1.4 s of every load, most never read — with
    the kernel ``due_rules`` reads them only for messages with no normalised characters).
    Thread-safe: two threads working one entry out get equal entries, and either is kept."""

    __slots__ = ("_args", "_got")

    def __init__(self, rules, clauses, index, always_rules, recs) -> None:
        self._args = (rules, clauses, index, always_rules, recs)
        self._got: list = [None] * len(index.keyed)

    def __len__(self) -> int:
        return len(self._got)

    def __getitem__(self, i: int) -> tuple:
        got = self._got[i]
        if got is None:
            rules, clauses, index, always_rules, recs = self._args
            got = self._got[i] = due_entry(rules, clauses, index, (i,), always_rules, recs)
        return got


def pending_entry(index, r: int, v: list) -> tuple:
    """Rule ``r``'s pending tuple (see ``due_entry``) from its pending clauses' ``clause_recs``
    ``v``, in clause order."""
    # The rule's stretch: its clauses' widest distance around the union of their keys
    # (None when one has no distance: the whole text), strict when every clause is.
    width = None if any(rec[1] is None for rec in v) else max(rec[1] for rec in v)
    return (r, width, all(rec[2] for rec in v), frozenset().union(*(rec[3] for rec in v)), tuple(v), index.confirm_norm.get(r, -1))


def due_rules_reference(compiled, text: str, n, normalise_text, words_cache: dict) -> list[int]:
    """Indices of the rules due, worked out the slow way: every clause's literals looked up with
    ``str.find`` in the decoded normalised text and ``bytes.find`` in the UTF-8 text — the
    reference ``due_rules`` is tested against (``RulesCheck.todo_general``). ``words_cache``
    keeps each factor's words normalised between calls (the caller's)."""
    c = compiled
    msg = Message(text, n)
    ntext, raw = msg.ntext(), msg.utf8()
    norm = normalise_text
    cache = words_cache  # factor -> its words normalised
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
    return sorted(due)
