"""The rules check's compiled state on disk (``rules_cache.py``): a process that loads rule files
compiled before reads their state back instead of compiling, with the same findings; a changed
file is compiled again, a broken one fails as without the cache, and a damaged cache file is
rebuilt with a warning."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from fenghuo.checks import rules, rules_cache, state_cache
from fenghuo.checks.reloading import CompiledMemo
from fenghuo.checks.rules import RulesCheck
from fenghuo.checks.rules_file import RulesError
from tests.checks.conftest import outside_rules_memo
from tests.checks.test_rules_file import GOOD_RULE, rules_file

pytestmark = pytest.mark.usefixtures("private_rules_memo")  # throwaway checks: keep the shipped rules' memo entry (conftest)

DATA = Path(__file__).parent / "data"

TWO_RULES = GOOD_RULE + """
  - id: t.word
    category: ads
    risk: A3e
    action: flag
    description: {zh: 测试, en: test}
    any: ['加微(信|心)\\d+', {orig: '💰\\s*\\d+'}]
    unless: ['骗']
    examples: {hit: ['加微信123'], near_miss: ['加微信']}
"""
TEXTS = ["招兼职，日结", "兼职。。。。。。。。。。。。日结", "加微心 42 详聊", "加微信123是骗子", "💰 88", "你好", ""]


def fresh(paths, **kw) -> RulesCheck:
    """A rules check built as a new process builds it: without this process's memo of states."""
    rules._MEMO = CompiledMemo()  # private_rules_memo restores the module's own afterwards
    return RulesCheck(paths, **kw)


def findings(check: RulesCheck, texts) -> list:
    return [[(f.category, f.start, f.end, f.rule, f.action, f.risk) for f in check.scan(t).findings] for t in texts]


def state_files(cache: Path) -> list[Path]:
    return sorted((cache / "derived").glob(f"{rules_cache.NAME}-*.pickle"))


@pytest.mark.parametrize("engine", ["hyperscan", "re"])
def test_a_second_load_reads_the_state_and_finds_the_same(tmp_path, engine):
    if engine == "hyperscan":
        pytest.importorskip("hyperscan")
    f = rules_file(tmp_path, TWO_RULES)
    first = fresh([f], engine=engine, cache_dir=tmp_path / "c")
    assert not first._compiled.from_cache and len(state_files(tmp_path / "c")) == 1
    again = fresh([f], engine=engine, cache_dir=tmp_path / "c")
    assert again._compiled.from_cache
    assert findings(again, TEXTS) == findings(first, TEXTS)
    assert findings(first, TEXTS)[3] == [] and findings(first, TEXTS)[2]  # the unless veto and the \d+ regex work
    assert [r.id for r in again.rules] == [r.id for r in first.rules] and again.files[0].path == str(f)


def test_a_state_whose_hyperscan_databases_were_removed_builds_them_again(tmp_path):
    pytest.importorskip("hyperscan")
    f = rules_file(tmp_path, TWO_RULES)
    cache = tmp_path / "c"
    want = findings(fresh([f], engine="hyperscan", cache_dir=cache), TEXTS)
    for db in cache.glob("rules-*.hsdbs"):
        db.unlink()
    again = fresh([f], engine="hyperscan", cache_dir=cache)
    assert again._compiled.from_cache and findings(again, TEXTS) == want
    assert list(cache.glob("rules-*.hsdbs"))  # and stored them


def test_no_cache_directory_means_no_state_on_disk(tmp_path):
    f = rules_file(tmp_path, TWO_RULES)
    assert not fresh([f], engine="re")._compiled.from_cache
    assert not fresh([f], engine="re")._compiled.from_cache


def test_a_changed_file_is_compiled_again_and_its_change_takes_effect(tmp_path):
    f = rules_file(tmp_path, TWO_RULES)
    cache = tmp_path / "c"
    before = fresh([f], engine="re", cache_dir=cache)
    assert findings(before, ["招兼职，周结"]) == [[]]
    f.write_text(f.read_text(encoding="utf-8").replace("'日结'", "'(日|周)结'"), encoding="utf-8")
    after = fresh([f], engine="re", cache_dir=cache)
    assert not after._compiled.from_cache
    assert [x[3] for x in findings(after, ["招兼职，周结"])[0]] == ["rules:t.offer"]
    assert fresh([f], engine="re", cache_dir=cache)._compiled.from_cache  # and the new state was stored


def test_a_broken_file_fails_as_without_the_cache(tmp_path):
    f = rules_file(tmp_path, TWO_RULES)
    cache = tmp_path / "c"
    fresh([f], engine="re", cache_dir=cache)
    f.write_text(f.read_text(encoding="utf-8").replace("'日结'", "'(日结'"), encoding="utf-8")
    errors = []
    for d in (cache, None, cache):
        with pytest.raises(RulesError) as exc:
            fresh([f], engine="re", cache_dir=d)
        errors.append(str(exc.value))
    assert errors[0] == errors[1] == errors[2] and "t.offer" in errors[0]


def test_options_the_state_depends_on_are_in_its_key(tmp_path):
    from fenghuo.checks.normalize import Normaliser, default_normaliser

    f = rules_file(tmp_path, TWO_RULES)
    n = default_normaliser()
    key = rules_cache.state_key([f], set(), "re", n)
    copy = tmp_path / "copy"
    copy.mkdir()
    rules_file(copy, TWO_RULES)  # the same bytes elsewhere: findings and errors name the file
    others = {rules_cache.state_key([f], {"t.word"}, "re", n), rules_cache.state_key([f], set(), "hyperscan", n),
              rules_cache.state_key([f], set(), "re", Normaliser(t2s=False)), rules_cache.state_key([copy], set(), "re", n)}
    assert key is not None and key not in others and len(others) == 4
    assert rules_cache.state_key([tmp_path / "missing.yaml"], set(), "re", n) is None  # the compile reports it


@pytest.mark.parametrize("damage", ["truncate", "flip", "foreign", "other-key"])
def test_a_damaged_state_file_is_rebuilt_with_a_warning(tmp_path, caplog, damage):
    f = rules_file(tmp_path, TWO_RULES)
    cache = tmp_path / "c"
    good = findings(fresh([f], engine="re", cache_dir=cache), TEXTS)
    [path] = state_files(cache)
    blob = path.read_bytes()
    if damage == "truncate":
        blob = blob[: len(blob) // 2]
    elif damage == "flip":  # one bit in the payload: the checksum catches it
        blob = blob[:-40] + bytes([blob[-40] ^ 1]) + blob[-39:]
    elif damage == "foreign":  # a well-formed file whose pickle would run code: refused by class
        payload = pickle.dumps({"files": os.system})
        head = blob.split(b"\n", 2)
        blob = state_cache.MAGIC + head[1] + b"\n" + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload
    else:
        blob = blob.replace(path.stem.split("-")[1].encode(), b"0" * 40, 1)
    path.write_bytes(blob)
    with caplog.at_level(logging.WARNING, logger="fenghuo.checks.cache"):
        rebuilt = fresh([f], engine="re", cache_dir=cache)
    assert not rebuilt._compiled.from_cache and findings(rebuilt, TEXTS) == good
    assert [r.levelname for r in caplog.records] == ["WARNING"] and "state cache" in caplog.records[0].getMessage()
    assert fresh([f], engine="re", cache_dir=cache)._compiled.from_cache  # rewritten whole


def _texts(n_each: int = 150) -> list[str]:
    """Held-out pipeline texts and the written Chinese sets: a few hundred messages that fire rules."""
    out = [json.loads(line)["text"] for line in (DATA / "pipeline_heldout_s25.jsonl").read_text(encoding="utf-8").splitlines()[:n_each]]
    for p in sorted((DATA / "written_zh").glob("*.jsonl")):
        out += [json.loads(line)["text"] for line in p.read_text(encoding="utf-8").splitlines()[:n_each // 10]]
    return out


def test_the_shipped_rules_from_the_cache_find_what_the_compiled_ones_find(shipped_rules, derived_cache_dir, tmp_path):
    compiled = shipped_rules  # compiled by this process unless a pipeline loaded before it stored the state
    if compiled._compiled.from_cache:
        cache = tmp_path / "c"
        cache.mkdir()
        for db in derived_cache_dir.glob("rules-*.hsdbs"):  # the hyperscan databases, not the state: compile, not ~60 s of hyperscan
            (cache / db.name).symlink_to(db)
        compiled = outside_rules_memo(lambda: RulesCheck(engine="hyperscan", cache_dir=cache))
    cached = outside_rules_memo(lambda: RulesCheck(engine="hyperscan", cache_dir=derived_cache_dir))
    assert not compiled._compiled.from_cache and cached._compiled.from_cache
    texts = _texts()
    assert len(texts) >= 300
    got = findings(cached, texts)
    assert got == findings(compiled, texts)
    assert sum(map(bool, got)) > 100  # the comparison is about rules that fire
    assert [cached.todo_fast(t, cached.normaliser.normalise(t)) for t in texts] == [compiled.todo_fast(t, compiled.normaliser.normalise(t)) for t in texts]


CHILD = """
from pathlib import Path
from fenghuo.checks import rules, rules_cache, state_cache
r = rules.from_config({}, None, Path.cwd())  # as the shipped pipeline builds it
print(rules_cache.state_key(r.paths, r.disable, r.engine_name, r.normaliser), r._compiled.from_cache)
"""


def test_other_processes_read_the_state_whatever_their_hash_seed(shipped_rules, derived_cache_dir):
    # ``shipped_rules`` compiled (or read) the shipped rules into this process's cache directory.
    assert rules_cache.state_key(shipped_rules.paths, set(), "hyperscan", shipped_rules.normaliser) is not None
    outs = []
    for seed in ("0", "4242"):
        env = dict(os.environ, PYTHONHASHSEED=seed, FENGHUO_CACHE_DIR=str(derived_cache_dir))
        out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr
        outs.append(out.stdout.split())
    assert outs[0] == outs[1] and outs[0][1] == "True"
    assert outs[0][0] == rules_cache.state_key(shipped_rules.paths, set(), "hyperscan", shipped_rules.normaliser)
