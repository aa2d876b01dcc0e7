"""Durations as people write them in plans, deadline profiles, alert rules, silences and
monitoring windows: ``0``, ``30s``, ``5m``, ``4h``, ``15d``. One parser, so two files can never
read "1d" differently. Pure: no framework, so the pure cores may use it."""

from __future__ import annotations

_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
# Longer than anything a plan, silence, window or expiry means, and short enough that "now +
# it" is still a date (NaN, infinity or 10**14 days used to end in a 500 where a time was made).
MAX_SECONDS = 100 * 366 * 86400.0


def parse_duration(text: object) -> float:
    """Seconds; ValueError on anything that is not a non-negative duration."""
    if isinstance(text, bool):
        raise ValueError(f"not a duration: {text!r}")
    if isinstance(text, (int, float)) and text == 0:
        return 0.0
    s = str(text).strip()
    if s == "0":
        return 0.0
    if len(s) < 2 or s[-1] not in _UNITS:
        raise ValueError(f"not a duration: {text!r} (use e.g. 30s, 5m, 4h, 15d)")
    value = float(s[:-1])
    if value < 0:
        raise ValueError(f"negative duration: {text!r}")
    if not value * _UNITS[s[-1]] <= MAX_SECONDS:  # also NaN
        raise ValueError(f"not a duration of at most 100 years: {text!r}")
    return value * _UNITS[s[-1]]


def human(seconds: float) -> str:
    """The shortest exact unit: 14400 → "4h", 90 → "90s"."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
