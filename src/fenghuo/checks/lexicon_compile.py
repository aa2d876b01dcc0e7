"""Compiling a lexicon check's state (split from ``lexicon.py``, which keeps the check itself:
reading its files, reloading, scanning).

From the entries read: every word and allow-list word normalised with the text's table, a word
that normalises to a single Latin letter or digit left out (it would fire on every 选项B),
evasion variants (pinyin, split characters) added as more words of the same matcher, homophone
patterns in a byte form of their own in the same hyperscan database, and per word the finding
templates and boundary flags ``resolve.py`` tests hits with.
"""

from __future__ import annotations

import hashlib
import logging
import threading

import numpy as np

from fenghuo.checks import variants
from fenghuo.checks.base import Action
from fenghuo.checks.lexicon_file import UNTAGGED, LexiconError, normalise_many
from fenghuo.checks.lexicon_state import _boundary_flags, _Compiled
from fenghuo.checks.matcher import engine_kind, make_engine
from fenghuo.checks.normalize import native_kernel
from fenghuo.checks.resolve import B_ASCII, B_HOMOPHONE, B_SHORT, segmenter

log = logging.getLogger("fenghuo.checks.lexicon")  # the check's logger: its warnings are the check's
LONE = ("%d lexicon word(s) normalise to a single Latin letter or digit and are not matched (first: %s:%d %r) "
        "/ 单个字母或数字的词不参与匹配")


def compile_state(check) -> _Compiled:
    """A lexicon check's compiled state from its files and options (``LexiconCheck._compile``
    memoises it): words and allow-list words normalised, evasion variants and homophone
    patterns added, one matcher built, and per word what a finding needs besides its span.

    With a ``cache_dir``, what was planned from the same file bytes and options before is read
    back (``lexicon_cache.py``) and only the matchers and tables are made (from their own
    caches); a changed file has another key, so it is read (and its errors raised) as without."""
    from fenghuo.checks import lexicon_cache

    got = lexicon_cache.source_key(check) if check.cache_dir is not None else None
    if got is not None:
        plan = lexicon_cache.load(check.cache_dir, got[0])
        if plan is not None:
            return _assemble(check, plan, got[1], from_cache=True)
    entries, allow, mtimes = check._read()
    plan = _plan(check, entries, allow)
    if got is not None and got[1] == mtimes:  # the files read are the ones keyed
        lexicon_cache.store(check.cache_dir, got[0], plan)
    return _assemble(check, plan, mtimes)


def _plan(check, entries, allow) -> dict:
    """What compiling the entries makes, as plain data (``lexicon_cache`` stores it): the words
    in pattern-id order and per word its categories, boundary flags and finding templates."""
    norm = check.normaliser.normalise_text
    keys = normalise_many([e.word for e in entries] + allow, norm)
    by_word: dict[str, dict[str, None]] = {}
    actions: dict[str, Action] = {}  # a per-word action from the file overrides the category's
    layers_of: dict[str, tuple[str, ...]] = {}  # per-word evasion layers from the file
    lone = []
    for w, e in zip(keys, entries):
        if not w:
            raise LexiconError(f"{e.source}:{e.line}: word {e.word!r} is empty after normalisation / 规范化后为空")
        if len(w) == 1 and w.isascii():
            lone.append(e)  # ``b\x7f`` -> ``b``: would fire on every 选项B; see module docstring
            continue
        by_word.setdefault(w, {}).update(dict.fromkeys(e.categories))
        if e.action is not None:
            actions[w] = e.action
        if e.evasions is not None:
            layers_of[w] = e.evasions
    lone_note = (len(lone), lone[0].source, lone[0].line, lone[0].word) if lone else None
    if lone_note is not None:
        log.warning(LONE, *lone_note)
    for w in by_word.values():
        if not w:
            w[UNTAGGED] = None
    # Ordered (not a set): the word order decides the pattern ids and so the matcher's
    # cache key, which must not depend on the process's hash seed.
    allow_keys = dict.fromkeys(w for w in keys[len(entries):] if w)
    for w in allow_keys:
        by_word.setdefault(w, {})
    words = list(by_word)
    if not words:
        raise LexiconError("lexicon check has no words / 词表为空")
    cats = [() if w in allow_keys else tuple(by_word[w]) for w in words]
    rules = {c: check.policy.rule(c) for cs in cats for c in cs}
    acts = [tuple(actions.get(w, rules[c].action) for c in cs) for w, cs in zip(words, cats)]
    names = [f"lexicon:{w}" for w in words]
    listed = sum(1 for c in cats if c)
    # Evasion variants (pinyin, split characters) are more words of the same matcher, with
    # the listed word's categories and action; homophones are matched on a form of their own.
    blockers = [i for i, a in enumerate(acts) if Action.BLOCK in a and variants.eligible(words[i])] if check.evasions else []
    layers = {i: tuple(x for x in layers_of.get(words[i], check.evasions) if x in check.evasions) for i in blockers}
    extra, spaced_extra = _variants(words, layers, check.normaliser)
    for v, i, kind in extra:
        words.append(v)
        cats.append(cats[i])
        acts.append(acts[i])
        names.append(f"lexicon:{words[i]}~{kind}")
    owners, canon = variants.Homophones.plan(words, [i for i in blockers if "homophone" in layers[i]]) if "homophone" in check.evasions else ([], [])
    # With hyperscan the homophone patterns join the main database in a form of their own,
    # so a message is one scan (``find_in``); otherwise they get a matcher of their own.
    fused = variants.Homophones.patterns(canon) if canon and engine_kind(check.engine_name) == "hyperscan" else None
    n_matched = len(words)  # the main matcher's words
    # Homophone hits use ids past the matcher's own, one per canonical form, each with its
    # listed word's categories (see ``variants.Homophones``).
    for i in owners if (fused is not None or canon) else ():
        words.append(words[i])
        cats.append(cats[i])
        acts.append(acts[i])
        names.append(f"lexicon:{words[i]}~homophone")
    bflags = np.array([_boundary_flags(w) for w in words], dtype=np.int64)
    # A homophone hit is a guess about intent, so it must also stand on jieba token
    # boundaries like a short word: 「几点营业」 sounds like 级电影 across 几点|营业 and must
    # not fire, while 「发轮功」 is its own tokens.
    bflags[n_matched:] |= B_SHORT | B_HOMOPHONE
    ascii_word = (bflags & B_ASCII).astype(bool)
    is_allow = np.array([not c for c in cats], dtype=bool)
    # Everything a finding needs except its span, worked out once per word rather than per hit.
    templates = [(c, nm, a, rules[c].risk) for nm, cs, acs in zip(names, cats, acts) for c, a in zip(cs, acs)]
    tmpl_n = np.array([len(c) for c in cats], dtype=np.int64)
    # Multi-word ASCII entries (``domestic violence``): the text may space them as written.
    pid_of: dict[str, int] = {}
    for i, w in enumerate(words):
        pid_of.setdefault(w, i)
    spaced: dict[int, set] = {pid_of[v]: {shape} for v, shape in spaced_extra.items()}
    for key, word in zip(keys, [e.word for e in entries] + allow):
        toks = word.split()
        if len(toks) > 1 and key in pid_of and ascii_word[pid_of[key]]:
            spaced.setdefault(pid_of[key], set()).add(tuple(map(len, toks)))
    return {"entries": entries, "words": words, "n_matched": n_matched, "owners": owners, "canon": canon, "fused": fused,
            "cats": cats, "bflags": bflags.tolist(), "templates": templates, "tmpl_n": tmpl_n.tolist(), "listed": listed,
            "spaced": {p: frozenset(v) for p, v in spaced.items()},
            "short": bool((bflags[~is_allow] & B_SHORT).any()),
            "lone": lone_note}


def _assemble(check, plan: dict, mtimes: dict, from_cache: bool = False) -> _Compiled:
    """The compiled state from ``_plan``'s data (compiled now or read back): the matchers (from
    their own disk cache, ``matcher.py``), the homophone layer, the fused table and kernel."""
    if from_cache and plan["lone"] is not None:  # said by ``_plan`` when it compiled; again when read back
        log.warning(LONE, *plan["lone"])
    words, n, owners, canon, fused = plan["words"], plan["n_matched"], plan["owners"], plan["canon"], plan["fused"]
    engine = make_engine(words[:n], check.engine_name, check.cache_dir, extra=fused or [])
    homo = None
    if fused is not None:
        homo = variants.Homophones(owners, engine, n, fused=True)
    elif canon:
        homo = variants.Homophones(owners, make_engine(canon, check.engine_name, check.cache_dir), n)
    if plan["short"]:
        # Load jieba's dictionary (~0.8 s) now, off the start-up path, rather than on the
        # first request with a short hit (which waits for it if it comes sooner).
        threading.Thread(target=segmenter, name="jieba-init", daemon=True).start()
    cats = plan["cats"]
    tmpl_n = np.array(plan["tmpl_n"], dtype=np.int64)
    return _Compiled(
        words, cats, np.array(plan["bflags"], dtype=np.int64), [len(w) for w in words], np.array([not c for c in cats], dtype=bool),
        plan["templates"], np.cumsum(tmpl_n) - tmpl_n, tmpl_n, bool((tmpl_n > 1).any()),
        engine, max(len(w) for w in words), plan["entries"], mtimes, spaced=plan["spaced"], homophones=homo, listed=plan["listed"],
        fused_table=(f4 := variants.fused4(check.normaliser.tables) if fused is not None else None),
        kernel=native_kernel(check.normaliser.tables, f4) if f4 is not None else None, from_cache=from_cache,
    )


def _variants(words: list[str], layers: dict[int, tuple[str, ...]], normaliser):
    """``variants.extend`` (~0.5 s for the shipped lexicon, mostly romanising words), kept in the
    disk cache (``derived_cache``) under the words, their layers and the normaliser's and
    readings' keys."""
    from fenghuo.checks import derived_cache as dc
    from fenghuo.checks import lexicon_file

    if not layers:
        return [], {}
    tables_key = getattr(normaliser.tables, "key", "")
    if not tables_key:  # a normaliser not built from ``build_tables``: nothing to key on
        return variants.extend(words, layers, normaliser.normalise_text)
    digest = hashlib.sha256("\n".join(words).encode("utf-8", "surrogatepass")).hexdigest()
    key = dc.make_key(digest, sorted(layers.items()), normaliser.options, tables_key, variants.readings().key,
                      dc.source_digest(variants.__file__), dc.source_digest(lexicon_file.__file__))

    def build() -> dict[str, np.ndarray]:
        extra, shapes = variants.extend(words, layers, normaliser.normalise_text)
        flat, lengths = dc.ragged_to_arrays([shapes.get(v, ()) for v, _, _ in extra])
        return {"variants": dc.strings_to_array([v for v, _, _ in extra]), "owners": np.array([i for _, i, _ in extra], dtype=np.int64),
                "kinds": dc.strings_to_array([k for _, _, k in extra]),
                "shaped": np.array([v in shapes for v, _, _ in extra], dtype=bool), "shape_flat": flat, "shape_len": lengths}

    a = dc.load_or_build("variants", key, build)
    vs, kinds = a["variants"].tolist(), a["kinds"].tolist()
    extra = list(zip(vs, a["owners"].tolist(), kinds))
    shapes = dc.arrays_to_ragged(a["shape_flat"], a["shape_len"])
    return extra, {v: sh for v, sh, has in zip(vs, shapes, a["shaped"].tolist()) if has}
