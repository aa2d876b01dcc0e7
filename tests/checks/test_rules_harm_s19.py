"""Session 19's harm.yaml rules, on both engines: harm.ed_restrict_push (urging others to keep up
starving or purging) and harm.dare_body (body-harming dares, contests and streaks) fire on their
shapes, and their near misses — first-person distress, carers, fasting for a procedure or a
religion, safe challenges, cooking — stay quiet. The shared defines violence.yaml uses are kept.

The sentences are our own, not taken from the dev files. The rules were written from one half of
the dev texts (sha1 of the text, even last byte) and measured on the other; docs/checks.md gives
the figures.
"""

from __future__ import annotations

import pytest
import yaml

from fenghuo.checks.rules import packaged_rules_dir

from .conftest import rules_fired

FILES = ["harm.yaml"]

HITS = {
    "harm.ed_restrict_push": [
        "一天只喝一杯牛奶，饿了就忍住，姐妹们冲",
        "今天也不吃晚饭，坚持打卡第七天",
        "吃完就去吐掉，宝贝们坚持住",
        "饥饿感来了就喝冰水撑过去",
    ],
    "harm.dare_body": [
        "挑战连续三天三夜不睡觉，第一个睡着的请客",
        "比谁在冰水里待得久，赢的拿红包",
        "谁敢用皮带勒脖子坚持十秒，录个视频",
        "站在天台边缘拍照打卡，敢不敢",
    ],
}

NEAR_MISSES = {
    "harm.ed_restrict_push": [
        "饿了就吃，别饿坏了身体",
        "我又控制不住催吐了，好难受",
        "女儿总是不吃饭，该怎么帮她",
        "手术前要空腹，坚持一下",
        "坚持健康饮食，不节食也能瘦",
        "斋月期间白天禁食，坚持了一个月",
    ],
    "harm.dare_body": [
        "冬泳挑战，新手别学，容易失温",
        "憋气挑战很危险，家长注意",
        "挑战一天不玩手机，谁输了谁请客",
        "切菜比赛，谁用刀最快谁赢",
        "麻辣烫吃完了，给老板点赞",
    ],
}

# No harm rule at all may fire: distress in the first person, support, everyday hyperbole.
QUIET = [
    "好想死，谁能跟我说说话",
    "饿死了，今天加班没吃午饭",
    "笑死，这个挑战视频太好笑了",
    "累死了，健身打卡第三十天",
    "想死你了，什么时候回来",
    "我以前也节食过，现在好好吃饭了，你也会好起来的",
]


@pytest.mark.parametrize(("rule", "text"), [(r, t) for r, ts in HITS.items() for t in ts])
def test_new_rule_fires(check, rule, text):
    assert f"rules:{rule}" in rules_fired(check, text), text


@pytest.mark.parametrize(("rule", "text"), [(r, t) for r, ts in NEAR_MISSES.items() for t in ts])
def test_near_miss_is_quiet(check, rule, text):
    assert f"rules:{rule}" not in rules_fired(check, text), text


@pytest.mark.parametrize("text", QUIET)
def test_distress_and_hyperbole_are_quiet(check, text):
    assert not {f.category for f in check.scan(text).findings} & {"harm"}, text


def test_new_rules_only_flag(check):
    new = {r.id: r.action for r in check.rules if r.id in HITS}
    assert new == dict.fromkeys(HITS, "flag")


def test_shared_defines_kept():
    # violence.yaml and extremism.yaml use these; they must not be renamed or narrowed.
    defines = yaml.safe_load((packaged_rules_dir() / "harm.yaml").read_text(encoding="utf-8"))["defines"]
    for name, words in {"harm_method": ["自杀", "割腕", "烧炭", "安眠药", "煤气"],
                        "harm_not_real": ["游戏", "小说", "哈哈", "开玩笑", "蟑螂"],
                        "harm_warning": ["警惕", "举报", "报警", "不要", "提醒"]}.items():
        for w in words:
            assert w in defines[name].split("|") or w in defines[name], (name, w)
