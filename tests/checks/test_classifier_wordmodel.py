"""A classifier model with a word table (format 4, issue 12 session 9): the C kernel's forward
maximum matching and word sums against ``WordTable.segment_words`` and ``Model.logits_reference``
(the definition), on every SIMD level; saving and loading; a model without words still saved
and read as format 3; a kernel built before word tables leaves such a model to numpy; training
with and without words from ``train_multi``, ``train_from_dir`` and ``fenghuo classifier train``."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from fenghuo.checks.classifier import features
from fenghuo.checks.classifier.model import FORMAT, FORMAT_WORDS, Model
from fenghuo.checks.classifier.train import codes_of, train_from_dir, train_multi
from fenghuo.checks.classifier.words import WordTable, seen_words, word_matrix
from fenghuo.checks.normalize import default_normaliser

NATIVE = features.NATIVE
needs_words_kernel = pytest.mark.skipif(NATIVE is None or not hasattr(NATIVE, "fmm_words"), reason="C kernel with word tables not built (make native) or FENGHUO_NATIVE=0")

WORDS = ["河南", "河南人", "人大", "大部分", "部分", "歧视", "不要歧视", "老年人", "年人", "地域", "地域黑", "黑人", "垃圾", "四川人", "滚蛋", "傻子"]
FILLER = list("的了是我你他不在有这个们说好吧啊") + ["今天", "天气", "吃饭", "上班"]


def _texts(n: int, seed: int = 0) -> tuple[list[str], list[frozenset[str]]]:
    rng = random.Random(seed)
    texts, labels = [], []
    for _ in range(n):
        parts = [rng.choice(FILLER + WORDS) for _ in range(rng.randint(2, 30))]
        t = "".join(parts)
        texts.append(t)
        bad = any(w in t for w in ("垃圾", "滚蛋", "傻子", "地域黑"))
        labels.append(frozenset({"offensive"}) if bad else frozenset({"ads"}) if "四川人" in t and rng.random() < 0.3 else frozenset())
    return texts, labels


@pytest.fixture(scope="module")
def data():
    return _texts(400)


@pytest.fixture(scope="module")
def model(data):
    texts, labels = data
    table = WordTable(WORDS, bits=12)
    return train_multi(texts, labels, ["offensive", "ads"], words=table, word_categories=["offensive"], word_average=True, c=1.0)


def _exact(m: Model, c: np.ndarray) -> np.ndarray:
    """The logits summed in float64 (the numpy paths sum the char rows in float32)."""
    from fenghuo.checks.classifier.features import ngram_buckets

    if c.size == 0:
        return m.bias
    g = ngram_buckets(c, m.max_n, m.bits)
    return m.bias + m.weights[g].astype(np.float64).sum(0) / np.sqrt(g.size) + m.word_logits(c)


def _probe_texts() -> list[str]:
    rng = random.Random(7)
    out = ["", "河", "河南", "河南人大部分不要歧视老年人", "地域黑" * 200, "a" * 50, "垃圾 河南 !!"]
    alphabet = "".join(WORDS) + "的了是我你 ab1，。"
    out += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 400))) for _ in range(150)]
    out.append("".join(rng.choice(alphabet) for _ in range(9000)))  # past BIG: the GIL is released
    return out


def test_word_model_has_word_weights_only_where_asked(model):
    assert model.words is not None and model.word_weights.shape == (len(WORDS), 2)
    assert np.abs(model.word_weights[:, 0]).max() > 0 and not model.word_weights[:, 1].any()
    assert model.meta["word_categories"] == ["offensive"] and model.meta["word_average"] is True


def test_word_logits_follow_the_definition(model):
    """logits_reference = char part + the distinct FMM words' rows over sqrt(their number)."""
    plain = Model(model.weights.copy(), model.bias.copy(), model.max_n, model.bits, {}, list(model.categories))
    for text in _probe_texts()[:60]:
        c = codes_of([text])[0]
        ids = np.unique(model.words.segment_words(c))
        extra = model.word_weights[ids].astype(np.float64).sum(0) / np.sqrt(ids.size) if ids.size else 0.0
        np.testing.assert_allclose(model.logits_reference(c), plain.logits_reference(c) + extra, atol=1e-9)
        np.testing.assert_allclose(model.logits_numpy(c), model.logits_reference(c), atol=2e-5)


@needs_words_kernel
@pytest.mark.parametrize("level", [2, 1, 0], ids=["avx512", "avx2", "plain"])
def test_kernel_matches_numpy_with_words(model, level):
    NATIVE.set_simd(level)
    try:
        assert model.native
        norm = default_normaliser()
        for text in _probe_texts():
            c = norm.normalise(text).codes
            got = np.frombuffer(NATIVE.fmm_words(model.words.entries, c), np.uint32)
            assert got.tolist() == model.words.segment_words(c).tolist(), text[:40]
            np.testing.assert_allclose(model.logits_codes(c), _exact(model, c), rtol=2e-6, atol=1e-6)
            cut = np.zeros(len(model.categories)).tobytes()
            z, hits = model.logits_hits(c, cut)
            assert hits == tuple(k for k, v in enumerate(memoryview(z).cast("d")) if v >= 0.0)
    finally:
        NATIVE.set_simd(2)


@needs_words_kernel
def test_kernel_on_cold_dev_and_the_shipped_model():
    """The shipped model's own table (when it has one) on real text: same words, same logits."""
    from fenghuo.checks.classifier.model import shipped_model_path

    m = Model.load(shipped_model_path())
    if m.words is None:
        pytest.skip("the shipped model has no word table")
    assert m.native
    texts = _probe_texts()
    try:
        import csv

        from fenghuo.platform.paths import shared_data_dir

        with (shared_data_dir() / "classifier" / "cold" / "dev.csv").open(encoding="utf-8-sig", newline="") as fh:
            texts += [row[4] for row in list(csv.reader(fh))[1:400]]
    except (TypeError, OSError):
        pass
    for c in codes_of(texts):
        assert np.frombuffer(NATIVE.fmm_words(m.words.entries, c), np.uint32).tolist() == m.words.segment_words(c).tolist()
        np.testing.assert_allclose(m.logits_codes(c), _exact(m, c), rtol=2e-6, atol=1e-6)


def test_stale_kernel_leaves_a_word_model_to_numpy(model, monkeypatch):
    class Old:  # a kernel built before word tables: no fmm_words, Scorer takes 4 arguments
        Scorer = getattr(NATIVE, "Scorer", None)

    monkeypatch.setattr(features, "NATIVE", Old if NATIVE is not None else None)
    m = Model(model.weights.copy(), model.bias.copy(), model.max_n, model.bits, {}, list(model.categories), {}, model.words, model.word_weights.copy())
    assert not m.native
    c = codes_of(["河南人大部分不要歧视老年人，垃圾"])[0]
    np.testing.assert_allclose(m.logits_codes(c), model.logits_reference(c), atol=2e-5)


def test_save_and_load_round_trip(model, tmp_path):
    path = model.save(tmp_path / "w.npz")
    back = Model.load(path)
    assert back.meta["format"] == FORMAT_WORDS and back.meta["words"] == {"count": len(WORDS), "bits": 12}
    assert back.words.words == model.words.words and np.array_equal(back.words.entries, model.words.entries)
    for text in _probe_texts()[:40]:
        c = codes_of([text])[0]
        np.testing.assert_allclose(back.logits_reference(c), model.logits_reference(c), rtol=2e-3, atol=5e-3)  # float16 storage
    # without words: format 3, as before, and it reads as before
    plain = Model(model.weights.copy(), model.bias.copy(), model.max_n, model.bits, dict(back.meta), list(model.categories))
    p2 = plain.save(tmp_path / "p.npz")
    again = Model.load(p2)
    assert again.meta["format"] == FORMAT and again.words is None and "words" not in again.meta
    with np.load(p2) as z:
        assert set(z.files) == {"weights", "meta"}


def test_mismatched_word_weights_are_refused(model):
    from fenghuo.checks.classifier.model import ModelError

    with pytest.raises(ModelError):
        Model(model.weights, model.bias, model.max_n, model.bits, {}, list(model.categories), {}, model.words, None)
    with pytest.raises(ModelError):
        Model(model.weights, model.bias, model.max_n, model.bits, {}, list(model.categories), {}, model.words, np.zeros((3, 2)))


def test_word_matrix_rows_are_distinct_words_scaled(model):
    texts = ["河南人大部分不要歧视老年人", "的了", "垃圾垃圾河南"]
    x = word_matrix(model.words, codes_of(texts)).toarray()
    assert x.shape == (3, len(WORDS))
    assert np.count_nonzero(x[0]) == 4 and np.allclose(x[0][x[0] > 0], 0.5)  # 4 words: 1/sqrt(4)
    assert not x[1].any()
    assert np.count_nonzero(x[2]) == 2  # 垃圾 once, however often it occurs


def test_seen_words_keeps_order_and_drops_unseen():
    got = seen_words(["不要歧视", "地域黑", "老年人", "歧视", "X", "河南人"], codes_of(["不要歧视老年人", "河南"]))
    assert got == ["不要歧视", "老年人", "歧视"]


def test_train_from_dir_with_and_without_words(tmp_path, monkeypatch, data):
    texts, labels = data
    d = tmp_path / "d"
    d.mkdir()
    with (d / "train.jsonl").open("w", encoding="utf-8") as fh:
        for t, s in zip(texts, labels):
            fh.write(json.dumps({"text": t, "labels": sorted(s)}, ensure_ascii=False) + "\n")
    import fenghuo.checks.classifier.train as train_mod

    monkeypatch.setattr(train_mod, "jieba_words", lambda: WORDS)  # jieba's 330k words take ~10 s to normalise
    with_words = train_from_dir(d, tmp_path / "w.npz", words=True)
    without = train_from_dir(d, tmp_path / "p.npz")
    assert with_words["words"] == len(WORDS) and without["words"] == 0
    mw, mp = Model.load(tmp_path / "w.npz"), Model.load(tmp_path / "p.npz")
    assert mw.words is not None and mp.words is None and mw.meta["word_categories"] == sorted(mw.categories)


def test_cli_train_words_and_info(tmp_path, monkeypatch, data):
    from click.testing import CliRunner

    from fenghuo.checks.classifier.cli import classifier_group

    texts, labels = data
    f = tmp_path / "t.csv"
    f.write_text("text,label\n" + "".join(f"{t},{1 if 'offensive' in s else 0}\n" for t, s in zip(texts, labels)), encoding="utf-8")
    import fenghuo.checks.classifier.train as train_mod

    monkeypatch.setattr(train_mod, "jieba_words", lambda: WORDS)
    out = tmp_path / "m.npz"
    r = CliRunner().invoke(classifier_group, ["train", "--data", str(f), "--out", str(out), "--words"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(classifier_group, ["info", str(out)])
    assert r.exit_code == 0 and json.loads(r.output)["words"]["count"] == len(WORDS)


def test_distinct_words_are_the_segmentation_without_repeats(model):
    for text in _probe_texts()[:80]:
        c = codes_of([text])[0]
        seg = model.words.segment_words(c).tolist()
        assert model.words.distinct_words(c) == list(dict.fromkeys(seg))
