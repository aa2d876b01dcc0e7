"""Personal information: find it, validate it, mask it.

A pattern alone over-reports: any 18 digits look like an ID number. So each candidate is
validated the way the issuer defines it — GB 11643 check digit, a birth date that exists
and is not in the future, a province prefix that exists; bank cards by the Luhn checksum and
an issuer prefix; IPv6 by the standard library parser — and a candidate that fails is not
reported. One combined regular expression finds all candidates, run only on the few short
stretches of text where one can start (``pii_prefilter``).

What this cannot find by itself: names, addresses, and free-text descriptions of a person
need a model (named-entity recognition). ``detectors`` is where one plugs in: callables
``text -> iterable of (start, end, type)`` (in YAML, ``detectors: ["package.module:callable"]``
on the ``pii`` check), whose findings become ``pii.<type>`` with the policy's action and risk
like the built-in types (``pii.name`` → the ``pii`` rule: mask, A4f). Numbers written wholly in
full-width digits or Chinese numerals are not recognised: each pattern's leading digits are
ASCII (the digit class in the rest of a pattern also takes other Unicode digits).
"""

from __future__ import annotations

import ipaddress
import re
import time
from datetime import date

from fenghuo.checks.base import Finding, Verdict
from fenghuo.checks.pii_prefilter import PLATE_PROVINCES as _PLATE_PROVINCES
from fenghuo.checks.pii_prefilter import first_anchor as _first_anchor
from fenghuo.checks.pii_prefilter import windows as _windows
from fenghuo.checks.policy import Policy

# GB 11643-1999: weights 2^(17-i) mod 11, check character table.
_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_ID_CHECK = "10X98765432"
# GB/T 2260 province-level codes (first two digits), plus 83: residence permits for Taiwan
# residents (since 2018) carry 830000 where HK and Macau residents' carry 810000 and 820000.
PROVINCES = frozenset(
    ["11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82", "83"]
)
_NB = r"(?<![0-9A-Za-z])"  # not preceded by a letter/digit
_NA = r"(?![0-9A-Za-z])"

_PARTS = {
    "cn_id": rf"{_NB}[1-9]\d{{5}}(?:18|19|20)\d{{2}}[01]\d[0-3]\d\d{{3}}[\dXx]{_NA}",
    "email": r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)+[A-Za-z]{2,24}(?![A-Za-z0-9-])",
    "mobile": r"(?<![\d+])(?:(?:\+|00)?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}(?!\d)",
    "bank_card": r"(?<!\d)[3-6]\d{3}(?:[ -]?\d{4}){2}[ -]?\d{3,7}(?!\d)",
    "ipv4": r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?!\d|\.\d)",
    "ipv6": r"(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![0-9A-Fa-f:])",
    "passport": rf"{_NB}(?:[EeGgDdSsPp]\d{{8}}|[Ee][A-Za-z]\d{{7}}){_NA}",
    "plate": rf"[{_PLATE_PROVINCES}][A-HJ-NP-Z][-·・ ]?[A-HJ-NP-Z0-9]{{4,5}}[A-HJ-NP-Z0-9挂学警港澳](?![A-Za-z0-9])",
}
# The leading lookahead is a first-character guard: with it CPython's regex engine skips
# positions that cannot start any PII by a fast character-set scan (measured 6× faster on
# Chinese text than the bare alternation, whose lookbehinds disable that optimisation).
_PATTERN = re.compile(
    rf"(?=[0-9A-Za-z+:{_PLATE_PROVINCES}])(?:" + "|".join(f"(?P<{k}>{v})" for k, v in _PARTS.items()) + ")"
)
# RFC 5321 caps a forward path at 256 octets including the angle brackets: 254 for the address.
# The e-mail pattern's domain may repeat labels without limit, so the cap is a validation step.
EMAIL_MAX = 254


def _max_widths() -> dict[str, int]:
    """Longest text each type's pattern can match, read from the compiled patterns' own limits
    (so editing a pattern updates it), e-mail capped at ``EMAIL_MAX``. The stream scanner
    keeps this many characters back so no value can be cut in two."""
    from re import _parser  # the parser behind re.compile; getwidth() gives (min, max)

    out = {}
    for kind, part in _PARTS.items():
        hi = _parser.parse(part).getwidth()[1]
        out[kind] = min(hi, EMAIL_MAX) if kind == "email" else hi
    return out


MAX_LEN = _max_widths()
MAX_MATCH = max(MAX_LEN.values())
assert all(v < 1000 for v in MAX_LEN.values()), MAX_LEN  # an unbounded pattern needs a cap here

# Where to run the pattern: ``pii_prefilter.windows`` finds the few short stretches of text
# where a match can start (by the anchors every match holds: a digit, '@', ':', a plate letter
# after a province character) and ends each at a character no match can cross, so the pattern
# runs on those stretches only and finds exactly what it finds on the whole text. It replaced
# a pre-scan for the first such character followed by the pattern over the rest of the text:
# 47 % of 1 KB cuts of COLD dev have one, and from there on the pattern tried every province
# character and ASCII letter. Thread CPU, old and new alternately in fresh processes (5 pairs,
# load 11-12 on 2 cores): per ~1 KB cut of COLD dev 11.3-12.9 -> 3.5-4.8 µs (median ratio 0.36),
# per 50-character cut 1.6-2.2 -> 0.66-0.99 µs (0.38); English text (XSTest prompts) per KB
# 78-94 -> 14-19 µs (0.18); PII-dense text (a mobile and an e-mail every 50 characters) 1.0
# (0.8-1.5) and mixed records (PII every ~15 characters) 1.07 (0.8-1.4), within this load's
# noise: there the rest of the text becomes one window (``DENSE_GAP``), as the old scan did.

TYPES = ("cn_id", "mobile", "bank_card", "email", "ipv4", "ipv6", "passport", "plate")


def valid_cn_id(s: str, today: date | None = None) -> bool:
    """GB 11643 check digit, a real birth date not in the future, a known province prefix."""
    if len(s) != 18 or not s[:17].isdigit():
        return False
    if s[:2] not in PROVINCES:
        return False
    try:
        born = date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        return False
    if born > (today or date.today()) or born.year < 1880:
        return False
    total = sum(int(d) * w for d, w in zip(s[:17], _ID_WEIGHTS))
    return _ID_CHECK[total % 11] == s[17].upper()


def _id_shaped(s: str) -> bool:
    try:
        date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        return False
    return s[:2] in PROVINCES


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def valid_bank_card(s: str) -> bool:
    digits = s.replace(" ", "").replace("-", "")
    return 15 <= len(digits) <= 19 and digits.isdigit() and luhn_ok(digits)


def valid_ipv6(s: str) -> bool:
    if s.count(":") < 2 or not any(c.isalnum() for c in s):
        return False
    try:
        ipaddress.IPv6Address(s)
    except ValueError:
        return False
    return True


def valid_email(s: str) -> bool:
    return len(s) <= EMAIL_MAX


_VALIDATORS = {"cn_id": valid_cn_id, "bank_card": valid_bank_card, "ipv6": valid_ipv6, "email": valid_email}


def _mask_keep(kind: str, s: str) -> tuple[int, int]:
    """How many leading/trailing characters stay visible when masking."""
    return {
        "cn_id": (6, 4),  # region code and the last four: 110105********1234
        "mobile": (3, 4),
        "bank_card": (6, 4),
        "passport": (1, 2),
        "plate": (2, 1),
        "ipv4": (s.find(".") + 1, 0),
        "ipv6": (s.find(":") + 1, 0),
    }.get(kind, (1, 1))


def mask_value(kind: str, s: str, char: str = "*") -> str:
    if kind == "email":
        local, _, domain = s.partition("@")
        return local[:1] + char * max(len(local) - 1, 1) + "@" + domain
    head, tail = _mask_keep(kind, s)
    if head + tail >= len(s):
        return char * len(s)
    middle = "".join(c if c in " -·." and kind != "email" else char for c in s[head : len(s) - tail])
    return s[:head] + middle + s[len(s) - tail :]


def apply_masks(text: str, findings: list[Finding], char: str = "*") -> str:
    """``text`` with every PII finding masked (non-PII findings are masked entirely)."""
    out, pos = [], 0
    for f in sorted(findings, key=lambda f: f.start):
        if f.start < pos:
            continue
        kind = f.category.removeprefix("pii.")
        out.append(text[pos : f.start])
        seg = text[f.start : f.end]
        out.append(mask_value(kind, seg, char) if f.category.startswith("pii.") else char * len(seg))
        pos = f.end
    out.append(text[pos:])
    return "".join(out)


_DETECTED_TYPE = re.compile(r"^[a-z][a-z0-9_]*$")


def load_detector(target: str):
    """``package.module:callable`` → the callable (for the YAML ``detectors`` list)."""
    import importlib

    module, sep, attr = target.partition(":")
    if not sep or not module or not attr:
        raise ValueError(f"detector {target!r}: expected 'package.module:callable' / 检测器应写作 模块:函数")
    try:
        obj = importlib.import_module(module)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"detector {target!r} cannot be loaded: {exc} / 无法加载检测器") from None
    if not callable(obj):
        raise ValueError(f"detector {target!r} is not callable / 检测器不可调用")
    return obj


class PIICheck:
    """Finds personal information; each finding typed ``pii.<type>``.

    ``detectors``: extra callables for what patterns cannot find (names, addresses): each takes
    the text and returns ``(start, end, type)`` triples (``type`` like ``name``; lower case,
    digits and ``_``). A triple out of range or badly typed is an error naming the detector.
    """

    def __init__(self, types: list[str] | None = None, policy: Policy | None = None, name: str = "pii", detectors: list | None = None) -> None:
        unknown = set(types or ()) - set(TYPES)
        if unknown:
            raise ValueError(f"unknown PII type(s) {', '.join(sorted(unknown))}; known: {', '.join(TYPES)} / 未知个人信息类型")
        self.types = frozenset(types or TYPES)
        self.policy = policy or Policy()
        self.name = name
        self._rules = {t: self.policy.rule(f"pii.{t}") for t in TYPES}
        self.detectors = [load_detector(d) if isinstance(d, str) else d for d in detectors or ()]
        for d in self.detectors:
            if not callable(d):
                raise ValueError(f"detector {d!r} is not callable / 检测器不可调用")

    def _detected(self, text: str, base: int, start: int) -> list[Finding]:
        out = []
        for d in self.detectors:
            label = getattr(d, "__qualname__", repr(d))
            for item in d(text):
                try:
                    s, e, kind = item
                    ok = isinstance(s, int) and isinstance(e, int) and 0 <= s < e <= len(text) and bool(_DETECTED_TYPE.match(kind))
                except (TypeError, ValueError):
                    ok = False
                if not ok:
                    raise ValueError(f"PII detector {label} returned {item!r}; expected (start, end, type) inside the text / 检测器返回值无效")
                if s < start:
                    continue  # context only (stream tail): decided with the chunk it belongs to
                rule = self.policy.rule(f"pii.{kind}")
                out.append(Finding(f"pii.{kind}", s + base, e + base, f"pii:{label}", rule.action, rule.risk))
        return out

    def find(self, text: str, base: int = 0, start: int = 0) -> list[Finding]:
        """Findings in ``text[start:]``, offsets plus ``base``; lookbehinds still see the
        characters before ``start`` (the stream scanner passes one character of context)."""
        out: list[Finding] = self._detected(text, base, start) if self.detectors else []
        first = _first_anchor(text, start)
        if first is None:
            return out  # most text: one character-class search was the whole check
        return self._matched(text, base, start, first, out)

    def _matched(self, text: str, base: int, start: int, first, out: list[Finding]) -> list[Finding]:
        for pos, endpos in _windows(text, start, first):
            for m in _PATTERN.finditer(text, pos, endpos):
                kind = m.lastgroup
                s = m.group()
                check = _VALIDATORS.get(kind)
                if check is not None and not check(s):
                    # 18 digits failing GB 11643 may still be a card number (Luhn) — but not when
                    # it is ID-shaped (real province and date): 1 in 10 of those passes Luhn by chance.
                    if kind == "cn_id" and not _id_shaped(s) and valid_bank_card(s):
                        kind = "bank_card"
                    else:
                        continue
                if kind not in self.types:
                    continue
                rule = self._rules[kind]
                out.append(Finding(f"pii.{kind}", m.start() + base, m.end() + base, f"pii:{kind}", rule.action, rule.risk))
        return out

    def find_in(self, text: str, n=None) -> list[Finding]:
        """Findings only, for the pipeline's per-message path (PII reads the original text)."""
        if not self.detectors:
            # Without ``find``'s call and with one anchor search: ~0.3 µs of ~1 µs a message.
            first = _first_anchor(text)
            return [] if first is None else self._matched(text, 0, 0, first, [])
        out = self.find(text)
        if len(out) > 1:
            out.sort(key=lambda f: (f.start, f.end))
        return out

    def scan(self, text: str) -> Verdict:
        t0 = time.perf_counter()
        return Verdict(self.find_in(text), (time.perf_counter() - t0) * 1e6, (self.name,))
