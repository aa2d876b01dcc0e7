from datetime import date

import pytest

from fenghuo.checks.pii import PIICheck, apply_masks, luhn_ok, mask_value, valid_cn_id
from fenghuo.checks.tools.pii_testset import generate, score


def make_id(prefix17: str) -> str:
    w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return prefix17 + "10X98765432"[sum(int(d) * k for d, k in zip(prefix17, w)) % 11]


def test_gb11643_check_digit_and_birth_date():
    good = make_id("11010519491231002")
    assert good == "11010519491231002X"  # the standard's own worked example
    assert valid_cn_id(good)
    assert not valid_cn_id(good[:-1] + "1")  # wrong check digit
    assert not valid_cn_id(make_id("11010519490231002"))  # 31 February... 1949-02-31 does not exist
    assert not valid_cn_id(make_id("99010519491231002"))  # no province 99
    assert not valid_cn_id(make_id("11010520991231002"), today=date(2025, 1, 1))  # born in the future


def test_a_number_failing_its_checksum_is_not_reported():
    check = PIICheck()
    good = make_id("11010519900307287")
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    found = [f.category for f in check.scan(f"正确{good}，错误{bad}").findings]
    assert found == ["pii.cn_id"]


def test_luhn():
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")


def test_each_type_found_with_span():
    check = PIICheck()
    text = "手机+86 138-0013-8000，邮箱li.lei@example.com.cn，IP 10.0.0.1 和 fe80::1:2，护照E12345678，车牌粤B·D12345，卡 4111 1111 1111 1111"
    got = {f.category: text[f.start : f.end] for f in check.scan(text).findings}
    assert got == {
        "pii.mobile": "+86 138-0013-8000",
        "pii.email": "li.lei@example.com.cn",
        "pii.ipv4": "10.0.0.1",
        "pii.ipv6": "fe80::1:2",
        "pii.passport": "E12345678",
        "pii.plate": "粤B·D12345",
        "pii.bank_card": "4111 1111 1111 1111",
    }


def test_not_pii():
    check = PIICheck()
    assert check.scan("版本 1.2.3.4.5，时间 12:30:45，价格 13800 元，订单 20240101123").findings == []


def test_masking():
    assert mask_value("cn_id", "110105194912310021") == "110105********0021"
    assert mask_value("mobile", "13800138000") == "138****8000"
    assert mask_value("email", "lilei@example.com") == "l****@example.com"
    text = "身份证11010519491231002X电话13800138000"
    assert apply_masks(text, PIICheck().scan(text).findings) == "身份证110105********002X电话138****8000"


def test_types_can_be_restricted_and_unknown_types_refused():
    assert [f.category for f in PIICheck(types=["email"]).scan("a@b.cn 13800138000").findings] == ["pii.email"]
    with pytest.raises(ValueError, match="unknown PII type"):
        PIICheck(types=["ssn"])


@pytest.mark.parametrize("seed", [1, 2, 3, 11, 42])
def test_precision_and_recall_on_a_generated_set(seed):
    res = score(PIICheck(), generate(300, seed=seed))
    assert set(res) >= {"cn_id", "mobile", "bank_card", "email", "ipv4", "ipv6", "passport", "plate"}
    for kind, r in res.items():
        assert r["recall"] >= 0.95, (seed, kind, r)
        assert r["precision"] >= 0.95, (seed, kind, r)


def test_generated_plates_can_exist_and_impossible_ones_are_not_reported():
    from fenghuo.checks.tools.pii_testset import valid_plate

    data = generate(300, seed=2)
    plates = [text[s:e] for text, labels in data for s, e, k in labels if k == "plate"]
    assert len(plates) > 50 and all(valid_plate(p) for p in plates)
    assert PIICheck().scan("编号皖O-48906，吉I-16858").findings == []


def test_prefilter_windows_find_exactly_what_the_full_scan_finds(monkeypatch):
    """The prefilter (``pii_prefilter.windows``) only skips text where no match can start:
    compare with the full pattern over the whole text on generated PII, long e-mail local parts,
    IPv6 whose first ':' comes after hex digits, plates after common province characters,
    Unicode digits (random mixes and COLD dev: ``test_pii_prefilter.py``)."""
    import random

    from fenghuo.checks import pii

    rng = random.Random(7)
    filler = ["今天新闻说", "云南", "川菜很好吃", "京", "abc", " ", "，", "新A", "ab.cd+ef", "٣", "１２"]
    texts = [t for t, _ in generate(300, seed=11)]
    texts += [
        "联系" + "a" * 63 + "@example.com",
        "联系" + "a" * 70 + "@example.com",
        "地址 fe80::1 和 2001:db8::8a2e:370:7334",
        "新车牌京A12345，云B·D1234",
        "号码＋86 138 0013 8000 和 ٣.٣.٣.٣",
    ]
    for _ in range(300):
        parts = [rng.choice(filler) for _ in range(rng.randint(0, 6))]
        parts.insert(rng.randint(0, len(parts)), rng.choice(texts))
        texts.append("".join(parts))
    check = PIICheck()
    fast = [check.find(t) for t in texts]
    monkeypatch.setattr(pii, "_first_anchor", lambda text, start=0: True)
    monkeypatch.setattr(pii, "_windows", lambda text, start=0, first=None: [(start, len(text))])
    assert fast == [check.find(t) for t in texts]
    assert any(fast)


def _find_names(text):
    """A stand-in for a named-entity model: two known names."""
    import re

    return [(m.start(), m.end(), "name") for m in re.finditer("张三|李四", text)]


def test_extra_detectors_report_names_as_pii_findings():
    check = PIICheck(detectors=[_find_names])
    text = "张三的电话是13800138000，李四知道"
    got = [(f.category, text[f.start : f.end], f.action.value, f.risk) for f in check.scan(text).findings]
    assert got == [("pii.name", "张三", "mask", "A4f"), ("pii.mobile", "13800138000", "mask", "A4f"), ("pii.name", "李四", "mask", "A4f")]
    assert apply_masks(text, check.scan(text).findings) == "**的电话是138****8000，**知道"
    with pytest.raises(ValueError, match="returned"):
        PIICheck(detectors=[lambda t: [(0, 99, "name")]]).scan("短")
    with pytest.raises(ValueError, match="not callable"):
        PIICheck(detectors=[42])


def test_detectors_from_yaml_and_in_a_stream(tmp_path, monkeypatch):
    from fenghuo.checks.pipeline import ConfigError, load_pipeline

    from .conftest import write

    write(tmp_path / "my_ner.py", "import re\ndef names(text):\n    return [(m.start(), m.end(), 'name') for m in re.finditer('张三|李四', text)]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    cfg = write(tmp_path / "c.yaml", "checks:\n  - {type: pii, detectors: ['my_ner:names']}\ncategories:\n  pii.name: {action: block, risk: A4f}\n")
    p = load_pipeline(cfg)
    v = p.scan("我是张三")
    assert [(f.category, f.start, f.action.value) for f in v.findings] == [("pii.name", 2, "block")]
    s = p.stream()
    for ch in ["我是张", "三，他是李", "四"]:
        s.feed(ch)
    assert [(f.category, f.start, f.end) for f in s.close().findings] == [("pii.name", 2, 4), ("pii.name", 7, 9)]
    for bad, msg in [("['no_such_module:f']", "cannot be loaded"), ("['my_ner']", "package.module:callable"), ("[1]", "list of")]:
        with pytest.raises(ConfigError, match=msg):
            load_pipeline(write(tmp_path / "b.yaml", f"checks:\n  - {{type: pii, detectors: {bad}}}\n"))
