"""Word lists, matchers and feature matrices for ``bench.checks_wordfeatures`` (issue 12,
session 8), split from it to keep each file short: jieba's dictionary and words mined from COLD
train, Aho-Corasick matching (every overlapping word, or leftmost-longest), and the sparse
matrices of char n-grams, matched words, tokens and lexicon tags the experiment's heads train on."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from fenghuo.checks.classifier.features import design_matrix, ngram_buckets
from fenghuo.checks.normalize import default_normaliser

WBITS = 18  # word buckets, beside the 2^18 char buckets
_MIX2 = np.uint64(0xD6E8FEB86659FD93)  # a second multiplier: word keys must not share char buckets' hash


def jieba_words(min_freq: int = 0) -> list[str]:
    """jieba's dictionary, normalised like the text, words of ≥ 2 characters with a Han one."""
    import jieba

    norm = default_normaliser()
    path = Path(jieba.__file__).parent / "dict.txt"
    out = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split(" ")
        if len(parts) < 2 or int(parts[1]) < min_freq:
            continue
        w = norm.normalise_text(parts[0])
        if len(w) >= 2 and any("\u4e00" <= ch <= "\u9fff" for ch in w):
            out.add(w)
    return sorted(out)


def mined_words(texts: list[str], min_count: int = 5, min_pmi: float = 3.0, top: int = 60000) -> list[str]:
    """2-4-character n-grams of ``texts`` (COLD train only) seen ≥ ``min_count`` times whose
    pointwise mutual information (log of the n-gram's frequency over its characters' product)
    is at least ``min_pmi``: the word-like strings of the training data, no outside dictionary."""
    chars = Counter()
    grams = Counter()
    for t in texts:
        chars.update(t)
        for n in (2, 3, 4):
            grams.update(t[i : i + n] for i in range(len(t) - n + 1))
    total_c = sum(chars.values())
    total_g = sum(grams.values())
    scored = []
    for g, k in grams.items():
        if k < min_count or not all("\u4e00" <= ch <= "\u9fff" for ch in g):
            continue
        pmi = math.log(k / total_g) - sum(math.log(chars[ch] / total_c) for ch in g)
        if pmi >= min_pmi * (len(g) - 1):
            scored.append((pmi / (len(g) - 1) + math.log(k), g))
    scored.sort(reverse=True)
    return sorted(g for _, g in scored[:top])


def word_key(word: str) -> int:
    """A word's bucket key: FNV-1a over its characters (stable across runs, unlike hash())."""
    h = 0xCBF29CE484222325
    for ch in word:
        h = ((h ^ ord(ch)) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def word_bucket(word: str, bits: int = WBITS) -> int:
    return ((word_key(word) * int(_MIX2)) & 0xFFFFFFFFFFFFFFFF) >> (64 - bits)


class Matcher:
    """Dictionary words of a text by Aho-Corasick: ``overlapping`` (every match) or the
    leftmost-longest cover (forward maximum matching; uncovered characters are one-character
    tokens, for the word bigrams)."""

    def __init__(self, words: list[str], longest: bool = False):
        import ahocorasick_rs as ac

        self.words = words
        self.longest = longest
        kind = ac.MATCHKIND_LEFTMOST_LONGEST if longest else ac.MATCHKIND_STANDARD
        self.ac = ac.AhoCorasick(words, matchkind=kind, store_patterns=False)
        self.bucket = np.array([word_bucket(w) for w in words], np.int64)

    def ids(self, text: str) -> list[int]:
        if self.longest:
            return [m[0] for m in self.ac.find_matches_as_indexes(text)]
        return [m[0] for m in self.ac.find_matches_as_indexes(text, overlapping=True)]

    def tokens(self, text: str) -> list[str]:
        """Forward-maximum-matching tokens (dictionary words and the characters between)."""
        out, pos = [], 0
        for _, s, e in self.ac.find_matches_as_indexes(text):
            out.extend(text[pos:s])
            out.append(text[s:e])
            pos = e
        out.extend(text[pos:])
        return out


# --- features -----------------------------------------------------------------------------------


def _rows_to_csr(bucket_lists: list[np.ndarray], bits: int, binary: bool) -> sp.csr_matrix:
    """Rows of bucket counts (or presence) scaled by 1/sqrt(number of features), like the char
    features; a row without features is empty."""
    indptr, cols, vals = [0], [], []
    for g in bucket_lists:
        u, cnt = np.unique(np.asarray(g, np.int64), return_counts=True)
        v = np.ones(u.size) if binary else cnt.astype(float)
        cols.append(u)
        vals.append(v / math.sqrt(max(u.size if binary else len(g), 1)))
        indptr.append(indptr[-1] + u.size)
    return sp.csr_matrix((np.concatenate(vals), np.concatenate(cols), np.array(indptr)), shape=(len(bucket_lists), 1 << bits))


def char_features(codes: list[np.ndarray], max_n: int = 3, bits: int = 18) -> sp.csr_matrix:
    if max_n <= 3:
        return design_matrix(codes, max_n, bits)
    # 4-grams: a fourth key beside ngram_buckets' (a polynomial of the trigram key and c[i+3]).
    lists = []
    for c in codes:
        g = ngram_buckets(c, 3, bits)
        if c.size >= 4:
            c64 = c.astype(np.uint64)
            k = (((c64[:-3] * np.uint64(1000003) + c64[1:-2]) * np.uint64(1000003) + c64[2:-1]) * np.uint64(1000003) + c64[3:]) * _MIX2
            g = np.concatenate([g, (k >> np.uint64(64 - bits)).astype(np.int64)])
        lists.append(g)
    return _rows_to_csr(lists, bits, False)


def ac_features(m: Matcher, texts: list[str], binary: bool) -> sp.csr_matrix:
    return _rows_to_csr([m.bucket[m.ids(t)] for t in texts], WBITS, binary)


def token_features(token_lists: list[list[str]], binary: bool, words: bool = True, bigrams: bool = False) -> sp.csr_matrix:
    """Buckets of segmentation tokens of ≥ 2 characters and/or adjacent token pairs."""
    lists = []
    for toks in token_lists:
        g = [word_bucket(t) for t in toks if len(t) >= 2] if words else []
        if bigrams:
            g += [word_bucket(a + "\x00" + b) for a, b in zip(toks, toks[1:])]
        lists.append(np.array(g, np.int64))
    return _rows_to_csr(lists, WBITS, binary)


def lexicon_features(texts: list[str]) -> sp.csr_matrix:
    """The shipped lexicon's words found in the text (overlapping) and their tags, as buckets:
    the lexicon check matches them anyway, so in the pipeline these would cost nothing more."""
    from importlib import resources

    import ahocorasick_rs as ac

    norm = default_normaliser()
    words, tags = [], []
    path = Path(str(resources.files("fenghuo.checks").joinpath("shipped/lexicon.tsv")))
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or "\t" not in line:
            continue
        parts = line.split("\t")
        w = norm.normalise_text(parts[0])
        if w:
            words.append(w)
            tags.append(parts[1].split(","))
    a = ac.AhoCorasick(words, store_patterns=False)
    lists = []
    for t in texts:
        g = []
        for i, _, _ in a.find_matches_as_indexes(t, overlapping=True):
            g.append(word_bucket("lex\x00" + words[i]))
            g.extend(word_bucket("tag\x00" + tag) for tag in tags[i])
        lists.append(np.array(g, np.int64))
    return _rows_to_csr(lists, WBITS, True)


