"""Session 21, extremism (checks/rules/extremism.yaml), on both engines: the `terror_quiet` veto no
longer holds bare 别/不要, which silenced incitement (「别再犹豫了」「别再当顺民了」); only the
warning forms (不要相信/转发/点开, 别信/传) still veto. terror.endorse_pair is quiet on game talk
(这波、下把、团战) and abuse.harass_threat on comfort to a victim (「他网暴你…截图留证」). The group-hate and extremism rules drafted
this session caught half-A texts of the dev file but no half-B one, so none was shipped.

The sentences are our own, not taken from the dev files.
"""

from __future__ import annotations

from .conftest import rule_table_tests

FILES = ["abuse.yaml", "extremism.yaml", "harm.yaml"]

HITS = {
    "terror.cause_pair": [
        "别再犹豫了，异教徒的鲜血会洗净这片土地",
        "不要再等了，兄弟们，为了信仰拿起武器",
    ],
    "terror.holy_war": [
        "别怕，圣战已经开始，留在家里的都是懦夫",
    ],
}

NEAR_MISSES = {
    "terror.cause_pair": [
        "不要相信那些说要用鲜血洗净土地的极端视频，看到就举报",
        "别信群里转的圣战视频，都是在洗脑，直接举报",
    ],
    "terror.holy_war": [
        "不要转发所谓圣战已经开始的视频，警方正在调查",
    ],
    # Game talk and comfort to a victim of online abuse stay quiet.
    "terror.endorse_pair": [
        "刚才那波团战我自爆了，兄弟们下把继续干",
    ],
    "abuse.harass_threat": [
        "他们网暴你是他们没素质，先截图留证，不用理",
    ],
}


test_rule_fires, test_near_miss_is_quiet = rule_table_tests(HITS, NEAR_MISSES)
