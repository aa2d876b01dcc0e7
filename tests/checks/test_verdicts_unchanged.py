"""Speed work on the check hot paths must not change a single verdict.

``data/verdicts_unchanged.json.gz`` holds every shipped check's output — findings (category,
span, rule, action, risk, score), the classifier's per-category scores, the whole pipeline's
verdict and a streamed scan — for a few hundred texts: COLD dev rows and 50-character cuts
(when ``$FENGHUO_DATA`` is there), everyday chat, generated messages around the shipped
lexicon's words, and evasions (法*轮 splitting, homophones, split characters, pinyin,
full width, traditional characters, zero-width and emoji, ①-style expansions, mixed scripts,
personal information, a text longer than one normalisation block). It was computed by the
code *before* the short-message work (issue 19) and is compared here with today's code.

The outputs also depend on what the short-message work does not touch (the shipped models,
lexicon and rules, resolve.py, corroborate.py …): the fixture records a digest of those
files, and when they change the comparison is skipped with the command that regenerates it
from the *old* code of the files in ``OWN`` and today's everything else, so the fixture keeps
meaning "what the old code said". ``tests/checks/test_short_message_speed.py`` checks the fast
paths against the general ones in the same run, which needs no fixture.

Regenerate: ``python tests/checks/test_verdicts_unchanged.py --write-old 81ba526`` (copies
``src`` to a temporary directory, puts the ``OWN`` files back as they were at that commit and
writes the fixture with that code). The reference was 7d74a08, the commit before the
short-message work, until the shipped classifier's format 4 (word table, a51a870) needed a
loader that commit does not have; then a51a870, the first that reads it, until session 16's
counter-speech cue: it is reached through the pipeline's ``unmentioned`` step, which a51a870's
``pipeline.py`` does not have, so that reference left an intended verdict change out. c914904
(the end of session 15) gave the same outputs as a51a870's code on every row (0 of 892 differed),
and stayed the reference until session 24, when the classifier's flag bands (a band the shipped
model declares is read by classifier/check.py and pipeline.py, which c914904 does not have) meant
11 outputs gained an intended harm flag. Every speed change up to then, the due stage's one C call
of session 24 included, had held against c914904; then 2c897a8 (session 24, with the bands) until
session 25 gave the classifier check a public ``logit_scorer``, which the counter-speech and
discussion steps (``mention.py``, ``discussion.py``: not in ``OWN``) now call instead of reading
its internals: 2c897a8's ``classifier/check.py`` lacks it, so with it the re-scoring steps found
no scorer and 2 outputs kept a flag. 2c897a8's ``OWN`` files with only that accessor added gave
the same outputs as today's on every row (0 of 903 differed), so the reference is now 81ba526
(session 25). Regenerate with ``--write-old 81ba526``.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import random
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).parent / "data" / "verdicts_unchanged.json.gz"
CHECKS = ROOT / "src" / "fenghuo" / "checks"
# Files whose changes are the short-message work itself: they may change, the outputs may not.
OWN = {
    "matcher.py", "lexicon.py", "lexicon_state.py", "normalize.py", "pipeline.py", "variants.py", "pii.py", "base.py",
    "classifier/check.py", "classifier/features.py", "classifier/model.py", "classifier/__init__.py",
    # The rules check's and the word-boundary check's speed work (issue 19, second round).
    "rules.py", "rules_match.py", "rules_regex.py", "rules_file.py", "resolve.py",
    # The answer judge's speed work (issue 19, session 6): the outputs compared here (the input
    # pipeline) do not read them; tests/checks/test_context* hold the judge's answers unchanged.
    "context.py", "context_model.py", "refusal.py", "pairs.py",
    # Session 8: the PII check's anchor windows and the word-feature experiment (new files; the
    # C kernels are not .py inputs).
    "pii_prefilter.py", "classifier/words.py",
    # Session 8: lexicon.py and normalize.py split along their seams (no behaviour change).
    "lexicon_compile.py", "normalize_table.py",
    # Issue 19: the answer judge's result class, split out of context.py (the input pipeline does not read it).
    "context_judgement.py",
    # Sessions 15-16: the rules check's due stage and its message decoding, split out of rules.py
    # and rules_match.py (speed work: a51a870 has neither, so its rules.py does not import them).
    "rules_due.py", "rules_message.py",
    # Session 20: the hyperscan side of rules_match.py split out (no behaviour change).
    "rules_literals.py",
    # Session 22: the rules engine recut into one idea per module (no behaviour change).
    "rules_compile.py", "rules_pattern.py", "rules_clauses.py",
    # Session 26: the rules' and the lexicon's compiled states kept on disk (start-up speed, no
    # behaviour change; tests/checks/test_rules_cache.py and test_lexicon_state_cache.py).
    "rules_cache.py", "lexicon_cache.py", "state_cache.py",
}
# What the outputs depend on besides those (everything else the checks package reads).
INPUT_GLOBS = ("*.py", "*.yaml", "rules/*.yaml", "shipped/*", "data/*", "classifier/*.py")


def inputs_digest() -> str:
    h = hashlib.sha256()
    for pat in INPUT_GLOBS:
        for p in sorted(CHECKS.glob(pat)):
            rel = p.relative_to(CHECKS).as_posix()
            if rel in OWN or not p.is_file() or p.suffix == ".pyc":
                continue
            h.update(rel.encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()[:16]


# -- texts --------------------------------------------------------------------------------
def _cold_dev() -> list[str]:
    from fenghuo.platform.paths import shared_data_dir

    d = shared_data_dir()
    if d is None:
        return []
    with (d / "classifier" / "cold" / "dev.csv").open(encoding="utf-8-sig", newline="") as fh:
        return [row[4] for row in list(csv.reader(fh))[1:]]


def _shipped_words() -> list[tuple[str, str]]:
    """(word, action) of the shipped lexicon."""
    out = []
    for line in (CHECKS / "shipped" / "lexicon.tsv").read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        parts = line.split("\t")
        out.append((parts[0], parts[2] if len(parts) > 2 else ""))
    return out


FILLERS = ["今天天气不错，", "我跟你说，", "你知道吗？", "哈哈哈", "老板说", "群里有人在说", "有没有人", "晚上一起", "请问", "据说"]
TAILS = ["吗？", "，加我微信", "。", "！！", " 真的假的", "，懂的都懂", "", "，私聊", "😂", "，价格优惠"]


def _trad_map() -> dict[str, str]:
    simp_to_trad: dict[str, str] = {}
    for line in (CHECKS / "data" / "t2s_chars.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            t, s = line.split("\t")
            simp_to_trad.setdefault(s, t)
    return simp_to_trad


def _evasions(word: str, rng: random.Random, trad: dict[str, str]) -> list[str]:
    from fenghuo.checks import variants

    out = []
    seps = ["*", " ", ".", "-", "\u200b", "／", "、", "_", "~", "😊"]
    out.append(rng.choice(seps).join(word))
    out.append("".join(trad.get(c, c) for c in word))
    out.append("".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in word))  # full width
    out.append("".join(variants.SPLITS.get(c, c) for c in word))
    syl = variants.pinyin_of(word) if variants.eligible(word) else None
    if syl:
        out.append(" ".join(syl))
        out.append("".join(syl).upper())
    r = variants.readings()
    same = {}
    for ch, s in r.syllable.items():
        if "\u4e00" <= ch <= "\u9fff":
            same.setdefault(s, []).append(ch)
    homo = []
    for c in word:
        alts = [a for a in same.get(r.syllable.get(c, ""), []) if a != c]
        homo.append(rng.choice(alts[:30]) if alts and rng.random() < 0.6 else c)
    out.append("".join(homo))
    return out


def texts() -> list[str]:
    rng = random.Random(19)
    out: list[str] = ["", " ", "a", "你", "你好", "在吗", "①②③", "ﬁne", "Hello world", "\u200b\u200b", "😀" * 5]
    cold = _cold_dev()
    if cold:
        out += cold[::25][:260]
        joined = "".join(cold)
        out += [joined[i : i + 50] for i in range(0, 50 * 200, 50)]
        out.append(joined[:20_000])  # longer than one normalisation block
        out += [joined[i : i + 1000] for i in range(100_000, 110_000, 1000)]
    chat = (ROOT / "tests" / "checks" / "data" / "everyday_chat_zh.txt").read_text(encoding="utf-8").splitlines()
    out += [c for c in chat if c.strip()]
    trad = _trad_map()
    words = _shipped_words()
    block = [w for w, a in words if a in ("", "block") and len(w) >= 2]
    other = [w for w, a in words if a not in ("", "block")]
    for w in rng.sample(block, 60) + rng.sample(other, 20):
        out.append(rng.choice(FILLERS) + w + rng.choice(TAILS))
        for v in _evasions(w, rng, trad):
            if rng.random() < 0.5:
                out.append(rng.choice(FILLERS) + v + rng.choice(TAILS))
    # Personal information and mixed scripts.
    out += [
        "我的手机是13800138000，身份证110101199003074578", "卡号 6222 0212 3456 7890 128 请转账", "邮箱 zhang.san@example.com 有事联系",
        "IP 192.168.1.100 和 fe80::1 都连不上", "车牌京A12345被拍了", "护照E12345678", "call me at +86 138-0013-8000 ok?",
        "Это тест, это тест 测试一下 русский", "ｆａｌｕｎｇｏｎｇ ｉｓ", "賭博網站註冊送彩金", "法\u200b轮\u200b功", "法*轮*功", "氵去车仑工力",
        "fa lun gong", "FaLunGong", "发轮功好", "六合婇开奖", "Ⓐⓑⓒ ①号 ㊙", "ﾃｽﾄ カタカナ ひらがな 한국어", "domestic violence", "s e x y",
        "色b哥 3级片", "河南人大部分都很好", "几点营业", "技术总监", "蓝色和黄色", "\n".join(["第一行", "法轮", "功"]),
    ]
    for _ in range(40):  # random mixes of scripts, emoji and separators around listed words
        w = rng.choice(block)
        parts = [rng.choice(FILLERS), w, rng.choice(["😂", "🔥", "\u200d", "ｘ", "Ａ", "12", "abc", "ǎ", "\u0301"]), rng.choice(TAILS)]
        rng.shuffle(parts)
        out.append("".join(parts))
    return list(dict.fromkeys(out))


# -- outputs ------------------------------------------------------------------------------
def _f(f) -> list:
    return [f.category, f.start, f.end, f.rule, f.action.value, f.risk, f.score]


def outputs(items: list[str]) -> list[dict]:
    from fenghuo.checks.lexicon import LexiconCheck
    from fenghuo.checks.pipeline import load_pipeline
    from fenghuo.platform.paths import shared_data_dir

    pipe = load_pipeline()
    shared_lx = None
    d = shared_data_dir()
    if d is not None:
        lx = d / "lexicon"
        shared_lx = LexiconCheck(files=[lx / "sensitive_word_dict.txt", lx / "sensitive_word_tags.txt"], allow_files=[lx / "sensitive_word_allow.txt"])
    rows = []
    for i, t in enumerate(items):
        row: dict = {"text": t}
        v = pipe.scan(t)
        row["pipeline"] = {k: x for k, x in v.to_dict(t).items() if k != "elapsed_us"}
        for c in pipe.checks:
            row[c.name] = [_f(f) for f in c.scan(t).findings]
            if hasattr(c, "scores_in"):
                row[c.name + ".scores"] = c.scores_in(t, c.normaliser.normalise(t))
        if shared_lx is not None:
            row["shared_lexicon"] = [_f(f) for f in shared_lx.scan(t).findings]
        if i % 4 == 0 and len(t) < 5000:
            s = pipe.stream()
            got = []
            for k in range(0, len(t), 7):
                got += [_f(f) for f in s.feed(t[k : k + 7])]
            row["stream"] = {"fed": got, "close": [_f(f) for f in s.close().findings]}
        rows.append(row)
    return rows


def _load() -> dict:
    with gzip.open(FIXTURE, "rt", encoding="utf-8") as fh:
        return json.load(fh)


def _scores_close(old: dict, new: dict | None) -> bool:
    """Scores are stored rounded to 4 places; a score lying on a rounding edge (0.03905) rounds either way
    on another machine's floating point (seen on a fresh CI machine), so one unit in the last place is allowed."""
    return new is not None and old.keys() == new.keys() and all(abs(old[k] - new[k]) <= 1.5e-4 for k in old)


def _pipeline_close(old: dict, new: dict | None) -> bool:
    """The pipeline's verdict exactly, bar its rounded scores (same allowance as above: a float32 sum
    summed in another order moves the odd score across a rounding edge)."""
    if new is None or old.keys() != new.keys():
        return False
    rest = [k for k in old if k != "scores"]
    return all(old[k] == new[k] for k in rest) and _scores_close(old.get("scores") or {}, new.get("scores") or {})


def test_verdicts_unchanged():
    stored = _load()
    if stored["inputs"] != inputs_digest():
        pytest.skip(
            "models, lexicon, rules or resolution changed since the fixture was written; regenerate it from the reference "
            "code: `python tests/checks/test_verdicts_unchanged.py --write-old 81ba526`"
        )
    rows = stored["rows"]  # the texts are stored: comparable without the shared data (bar its lexicon)
    got = outputs([r["text"] for r in rows])
    assert len(got) == len(rows) >= 300
    diffs = []
    for old, new in zip(rows, got):
        for key, val in old.items():
            if key == "shared_lexicon" and key not in new:
                continue
            if key.endswith(".scores") and _scores_close(val, new.get(key)):
                continue
            if key == "pipeline" and _pipeline_close(val, new.get(key)):
                continue
            if new.get(key) != val:
                diffs.append((old["text"][:60], key, val, new.get(key)))
    assert not diffs, f"{len(diffs)} output(s) changed, first: {diffs[:3]}"


def _write_old(commit: str) -> None:
    """Re-run this script with ``--write`` on a copy of ``src`` whose ``OWN`` files are those of ``commit``."""
    import os
    import shutil
    import subprocess
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix="fenghuo-old-"))
    try:
        shutil.copytree(ROOT / "src", tmp / "src", ignore=shutil.ignore_patterns("__pycache__"))
        for rel in sorted(OWN):
            got = subprocess.run(["git", "show", f"{commit}:src/fenghuo/checks/{rel}"], cwd=ROOT, capture_output=True)
            if got.returncode == 0:  # a file the old code did not have stays (and is not imported by it)
                (tmp / "src" / "fenghuo" / "checks" / rel).write_bytes(got.stdout)
        env = dict(os.environ, PYTHONPATH=str(tmp / "src"))
        subprocess.run([sys.executable, __file__, "--write"], cwd=ROOT, env=env, check=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if "--write-old" in sys.argv:
        _write_old(sys.argv[sys.argv.index("--write-old") + 1])
        sys.exit(0)
    if "--write" not in sys.argv:
        sys.exit("usage: python tests/checks/test_verdicts_unchanged.py --write-old COMMIT | --write")
    import fenghuo

    print(f"writing with the code in {Path(fenghuo.__file__).parent}")
    from fenghuo.platform.paths import shared_data_dir

    items = texts()
    data = {"inputs": inputs_digest(), "shared": shared_data_dir() is not None, "rows": outputs(items)}
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(FIXTURE, "wt", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, separators=(",", ":"))
    print(f"{len(items)} texts written to {FIXTURE}")
