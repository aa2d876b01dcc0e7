"""Session 19's violence rules (violence.yaml, all flag), on both engines: violence by meaning —
a call on others to hurt a target, an attack staged as an accident, covering one's tracks,
praise of an attacker, a means next to a plan, a how-to for hurting, English menace, a
conditional threat (if you do it again, I will hurt you). Each rule
fires on sentences written here (not taken from the dev files), and the look-alikes stay quiet:
news, fiction, games, bargaining, self-defence, chores, victims asking for help.

The rules were written from half A of the dev texts (sha1 of the text, even last byte) and from
sentences of our own, and kept only where half B gained too; /tmp/draft_violence.md (merged into
docs/checks.md by the lead) gives the figures.
"""

from __future__ import annotations

import pytest

FILES = ["harm.yaml", "violence.yaml", "violence_plans.yaml"]

HITS = {
    "violence.incite_call": [
        "这人就住我们小区，有没有兄弟去他家楼下教训一下",
        "谁有胆子去把那个渣男揍一顿，我请吃饭",
        "今晚全体出动，谁不动手谁是孙子，把他们店给掀了",
    ],
    "violence.staged_accident": [
        "在他摩托车上动点手脚，让他自己出事",
        "把他弄成意外摔下楼梯，谁也查不到我",
        "咱们三个一起去，一个望风，一个拦车，我来下手",
    ],
    "violence.cover_tracks": [
        "下手之前记得戴手套，别留指纹",
        "收拾他的时候专挑没监控的巷子，事后别发朋友圈",
        "要想打人又不被抓，就挑下雨天，雨衣一穿谁也认不出",
    ],
    "violence.glorify_attack": [
        "那个持刀砍人的，说实话我挺佩服他",
        "超市门口那个捅人的，干得漂亮，替大家出气了",
        "为那位勇敢的刺客干杯，他的名字会被传颂",
    ],
    "violence.plan_pair": [
        "打算趁他睡着下药，剂量要多少才够",
        "我打算往她的水杯里倒点清洁剂，看她还敢不敢得意",
        "我跟踪他好几天了，他每天晚上十点从健身房出来",
    ],
    "violence.instruct_pair": [
        "教你一招，专挑膝盖踢，一下就趴",
        "打人别打脸，打身上看不出来",
        "对付不听话的人，先用烟头烫，不留大伤口",
    ],
    "violence.english_menace": [
        "watch your back, I know where your kids go to school",
        "go to his place tonight and bring bats",
        "how do we make it look like an accident",
        "everybody bring bats to his place, we teach him a lesson tonight",  # "teac-hh-im" is no laugh
    ],
    "violence.threat_if": [
        "你要是再敢骚扰她，我就卸你一条腿",
        "你们敢动我的摊子，老子立马找人收拾你们",
    ],
}

# Look-alikes: the same words in news, fiction, games, bargaining, self-defence, chores and help-seeking.
QUIET = [
    "有没有人去他家楼下帮忙搬个家",
    "大家轮流去食堂打饭",
    "他被人揍了一顿，大家别去围观了",
    "今晚全体出动，去KTV唱歌，谁不去谁是孙子",
    "推理小说里凶手把谋杀伪装成意外",
    "电动车刹车被人动了手脚，已经报警",
    "他喝醉了，我们把他拖上车送回家",
    "咱们三个一起去，一个排队，一个占座，我来点菜",
    "动手刷墙之前戴好口罩和手套",
    "遇到歹徒往要害打，然后赶紧跑",
    "警方提醒：作案人员往往避开监控，请市民提高警惕",
    "这位大哥徒手制服持刀歹徒，真是好样的",
    "我们要谴责这种砍人行为，不值得同情",
    "为什么有人会崇拜杀人犯？心理学家分析这种现象很危险",
    "今天砍价砍了一半，老板说我是狠人",
    "家里有老鼠，打算下点老鼠药，怎么放比较安全",
    "被人下药了怎么办，我该报警吗",
    "我打算往水杯里倒点清洁剂，泡一泡茶垢",
    "女子往同事水杯中投放清洁剂被判刑",
    "防身术：遇到色狼就踢他膝盖，然后逃跑",
    "打篮球别打脸，容易受伤",
    "他打我从来不打脸，专打身上，我该怎么办",
    "the villain in this movie says watch your back",
    "someone told me to watch your back and I'm scared, what should I do",
    "他发消息说要把我弄成意外落水，我该报警吗",
    "你要是再迟到，我就打你屁股哈哈",
    "你再不回消息，我就打你电话了",
    "他说你要是再来我就弄死你，我该怎么办",
]


@pytest.mark.parametrize(("rule", "text"), [(r, t) for r, ts in HITS.items() for t in ts])
def test_new_rule_fires(check, rule, text):
    found = [f for f in check.scan(text).findings if f.rule == f"rules:{rule}"]
    assert found, text
    assert all(f.action.value == "flag" for f in found), text  # new rules only flag


@pytest.mark.parametrize("text", QUIET)
def test_look_alike_is_quiet(check, text):
    assert not {f.category for f in check.scan(text).findings} & {"violence", "harm"}, text
