import pytest

from fenghuo.checks import Verdict
from fenghuo.checks.pipeline import ConfigError, load_pipeline

from .conftest import write


def test_default_pipeline_works_without_shared_data(monkeypatch, tmp_path):
    monkeypatch.setenv("FENGHUO_DATA", str(tmp_path / "none"))
    p = load_pipeline()
    v = p.scan("我要赌博，电话13800138000")
    assert isinstance(v, Verdict)
    assert v.blocked and v.categories == ["gambling", "pii.mobile"] and v.risks == ["A1h", "A4f"]
    assert p.redact("电话13800138000") == "电话138****8000"
    d = v.to_dict()
    assert d["findings"][0]["start"] == 2 and "elapsed_us" in d


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


def test_optional_check_is_skipped_with_a_note(tmp_path):
    cfg = write(tmp_path / "c.yaml", "checks:\n  - {type: classifier, model: nothing.npz, optional: true}\n  - {type: pii}\n")
    p = load_pipeline(cfg)
    assert p.names == ("pii",) and "classifier skipped" in p.notes[0]


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
