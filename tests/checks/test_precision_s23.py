"""Session 23's precision work (checks/frame_cues.py, the lexicon build).

* News named by its source or a government's statement (外媒报道, 媒体报道, 总统称, 外交部表示,
  宣称负责) is a professional frame: a terror word in a news sentence settles as a topic word.
* A frame does not hold where its sentence praises the attack or pledges more (是英雄, 干得漂亮,
  我也要这么, 还会继续, 圣战 …: ``DODGING``), so a news frame cannot carry praise through.
* 彩票走势图 flags by the shipped lexicon's own action (a tag fix), not by a load-time patch.

The sentences are our own, not taken from the dev files.
"""

from __future__ import annotations

import pytest

from fenghuo.checks.frames import framed


@pytest.fixture(scope="module")
def pipe():
    from fenghuo.checks.pipeline import load_pipeline

    return load_pipeline()


NEWS = [
    "某国一座教堂遭枪手袭击，总统称这是一起恐怖袭击",
    "外媒报道：一辆巴士遭炸弹袭击，目前已有十余人遇难",
]


@pytest.mark.parametrize("text", NEWS)
def test_news_frames_a_terror_word(pipe, text):
    assert pipe.scan(text).verdict == "pass", [f.rule for f in pipe.scan(text).findings]


PRAISE = [
    "据报道那个暴恐分子是英雄，我也要这么干",
    "外交部表示暴恐分子已经伏法，可我们还会继续暴恐",
    "总统称这是恐怖袭击，我说这是圣战，支持",
    "记者说这次恐怖袭击死了很多人，干得漂亮",
]


@pytest.mark.parametrize("text", PRAISE)
def test_praise_in_a_news_frame_is_still_caught(pipe, text):
    assert pipe.scan(text).verdict != "pass"


def test_praise_vetoes_the_frame():
    t = "媒体报道的那个暴恐分子是英雄，我也要这么干"
    i = t.index("暴恐")
    assert not framed(t, i, i + 2)


def test_lottery_chart_flags_by_the_shipped_lexicon():
    from importlib import resources

    lines = resources.files("fenghuo.checks").joinpath("shipped/lexicon.tsv").read_text(encoding="utf-8").splitlines()
    assert "彩票走势图\tgambling\tflag" in lines
    import fenghuo.checks.corroborate as c

    assert not hasattr(c, "DEMOTED_WORDS")
