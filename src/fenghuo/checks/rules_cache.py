"""The rules check's compiled state, kept on disk between processes.

Compiling the shipped rules (``rules_compile.compile_rules``: reading and validating 31 YAML
files, parsing ~4,000 regex alternatives for their literals and factors, choosing each clause's
key, encoding ~60,000 literals) took ~8 s of CPU on a 2-core host (~20 s under a profiler) in
every process that loaded the pipeline — each ``fenghuo scan``, gateway start, test worker and
CLI subprocess — although the hyperscan databases were already cached (``rules_literals.load_dbs``).
So the state itself is stored, next to the derived tables (``derived_cache``: the same
directory, ``<cache>/derived/rulestate-<key>.pickle``, ~16 MB), and read back with its hyperscan
databases and C sets in ~0.4-0.6 s.

The key covers everything the state is derived from: each rule file's path and bytes, the
disabled rules, the engine, the normaliser's class, options and tables key, the sources of the
modules that compile (``rules*.py`` and what they call), jieba's dictionary (it chooses each
clause's key), the Python, hyperscan and PyYAML versions and ``FORMAT``. It is a sha256 of
their text (``derived_cache.make_key``), never ``hash()``: the same in every process whatever
its hash seed. A changed or broken rule file is a new key, so it is compiled — and its error
raised — exactly as without the cache; a state is stored only when no file changed while it
compiled.

Stored by ``state_cache`` (a pickle whose reader accepts only the classes in ``_ALLOWED``, with
the key and a checksum in the file: a truncated, corrupt or foreign file is rebuilt with one
warning line, never a crash and never a wrong verdict). What is not data is left out and made
on load: hyperscan databases and C literal sets (``LiteralIndex.attach``, from the hyperscan cache), the
due entries and the C due plan (``rules_compile.finish``), and the compiled regexes: an
``re.Pattern`` is stored as its source and comes back as a ``LazyPattern``, compiled the first
time its rule is due (pickle would otherwise compile all ~3,000 on load, ~2.5 s; the prefilter
makes most rules due on few messages or none).

``FENGHUO_CACHE_DIR=off`` turns this off with the other caches (``from_config`` then passes no
directory); deleting ``<cache>/derived/rulestate-*.pickle`` clears it.
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

from fenghuo.checks import derived_cache as dc
from fenghuo.checks import state_cache
from fenghuo.checks.rules_file import expand_paths

FORMAT = 1  # of the stored state; bump when its fields change meaning without a source change
NAME = "rulestate"


class LazyPattern:
    """An ``re.Pattern`` compiled on first use: ``pattern`` and ``flags`` as the compiled one's;
    the first ``match``/``finditer``/… compiles it and puts the compiled pattern's bound methods
    on the instance, so later calls cost what they cost on the ``re.Pattern`` itself. Two threads
    compiling at once both get the same pattern (``re`` is deterministic)."""

    def __init__(self, pattern: str, flags: int) -> None:
        self.pattern = pattern
        self.flags = flags

    def __getattr__(self, name: str):
        if name.startswith("__"):  # pickle, copy and friends probing: not a regex method
            raise AttributeError(name)
        rx = re.compile(self.pattern, self.flags)
        self.__dict__.update(match=rx.match, finditer=rx.finditer, search=rx.search, fullmatch=rx.fullmatch, compiled=rx)
        return getattr(rx, name)

    def __reduce__(self):
        return LazyPattern, (self.pattern, self.flags)

    def __repr__(self) -> str:
        return f"LazyPattern({self.pattern!r}, {self.flags})"


# Everything the stored state holds besides builtins: its own classes, nothing that runs code.
_ALLOWED = frozenset({
    ("fenghuo.checks.rules_compile", "CompiledRule"),
    ("fenghuo.checks.rules_file", "RuleFile"),
    ("fenghuo.checks.rules_file", "RuleSpec"),
    ("fenghuo.checks.rules_file", "Pattern"),
    ("fenghuo.checks.rules_match", "PatternPlan"),
    ("fenghuo.checks.rules_clauses", "Factor"),
    ("fenghuo.checks.rules_clauses", "Clause"),
    ("fenghuo.checks.rules_literals", "LiteralIndex"),
    ("fenghuo.checks.base", "Action"),
    ("fenghuo.checks.rules_cache", "LazyPattern"),
})
_FIELDS = ("files", "rules", "plans", "always", "unconditional", "index", "risk_of", "clauses", "always_rules", "recs")


def _reduce(obj):
    """Store an ``re.Pattern`` as its source: it comes back a ``LazyPattern``."""
    if isinstance(obj, re.Pattern):
        return LazyPattern, (obj.pattern, obj.flags)
    return NotImplemented


def _code_digests() -> tuple:
    """Digests of the sources the compiled state depends on: the rules modules and the ones they
    call while compiling (risk codes, YAML reading, the matcher's byte form, the normaliser)."""
    here = Path(__file__).parent
    mods = sorted(here.glob("rules*.py")) + [here / n for n in ("state_cache.py", "risks.py", "base.py", "matcher.py", "normalize.py", "normalize_table.py")]
    mods.append(here.parent / "platform" / "documents.py")
    return tuple((p.name, dc.source_digest(str(p))) for p in mods)


def _library_versions() -> tuple:
    out = [sys.version]
    try:
        import hyperscan

        out.append(hyperscan.__version__)
    except ImportError:  # pragma: no cover - depends on the platform
        out.append(None)
    import yaml

    out.append(yaml.__version__)
    try:
        import jieba

        out.append(dc.source_digest(str(Path(jieba.__file__).parent / "dict.txt")))  # rules_clauses._frequencies
    except (ImportError, OSError):  # pragma: no cover - jieba is a dependency
        out.append(None)
    return tuple(out)


def state_key(paths: list[Path], disable: set[str], engine: str, normaliser) -> str | None:
    """The key of the state compiled from these files and options, or None when there is nothing
    to key on (a normaliser not built from ``build_tables``) or a file cannot be read (the
    compile then says what is wrong)."""
    tables_key = getattr(normaliser.tables, "key", "")
    if not tables_key:
        return None
    try:
        # The bytes, read now (not ``source_digest``, which keeps a file's first digest for the
        # process): a rule file edited since the last load must miss.
        files = tuple((str(p), hashlib.sha256(p.read_bytes()).hexdigest()) for p in expand_paths([Path(p) for p in paths]))
    except (OSError, ValueError):  # missing, a directory without rules (RulesError): the compile reports it
        return None
    kind = f"{type(normaliser).__module__}.{type(normaliser).__qualname__}"
    return dc.make_key(FORMAT, files, tuple(sorted(disable)), engine, kind, normaliser.options, tables_key, _code_digests(), _library_versions())


def load(cache_dir: Path, key: str) -> dict | None:
    """The stored fields of ``CompiledRules`` (``rules_compile._compile_parts``' dict) for ``key``,
    or None: none stored, or one that cannot be trusted (``state_cache.load`` warns; the caller
    compiles and stores it again)."""
    return state_cache.load(cache_dir, NAME, key, _ALLOWED, _FIELDS)


def store(cache_dir: Path, key: str, parts: dict) -> None:
    """Keep ``parts`` (``rules_compile._compile_parts``' dict) under ``key``."""
    state_cache.store(cache_dir, NAME, key, {k: parts[k] for k in _FIELDS}, _reduce)
