import pytest

from fenghuo.checks import Verdict
from fenghuo.checks.pipeline import ConfigError, load_pipeline

from .conftest import write


def test_default_pipeline_works_without_shared_data(monkeypatch, tmp_path):
    monkeypatch.setenv("FENGHUO_DATA", str(tmp_path / "none"))
    p = load_pipeline()
    v = p.scan("我上网上赌场，电话13800138000")
    assert isinstance(v, Verdict)
    assert not p.degraded and {"lexicon", "pii", "classifier", "rules"} <= set(p.names)  # everything shipped loads
    assert v.blocked and {"gambling", "pii.mobile"} <= set(v.categories) and {"A1h", "A4f"} <= set(v.risks)
    assert p.redact("电话13800138000") == "电话138****8000"
    d = v.to_dict()
    spans = {(f["category"], f["start"], f["end"]) for f in d["findings"]}
    assert ("gambling", 2, 6) in spans and ("pii.mobile", 9, 20) in spans and "elapsed_us" in d


def test_config_maps_categories_to_actions_and_risks(tmp_path):
    lex = write(tmp_path / "words.txt", "歧视词 discrimination\n")
    cfg = write(
        tmp_path / "checks.yaml",
        "checks:\n  - type: lexicon\n    files: [words.txt]\ncategories:\n  discrimination: {action: block, risk: A2a}\n",
    )
    v = load_pipeline(cfg).scan("这是歧视词")
    assert v.blocked and v.risks == ["A2a"]
    assert lex.exists()


def test_env_var_points_load_pipeline_at_a_user_config(tmp_path, monkeypatch):
    write(tmp_path / "w.txt", "自定义词 crime\n")
    cfg = write(tmp_path / "c.yaml", "checks:\n  - {type: lexicon, files: [w.txt]}\n")
    monkeypatch.setenv("FENGHUO_CHECKS_CONFIG", str(cfg))
    assert load_pipeline().scan("自定义词").categories == ["crime"]


@pytest.mark.parametrize(
    "yaml_text, message",
    [
        ("checks:\n  - type: nope\n", "unknown check type"),
        ("checks:\n  - {type: pii, colour: red}\n", "unknown key"),
        ("categories:\n  x: {action: explode}\n", "not one of block, mask, flag"),
        ("categories:\n  x: {risk: A9z}\n", "unknown TC260-003 risk code"),
        ("checks: [\n", "invalid YAML"),
        ("checks:\n  - {type: lexicon, files: [missing.txt]}\n", "no such lexicon file"),
    ],
)
def test_bad_config_is_refused_clearly(tmp_path, yaml_text, message):
    with pytest.raises(ConfigError, match=message):
        load_pipeline(write(tmp_path / "bad.yaml", yaml_text))


def test_optional_check_is_skipped_with_one_clear_line(tmp_path):
    cfg = write(tmp_path / "c.yaml", "checks:\n  - {type: classifier, model: nothing.npz, optional: true}\n  - {type: pii}\n")
    p = load_pipeline(cfg)
    assert p.names == ("pii",) and len(p.notes) == 1 and len(p.degraded) == 1
    line = p.notes[0]
    assert "classifier" in line and "not loaded" in line and "nothing.npz" in line and "\n" not in line
    assert "Errno" not in line and "fenghuo classifier train" in line  # says how to fix it


def test_a_required_check_that_cannot_load_is_an_error_unless_not_strict(tmp_path):
    cfg = write(tmp_path / "c.yaml", "checks:\n  - {type: classifier, model: nothing.npz}\n  - {type: pii}\n")
    with pytest.raises(ConfigError) as err:
        load_pipeline(cfg)
    assert "nothing.npz" in str(err.value) and "Errno" not in str(err.value)
    p = load_pipeline(cfg, strict=False)
    assert p.names == ("pii",) and [d.kind for d in p.degraded] == ["classifier"] and not p.degraded[0].optional
    with pytest.raises(ConfigError, match="unknown check type"):  # a typo is never "degraded"
        load_pipeline(write(tmp_path / "t.yaml", "checks:\n  - {type: nope}\n"), strict=False)


def test_verdict_and_scores_per_category():
    from fenghuo.checks.base import Action, Finding
    from fenghuo.checks.lexicon import LexiconCheck
    from fenghuo.checks.pii import PIICheck
    from fenghuo.checks.pipeline import Pipeline

    class Scoring:  # a check that scores every text, as the classifier's scores_in does
        name = "scoring"

        def __init__(self):
            self.calls = 0

        def find_in(self, text, n):
            return [Finding("offensive", 0, len(text), "m", Action.FLAG, "A2i", 0.9)] if "蠢" in text else []

        def scores_in(self, text, n):
            self.calls += 1
            return {"offensive": 0.9 if "蠢" in text else 0.2, "porn": 0.05}

        def scan(self, text):
            return Verdict(self.find_in(text, None))

    scoring = Scoring()
    p = Pipeline([LexiconCheck(words={"赌博": ("gambling",), "蠢": ("offensive",)}), PIICheck(), scoring])
    assert p.scan("今天天气很好").verdict == "pass"
    v = p.scan("今天天气很好")
    assert v.scores == {"offensive": 0.2, "porn": 0.05} and v.score == 0.2 and not v.findings  # below-threshold scores kept
    assert p.scan("电话13800138000").verdict == "flag"  # masked PII: found, not blocked
    v = p.scan("你真蠢，去赌博")
    assert v.verdict == "block" and v.blocked
    # a lexicon hit counts 1.0, the model's 0.9 is below it; categories and scores agree
    assert v.scores == {"gambling": 1.0, "offensive": 1.0, "porn": 0.05}
    assert set(v.categories) <= set(v.scores)
    d = v.to_dict("你真蠢，去赌博")
    assert d["verdict"] == "block" and d["scores"]["gambling"] == 1.0
    assert [f["text"] for f in d["findings"] if f["category"] == "gambling"] == ["赌博"]
    assert scoring.calls == 2  # once per verdict whose scores were read (then kept)
    p.scan("你真蠢")
    assert scoring.calls == 2  # the guard's path never reads scores: never computed


def test_a_failing_check_is_reported_not_raised():
    from fenghuo.checks.pipeline import Pipeline

    class Broken:
        name = "broken"

        def scan(self, text):
            raise RuntimeError("boom")

    v = Pipeline([Broken()]).scan("x")
    assert v.findings == [] and "boom" in v.errors[0]


def test_each_check_gets_text_normalised_by_its_own_normaliser():
    from fenghuo.checks.lexicon import LexiconCheck
    from fenghuo.checks.normalize import Normaliser
    from fenghuo.checks.pii import PIICheck
    from fenghuo.checks.pipeline import Pipeline

    default = LexiconCheck(words={"赌博": ("gambling",)}, name="default")
    # A lexicon that must see traditional characters as written (t2s off): 賭博 is its word.
    strict = LexiconCheck(words={"賭博": ("crime",)}, normaliser=Normaliser(t2s=False), name="strict")
    same = LexiconCheck(words={"赌博": ("drugs",)}, normaliser=Normaliser(), name="same-options")
    p = Pipeline([default, strict, same, PIICheck()])
    for text in ("我想賭博", "我想赌博", "電話13800138000 賭 博"):
        key = lambda f: (f.start, f.end, f.category)  # noqa: E731
        want = sorted((f for c in p.checks for f in c.scan(text).findings), key=key)
        assert sorted(p.scan(text).findings, key=key) == want, text
    assert sorted(f.category for f in p.scan("我想賭博").findings) == ["crime", "drugs", "gambling"]
    assert sorted(f.category for f in p.scan("我想赌博").findings) == ["drugs", "gambling"]  # 赌博 is not 賭博 without t2s
    assert len(p._current_plan()[1]) == 2  # the two default-option normalisers share one pass
