"""Incident grades of China's emergency plans (row CN-EP-01/02): 特别重大 I, 重大 II, 较大 III,
一般 IV, which mirror the warning colours red/orange/yellow/blue. Reporting duties start at 较大
(row CN-IR-02), so "reportable" is a property of the grade, not a guess."""

from __future__ import annotations

from fenghuo.alerts.levels import Level

ORDER = ["IV", "III", "II", "I"]  # lowest first
ZH = {"IV": "一般", "III": "较大", "II": "重大", "I": "特别重大"}
EN = {"IV": "general", "III": "serious", "II": "major", "I": "especially major"}
FROM_LEVEL = {Level.blue: "IV", Level.yellow: "III", Level.orange: "II", Level.red: "I"}
_ALIASES = {**{v: k for k, v in ZH.items()}, **{k: k for k in ORDER}, **{v: k for k, v in EN.items()},
            "4": "IV", "3": "III", "2": "II", "1": "I"}


def normalise(grade: object) -> str:
    """'重大' / 'II' / 'major' / 2 → 'II'; ValueError names the accepted spellings."""
    key = str(grade).strip()
    if key in _ALIASES:
        return _ALIASES[key]
    raise ValueError(f"unknown incident grade {grade!r}: use 一般/较大/重大/特别重大 or IV/III/II/I")


def rank(grade: str) -> int:
    return ORDER.index(grade)


def label(grade: str) -> str:
    return f"{ZH[grade]}（{grade}级）/ {EN[grade]} ({grade})"


def reportable(grade: str) -> bool:
    """较大 (III) and above must be reported (CN-IR-02)."""
    return rank(grade) >= rank("III")
