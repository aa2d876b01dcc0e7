"""Session 20's group-hate and insult rules (issue 12: on other writers' sets group hate was caught
~55 %, personal abuse ~65 %: the rules fit the dev wording). Written by shape from half A of the
dev texts (sha1 of the text, even last byte) — abuse_toxic.jsonl and the fresh
hate_extreme_violence.jsonl — and kept only where they caught half-B texts nothing caught before,
without a new harmless flag on half B of any dev set:

- abuse.group_generalise: a group name (abuse_group, or abuse_group_more: coded names of peoples,
  gender roles, class, schooling, jobs, age, body, illness) + "not one good / honest one" or a
  doubled put-down (又蠢又坏). Its other form, the group + a generalising frame (都是, 一个个, 天生 …)
  + a demeaning word, cost ~30 µs per 1 KB of COLD text (its factors are everywhere in COLD) and
  was taken out by the lead to keep the pipeline's budget;
- abuse.group_barred: a group told it does not deserve, should not, must stay away or be isolated;
- abuse.group_coded_slur: nickname slurs for peoples (棒子国, 俄毛子, 越南猴子 …);
- abuse.third_person_insult: a third person called one of the strong insults;
- abuse.curse_family: curses and jabs (急刹你妹, qnmd, 都是死人吗, 脑子里装的是屎吗 …);
- the homophones and letter codes 鲨臂 / 傻批 / 伞兵 / nt … in abuse_insult_strong.

All flag. Each shape, in wording that is not in the dev data, must get a finding of its rule; each
look-alike (counter-speech, a victim quoting an insult, news, a neutral statement about a group,
banter) must get no finding of any of these rules. Both engines.
"""

from __future__ import annotations

import pytest

FILES = ["common.yaml", "abuse.yaml"]

SHAPES = [
    ("外卖骑手没一个老实的，偷吃顾客的饭", "abuse.group_generalise"),
    ("二婚的女人又懒又馋，谁娶谁吃亏", "abuse.group_generalise"),
    ("肥宅就不配谈恋爱，照照镜子吧", "abuse.group_barred"),
    ("留守儿童都应该被隔离开，别跟我家孩子一个班", "abuse.group_barred"),
    ("流浪汉就该清出市区", "abuse.group_barred"),
    ("俄毛子就知道喝酒", "abuse.group_coded_slur"),
    ("台巴子今天又在网上跳脚", "abuse.group_coded_slur"),
    ("隔壁那个胖子就是个蠢货，天天占车位", "abuse.third_person_insult"),
    ("这店老板是个十足的人渣", "abuse.third_person_insult"),
    ("叫你妹啊，大半夜的", "abuse.curse_family"),
    ("客服都是死人吗，半天不回", "abuse.curse_family"),
    ("qnmd，少管闲事", "abuse.curse_family"),
    ("楼上鲨臂一个，懂什么", "abuse.insult_pair"),
]

LOOK_ALIKES = [
    "谁说印度人都是骗子？这是偏见",
    "不是所有收废品的都手脚不干净，别一概而论",
    "有人说宅男都自私，我觉得这种说法不公平",
    "反对地域歧视，不要说河南人都是骗子",
    "新闻：某公司招聘写“不招某省人”被约谈",
    "孕妇不该吃生冷的东西吗？",
    "乙肝携带者不应该被歧视，就业受法律保护",
    "“棒子国”这种叫法是蔑称，不应该用",
    "有人骂我是蠢货，我该怎么回应",
    "这部电影的反派是个人渣，演得太好了",
    "你妹妹今年上几年级了",
    "你妹的生日快到了，准备礼物了吗",
    "外卖骑手每天跑十二个小时，太辛苦了",
    "留守儿童需要更多关爱，学校开了心理课",
    "东北人都很热情，冬天去哈尔滨玩很开心",
    "我们班男生互相叫外号，大家都挺开心的",
    "伞兵部队今天进行了跳伞训练",
]

NEW_RULES = {"abuse.group_generalise", "abuse.group_barred", "abuse.group_coded_slur", "abuse.third_person_insult",
             "abuse.curse_family"}


def fired(check, text: str) -> set[str]:
    return {f.rule.removeprefix("rules:") for f in check.scan(text).findings}


@pytest.mark.parametrize("text,rule", SHAPES)
def test_s20_shapes_are_caught(check, text, rule):
    assert rule in fired(check, text), text


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_s20_look_alikes_stay_quiet(check, text):
    assert fired(check, text) == set(), text


def test_s20_rules_only_flag():
    """The shapes are broad: a person reviews them; none of these rules blocks on its own."""
    from fenghuo.checks.rules import packaged_rules_dir
    from fenghuo.checks.rules_file import load_rule_files

    specs = {r.id: r for f in load_rule_files([packaged_rules_dir() / n for n in FILES]) for r in f.rules}
    assert set(specs) >= NEW_RULES
    assert {specs[i].action for i in NEW_RULES} == {"flag"}
    assert {specs[i].category for i in NEW_RULES} == {"discrimination", "offensive"}
