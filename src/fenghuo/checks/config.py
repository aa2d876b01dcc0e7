"""Builders that turn one ``checks:`` entry of the pipeline YAML into a check.

Paths are resolved relative to the config file; ``~`` and ``$VARS`` are expanded, and a
``pkg:`` prefix names a file packaged with fenghuo (``pkg:data/mini_lexicon.txt``).
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from fenghuo.checks.derived_cache import cache_dir
from fenghuo.checks.lexicon import LexiconCheck
from fenghuo.checks.pii import PIICheck
from fenghuo.checks.policy import Policy


def resolve_path(value: str, base_dir: Path) -> Path:
    if value.startswith("pkg:"):
        return Path(str(resources.files("fenghuo.checks").joinpath(value[4:])))
    p = Path(os.path.expandvars(os.path.expanduser(value)))
    return p if p.is_absolute() else base_dir / p


def check_keys(spec: dict, allowed: set[str], kind: str) -> None:
    unknown = set(spec) - allowed
    if unknown:
        raise ValueError(f"unknown key(s) for {kind}: {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(allowed))} / 未知配置项")


def build_lexicon(spec: dict, policy: Policy, base_dir: Path) -> LexiconCheck:
    check_keys(spec, {"name", "files", "allow_files", "words", "allow", "tag_codes", "engine", "reload_interval", "evasions"}, "lexicon")
    files = [resolve_path(str(f), base_dir) for f in spec.get("files") or []]
    allow_files = [resolve_path(str(f), base_dir) for f in spec.get("allow_files") or []]
    words = {str(w): tuple(c if isinstance(c, list) else [c]) for w, c in (spec.get("words") or {}).items()}
    tag_codes = {str(k): str(v) for k, v in spec["tag_codes"].items()} if "tag_codes" in spec else None
    check = LexiconCheck(
        files=files,
        allow_files=allow_files,
        words=words,
        allow=[str(a) for a in spec.get("allow") or []],
        policy=policy,
        tag_codes=tag_codes,
        engine=str(spec.get("engine", "auto")),
        cache_dir=cache_dir(),  # FENGHUO_CACHE_DIR, else the data directory's cache/
        name=str(spec.get("name", "lexicon")),
        # Evasion layers (pinyin, homophone, split); all by default, [] for none.
        evasions=_evasions(spec),
    )
    check.reload_interval = float(spec.get("reload_interval", 0))
    return check


def _evasions(spec: dict) -> tuple[str, ...]:
    from fenghuo.checks.variants import LAYERS

    value = spec.get("evasions", list(LAYERS))
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"lexicon.evasions: expected a list of {', '.join(LAYERS)} / 应为变体层列表")
    return tuple(value)


def build_pii(spec: dict, policy: Policy, base_dir: Path) -> PIICheck:
    check_keys(spec, {"name", "types", "detectors"}, "pii")
    detectors = spec.get("detectors") or []
    if not isinstance(detectors, list) or not all(isinstance(d, str) for d in detectors):
        raise ValueError("pii.detectors: expected a list of 'package.module:callable' strings / 应为 模块:函数 列表")
    return PIICheck(types=spec.get("types"), policy=policy, name=str(spec.get("name", "pii")), detectors=detectors)
