import numpy as np
import pytest
from click.testing import CliRunner

from fenghuo.checks.classifier.check import ClassifierCheck
from fenghuo.checks.classifier.model import Model
from fenghuo.checks.classifier.train import evaluate, read_labelled, train, train_from_dir
from fenghuo.cli import root

from .conftest import write


@pytest.fixture(scope="session")
def cold_model(shared, tmp_path_factory):
    """Trained once on a subset of COLD train (keeps the suite fast)."""
    texts, labels = read_labelled(shared / "classifier" / "cold" / "train.csv", limit=10000)
    return train(texts, labels)


def test_beats_the_char_ngram_baseline_on_cold_dev(cold_model, shared):
    texts, labels = read_labelled(shared / "classifier" / "cold" / "dev.csv", limit=3000)
    m = evaluate(cold_model, texts, labels)
    assert m["accuracy"] > 0.85, m  # a subset-trained model; the full model is in docs/checks.md
    assert m["precision"] > 0.8 and m["recall"] > 0.8


def test_save_load_roundtrip_and_check(cold_model, tmp_path):
    path = cold_model.save(tmp_path / "m.npz")
    loaded = Model.load(path)
    # Stored as float16 (half the file), loaded as float32.
    assert np.array_equal(loaded.weights, cold_model.weights.astype(np.float16).astype(np.float32))
    check = ClassifierCheck(path, threshold=0.5)
    v = check.scan("黑人都是垃圾，滚出中国")
    assert v.findings and v.findings[0].category == "offensive" and v.findings[0].score >= 0.5
    assert check.scan("今天天气很好，我们一起去公园散步吧").findings == []


def test_training_needs_both_labels_and_valid_rows(tmp_path):
    with pytest.raises(ValueError, match="both labels"):
        train(["a", "b"], np.array([1, 1]))
    bad = write(tmp_path / "train.csv", "label,text\n1,坏\n2,好\n")
    with pytest.raises(ValueError, match="train.csv:3: label must be 0 or 1"):
        read_labelled(bad)
    nocol = write(tmp_path / "x.csv", "a,b\n1,2\n")
    with pytest.raises(ValueError, match="needs columns"):
        read_labelled(nocol)


def test_corrupt_model_file_is_refused(tmp_path):
    f = write(tmp_path / "m.npz", b"not a model")
    with pytest.raises(ValueError, match="not a fenghuo classifier"):
        Model.load(f)
    with pytest.raises(ValueError, match="no such classifier model.*classifier train"):
        Model.load(tmp_path / "missing.npz")


def test_cli_train_on_small_synthetic_data_saves_to_data_dir(tmp_path):
    rows = ["label,text"] + [f"1,你这个蠢货滚开{i}" for i in range(30)] + [f"0,谢谢你的帮助{i}" for i in range(30)]
    d = tmp_path / "data"
    d.mkdir()
    write(d / "train.csv", "\n".join(rows) + "\n")
    write(d / "dev.csv", "\n".join(rows) + "\n")
    r = CliRunner().invoke(root, ["classifier", "train", "--data", str(d)])
    assert r.exit_code == 0, r.output
    assert "saved" in r.output and "dev" in r.output
    from fenghuo.checks.classifier.model import default_model_path

    assert default_model_path().is_file()
    check = ClassifierCheck()
    assert check.score("蠢货滚开") > 0.5 > check.score("谢谢帮助")


def test_train_from_dir_reports_dev(shared, tmp_path):
    pytest.importorskip("sklearn")
    report = train_from_dir(shared / "classifier" / "cold", tmp_path / "m.npz", limit=3000)
    assert report["dev"]["n"] > 6000 and 0.7 < report["dev"]["accuracy"] <= 1.0


def test_ngram_buckets_follow_their_definition():
    """1-gram c[i]; 2-gram c[i] + c[i+1]·2^32; 3-gram (c[i+1] + c[i+2]·2^32)·P + c[i] (mod 2^64);
    bucket = (key·MIX mod 2^64) >> (64 − bits): the vectorised version (overlapping uint64 views)
    must match, or a trained model silently scores different features."""
    import numpy as np

    from fenghuo.checks.classifier.features import ngram_buckets
    from fenghuo.checks.normalize import default_normaliser

    mask, mix, p = (1 << 64) - 1, 0x9E3779B97F4A7C15, 1000003
    for text in ["", "赌", "赌博", "今天天气很好，我们去公园", "a b*c 賭博!!"]:
        c = [int(x) for x in default_normaliser().normalise(text).codes]
        keys = list(c)
        keys += [c[i] + (c[i + 1] << 32) for i in range(len(c) - 1)]
        keys += [((c[i + 1] + (c[i + 2] << 32)) * p + c[i]) & mask for i in range(len(c) - 2)]
        for bits in (18, 20):
            want = [((h * mix) & mask) >> (64 - bits) for h in keys]
            assert ngram_buckets(np.array(c, dtype=np.uint32), 3, bits).tolist() == want, text
        # A slice (non-contiguous or offset input) gives the same keys as a copy.
        arr = np.array(c + c, dtype=np.uint32)[len(c):]
        assert ngram_buckets(arr, 3, 18).tolist() == ngram_buckets(np.array(c, dtype=np.uint32), 3, 18).tolist()


def test_old_format_model_is_refused_with_a_retrain_hint(cold_model, tmp_path):
    import json

    path = cold_model.save(tmp_path / "m.npz")
    with np.load(path) as z:
        meta = json.loads(str(z["meta"]))
        weights = z["weights"]
    meta["format"] = "fenghuo-classifier-1"
    old = tmp_path / "old.npz"
    np.savez_compressed(old, weights=weights, meta=np.array(json.dumps(meta)))
    with pytest.raises(ValueError, match="retrain"):
        Model.load(old)


def _tiny_model(flip: bool = False):
    rude = [f"你这个蠢货滚开{i}" for i in range(30)]
    kind = [f"谢谢你的帮助{i}" for i in range(30)]
    labels = np.array([0 if flip else 1] * 30 + [1 if flip else 0] * 30)
    return train(rude + kind, labels)


def test_replaced_model_file_is_picked_up_in_the_background(tmp_path, caplog):
    import time

    path = _tiny_model().save(tmp_path / "m.npz")
    check = ClassifierCheck(path, reload_interval=0.001)
    assert check.score("蠢货滚开") > 0.5
    _tiny_model(flip=True).save(path)  # atomic replace, as training does
    time.sleep(0.01)
    check.scan("蠢货滚开")  # notices the new file, loads it off-thread
    assert check._reloader is not None
    check._reloader.join(10)
    assert check.score("蠢货滚开") < 0.5 and check.last_reload_error is None

    write(path, b"not a model")  # a broken file: logged, the last good model keeps scoring
    time.sleep(0.01)
    with caplog.at_level("ERROR", logger="fenghuo.checks.classifier"):
        before = check._reloader
        check.scan("x")
        assert check._reloader is not before
        check._reloader.join(10)
    assert check.score("蠢货滚开") < 0.5
    assert "not a fenghuo classifier" in check.last_reload_error
    assert any("reload failed" in r.getMessage() for r in caplog.records)
    time.sleep(0.01)
    check.scan("x")
    assert check.reload_in_background() is None  # the same broken file is not retried


def test_reload_interval_zero_means_the_model_stays(tmp_path):
    import time

    path = _tiny_model().save(tmp_path / "m.npz")
    check = ClassifierCheck(path, reload_interval=0)
    _tiny_model(flip=True).save(path)
    time.sleep(0.01)
    check.scan("蠢货滚开")
    assert check._reloader is None and check.score("蠢货滚开") > 0.5
    check.reload()  # explicit reload still works
    assert check.score("蠢货滚开") < 0.5


def test_threshold_and_reload_interval_from_yaml(tmp_path):
    from fenghuo.checks.pipeline import ConfigError, load_pipeline

    model = _tiny_model()
    model.save(tmp_path / "m.npz")
    check = ClassifierCheck(tmp_path / "m.npz")
    # at least MIN_CHARS (3) characters: shorter texts are not judged by the model
    text = next(t for t in ["蠢货滚", "你这个", "蠢货滚开", "你这个蠢货滚开", "你这个蠢货"] if 0.5 < check.score(t) < 0.99)
    p = float(check.score(text))
    low = write(tmp_path / "low.yaml", "checks:\n  - {type: classifier, model: m.npz, threshold: 0.5, reload_interval: 0}\n")
    high = write(tmp_path / "high.yaml", f"checks:\n  - {{type: classifier, model: m.npz, threshold: {min(p + 0.005, 0.999):.4f}}}\n")
    pl, ph = load_pipeline(low), load_pipeline(high)
    assert pl.checks[0].threshold == 0.5 and pl.checks[0].reload_interval == 0
    assert ph.checks[0].threshold > p and ph.checks[0].reload_interval == 5.0
    assert pl.scan(text).categories == ["offensive"]
    assert ph.scan(text).findings == []
    with pytest.raises(ConfigError, match="threshold must be between 0 and 1"):
        load_pipeline(write(tmp_path / "bad.yaml", "checks:\n  - {type: classifier, model: m.npz, threshold: 1.5}\n"))


def test_cli_train_on_non_utf8_csv_names_the_line(tmp_path):
    d = tmp_path / "gbk"
    d.mkdir()
    rows = "label,text\n1,蠢货\n0,谢谢\n1,滚开\n"
    (d / "train.csv").write_bytes(rows.encode("gbk"))
    r = CliRunner().invoke(root, ["classifier", "train", "--data", str(d)])
    assert r.exit_code != 0 and r.exception is None or isinstance(r.exception, SystemExit), r.exception
    assert "train.csv:2: not UTF-8 (byte 0xb4)" in r.output and "UTF-8" in r.output, r.output
    assert "Traceback" not in r.output
