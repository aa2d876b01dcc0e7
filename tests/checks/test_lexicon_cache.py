"""The compiled-lexicon cache: one key for the same lexicon in every process (whatever the
hash seed), found again by the next process, and stale files cleaned up."""

import os
import subprocess
import sys
import time

import pytest

from fenghuo.checks import matcher
from fenghuo.checks.lexicon import LexiconCheck

pytestmark = pytest.mark.skipif(matcher.hyperscan is None, reason="the cache is hyperscan's")

CHILD = """
import sys, time
from pathlib import Path
from fenghuo.checks.lexicon import LexiconCheck
t = time.perf_counter()
LexiconCheck(files=[Path(sys.argv[1])], allow_files=[Path(sys.argv[2])], cache_dir=Path(sys.argv[3]))
print(time.perf_counter() - t)
"""


def _lexicon(tmp_path):
    words = tmp_path / "words.txt"
    # Enough words (and allow words, whose order used to come from a set) that a different
    # order across processes is all but certain if anything depends on the hash seed.
    words.write_text("".join(f"词{i}号{i * 7}\tgambling\n" for i in range(3000)) + "法轮功\tpolitics\n", encoding="utf-8")
    allow = tmp_path / "allow.txt"
    allow.write_text("".join(f"允许{i}词\n" for i in range(200)), encoding="utf-8")
    return words, allow


def _run(words, allow, cache, seed):
    env = {**os.environ, "PYTHONHASHSEED": str(seed)}
    out = subprocess.run([sys.executable, "-c", CHILD, str(words), str(allow), str(cache)], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return float(out.stdout.strip())


def test_two_processes_with_different_hash_seeds_share_one_cache_file(tmp_path):
    words, allow = _lexicon(tmp_path)
    cache = tmp_path / "cache"
    _run(words, allow, cache, seed=1)
    first = sorted(p.name for p in cache.glob("*.hsdb"))
    assert first  # main matcher + homophone matcher
    _run(words, allow, cache, seed=2)
    assert sorted(p.name for p in cache.glob("*.hsdb")) == first  # hit: no new file


def test_a_changed_lexicon_gets_a_new_key_and_old_files_are_cleaned_up(tmp_path, monkeypatch):
    monkeypatch.setattr(matcher, "CACHE_KEEP", 2)
    cache = tmp_path / "cache"
    names = []
    for i in range(4):
        LexiconCheck(words={f"禁词{i}号": ("gambling",)}, cache_dir=cache, evasions=())
        names.append({p.name for p in cache.glob("*.hsdb")})
        time.sleep(0.01)  # distinct modification times
    assert len(names[-1]) <= 2  # never more than CACHE_KEEP files
    assert names[0] - names[-1]  # the oldest was removed


def test_a_leftover_temporary_file_is_removed_and_a_broken_cache_file_is_rebuilt(tmp_path):
    cache = tmp_path / "cache"
    LexiconCheck(words={"赌博": ("gambling",)}, cache_dir=cache, evasions=())
    (db,) = cache.glob("*.hsdb")
    db.write_bytes(b"not a database")
    old_tmp = cache / "lexicon-dead.123.456.tmp"
    old_tmp.write_bytes(b"x")
    os.utime(old_tmp, (time.time() - 7200, time.time() - 7200))
    check = LexiconCheck(words={"赌博": ("gambling",)}, cache_dir=cache, evasions=())
    assert [f.rule for f in check.scan("去赌博").findings] == ["lexicon:赌博"]
    LexiconCheck(words={"别的": ("gambling",)}, cache_dir=cache, evasions=())  # a write runs the clean-up
    assert not old_tmp.exists()


def test_cache_key_is_a_digest_of_the_patterns():
    a = matcher.cache_key([b"ab", b"c"])
    assert a == matcher.cache_key([b"ab", b"c"]) and len(a) == 32
    assert a != matcher.cache_key([b"a", b"bc"])  # length-prefixed: no ambiguity
    assert a != matcher.cache_key([b"c", b"ab"])  # the order is the pattern ids


def test_checks_of_one_process_share_the_compiled_state_until_the_file_changes(tmp_path):
    f = tmp_path / "l.tsv"
    f.write_text("赌博\tgambling\n", encoding="utf-8")
    a = LexiconCheck(files=[f], cache_dir=tmp_path / "c1")
    b = LexiconCheck(files=[f], cache_dir=tmp_path / "c2")
    assert a._state is b._state
    assert LexiconCheck(files=[f], evasions=())._state is not a._state  # other options
    f.write_text("赌博\tgambling\n冰毒\tdrugs\n", encoding="utf-8")
    c = LexiconCheck(files=[f])
    assert c._state is not a._state and [x.rule for x in c.scan("冰毒").findings] == ["lexicon:冰毒"]
    a.reload()
    assert a._state is c._state
