"""classifier/words.py: the word table's lookups agree with plain Python over the same words."""

from __future__ import annotations

import random

import numpy as np
import pytest

from fenghuo.checks.classifier.words import MAX_LEN, MIN_LEN, WordTable, gram_keys, jieba_words
from fenghuo.checks.normalize import default_normaliser

WORDS = ["河南", "河南人", "人大", "大部分", "部分", "歧视", "不要歧视", "老年人", "年人", "地域", "地域黑", "黑人", "垃圾", "四川人"]
ALPHABET = sorted(set("".join(WORDS)) | set("的了是我你他不"))


def codes(text: str) -> np.ndarray:
    return default_normaliser().normalise(text).codes


def naive_all(words: set[str], text: str) -> list[str]:
    return sorted(
        text[i : i + k] for i in range(len(text)) for k in range(MIN_LEN, MAX_LEN + 1) if text[i : i + k] in words and i + k <= len(text)
    )


def naive_fmm(words: set[str], text: str) -> list[tuple[int, int]]:
    out, i = [], 0
    while i < len(text):
        k = next((k for k in range(MAX_LEN, MIN_LEN - 1, -1) if text[i : i + k] in words and i + k <= len(text)), 1)
        out.append((i, k))
        i += k
    return out


@pytest.fixture(scope="module")
def table() -> WordTable:
    t = WordTable(WORDS, bits=16)
    assert t.dropped == 0 and len(t) == len(WORDS)
    return t


def test_gram_keys_layout_and_whole_word_key():
    c = codes("河南人大部")
    keys = gram_keys(c)
    assert keys.size == 4 + 3 + 2
    # each n-gram's key is the key of that n-gram as a text of its own (the last key computed)
    assert keys[1] == gram_keys(codes("南人"))[-1]
    assert keys[4 + 1] == gram_keys(codes("南人大"))[-1]
    assert keys[7] == gram_keys(codes("河南人大"))[-1]
    assert gram_keys(codes("河")).size == 0 and gram_keys(codes("")).size == 0


def test_segmentation_prefers_the_longest_word(table):
    text = "河南人大部分不要歧视老年人"
    toks = [text[s : s + k] for s, k in table.segment(codes(text))]
    assert toks == ["河南人", "大部分", "不要歧视", "老年人"]  # 人大 and 年人 are inside longer words
    assert [table.words[i] for i in table.segment_words(codes(text))] == toks
    assert "人大" in [table.words[i] for i in table.all_words(codes(text))]  # overlapping: every word


def test_agrees_with_plain_python_on_random_texts(table):
    rng = random.Random(8)
    words = set(WORDS)
    for _ in range(300):
        text = "".join(rng.choice(ALPHABET + WORDS) for _ in range(rng.randint(0, 30)))
        c = codes(text)
        assert c.size == len(text)  # the alphabet normalises to itself
        assert sorted(table.words[i] for i in table.all_words(c)) == naive_all(words, text)
        assert table.segment(c) == naive_fmm(words, text)
        assert [table.words[i] for i in table.segment_words(c)] == [text[s : s + k] for s, k in naive_fmm(words, text) if k > 1]


def test_text_is_normalised_like_the_classifier_reads_it():
    t = WordTable(["赌博"], bits=12)
    assert [t.words[i] for i in t.segment_words(codes("網上賭博"))] == ["赌博"]  # traditional → simplified
    assert [t.words[i] for i in t.segment_words(codes("赌 博"))] == ["赌博"]  # separators dropped


def test_words_outside_two_to_four_characters_are_not_stored():
    t = WordTable(["人", "中华人民共和国", "人民"], bits=12)
    assert t.words == ["人民"]


def test_slot_collisions_drop_the_later_word():
    words = [a + b for a in ALPHABET for b in ALPHABET]  # ~400 two-character words in 256 slots
    t = WordTable(words, bits=8)
    assert t.dropped > 0 and len(t) + t.dropped == len(set(words))
    kept = set(t.words)
    text = "".join(words[:40])
    assert sorted(t.words[i] for i in t.all_words(codes(text))) == naive_all(kept, text)


def test_short_and_empty_texts():
    t = WordTable(WORDS, bits=12)
    for text in ("", "河"):
        assert t.all_words(codes(text)).size == 0 and t.segment_words(codes(text)).size == 0
        assert t.segment(codes(text)) == [(0, 1)] * len(text)


def test_save_and_load(tmp_path, table):
    t = WordTable.load(table.save(tmp_path / "words.npz"))
    text = "河南人大部分不要歧视老年人"
    assert t.words == table.words and t.bits == table.bits
    assert t.segment_words(codes(text)).tolist() == table.segment_words(codes(text)).tolist()


def test_bits_are_checked():
    with pytest.raises(ValueError):
        WordTable([], bits=40)


def test_jieba_dictionary_order():
    words = jieba_words()
    assert len(words) > 300_000 and all(MIN_LEN <= len(w) <= MAX_LEN for w in words[:1000])
    assert words.index("我们") < words.index("河南人")  # most frequent first
