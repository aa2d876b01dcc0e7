"""The lexicon check's compiled plan, kept on disk between processes.

Compiling the shipped lexicon (``lexicon_compile.compile_state``) read and parsed its 43,000
lines, normalised every word, added the evasion variants and worked out per word its
categories, boundary flags and finding templates: ~0.6 s of CPU in every process that loaded
the pipeline, although the matcher itself came from its disk cache (``matcher.py``). That plan
is plain data (``lexicon_compile._plan``), so it is stored — in ``state_cache``'s format, its
reader accepting only the classes in ``_ALLOWED`` — and read back in ~0.1 s; the matchers, the
homophone layer, the fused table and the C kernel are made from it as before
(``lexicon_compile._assemble``, each from its own cache).

The key covers everything the plan is derived from: each file's path and bytes (read with the
signature taken before, as ``LexiconCheck._read`` does: the signature is what a reload compares),
the inline words and allow words, the policy's rules, the tag codes, the engine, the evasion
layers, the normaliser's class, options and tables key, pypinyin's folded readings (with
evasions), the sources of the modules that compile and Python's version. A changed or broken
file is a new key, so it is read — and its error raised — as without the cache.

``FENGHUO_CACHE_DIR=off`` turns it off with the other caches; deleting
``<cache>/derived/lexstate-*.pickle`` clears it.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from fenghuo.checks import derived_cache as dc
from fenghuo.checks import state_cache
from fenghuo.checks.reloading import file_signature

FORMAT = 1  # of the stored plan; bump when its fields change meaning without a source change
NAME = "lexstate"
_ALLOWED = frozenset({("fenghuo.checks.lexicon_file", "Entry"), ("fenghuo.checks.base", "Action")})
_FIELDS = ("entries", "words", "n_matched", "owners", "canon", "fused", "cats", "bflags", "templates", "tmpl_n", "listed",
           "spaced", "short", "lone")
_TRIES = 5


def _code_digests() -> tuple:
    here = Path(__file__).parent
    mods = sorted(here.glob("lexicon*.py")) + [here / n for n in ("state_cache.py", "variants.py", "matcher.py", "resolve.py", "normalize.py",
                                                                  "normalize_table.py", "base.py", "policy.py")]
    return tuple((p.name, dc.source_digest(str(p))) for p in mods)


def _stable_bytes(path: Path) -> tuple[bytes, tuple[int, int]]:
    """A file's bytes and its signature from before they were read, read again while the file
    changes under the read (``lexicon_state._read_stable``)."""
    for _ in range(_TRIES):
        before = file_signature(path)
        data = Path(path).read_bytes()
        if file_signature(path) == before:
            break
    return data, before


def source_key(check) -> tuple[str, dict[str, tuple[int, int]]] | None:
    """(the key of ``check``'s plan as its files are now, their signatures as ``_read`` records
    them), or None: nothing to key on (a normaliser not built from ``build_tables``) or a file
    that cannot be read (the compile then says what is wrong)."""
    tables_key = getattr(check.normaliser.tables, "key", "")
    if not tables_key:
        return None
    sigs: dict[str, tuple[int, int]] = {}
    digests = []
    try:
        for group in (check.files, check.allow_files):
            got = []
            for f in group:
                data, sigs[str(f)] = _stable_bytes(f)
                got.append((str(f), hashlib.sha256(data).hexdigest()))
            digests.append(tuple(got))
    except OSError:  # missing, a directory: read_lexicon reports it
        return None
    from fenghuo.checks import variants
    from fenghuo.checks.matcher import engine_kind

    p = check.policy
    n = check.normaliser
    key = dc.make_key(
        FORMAT, tuple(digests), tuple((w, tuple(c)) for w, c in check.inline_words.items()), tuple(check.inline_allow),
        tuple(sorted(p.rules.items())), p.default, tuple(sorted(check.tag_codes.items())), engine_kind(check.engine_name),
        check.evasions, f"{type(n).__module__}.{type(n).__qualname__}", n.options, tables_key,
        variants.readings().key if check.evasions else None, _code_digests(), sys.version,
    )
    return key, sigs


def load(cache_dir: Path, key: str) -> dict | None:
    """The stored plan (``lexicon_compile._plan``'s dict) for ``key``, or None (``state_cache.load``
    warns about a file it cannot trust; the caller compiles and stores again)."""
    return state_cache.load(cache_dir, NAME, key, _ALLOWED, _FIELDS)


def store(cache_dir: Path, key: str, plan: dict) -> None:
    from fenghuo.checks.lexicon_file import Entry

    state_cache.store(cache_dir, NAME, key, {k: plan[k] for k in _FIELDS}, state_cache.by_fields(Entry))
