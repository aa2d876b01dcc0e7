"""Session 22's group-hate, abuse and extremism rules (checks/rules/hate.yaml, and the "Session 22"
block of extremism.yaml), on both engines: a group + a frame that makes a trait its nature or lot +
a demeaning predicate; women's study and work called wasted; a group
kept out of shared space; mockery of looks and English insults; a disguised device threatened, killing
or martyrdom made a merit, and what a violent group promises recruits. All of them only flag.

The sentences are our own, not taken from the dev files. The rules were written from half A of the
written_zh dev sets (sha1 of the text, even last byte) and the readable training sets, and kept
where the other half gained with no harmless text newly flagged.
"""

from __future__ import annotations

import pytest

from .conftest import rule_table_tests, rules_fired

FILES = ["common.yaml", "abuse.yaml", "harm.yaml", "hate.yaml", "extremism.yaml"]

HITS = {
    "hate.essentialise": [
        "那个民族天生就懒，给多少补贴都没用",
        "他们骨子里就是奴才，改不了的",
        "保安就是伺候人的命，一辈子翻不了身",
        "有些民族就是比别人低一等，这是事实",
    ],
    "hate.vermin": [
        "外卖员就是城市的蟑螂，满街乱窜",
        "那些退休老头都是社会的蛀虫",
        "这帮大妈就是一群活化石，跟不上时代",
    ],
    "hate.women_wasted": [
        "女孩子学什么编程，最后还不是回家带孩子",
        "女研究生读书有什么用，浪费国家资源",
        "那个女老板肯定是靠睡上位的",
    ],
    "hate.outsider_barred": [
        "小区就不该让那些租房的穷鬼进来，拉低档次",
        "盲人别出门了，就应该待在家里",
        "农民工就该给他们专门开一节车厢",
    ],
    "hate.looks_mock": [
        "长得跟猴一样还好意思开直播",
        "死胖子别出来吓人了",
        "那张脸看着就想吐",
    ],
    "hate.english_insult": [
        "you're a worthless idiot",
        "your mom should have aborted you",
        "shut up you stupid clown",
    ],
    "terror.device_threat": [
        "周末的演唱会我会带着惊喜去，到时候别怪我",
        "我在商场里放好东西了，等着上新闻吧",
        "再不退钱，我就让整个医院给我陪葬",
    ],
    "terror.kill_merit": [
        "杀死一个异教徒就等于一次礼拜",
        "献身是通往天园的路，兄弟们",
        "圣战是每个信士的义务",
    ],
    "terror.recruit_promise": [
        "不怕死的兄弟私聊，路费全包",
        "跟着组织干，家人会有人照顾",
        "去叙利亚的姐妹，有专人接应",
    ],
}

NEAR_MISSES = {
    "hate.essentialise": [
        "说那个民族天生就懒，这是一种偏见",
        "哪有人天生就坏的，农村人也一样",
        "他天生就是当老师的料",
    ],
    "hate.vermin": [
        "把外卖员说成城市的蟑螂，这是歧视",
        "保安帮我们抓到了一只老鼠",
        "老人不是社会的累赘",
    ],
    "hate.women_wasted": [
        "我妈说女孩子读书有什么用，我该怎么反驳",
        "她读博五年，最后成了知名学者",
        "女生宿舍的桌子没人要，谁拿走吧",
    ],
    "hate.outsider_barred": [
        "地铁设有女性专用车厢，方便出行",
        "酒驾的人不能发驾照",
        "老人身体不好，应该待在家里休息吗",
    ],
    "hate.looks_mock": [
        "我长这样还敢发自拍，哈哈",
        "有人骂我丑八怪别出来吓人，怎么办",
        "今天的妆容有点辣眼睛，卸了重画",
    ],
    "hate.english_insult": [
        "you're such a kind person",
        "He called me a worthless idiot, how do I respond",
        "my mom said I should study harder",
    ],
    "terror.device_threat": [
        "我准备好礼物了，生日那天给她一个惊喜",
        "年会那天我带着惊喜去，大家别怪我唱得难听",
        "这个消息上新闻头条了",
    ],
    "terror.kill_merit": [
        "极端分子歪曲教义，宣扬杀一个异教徒就是功德",
        "游戏里杀一个怪就升一级",
        "宗教学课上讲了殉道的概念",
    ],
    "terror.recruit_promise": [
        "工厂招工，包吃住，路费报销",
        "支教志愿者路费全包，要有决心",
        "骗子以路费报销为名招人去境外，警惕传销",
    ],
}

# Debates that criticise a stereotype or quote a slur to condemn it, and news: no session-22 rule may fire.
QUIET = [
    "说女的学理工没用是刻板印象，女科学家多的是",
    "招聘写河南籍勿扰，这是违法的地域歧视",
    "总有人说农民工是城市的蟑螂，这种话太伤人了",
    "外媒报道：某国发生爆炸袭击，造成多人死亡",
    "看到评论区有人说恐袭干得好，已举报，太可怕了",
]


test_rule_fires, test_near_miss_is_quiet = rule_table_tests(HITS, NEAR_MISSES)


@pytest.mark.parametrize("text", QUIET)
def test_discussion_is_quiet(check, text):
    ours = {f"rules:{r}" for r in HITS}
    assert not rules_fired(check, text) & ours, text


def test_rules_only_flag(check):
    ours = {r.id: r.action for r in check.rules if r.id in HITS}
    assert ours == dict.fromkeys(HITS, "flag")
