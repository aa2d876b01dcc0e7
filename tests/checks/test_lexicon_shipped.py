"""The shipped curated lexicon (``checks/shipped/lexicon.tsv``) as the packaged default uses it."""

import hashlib
import json
import re
from importlib import resources
from pathlib import Path

import pytest

from fenghuo.checks.build import shipped_dir
from fenghuo.checks.config import build_lexicon
from fenghuo.checks.lexicon_file import read_lexicon
from fenghuo.checks.pipeline import load_pipeline
from fenghuo.checks.policy import Policy

SHIPPED = shipped_dir() / "lexicon.tsv"


@pytest.fixture(scope="module")
def lexicon(tmp_path_factory):
    check = build_lexicon({"files": ["pkg:shipped/lexicon.tsv"]}, Policy(), Path("."))
    return check


@pytest.fixture(scope="module")
def entries():
    return read_lexicon(SHIPPED, None, set(Policy().rules))


def test_default_pipeline_uses_the_shipped_lexicon():
    pipe = load_pipeline(None)
    lex = next(c for c in pipe.checks if getattr(c, "name", "") == "lexicon")
    assert [str(f) for f in lex.files] == [str(SHIPPED)]


@pytest.mark.parametrize(("text", "risk"), [("法*轮*功好不好", "A1a"), ("fa lun gong", "A1a"), ("发轮功", "A1a"), ("哪里买冰毒", "A1h")])
def test_listed_words_and_evasions_are_caught_with_a_risk_code(lexicon, text, risk):
    findings = lexicon.scan(text).findings
    assert findings and {f.risk for f in findings} == {risk}, findings


@pytest.mark.parametrize("text", ["三原色是红色、蓝色和黄色", "河南人大部分都很勤劳", "角色B的台词很有意思", "日本的电影很好看",
                                  "女人和男人", "国家和政府", "选项B是对的"])
def test_issue_harmless_examples_pass(lexicon, text):
    assert lexicon.scan(text).findings == []


def test_everyday_words_are_absent_and_no_junk_is_shipped(entries):
    words = {e.word for e in entries}
    everyday = [w for w in resources.files("fenghuo.checks").joinpath("data/everyday_words.txt").read_text(encoding="utf-8").splitlines()
                if w and not w.startswith("#")]
    assert not words & set(everyday)
    assert not [w for w in words if re.search(r"\d{5,}", w)]  # QQ / phone numbers
    assert all(e.categories and "sensitive" not in e.categories for e in entries)  # every word has a risk code
    assert len(words) > 40_000


def test_shipped_lexicon_matches_its_manifest_entry():
    manifest = shipped_dir() / "manifest.json"
    if not manifest.is_file() or "lexicon" not in json.loads(manifest.read_text(encoding="utf-8")).get("steps", {}):
        pytest.skip("manifest has no lexicon entry yet")
    entry = json.loads(manifest.read_text(encoding="utf-8"))["steps"]["lexicon"]
    art = next(a for a in entry["artefacts"] if a["path"] == "lexicon.tsv")
    assert art["sha256"] == hashlib.sha256(SHIPPED.read_bytes()).hexdigest()
    assert {i["path"] for i in entry["inputs"]} >= {"lexicon/sensitive_word_dict.txt", "lexicon/sensitive_word_tags.txt"}


def test_shipped_lexicon_is_what_the_build_step_makes(shared, tmp_path):
    """Reproducible from the shared data (about a minute: it runs the whole curation)."""
    from fenghuo.checks.build import lexicon as step

    step.build(shared, tmp_path)
    assert (tmp_path / "lexicon.tsv").read_bytes() == SHIPPED.read_bytes()


def test_class_names_set_by_the_tag_fixes_flag_and_never_block_alone(entries):
    """The tag fixes' third column (build step 3): names the law, the news and lawful shops give a
    whole class of things (管制刀具, 爆炸物, 新型毒品, 成人用品, 恐怖袭击) ship with that action."""
    from fenghuo.checks.base import Action
    from fenghuo.checks.build.lexicon import fixed_actions
    from fenghuo.checks.normalize import default_normaliser

    wanted = fixed_actions(default_normaliser().normalise_text)
    assert {"管制刀具", "爆炸物", "新型毒品", "成人用品", "恐怖袭击"} <= set(wanted)
    got = {e.word: e.action for e in entries if e.word in wanted}
    assert got == {w: Action(a) for w, a in wanted.items()}
    assert Action.BLOCK not in got.values()


@pytest.mark.parametrize("text", ["本店所售露营刀、折叠工具均为非管制刀具，附产品合格证，请文明使用。",
                                  "一名男子因在网上发布爆炸物制作教程，被以传授犯罪方法罪起诉。",
                                  "本店不卖减肥药，也不卖成人用品。"])
def test_class_names_in_notices_do_not_block(text):
    assert load_pipeline(None).scan(text).verdict != "block"
