"""Default rule packs shipped with fenghuo: one per grade of the default grading table (L1–L4)
and one per sector with its own risks (medical, finance, education, justice). Each is an
ordinary rule file, checked by ``fenghuo rules check`` like any other."""

from __future__ import annotations

from pathlib import Path

from fenghuo.platform.errors import Invalid

HERE = Path(__file__).parent


def available() -> list[str]:
    return sorted(p.stem for p in HERE.glob("*.yaml"))


def pack_paths(packs: str | list[str] | None) -> list[Path]:
    """"default" → every shipped pack; "none"/None → no pack; a list → those packs."""
    if packs in (None, "none", [], ""):
        return []
    names = available() if packs == "default" else packs
    if isinstance(names, str):
        names = [names]
    unknown = [n for n in names if n not in available()]
    if unknown:
        raise Invalid(f"未知规则包：{', '.join(unknown)}", f"unknown rule pack(s): {', '.join(unknown)} (available: {', '.join(available())})")
    return [HERE / f"{n}.yaml" for n in names]
