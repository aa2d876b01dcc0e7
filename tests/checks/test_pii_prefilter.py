"""The PII check runs its pattern only in ``pii_prefilter.windows``: the findings must be exactly
those of the pattern over the whole text (the scan before issue 19, kept here as ``_whole_text``),
on random mixes of Chinese, digits, separators and every PII shape (valid and invalid), on
hand-picked edge cases and on COLD dev."""

from __future__ import annotations

import contextlib
import functools
import string
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fenghuo.checks import pii, pii_prefilter
from fenghuo.checks.base import Finding
from fenghuo.checks.pii import PIICheck


def _whole_text(check: PIICheck, text: str, base: int = 0, start: int = 0) -> list[Finding]:
    """The scan before the prefilter: the same pattern over all of ``text[start:]``, the same
    validation (a private copy of the old ``PIICheck.find`` without its detectors)."""
    out = []
    for m in pii._PATTERN.finditer(text, start):
        kind = m.lastgroup
        s = m.group()
        check_fn = pii._VALIDATORS.get(kind)
        if check_fn is not None and not check_fn(s):
            if kind == "cn_id" and not pii._id_shaped(s) and pii.valid_bank_card(s):
                kind = "bank_card"
            else:
                continue
        if kind not in check.types:
            continue
        rule = check._rules[kind]
        out.append(Finding(f"pii.{kind}", m.start() + base, m.end() + base, f"pii:{kind}", rule.action, rule.risk))
    return out


def _spans(text: str, start: int = 0) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.lastgroup) for m in pii._PATTERN.finditer(text, start)]


def _windowed(text: str, start: int = 0) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.lastgroup) for lo, e in pii_prefilter.windows(text, start) for m in pii._PATTERN.finditer(text, lo, e)]


@contextlib.contextmanager
def _never_dense():
    """Windows however close together: PII-dense text otherwise becomes one window early and
    would hide a window that starts too late."""
    saved = pii_prefilter.DENSE_GAP
    pii_prefilter.DENSE_GAP = 0
    try:
        yield
    finally:
        pii_prefilter.DENSE_GAP = saved


def _same(text: str, start: int = 0) -> None:
    """Raw matches (rejected candidates included) and findings both agree; windows are ordered."""
    whole = _spans(text, start)
    assert _windowed(text, start) == whole, (text, start)
    check = PIICheck()
    assert check.find(text, 5, start) == _whole_text(check, text, 5, start), (text, start)
    assert check.find_in(text) == _whole_text(check, text), text
    with _never_dense():
        assert _windowed(text, start) == whole, ("never dense", text, start)
        ws = pii_prefilter.windows(text, start)
    assert all(start <= lo < e <= len(text) for lo, e in ws)
    assert all(e1 <= lo2 for (_, e1), (lo2, _) in zip(ws, ws[1:]))


# ---- random mixes -------------------------------------------------------------------------

_PROV2 = sorted(pii.PROVINCES)
_FILLER = ["今天", "新闻说", "云南", "川菜", "学习", "港澳", "京", "粤", "的", "，", "。", "：", "＠", "年", "号码", "一二三"]
_ODD = [" ", "-", ".", ":", "::", "@", "+", "%", "_", "·", "・", "\n", "٣", "１２", "\U0001d7d9", "😀", "a", "Z", "E", "x.y", "ab@", "0", "00", "86"]


def _id(draw, valid: bool) -> str:
    region = draw(st.sampled_from(_PROV2 + ["99", "00"])) + draw(st.text("0123456789", min_size=4, max_size=4))
    born = draw(st.dates(date(1880, 1, 1), date(2030, 12, 31))).strftime("%Y%m%d")
    body = region + born + draw(st.text("0123456789", min_size=3, max_size=3))
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, pii._ID_WEIGHTS)) % 11]
    if not valid:
        check = draw(st.sampled_from("0123456789Xx"))
    return body + (check.lower() if check == "X" and draw(st.booleans()) else check)


@st.composite
def _pii_piece(draw) -> str:
    kind = draw(st.sampled_from(["id", "mobile", "card", "email", "ipv4", "ipv6", "passport", "plate", "digits"]))
    sep = draw(st.sampled_from(["", " ", "-"]))
    digits = lambda n: draw(st.text("0123456789", min_size=n, max_size=n))  # noqa: E731
    if kind == "id":
        return _id(draw, draw(st.booleans()))
    if kind == "mobile":
        head = draw(st.sampled_from(["", "+86", "0086", "86", "+86 ", "86-"]))
        return head + "1" + draw(st.sampled_from("3456789")) + digits(1) + sep + digits(4) + sep + digits(4)
    if kind == "card":
        return draw(st.sampled_from("3456")) + digits(3) + sep + digits(4) + sep + digits(4) + sep + digits(draw(st.integers(3, 7)))
    if kind == "email":
        local = draw(st.text(string.ascii_letters + string.digits + "._%+-", min_size=1, max_size=70))
        labels = draw(st.lists(st.text(string.ascii_lowercase + string.digits + "-", min_size=1, max_size=8), min_size=1, max_size=3))
        return local + "@" + ".".join(labels) + "." + draw(st.sampled_from(["cn", "com", "c", "org1"]))
    if kind == "ipv4":
        return ".".join(str(draw(st.integers(0, 300))) for _ in range(draw(st.integers(3, 5))))
    if kind == "ipv6":
        groups = draw(st.lists(st.text("0123456789abcdefABCDEF", max_size=5), min_size=2, max_size=9))
        return ":".join(groups)
    if kind == "passport":
        head = draw(st.sampled_from(["E", "G", "d", "S", "p", "EA", "eZ"]))
        return head + digits(draw(st.sampled_from([9 - len(head), 9 - len(head), 6, 9])))
    if kind == "plate":
        body = draw(st.text("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789IO", min_size=3, max_size=6))
        return (
            draw(st.sampled_from(pii_prefilter.PLATE_PROVINCES))
            + draw(st.sampled_from("ABCDEFGHJKLMNPQRSTUVWXYZIa"))
            + draw(st.sampled_from(["", "·", "・", " ", "-"]))
            + body
            + draw(st.sampled_from(["", "挂", "学", "警", "港", "澳"]))
        )
    return digits(draw(st.integers(1, 20)))


_piece = st.one_of(
    _pii_piece(),
    _pii_piece(),
    st.sampled_from(_FILLER + _ODD),
    st.sampled_from(list(pii_prefilter.PLATE_PROVINCES)),
    st.text(string.ascii_letters + string.digits + "._%+-@: ·", max_size=6),
)
_joint = st.sampled_from(["", "", "，", " ", "的", "号", "a", "1"])


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_piece, _joint), max_size=14), st.integers(0, 4))
def test_windows_find_exactly_what_the_whole_text_scan_finds(pieces, start):
    text = "".join(p + j for p, j in pieces)
    _same(text, min(start, len(text)))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.text("今天新闻说云南川菜学习港澳京，。的 ", max_size=70), _pii_piece()), min_size=1, max_size=5))
def test_sparse_pii_in_chinese_text(pieces):
    """PII a few words apart, as in chat: mostly separate windows."""
    _same("".join(f + p for f, p in pieces))


@pytest.mark.parametrize(
    "text",
    [
        "护照EA1234567和E12345678",  # the first digit two characters after the start
        "联系" + "a1" * 32 + "@example.com",  # a 64-character local part with digits in it
        "联系" + "a" * 64 + "@example.com，" + "b" * 63 + "1@example.com",  # 64 characters back from the '@'
        "联系" + "a" * 70 + "@example.com",  # too long for the local part: a shorter match
        "x" * 5 + "1@a.cn 与 12@b.cn",
        "地址 abcd::1 和 fe80::1:2, 2001:db8::8a2e:370:7334",
        "地址xabc1:2::3 和 ab12::1",  # the ':' after the first digit reaches further back than it
        "地址2001:0db8:85a3::8a2e:0370:7334，说:好",  # four hex digits between the first two colons
        "地址 abcd:ef01::1",  # hex letters before the first colon
        "地址 ABCD::1",  # (alone: windows closer than DENSE_GAP merge and would hide a short reach)
        "邮箱 x.@a.cn、a-@b.cn、_%+@c.cn、@某人、a@.cn",  # a local part may end in ._%+-
        "号码+8613800138000、0086 138 0013 8000、86-138-0013-8000",
        "车牌京AAAAAA、粤B·D12345、新A12345学、云BO1234、川A·1234",
        "新A1234",  # six characters: no plate
        "版本 1.2.3.4.5，IP 10.0.0.1。",
        "１２３４５６７８９０１",  # full-width digits are \d
        "\U0001d7d9" * 11 + " 和 😀😀1234567",
        "a@b.c" + "d." * 200 + "cn 然后 13800138000",  # an overlong e-mail swallows what follows it
        "卡 4111 1111 1111 1111，身份证 11010519491231002X",
    ],
)
def test_edge_cases(text):
    for start in range(0, min(len(text), 12)):
        _same(text, start)


# ---- the prefilter's constants follow from the pattern ----------------------------------------


@functools.cache
def _all_digits() -> frozenset[int]:
    return frozenset(i for i in range(0x110000) if not 0xD800 <= i < 0xE000 and chr(i).isdecimal())


def _leaf_chars(node, out: set[int]) -> None:
    """Every code point some character test anywhere in ``node`` (lookarounds included) accepts."""
    from re import _constants as c

    for op, av in node.data if hasattr(node, "data") else node:
        if op is c.LITERAL:
            out.add(av)
        elif op is c.IN:
            for iop, iav in av:
                if iop is c.LITERAL:
                    out.add(iav)
                elif iop is c.RANGE:
                    out.update(range(iav[0], iav[1] + 1))
                elif iop is c.CATEGORY and iav is c.CATEGORY_DIGIT:
                    out.update(_all_digits())
                else:
                    raise AssertionError(f"unexpected class item {iop} {iav}: extend this test and _BREAK")
        elif op in (c.SUBPATTERN,):
            _leaf_chars(av[-1], out)
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            _leaf_chars(av[2], out)
        elif op in (c.ASSERT, c.ASSERT_NOT):
            _leaf_chars(av[1], out)
        elif op is c.BRANCH:
            for alt in av[1]:
                _leaf_chars(alt, out)
        else:
            raise AssertionError(f"unexpected pattern node {op}: extend this test and _BREAK")


def test_no_character_the_pattern_tests_is_a_breaker():
    from re import _parser

    used: set[int] = set()
    _leaf_chars(_parser.parse(pii._PATTERN.pattern), used)
    breakers = [chr(i) for i in sorted(used) if pii_prefilter._BREAK.match(chr(i))]
    assert breakers == []
    # and the look-back set agrees with the breaker class on the BMP
    assert all((chr(i) in pii_prefilter._CONTENT_SET) for i in used if i < 0x10000)


def test_min_plain_is_the_shortest_match_without_at_or_colon():
    from re import _parser

    widths = {k: _parser.parse(v).getwidth()[0] for k, v in pii._PARTS.items()}
    assert min(w for k, w in widths.items() if k not in ("email", "ipv6")) == pii_prefilter.MIN_PLAIN
    assert pii_prefilter.BACK_EMAIL == 64 and "{0,63}@" in pii._PARTS["email"]
    assert "[0-9A-Fa-f]{0,4}:" in pii._PARTS["ipv6"]


def test_plain_chinese_text_has_no_window():
    assert pii_prefilter.windows("我们在2019年去了北京，看了新闻，学习了很多。" * 20) == []
    assert pii_prefilter.windows("") == []


# ---- COLD dev ---------------------------------------------------------------------------------


def test_cold_dev_rows_and_cuts(shared):
    import csv

    with (shared / "classifier" / "cold" / "dev.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = [r[4] for r in list(csv.reader(fh))[1:]]
    text = "".join(rows)
    cuts = [text[i : i + 340] for i in range(0, len(text), 340)]
    cuts += [text[i : i + 50] for i in range(0, len(text), 50)]
    check = PIICheck()
    for t in rows + cuts:
        assert _windowed(t) == _spans(t), t
        assert check.find(t) == _whole_text(check, t) == check.find_in(t), t
    with _never_dense():
        assert all(_windowed(t) == _spans(t) for t in cuts)


# ---- windows that cannot hold a match -----------------------------------------------------------


def _min_digits(items) -> int:
    """The fewest decimal digits (``\\d``, Unicode Nd) any match of a parsed pattern holds."""
    from re import _constants as c

    total = 0
    for op, av in items:
        if op is c.LITERAL:
            total += chr(av).isdecimal()
        elif op is c.IN:
            total += _class_all_digits(av)
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            total += av[0] * _min_digits(av[2])
        elif op is c.SUBPATTERN:
            total += _min_digits(av[3])
        elif op is c.BRANCH:
            total += min(_min_digits(b) for b in av[1])
        elif op is c.ATOMIC_GROUP:
            total += _min_digits(av)
        # lookarounds (ASSERT, ASSERT_NOT) and AT consume nothing
    return total


def _class_all_digits(items) -> bool:
    from re import _constants as c

    for op, av in items:
        if op is c.CATEGORY and av is c.CATEGORY_DIGIT:
            continue
        if op is c.LITERAL and chr(av).isdecimal():
            continue
        if op is c.RANGE and all(chr(i).isdecimal() for i in range(av[0], av[1] + 1)):
            continue
        return False
    return True


def _must_hold(items, chars: set[str]) -> bool:
    """Whether every match of a parsed pattern holds one of ``chars``."""
    from re import _constants as c

    for op, av in items:
        if op is c.LITERAL and chr(av) in chars:
            return True
        if op is c.IN and av and all(o is c.LITERAL and chr(a) in chars for o, a in av):
            return True
        if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT) and av[0] >= 1 and _must_hold(av[2], chars):
            return True
        if op is c.SUBPATTERN and _must_hold(av[3], chars):
            return True
        if op is c.BRANCH and all(_must_hold(b, chars) for b in av[1]):
            return True
    return False


def test_a_match_holds_a_special_character_or_min_digits():
    """``pii_prefilter._CAN_MATCH``'s claim, read from the pattern: every type's match holds
    '@', ':', '.', a province character, or at least ``MIN_DIGITS`` digits (the fewest: passport)."""
    from re import _parser

    special = set("@:.") | set(pii_prefilter.PLATE_PROVINCES)
    digits = {}
    for kind, part in pii._PARTS.items():
        parsed = list(_parser.parse(part))
        digits[kind] = _min_digits(parsed)
        assert _must_hold(parsed, special) or digits[kind] >= pii_prefilter.MIN_DIGITS, kind
    assert min(d for k, d in digits.items() if k in ("cn_id", "mobile", "bank_card", "passport")) == pii_prefilter.MIN_DIGITS
    assert {k for k in pii._PARTS if _must_hold(list(_parser.parse(pii._PARTS[k])), special)} == {"email", "ipv4", "ipv6", "plate"}


@pytest.mark.parametrize("text", ["[12-3456] 你好", "订单 2024-12-05 到", "编号 12 345 6", "a123456b", "E123456", "E1234567", "EA1234567",
                                  "١٢٣-٤٥٦٧", "12-345678", "1.2.3.4", "1:2:3", "京A12345", "x 1234 5678 y"])
def test_windows_skip_only_what_cannot_match(text):
    _same(text)
    _same("你好，" + text + "。谢谢")


def test_short_number_runs_get_no_window():
    assert pii_prefilter.windows("[12-3456] 你好，请简单介绍一下你自己。") == []
    assert pii_prefilter.windows("编号 31-2345 的") == []
    assert pii_prefilter.windows("会议在 2024-12-05 举行") != []  # 8 digits: a passport has 7
    assert pii_prefilter.windows("护照 EA1234567") != []
