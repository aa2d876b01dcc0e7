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


def compile_state(check) -> _Compiled:
    """A lexicon check's compiled state from its files and options (``LexiconCheck._compile``
    memoises it): words and allow-list words normalised, evasion variants and homophone
    patterns added, one matcher built, and per word what a finding needs besides its span."""
    entries, allow, mtimes = check._read()
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
    if lone:
        log.warning("%d lexicon word(s) normalise to a single Latin letter or digit and are not matched (first: %s:%d %r) "
                    "/ 单个字母或数字的词不参与匹配", len(lone), lone[0].source, lone[0].line, lone[0].word)
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
    homo = None
    owners, canon = variants.Homophones.plan(words, [i for i in blockers if "homophone" in layers[i]]) if "homophone" in check.evasions else ([], [])
    # With hyperscan the homophone patterns join the main database in a form of their own,
    # so a message is one scan (``find_in``); otherwise they get a matcher of their own.
    fused = variants.Homophones.patterns(canon) if canon and engine_kind(check.engine_name) == "hyperscan" else None
    engine = make_engine(words, check.engine_name, check.cache_dir, extra=fused or [])
    if fused is not None:
        homo = variants.Homophones(owners, engine, len(words), fused=True)
    elif canon:
        homo = variants.Homophones(owners, make_engine(canon, check.engine_name, check.cache_dir), len(words))
    # Homophone hits use ids past the matcher's own, one per canonical form, each with its
    # listed word's categories (see ``variants.Homophones``).
    first_homophone = len(words)
    for i in homo.owners if homo else ():
        words.append(words[i])
        cats.append(cats[i])
        acts.append(acts[i])
        names.append(f"lexicon:{words[i]}~homophone")
    bflags = np.array([_boundary_flags(w) for w in words], dtype=np.int64)
    # A homophone hit is a guess about intent, so it must also stand on jieba token
    # boundaries like a short word: 「几点营业」 sounds like 级电影 across 几点|营业 and must
    # not fire, while 「发轮功」 is its own tokens.
    bflags[first_homophone:] |= B_SHORT | B_HOMOPHONE
    ascii_word = (bflags & B_ASCII).astype(bool)
    is_allow = np.array([not c for c in cats], dtype=bool)
    if (bflags[~is_allow] & B_SHORT).any():
        # Load jieba's dictionary (~0.8 s) now, off the start-up path, rather than on the
        # first request with a short hit (which waits for it if it comes sooner).
        threading.Thread(target=segmenter, name="jieba-init", daemon=True).start()
    # Everything a finding needs except its span, worked out once per word rather than per hit.
    templates = [(c, nm, a, rules[c].risk) for nm, cs, acs in zip(names, cats, acts) for c, a in zip(cs, acs)]
    tmpl_n = np.array([len(c) for c in cats], dtype=np.int64)
    tmpl_off = np.cumsum(tmpl_n) - tmpl_n
    # Multi-word ASCII entries (``domestic violence``): the text may space them as written.
    pid_of: dict[str, int] = {}
    for i, w in enumerate(words):
        pid_of.setdefault(w, i)
    spaced: dict[int, set] = {pid_of[v]: {shape} for v, shape in spaced_extra.items()}
    for key, word in zip(keys, [e.word for e in entries] + allow):
        toks = word.split()
        if len(toks) > 1 and key in pid_of and ascii_word[pid_of[key]]:
            spaced.setdefault(pid_of[key], set()).add(tuple(map(len, toks)))
    return _Compiled(
        words, cats, bflags, [len(w) for w in words], is_allow, templates, tmpl_off, tmpl_n, bool((tmpl_n > 1).any()),
        engine, max(len(w) for w in words), entries, mtimes, spaced={p: frozenset(v) for p, v in spaced.items()}, homophones=homo, listed=listed,
        fused_table=(f4 := variants.fused4(check.normaliser.tables) if fused is not None else None),
        kernel=native_kernel(check.normaliser.tables, f4) if f4 is not None else None,
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
