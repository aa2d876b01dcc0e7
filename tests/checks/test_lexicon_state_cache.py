"""The lexicon's compiled plan on disk (``lexicon_cache.py``): a process that loads lexicon files
planned before reads the plan back instead of reading and compiling the files, with the same
findings; a changed file is read again, a broken one fails as without the cache, a damaged
cache file is rebuilt with a warning, and the key is the same whatever the hash seed."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fenghuo.checks import lexicon, lexicon_cache
from fenghuo.checks.lexicon import LexiconCheck
from fenghuo.checks.lexicon_file import LexiconError
from fenghuo.checks.reloading import CompiledMemo

DATA = Path(__file__).parent / "data"
WORDS = "法轮功\tpolitics\n赌博网站\tgambling\n海洛因\tdrugs\ndomestic violence\tviolence\n约炮\tporn\nx\tgambling\n"
TEXTS = ["上法轮功网站", "fa lun gong", "发轮功", "氵去轮功", "赌博网站在哪", "DOMESTIC  violence", "约炮吗", "选项X", "你好", ""]


@pytest.fixture(autouse=True)
def _private_memo(monkeypatch):
    monkeypatch.setattr(lexicon, "_MEMO", CompiledMemo())


def fresh(**kw) -> LexiconCheck:
    """A lexicon check built as a new process builds it: without this process's memo of states."""
    lexicon._MEMO = CompiledMemo()  # _private_memo restores the module's own afterwards
    return LexiconCheck(**kw)


def findings(check: LexiconCheck, texts) -> list:
    return [[(f.category, f.start, f.end, f.rule, f.action, f.risk) for f in check.scan(t).findings] for t in texts]


def files(tmp_path: Path, words: str = WORDS) -> dict:
    (tmp_path / "words.tsv").write_text(words, encoding="utf-8")
    (tmp_path / "allow.txt").write_text("法轮功学员\n", encoding="utf-8")
    return {"files": [tmp_path / "words.tsv"], "allow_files": [tmp_path / "allow.txt"], "cache_dir": tmp_path / "c"}


def test_a_second_load_reads_the_plan_and_finds_the_same(tmp_path, caplog):
    kw = files(tmp_path)
    with caplog.at_level(logging.WARNING, logger="fenghuo.checks.lexicon"):
        first = fresh(**kw)
        again = fresh(**kw)
    assert not first._state.from_cache and again._state.from_cache
    assert findings(again, TEXTS) == findings(first, TEXTS)
    assert sum(map(bool, findings(first, TEXTS))) >= 6  # variants, homophones, split characters, spaced ASCII
    assert again._state.words == first._state.words and again._state.mtimes == first._state.mtimes
    assert again.stats() == first.stats() and len(again) == len(first)
    # The lone-letter warning (``x``) is said by the compile and again by the read-back.
    assert sum("single Latin letter" in r.getMessage() for r in caplog.records) == 2


def test_no_cache_directory_means_no_plan_on_disk(tmp_path):
    kw = files(tmp_path) | {"cache_dir": None}
    assert not fresh(**kw)._state.from_cache and not fresh(**kw)._state.from_cache


def test_a_changed_file_is_read_again_and_its_change_takes_effect(tmp_path):
    kw = files(tmp_path)
    assert findings(fresh(**kw), ["冰毒"]) == [[]]
    (tmp_path / "words.tsv").write_text(WORDS + "冰毒\tdrugs\n", encoding="utf-8")
    after = fresh(**kw)
    assert not after._state.from_cache and [f[3] for f in findings(after, ["冰毒"])[0]] == ["lexicon:冰毒"]
    assert fresh(**kw)._state.from_cache


def test_a_broken_file_fails_as_without_the_cache(tmp_path):
    kw = files(tmp_path)
    fresh(**kw)
    (tmp_path / "words.tsv").write_text(WORDS + "冰毒\tnot-a-tag!\n", encoding="utf-8")
    errors = []
    for d in (kw["cache_dir"], None):
        with pytest.raises(LexiconError) as exc:
            fresh(**kw | {"cache_dir": d})
        errors.append(str(exc.value))
    assert errors[0] == errors[1] and "words.tsv:7" in errors[0]


def test_a_damaged_plan_is_rebuilt_with_a_warning(tmp_path, caplog):
    kw = files(tmp_path)
    good = findings(fresh(**kw), TEXTS)
    [path] = (tmp_path / "c" / "derived").glob(f"{lexicon_cache.NAME}-*.pickle")
    blob = path.read_bytes()
    path.write_bytes(blob[:-40] + bytes([blob[-40] ^ 1]) + blob[-39:])
    with caplog.at_level(logging.WARNING, logger="fenghuo.checks.cache"):
        rebuilt = fresh(**kw)
    assert not rebuilt._state.from_cache and findings(rebuilt, TEXTS) == good
    assert "state cache" in caplog.text and "checksum" in caplog.text
    assert fresh(**kw)._state.from_cache


def test_options_the_plan_depends_on_are_in_its_key(tmp_path):
    from fenghuo.checks.policy import Policy, Rule

    kw = files(tmp_path)
    key = lexicon_cache.source_key(LexiconCheck(**kw))[0]
    others = {
        lexicon_cache.source_key(LexiconCheck(**kw, evasions=()))[0],
        lexicon_cache.source_key(LexiconCheck(**kw, allow=["赌博网站们"]))[0],
        lexicon_cache.source_key(LexiconCheck(**kw, policy=Policy({**Policy().rules, "politics": Rule()})))[0],
        lexicon_cache.source_key(LexiconCheck(**kw | {"files": [], "words": {"法轮功": ("politics",)}}))[0],
    }
    assert key not in others and len(others) == 4


def _texts() -> list[str]:
    """The held-out pipeline texts and the written Chinese sets, all ~12,000 (a lexicon scan is µs)."""
    out = [json.loads(line)["text"] for line in (DATA / "pipeline_heldout_s25.jsonl").read_text(encoding="utf-8").splitlines()]
    for p in sorted((DATA / "written_zh").glob("*.jsonl")):
        out += [json.loads(line)["text"] for line in p.read_text(encoding="utf-8").splitlines()]
    return out


def test_the_shipped_lexicon_from_the_cache_finds_what_the_compiled_one_finds(derived_cache_dir, monkeypatch):
    from fenghuo.checks.config import build_lexicon
    from fenghuo.checks.pipeline import default_config_path
    from fenghuo.checks.policy import Policy
    from fenghuo.platform import documents

    raw = documents.read_yaml(default_config_path())
    spec = dict(next(c for c in raw["checks"] if c["type"] == "lexicon"))
    spec.pop("type")
    policy = Policy.from_config(raw.get("categories"))
    # This process's cache directory (its matcher database is there once any test loaded the
    # shipped lexicon), without a stored plan: the first check compiles, the second reads.
    monkeypatch.setenv("FENGHUO_CACHE_DIR", str(derived_cache_dir))
    for old in (derived_cache_dir / "derived").glob(f"{lexicon_cache.NAME}-*.pickle"):
        old.unlink()
    compiled = build_lexicon(spec, policy, default_config_path().parent)
    lexicon._MEMO = CompiledMemo()
    cached = build_lexicon(spec, policy, default_config_path().parent)
    assert not compiled._state.from_cache and cached._state.from_cache
    texts = _texts()
    got = findings(cached, texts)
    assert got == findings(compiled, texts) and sum(map(bool, got)) > 1000


CHILD = """
import sys
from pathlib import Path
from fenghuo.checks import lexicon_cache
from fenghuo.checks.lexicon import LexiconCheck
d = Path(sys.argv[1])
c = LexiconCheck(files=[d / "words.tsv"], allow_files=[d / "allow.txt"], cache_dir=d / "c")
print(lexicon_cache.source_key(c)[0], c._state.from_cache)
"""


def test_other_processes_read_the_plan_whatever_their_hash_seed(tmp_path):
    kw = files(tmp_path)
    key = lexicon_cache.source_key(fresh(**kw))[0]
    assert list((tmp_path / "c" / "derived").glob(f"{lexicon_cache.NAME}-{key}.pickle"))
    for seed in ("0", "4242"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        out = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path)], env=env, capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr
        assert out.stdout.split() == [key, "True"]
