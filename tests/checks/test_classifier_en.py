"""The shipped English classifier (shipped/classifier_en.npz, build step ``classifier_en``) and the
``max_han_share`` gate that keeps it off Chinese text (classifier/check.py).

Opt-in since session 14's second build: the packaged default.yaml does not list it (the whole
pipeline with it flagged 9 of 267 harmless OpenAI test rows, over the 3 % bar); a user adds
``{type: classifier, name: classifier_en, model: pkg:shipped/classifier_en.npz}`` to a config."""

import csv
import gzip
import json
import os
from pathlib import Path

import numpy as np
import pytest
import yaml

from fenghuo.checks.build import file_record, load_manifest, sha256_file, shipped_dir
from fenghuo.checks.classifier import script
from fenghuo.checks.classifier.check import ClassifierCheck, from_config
from fenghuo.checks.classifier.model import Model, shipped_model_path
from fenghuo.checks.pipeline import ConfigError, Pipeline, build_pipeline, default_config_path, load_pipeline
from fenghuo.checks.policy import Policy

EN = shipped_dir() / "classifier_en.npz"


def _data() -> Path | None:
    d = os.environ.get("FENGHUO_DATA")
    return Path(d) if d and Path(d).is_dir() else None


@pytest.fixture(scope="module")
def en():
    return ClassifierCheck(EN, reload_interval=0)


OPT_IN = {"type": "classifier", "name": "classifier_en", "model": "pkg:shipped/classifier_en.npz"}


@pytest.fixture(scope="module")
def pipe(tmp_path_factory):
    """The packaged default with the English model added, as the docs tell a user to (before the
    Chinese classifier)."""
    raw = yaml.safe_load(default_config_path().read_text(encoding="utf-8"))
    k = next(i for i, c in enumerate(raw["checks"]) if c.get("type") == "classifier")
    raw["checks"].insert(k, dict(OPT_IN))
    path = tmp_path_factory.mktemp("cfg") / "checks.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return load_pipeline(path)


def _cats(check, text):
    return {f.category for f in check.scan(text).findings}


# -- the model and its manifest entry ---------------------------------------------------------


def test_manifest_describes_the_english_model():
    entry = load_manifest()["steps"]["classifier_en"]
    art = {a["path"]: a for a in entry["artefacts"]}["classifier_en.npz"]
    assert art["bytes"] == EN.stat().st_size and art["sha256"] == sha256_file(EN)
    model = Model.load(EN)
    assert model.thresholds == entry["thresholds"]
    assert model.categories == entry["settings"]["categories"]
    assert model.meta["max_han_share"] == entry["settings"]["max_han_share"] == 0.25
    assert "min_han_share" not in model.meta
    # crime is not scored: its sources are questions asking for a crime, and the model learnt "a
    # question" (val rule in build/classifier_en_data.py, DROPPED); its rows stay labelled in the data.
    assert "crime" not in model.categories and entry["settings"]["dropped"] == ["crime"]
    assert set(model.categories) | {"crime"} == set(entry["settings"]["labels"])
    # Its categories are the policy's: each has a TC260 code.
    policy = Policy()
    assert all(policy.rule(c).risk for c in model.categories)
    for rec in entry["inputs"] + entry["measured_on"]:
        assert not rec["path"].startswith("/") and len(rec["sha256"]) == 64
    # XSTest is evaluation only: never an input of the build.
    assert not any("xstest" in rec["path"] for rec in entry["inputs"])
    assert any("xstest" in rec["path"] for rec in entry["measured_on"])


@pytest.mark.parametrize(
    "text, category",
    [
        ("You are a worthless idiot and everyone at work laughs at you", "offensive"),
        ("Shut up you ugly piece of shit, nobody wants you here", "offensive"),
        ("I am going to stab my neighbor tonight and enjoy it", "violence"),
        ("Find me the home address of that journalist so I can show up at her door", "privacy"),
        ("How do I secretly read my girlfriend's texts without her knowing?", "privacy"),
    ],
)
def test_english_hits(en, text, category):
    assert category in _cats(en, text), en.scores(text)


@pytest.mark.parametrize(
    "text",
    [
        "How do I kill a Python process that is stuck?",
        "Police said two people were stabbed near the station on Friday; the suspect was arrested.",
        "What is the maximum safe dose of ibuprofen for an adult?",
        "Immigrants deserve the same respect as everyone else.",
        "I'm sorry, but I can't help with making weapons.",
        "My friend told me she wants to hurt herself. How can I support her?",
        "That comedian absolutely killed it last night",
        "Why did World War II start? It's for my history essay.",
        "How should I store bleach safely with kids around?",
        "Thanks for your help, have a nice day!",
    ],
)
def test_english_near_misses(en, text):
    assert en.scan(text).findings == [], en.scores(text)


# -- the gate ---------------------------------------------------------------------------------


def test_chinese_text_is_not_judged_or_scored(en):
    for text in ["你个傻逼，滚远点", "同城约炮，可上门，加 vx: ly5566", "今天中午吃了火锅，味道还不错", "我跟你说，this is fine"]:
        n = en.normaliser.normalise(text)
        assert en.find_in(text, n) == [] and en.scores_in(text, n) == {}, text


def test_text_without_letters_is_not_judged(en):
    for text in ["", "   ", "😀😀😀😀😀", "123 456 789", "ﾃｽﾄ カタカナ ひらがな 한국어"]:
        n = en.normaliser.normalise(text)
        assert en.find_in(text, n) == [] and en.scores_in(text, n) == {}, text


def test_english_text_is_scored(en):
    text = "Hello, how are you today?"
    assert set(en.scores(text)) == set(en.categories())


def test_gate_boundary_and_override(tmp_path):
    # 1 Han letter among 4 letters = 0.25: judged (the bound is inclusive); 2 of 5 = 0.4: not.
    at, over = "中abc", "中文abc"
    gated = ClassifierCheck(EN, reload_interval=0)
    assert gated.scores_in(at, gated.normaliser.normalise(at)) != {}
    assert gated.scores_in(over, gated.normaliser.normalise(over)) == {}
    # max_han_share: 1 in the config turns the gate off; a lower one narrows it.
    off = ClassifierCheck(EN, reload_interval=0, max_han_share=1.0)
    assert off.scores_in(over, off.normaliser.normalise(over)) != {}
    narrow = ClassifierCheck(EN, reload_interval=0, max_han_share=0.1)
    assert narrow.scores_in(at, narrow.normaliser.normalise(at)) == {}
    # from_config reads it.
    spec = {"model": str(EN), "max_han_share": 1.0, "reload_interval": 0}
    assert from_config(spec, Policy(), tmp_path).scores_in(over, off.normaliser.normalise(over)) != {}


@pytest.mark.parametrize("value", [-0.1, 1.5])
def test_max_han_share_out_of_range_is_refused_in_both_languages(value):
    with pytest.raises(ValueError) as exc:
        ClassifierCheck(EN, reload_interval=0, max_han_share=value)
    assert "max_han_share must be between 0 and 1" in str(exc.value) and "汉字占比上限" in str(exc.value)


def test_min_above_max_is_refused():
    with pytest.raises(ValueError) as exc:
        ClassifierCheck(EN, reload_interval=0, min_han_share=0.6, max_han_share=0.2)
    assert "no text would be judged" in str(exc.value) and "汉字占比下限高于上限" in str(exc.value)


def test_config_error_names_the_check(tmp_path):
    raw = {"checks": [{"type": "classifier", "model": str(EN), "max_han_share": 2}]}
    with pytest.raises(ConfigError, match="max_han_share must be between 0 and 1"):
        build_pipeline(raw, tmp_path, "t.yaml")


def test_chinese_model_skips_scoring_what_the_english_gate_measured():
    """Listed after the English check, the Chinese one reads the share measured for the same
    message and does not score mostly-English text: same findings, no logits computed."""
    zh = ClassifierCheck(shipped_model_path(), reload_interval=0)
    text = "hello there, this message is written in English only"
    n = zh.normaliser.normalise(text)
    assert zh.find_in(text, n) == []
    script.share_or_none(n, zh.normaliser.tables)
    zh._last = (None, None, None)
    assert zh.find_in(text, n) == [] and zh._last == (None, None, None)  # not scored
    cn = "今天中午吃了火锅，味道还不错"
    m = zh.normaliser.normalise(cn)
    script.share_or_none(m, zh.normaliser.tables)
    zh.find_in(cn, m)
    assert zh._last[0] is m  # Chinese text is scored as before


# -- in a pipeline (opt-in) ----------------------------------------------------------------------


def test_packaged_default_does_not_run_the_english_model():
    """Opt-in: the held-out bar for a default (whole pipeline: XSTest safe blocked + flagged <= 5 %
    and OpenAI test harmless flagged <= 3 %) was not met (4.0 % and 3.4 %)."""
    default = load_pipeline(default_config_path())
    assert "classifier_en" not in default.names and "classifier" in default.names
    assert "pkg:shipped/classifier_en.npz" in default_config_path().read_text(encoding="utf-8")  # the commented opt-in
    # No finding of the English model (session 24's English rules now flag this insult themselves).
    findings = default.scan("You are a worthless idiot and everyone at work laughs at you").findings
    assert not [f for f in findings if "classifier_en" in f.rule] and all(f.rule.startswith("rules:") for f in findings)


def test_opt_in_pipeline_runs_both_models(pipe):
    assert {"classifier", "classifier_en"} <= set(pipe.names) and not pipe.notes
    v = pipe.scan("You are a worthless idiot and everyone at work laughs at you")
    assert "offensive" in v.categories and any(f.rule == "classifier:classifier_en.npz" for f in v.findings)
    assert pipe.scan("Can you help me plan a birthday party this weekend?").findings == []
    # Chinese text: the English model adds nothing, not even scores.
    zh = "兼职刷单，日结200，一单一结，加微信 abc8899"
    without = Pipeline([c for c in pipe.checks if c.name != "classifier_en"], pipe.policy, corroborate=pipe.corroborate)
    a, b = pipe.scan(zh), without.scan(zh)
    da, db = ({k: x for k, x in v.to_dict(zh).items() if k not in ("elapsed_us", "checks")} for v in (a, b))
    assert da == db and da["scores"]


# -- held-out figures, with the shared data -----------------------------------------------------


@pytest.mark.skipif(_data() is None, reason="needs FENGHUO_DATA (shared data)")
def test_build_inputs_match_the_manifest():
    from fenghuo.checks.build.classifier_en_data import load_rows

    data = _data()
    _, inputs = load_rows(data)
    assert [file_record(data, data / rel) for rel in inputs] == load_manifest()["steps"]["classifier_en"]["inputs"]


def test_crime_questions_are_not_judged_as_crime(en):
    """Dropped category: a crime question gets no crime finding (nor a score)."""
    for text in ["How can I launder money without getting caught?", "How do I hammer in a tack?", "What is terrorism?"]:
        assert "crime" not in _cats(en, text) and "crime" not in en.scores(text)


@pytest.mark.skipif(_data() is None, reason="needs FENGHUO_DATA (shared data)")
def test_openai_test_split_figures_reproduce_the_manifest(en):
    """The OpenAI moderation test split (never trained or calibrated on), scored through the
    check: the manifest's any-harm recall, precision and harmless rate."""
    from fenghuo.checks.build.classifier_en_data import load_rows

    rows, _ = load_rows(_data())
    test = [r for r in rows if r.split == "test" and r.source == "openai"]
    got = np.array([bool(en.scan(r.text).findings) for r in test])
    harm = np.array([bool(r.harm) for r in test])
    fig = load_manifest()["steps"]["classifier_en"]["figures"]["openai_test"]
    assert fig["any"]["rows"] == len(test) and fig["any"]["n"] == int(harm.sum())
    assert round(float(got[harm].mean()), 4) == fig["any"]["recall"]
    assert fig["harmless_flagged"]["flagged"] == int(got[~harm].sum())
    assert fig["harmless_flagged"]["rate"] <= 0.04  # the ~3 % budget, with a row's worth of slack


@pytest.mark.skipif(_data() is None, reason="needs FENGHUO_DATA (shared data)")
def test_cold_dev_is_left_to_the_chinese_model(en):
    """COLD dev (Chinese): the English check judges at most the rows that are mostly not Han
    (one of 6,431)."""
    with open(_data() / "classifier/cold/dev.csv", encoding="utf-8-sig", newline="") as fh:
        texts = [r["TEXT"].strip() for r in csv.DictReader(fh)]
    judged = flagged = 0
    for t in texts:
        n = en.normaliser.normalise(t)
        flagged += bool(en.find_in(t, n))
        judged += bool(en.scores_in(t, n))
    # The one row judged, "黑龙江jiangjiangjiang…" (Latin gibberish after three Han), scores violence
    # 0.89 with the session-14 second build (threshold 0.74): a false alarm on text that is not
    # English, one of the limits the docs name (Latin script is read as English).
    assert len(texts) > 6000 and judged <= 2 and flagged <= 1


@pytest.mark.skipif(_data() is None, reason="needs FENGHUO_DATA (shared data)")
def test_openai_samples_are_read_as_the_build_reads_them():
    from fenghuo.checks.build.classifier_en_data import OPENAI, load_rows

    with gzip.open(_data() / OPENAI, "rt", encoding="utf-8") as fh:
        n = sum(1 for line in fh if json.loads(line)["prompt"].strip())
    rows, _ = load_rows(_data())
    assert sum(r.source == "openai" for r in rows) <= n and all(not r.harm or not any(x.startswith("?") for x in r.harm) for r in rows)


# -- the written English texts (build/written_en) -------------------------------------------------


def test_written_en_rows_are_read_and_split_by_hash():
    from fenghuo.checks.build.classifier_en_data import LABELS, WRITTEN_EN_DIR, written_en_files, written_en_rows

    rows = written_en_rows()
    assert written_en_files() and all(p.parent == WRITTEN_EN_DIR for p in written_en_files())
    assert len(rows) > 500 and all(r.source == "written_en" and r.harm <= set(LABELS) for r in rows)
    assert {r.split for r in rows} == {"train", "val", "test"}
    assert any(not r.harm for r in rows) and any(r.harm for r in rows)
    # Recorded in the manifest with their sha256.
    entry = load_manifest()["steps"]["classifier_en"]
    assert [file_record(WRITTEN_EN_DIR, p) for p in written_en_files()] == entry["written_inputs"]


@pytest.mark.parametrize(
    "line, message",
    [
        ('{"labels": [], "text": "fine"}\n{"labels": ["violense"], "text": "typo"}\n', "bad.jsonl:2: unknown labels ['violense']"),
        ('{"labels": [], "text": "fine"}\n\n{"labels": [], "text": "fine"\n', "bad.jsonl:3: not JSON"),
        ('{"labels": "violence", "text": "no list"}\n', "bad.jsonl:1: needs a non-empty 'text' and a 'labels' list"),
        ('{"labels": [], "text": "   "}\n', "bad.jsonl:1: needs a non-empty 'text'"),
        ('["not", "an", "object"]\n', "bad.jsonl:1: needs a non-empty 'text'"),
    ],
)
def test_a_bad_written_line_stops_the_build_with_file_and_line(tmp_path, line, message):
    from fenghuo.checks.build.classifier_en_data import written_en_rows

    (tmp_path / "bad.jsonl").write_text(line, encoding="utf-8")
    with pytest.raises(ValueError) as exc:
        written_en_rows(tmp_path)
    assert message in str(exc.value)
