"""Harmless everyday chat must pass the whole shipped pipeline.

The texts (tests/checks/data/everyday_chat_zh.txt) were written for this test, apart from the
classifier's generated training phrases; before they were measured, the shipped defaults
blocked 「你好，请介绍一下你们的服务。」 as a privacy risk and 「请问你们几点营业？」 as porn
(a homophone of 级电影 across 几点|营业). A chat gateway that blocks greetings is unusable."""

from pathlib import Path

import pytest

from fenghuo.checks.pipeline import load_pipeline

CHAT = [
    line.strip()
    for line in (Path(__file__).parent / "data" / "everyday_chat_zh.txt").read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
]


@pytest.fixture(scope="module")
def pipe():
    return load_pipeline()


def test_the_chat_set_is_what_it_claims():
    assert len(CHAT) >= 40 and len(set(CHAT)) == len(CHAT)


@pytest.mark.parametrize("text", CHAT)
def test_everyday_chat_passes_the_shipped_pipeline(pipe, text):
    v = pipe.scan(text)
    assert v.verdict == "pass", [(f.category, f.rule, text[f.start : f.end]) for f in v.findings]


def test_a_homophone_must_stand_on_word_boundaries(pipe):
    """The homophone layer still catches an evasion that is its own word, not one across words."""
    assert pipe.scan("我想了解发轮功的事").blocked
    assert not pipe.scan("请问你们几点营业？").findings
