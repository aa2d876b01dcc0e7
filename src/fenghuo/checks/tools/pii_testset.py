"""A labelled PII set generated with faker (zh_CN): sentences with exact spans.

Used by tests/checks and bench/bench_checks.py (needs `pip install faker`) to measure precision and recall per type.
Negatives are built in: numbers that fail their checksum, dates that do not exist, plates
with the letters I or O.

Licence plates: faker's ``license_plate`` draws the issuing-office letter from all 26, but
Chinese plates never use I or O (GA 36-2018, to avoid confusion with 1 and 0), so about 1 in
13 of faker's plates is not a plate at all. Those are regenerated for the positive set (and
one such plate is used as a distractor that must not be reported), so plate recall is
measured on plates that can exist.
"""

from __future__ import annotations

import random

TEMPLATES = [
    "我的{k}是{v}，请核对。",
    "联系人信息：{v}（{k}）",
    "请把{k} {v} 发给客服",
    "{v}。",
    "用户留言：麻烦查一下{v}这个{k}，谢谢！",
]
NAMES = {"cn_id": "身份证号", "mobile": "手机号", "bank_card": "银行卡号", "email": "邮箱", "ipv4": "IP地址", "ipv6": "IPv6地址", "passport": "护照号", "plate": "车牌"}


def _bad_id(fake, rng) -> str:
    s = fake.ssn()
    last = "0123456789X".replace(s[-1], "")
    return s[:-1] + rng.choice(last)  # wrong check digit


def _bad_card(fake) -> str:
    s = fake.credit_card_number()
    return s[:-1] + str((int(s[-1]) + 1) % 10)  # Luhn fails


_NOT_PLATE_LETTERS = frozenset("IO")


def valid_plate(s: str) -> bool:
    """No I or O anywhere after the province character (GA 36-2018)."""
    return not (set(s[1:]) & _NOT_PLATE_LETTERS)


def _plate(fake) -> str:
    while True:
        p = fake.license_plate()
        if valid_plate(p):
            return p


def _bad_plate(fake, rng) -> str:
    p = _plate(fake)
    return p[0] + rng.choice("IO") + p[2:]


def generate(n: int = 400, seed: int = 1) -> list[tuple[str, list[tuple[int, int, str]]]]:
    from faker import Faker

    fake = Faker("zh_CN")
    Faker.seed(seed)
    rng = random.Random(seed)
    gens = {
        "cn_id": fake.ssn,
        "mobile": fake.phone_number,
        "bank_card": fake.credit_card_number,
        "email": fake.email,
        "ipv4": fake.ipv4,
        "ipv6": fake.ipv6,
        "passport": lambda: rng.choice("EG") + "".join(rng.choice("0123456789") for _ in range(8)),
        "plate": lambda: _plate(fake),
    }
    out = []
    for i in range(n):
        labels, text = [], ""
        for _ in range(rng.randint(1, 3)):
            kind = rng.choice(list(gens))
            value = gens[kind]()
            tpl = rng.choice(TEMPLATES)
            pre, post = tpl.split("{v}")
            pre = pre.replace("{k}", NAMES[kind])
            post = post.replace("{k}", NAMES[kind])
            start = len(text) + len(pre)
            text += pre + value + post
            labels.append((start, start + len(value), kind))
        if i % 4 == 0:  # distractors that must not be reported
            text += f"订单号{_bad_id(fake, rng)}，流水{_bad_card(fake)}，日期2023-05-06，版本1.2.3，编号{_bad_plate(fake, rng)}"
        out.append((text, labels))
    return out


def score(check, data) -> dict[str, dict[str, float]]:
    """Exact-span precision and recall per type."""
    from collections import Counter

    tp, fp, fn = Counter(), Counter(), Counter()
    for text, labels in data:
        gold = {(s, e, k) for s, e, k in labels}
        pred = {(f.start, f.end, f.category.removeprefix("pii.")) for f in check.scan(text).findings}
        for s, e, k in pred:
            (tp if (s, e, k) in gold else fp)[k] += 1
        for _s, _e, k in gold - pred:
            fn[k] += 1
    res = {}
    for k in sorted(set(tp) | set(fp) | set(fn)):
        p = tp[k] / (tp[k] + fp[k]) if tp[k] + fp[k] else 0.0
        r = tp[k] / (tp[k] + fn[k]) if tp[k] + fn[k] else 0.0
        res[k] = {"precision": p, "recall": r, "support": tp[k] + fn[k]}
    return res
