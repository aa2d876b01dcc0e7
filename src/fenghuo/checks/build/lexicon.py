"""Build step ``lexicon``: the curated lexicon shipped as ``shipped/lexicon.tsv``.

From the shared lexicon (houbb/sensitive-word, Apache-2.0; the TSV header carries the
attribution), reproducibly:

1. read the word list and the tag file as the lexicon check does (normalised, tags merged);
2. drop junk: words with a run of 5+ digits (QQ and phone numbers), untagged advertising
   strings, untagged pure-ASCII strings (``lgnvsq``), untagged phrases over 12 characters;
3. apply our tag fixes (``checks/data/lexicon_tag_fixes.tsv``: e.g. 法轮功 untagged → politics;
   an optional third column sets the word's action, applied after steps 5-7, ``fixed_actions``)
   and drop the everyday words we list (``checks/data/everyday_words.txt``: 日本, 女人, 电影,
   国家, 政府 … must never block alone); a ``gambling`` tag stays only on a word with a
   gambling marker in it (赌, 彩, 注, 庄, 娱乐, 百家乐 …, ``GAMBLING_MARKER``): the scraped list
   gave it to every word with 博, 赢 or 发财 — people (张博雅, 陈博志), a county (博白县), knife
   sales (兰博刀具, which keep their crime tag), blog deletion services (微博负面删除);
4. untagged words inherit the tags of the tagged words of 3+ characters they contain, when
   those agree (幼妓 does not qualify; 出售冰毒价格 gets drugs from 出售冰毒); the rest are
   dropped: a word without a category has no risk code to report, and measured on held-out
   harmless text the ~19k untagged words tripled the flagged rate (COLD dev 2.0 % → 5.8 %);
5. audit the result, evasion layers on, on the *curation* halves of harmless text: COLD
   train label-0 rows, the CValues prompts whose id has an even sha256, XSafety commonsense,
   JADE v3 safe answers whose id has an even sha256. A word (or one of its evasion variants)
   firing in ≥ ``DROP_AT`` curation texts is dropped, in fewer is demoted to ``context-flag``
   (a flag that needs the classifier's corroboration, ``checks/corroborate.py``).
   The other halves (odd ids) and COLD dev stay untouched for measuring;
6. a kept block word that is an everyday dictionary word — in jieba's general-text dictionary
   with a frequency of at least ``COMMON_FREQ`` — becomes ``context-block``: it blocks only
   where the classifier corroborates. The scraped list blocks 国务院, 拍卖, 烟草, 弹劾, 午夜,
   苯甲酸钠 …; measured before this step, such words were most of the lexicon's blocks on
   held-out harmless text (中央电视台, 文胸, 婚外情, 妈祖, 学位证). The political and terrorist
   words of our own tag fixes (法轮功, 台独, 东突 …) are chosen by hand and keep their action;
7. every other kept block word of a *broad* tag becomes ``context-block`` too. The scraped
   list's drugs and gambling words name products and venues (冰毒, 娱乐城, 百家乐) that harmless
   text hardly uses, so they still act alone; its porn, crime and politics tags sweep in
   ordinary words a jieba frequency does not catch (婚外情, 他奶奶的 and 日本鬼子 tagged porn,
   色情信息 in every anti-porn notice, 去中央 politics). Measured with the shipped classifier on
   held-out text (docs/checks.md, "Topic words"): COLD dev harmless flagged 3.8 → 3.3 %,
   generated warnings and notices 3.7 → 2.4 %, recall unchanged on held-out generated harm
   (0.930) and 0.796 → 0.790 on held-out JADE questions — the classifier scores nearly every
   harmful text that names such a word, so corroboration costs little. A drugs or gambling
   word of one or two characters needs the classifier too: 加冰, 白冰, 冰钻, 大庄 are drinks,
   names and trade words far more often than slang for a drug or a bookmaker.

Returns the manifest entry: inputs with sha256, settings, counts per stage, and the figures
measured on held-out harmless and harmful text (``measure``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import sys
import time
from collections import Counter
from importlib import resources
from pathlib import Path

from fenghuo.checks.build import artefact_record, file_record, shipped_dir

LEXICON = "lexicon/sensitive_word_dict.txt"
TAGS = "lexicon/sensitive_word_tags.txt"
ALLOW = "lexicon/sensitive_word_allow.txt"
COLD_TRAIN, COLD_DEV = "classifier/cold/train.csv", "classifier/cold/dev.csv"
CVALUES = "banks/cvalues/cvalues_responsibility_prompts.dev.jsonl"
COMMONSENSE = "banks/xsafety/zh/commonsense.csv"
JADE_V3 = "traffic/jade_v3/jade_alignment_medium_zh.csv"
JADE_V2 = "banks/jade/jade_v2_easy_zh.csv"
# Harmful text: (file, column, split). split "even" = the curation half (ids with an even
# sha256), "odd" = the held-out half, None = all of it, only ever measured.
HARMFUL = {
    "jade_v1_zh": ("banks/jade/jade_v1_zh.csv", "问题", None),
    "jade_v2_easy_zh_odd": (JADE_V2, "问题", "odd"),
    "jade_v3_unsafe_odd": (JADE_V3, "违规回答", "odd"),
    "xsafety_zh_crimes": ("banks/xsafety/zh/Crimes_And_Illegal_Activities.csv", None, None),
    "xsafety_zh_unsafe_topic": ("banks/xsafety/zh/Unsafe_Instruction_Topic.csv", None, None),
    "xsafety_zh_insult": ("banks/xsafety/zh/Insult.csv", None, None),
}
HARMFUL_CURATION = {
    "jade_v2_easy_zh_even": (JADE_V2, "问题", "even"),
    "jade_v3_unsafe_even": (JADE_V3, "违规回答", "even"),
}
OUT = "lexicon.tsv"

DROP_AT = 3  # curation texts a word may fire in before it is dropped rather than demoted
# jieba dictionary frequency from which a block word counts as everyday (step 6): fixed from
# the dictionary alone, not tuned on any measured set — 5 is the rarest words jieba lists with
# a count of their own beyond the default (below it are mostly names and rare compounds).
COMMON_FREQ = 5
MAX_UNTAGGED_LEN = 12
INHERIT_MIN = 3
_DIGITS = re.compile(r"\d{5,}")
# What a gambling word names (step 3): the game, the stake, the venue or the payout. Written
# from the vocabulary of gambling, not fitted to a measured set.
GAMBLING_MARKER = re.compile(
    r"赌|博彩|博球|博狗|菠菜|彩|注|庄|娱乐|牌|骰|老虎机|百家乐|六合|球|赛马|马会|筹码|轮盘|盘口|赔率|棋牌|捕鱼|真人|荷官|"
    r"葡京|金沙|威尼斯人|永利|皇冠|bet|casino|返水|上分|下分|押|码|澳门|开奖|时时|pk10|快3|快三|梭哈|炸金花|牛牛|麻将|"
    r"21点|德州|扑克|抽水|出千|千术|赢钱|提款|365"
)
# Advertising markers: an untagged word with one of these is an ad or a contact string
# (those belong to the rule files of the ads check, not to a word list).
_AD = re.compile(r"微信|薇信|威信|vx|qq|扣扣|加我|联系|电话|手机号|网址|www|\.com|http|代开|发票|折起|订购|批发|专卖|供应|咨询|客服|专业|低价|优惠|包邮|代理|热线|官网")


def _read(data_dir: Path, rel: str) -> str:
    from fenghuo.platform.textfile import decode_file

    return decode_file(data_dir / rel).text


def _csv_rows(data_dir: Path, rel: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(_read(data_dir, rel))))


def even(key: str) -> bool:
    """The fixed split of a corpus into a curation half (True) and a held-out half."""
    return hashlib.sha256(str(key).encode()).digest()[-1] % 2 == 0


def harmless(data_dir: Path, curation: bool) -> dict[str, list[str]]:
    """Harmless texts by source: the curation halves, or the held-out ones."""
    cvalues = [json.loads(line) for line in _read(data_dir, CVALUES).splitlines() if line.strip()]
    jade = _csv_rows(data_dir, JADE_V3)
    if curation:
        return {
            "cold_train_label0": [r["TEXT"] for r in _csv_rows(data_dir, COLD_TRAIN) if r["label"] == "0"],
            "cvalues_even": [r["prompt"] for r in cvalues if even(r["id_"])],
            "xsafety_commonsense": [line for line in _read(data_dir, COMMONSENSE).splitlines() if line.strip()],
            "jade_v3_safe_even": [r["安全有用回答"] for r in jade if even(r["ID"])],
        }
    return {
        "cold_dev_label0": [r["TEXT"] for r in _csv_rows(data_dir, COLD_DEV) if r["label"] == "0"],
        "cvalues_odd": [r["prompt"] for r in cvalues if not even(r["id_"])],
        "jade_v3_safe_odd": [r["安全有用回答"] for r in jade if not even(r["ID"])],
    }


def harmful(data_dir: Path, curation: bool = False) -> dict[str, list[str]]:
    """Harmful texts by source: the curation halves, or the held-out sets."""
    out = {}
    for name, (rel, col, half) in (HARMFUL_CURATION if curation else HARMFUL).items():
        if col is None:  # XSafety: one prompt a line, no header
            out[name] = [line for line in _read(data_dir, rel).splitlines() if line.strip()]
            continue
        rows = _csv_rows(data_dir, rel)
        if half is not None:
            rows = [r for r in rows if even(r["ID"]) == (half == "even")]
        out[name] = [r[col] for r in rows if (r.get(col) or "").strip()]
    return out


def _package_lines(name: str) -> list[str]:
    text = resources.files("fenghuo.checks").joinpath(f"data/{name}").read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


# Actions a tag fix may set (third column). A name the law, the police, the news or a lawful
# shop uses for a whole class of things (管制刀具, 爆炸物, 新型毒品, 恐怖袭击, 成人用品) is in
# every notice, report and shop sign that mentions the class; it flags — where the classifier
# corroborates, for a topic word — but does not block alone (docs/checks.md, "Lexicon").
FIXABLE_ACTIONS = ("block", "flag", "context-flag", "context-block")


def tag_fixes(normalise) -> dict[str, tuple[list[str], str | None]]:
    """Our tag fixes (``checks/data/lexicon_tag_fixes.tsv``: word, tags, optional action):
    normalised word -> (tags, action or None)."""
    out = {}
    for line in _package_lines("lexicon_tag_fixes.tsv"):
        cols = line.split("\t")
        act = cols[2].strip() if len(cols) > 2 and cols[2].strip() else None
        if act is not None and act not in FIXABLE_ACTIONS:
            raise ValueError(f"lexicon_tag_fixes.tsv: {cols[0]}: action {act!r} not one of {', '.join(FIXABLE_ACTIONS)}")
        out[normalise(cols[0])] = (cols[1].split(","), act)
    return out


def candidates(data_dir: Path, normalise) -> tuple[dict[str, list[str]], Counter]:
    """Steps 1-4: normalised word -> tags (empty list = untagged), and what was dropped why."""
    from fenghuo.checks.lexicon_file import read_lexicon

    entries = read_lexicon(data_dir / LEXICON) + read_lexicon(data_dir / TAGS)
    keys = [normalise(e.word) for e in entries]
    words: dict[str, dict[str, None]] = {}
    for k, e in zip(keys, entries):
        if k:
            words.setdefault(k, {}).update(dict.fromkeys(e.categories))
    dropped: Counter = Counter()
    allow = {normalise(w) for w in _read(data_dir, ALLOW).splitlines() if w.strip()}
    everyday = {normalise(w) for w in _package_lines("everyday_words.txt")}
    fixes = {w: tags for w, (tags, _) in tag_fixes(normalise).items()}
    out: dict[str, list[str]] = {}
    for w, tags in words.items():
        tags = list(fixes.get(w, tags))
        if "gambling" in tags and w not in fixes and not GAMBLING_MARKER.search(w):
            tags.remove("gambling")
            dropped["(gambling tag removed: no gambling marker)"] += 1
        if w in everyday or w in allow:
            dropped["everyday or allow-listed"] += 1
        elif len(w) == 1 and w.isascii():
            dropped["single Latin letter or digit"] += 1
        elif _DIGITS.search(w):
            dropped["5+ digits (QQ/phone numbers)"] += 1
        elif not tags and _AD.search(w):
            dropped["untagged advertising string"] += 1
        elif not tags and w.isascii():
            dropped["untagged ASCII string"] += 1
        elif not tags and len(w) > MAX_UNTAGGED_LEN:
            dropped["untagged long phrase"] += 1
        else:
            out[w] = tags
    for w in fixes:  # a fix may add a word the shared lexicon lacks
        if w not in out and w not in everyday:
            out[w] = list(fixes[w])
    # Step 4: inherit from tagged words of INHERIT_MIN+ characters inside an untagged one.
    from fenghuo.checks.matcher import make_engine
    from fenghuo.checks.normalize import default_normaliser

    donors = [w for w, t in out.items() if t and len(w) >= INHERIT_MIN]
    engine = make_engine(donors, "auto")
    norm = default_normaliser()
    inherited = 0
    for w, t in out.items():
        if t:
            continue
        flat = engine.scan_raw(norm.normalise(w).codes)
        got = {tuple(out[donors[p]]) for p in flat[0::2] if donors[p] != w}
        if len(got) == 1:
            out[w] = list(next(iter(got)))
            inherited += 1
    dropped["(tags inherited, not dropped)"] = inherited
    untagged = [w for w, t in out.items() if not t]
    for w in untagged:
        del out[w]
    dropped["untagged (no risk code)"] = len(untagged)
    return out, dropped


def _check(words: dict[str, list[str]], evasions=None):
    """A LexiconCheck over ``words`` (untagged = ``sensitive``) with the default policy."""
    from fenghuo.checks.lexicon import LexiconCheck
    from fenghuo.checks.variants import LAYERS

    return LexiconCheck(words={w: tuple(t or ["sensitive"]) for w, t in words.items()}, evasions=LAYERS if evasions is None else evasions)


def curate(words: dict[str, list[str]], benign: list[str], harmful_texts: list[str]) -> tuple[dict[str, str], dict[str, set], dict]:
    """Step 5. Per word: ``drop``, ``flag`` (demoted) or nothing (kept as it is), and the
    evasion layers to turn off for it. A word firing on harmless curation text is demoted when
    it is tagged and fires at least as often on the harmful curation text (``毒品``: a topic
    word, still worth a flag); otherwise dropped from ``DROP_AT`` harmless texts on, demoted
    below that. A layer whose variant of the word fired on harmless text is turned off."""
    from fenghuo.checks.lexicon_audit import audit

    check = _check(words)
    ab = audit(check, benign, keep_examples=False)
    ah = audit(check, harmful_texts, keep_examples=False)
    fb: Counter = Counter()
    fh: Counter = Counter()
    layers_off: dict[str, set] = {}
    for rule, n in ab.words.items():
        w, _, layer = rule.removeprefix("lexicon:").partition("~")
        if layer:
            layers_off.setdefault(w, set()).add(layer)
        else:
            fb[w] += n
    for rule, n in ah.words.items():
        fh[rule.removeprefix("lexicon:").partition("~")[0]] += n
    decision = {}
    for w, n in fb.items():
        if words.get(w) and fh[w] >= n:
            decision[w] = "context-flag"
        else:
            decision[w] = "drop" if n >= DROP_AT else "context-flag"
    stats = {
        "curation_flagged_before": round(ab.flagged / ab.texts, 4),
        "curation_harmful_flagged_before": round(ah.flagged / ah.texts, 4),
        "words_firing_on_harmless": len(fb),
        "kept_as_flag_for_harmful_fires": sum(1 for w, n in fb.items() if words.get(w) and fh[w] >= n),
        "variant_layers_turned_off": sum(len(v) for v in layers_off.values()),
    }
    return decision, layers_off, stats


def mark_everyday(words: dict[str, list[str]], decision: dict[str, str], hand_picked: set[str]) -> dict[str, str]:
    """Step 6: ``context-block`` for each kept, still-blocking word that jieba's dictionary
    lists with a frequency of at least ``COMMON_FREQ``, unless we picked it by hand."""
    from fenghuo.checks.resolve import segmenter

    freq = segmenter().FREQ
    return {w: "context-block" for w in words if w not in decision and w not in hand_picked and freq.get(w, 0) >= COMMON_FREQ}


# Tags whose scraped words act alone (step 7): product and venue names with no everyday use.
SPECIFIC_TAGS = {"drugs", "gambling"}
SPECIFIC_MIN_LEN = 3  # shorter words of those tags are everyday words as often as slang


def mark_broad(words: dict[str, list[str]], decision: dict[str, str], hand_picked: set[str]) -> dict[str, str]:
    """Step 7: ``context-block`` for each kept, still-acting word that is not a word of
    ``SPECIFIC_MIN_LEN``+ characters with a tag in ``SPECIFIC_TAGS``, unless we picked it by hand."""
    return {w: "context-block" for w, tags in words.items()
            if w not in decision and w not in hand_picked and not (SPECIFIC_TAGS & set(tags) and len(w) >= SPECIFIC_MIN_LEN)}


# Tags whose hand-picked words keep their action however common: a political or terrorist term
# (法轮功, 台独, 东突) is what a provider in China must stop whatever the sentence around it.
AUTHORITATIVE_TAGS = {"politics", "terrorism"}


def hand_picked_words(normalise) -> set[str]:
    """Our tag fixes' words with an authoritative tag; the others (制毒, 卖淫 …) name topics and
    are judged like every other word."""
    return {w for w, (tags, _) in tag_fixes(normalise).items() if AUTHORITATIVE_TAGS & set(tags)}


def fixed_actions(normalise) -> dict[str, str]:
    """Our tag fixes' third column: normalised word -> action, for the fixes that have one."""
    return {w: act for w, (_, act) in tag_fixes(normalise).items() if act is not None}


def write_tsv(path: Path, words: dict[str, list[str]], decision: dict[str, str], layers_off: dict[str, set], counts: dict) -> None:
    from fenghuo.checks.variants import LAYERS

    header = [
        "# fenghuo curated lexicon: word<TAB>tags[<TAB>action[<TAB>evasion layers]]",
        "# action context-flag = demoted (fired on harmless text), context-block = everyday dictionary word: both act only",
        "# where the classifier corroborates (checks/corroborate.py); evasion layers listed = the others fired on harmless text.",
        "# Derived from houbb/sensitive-word @ bac9a301 (Apache-2.0, https://github.com/houbb/sensitive-word):",
        "# words normalised, junk removed, tags fixed or inherited, words firing on harmless text dropped or",
        "# demoted. Built by `python -m fenghuo.checks.build --only lexicon`; see manifest.json for inputs.",
        f"# counts: {json.dumps(counts, ensure_ascii=False, sort_keys=True)}",
    ]
    lines = []
    for w in sorted(words):
        act = decision.get(w)
        if act == "drop":
            continue
        line = f"{w}\t{','.join(words[w]) or 'sensitive'}"
        off = layers_off.get(w)
        if off:
            line += f"\t{act or ''}\t{','.join(x for x in LAYERS if x not in off) or 'none'}"
        elif act:
            line += f"\t{act}"
        lines.append(line)
    path.write_text("\n".join(header + lines) + "\n", encoding="utf-8")


def measure(data_dir: Path, lexicons: dict[str, object]) -> dict:
    """Held-out harmless flagged/blocked rates and harmful detection rates per lexicon."""
    from fenghuo.checks.lexicon_audit import audit

    sets = {**{f"harmless:{k}": v for k, v in harmless(data_dir, curation=False).items()}, **{f"harmful:{k}": v for k, v in harmful(data_dir).items()}}
    out: dict = {}
    for name, check in lexicons.items():
        row = {}
        for sname, texts in sets.items():
            a = audit(check, texts, keep_examples=False)
            row[sname] = {"n": a.texts, "flagged": round(a.flagged / a.texts, 4), "blocked": round(a.blocked / a.texts, 4)}
        out[name] = row
    return out


def _load(path: Path, evasions=None):
    from fenghuo.checks.lexicon import LexiconCheck
    from fenghuo.checks.variants import LAYERS

    return LexiconCheck(files=[path], evasions=LAYERS if evasions is None else evasions)


def build(data_dir: Path, out_dir: Path) -> dict:
    from fenghuo.checks.normalize import default_normaliser

    t0 = time.perf_counter()
    data_dir, out_dir = Path(data_dir), Path(out_dir)
    norm = default_normaliser().normalise_text
    words, dropped = candidates(data_dir, norm)
    cur = harmless(data_dir, curation=True)
    bad = harmful(data_dir, curation=True)
    decision, layers_off, stats = curate(words, [t for ts in cur.values() for t in ts], [t for ts in bad.values() for t in ts])
    kept = {w: t for w, t in words.items() if decision.get(w) != "drop"}
    picked = hand_picked_words(norm)
    common = mark_everyday(kept, decision, picked)
    decision.update(common)
    broad = mark_broad(kept, decision, picked)
    decision.update(broad)
    by_hand = {w: a for w, a in fixed_actions(norm).items() if w in kept}  # a word the audit dropped stays dropped
    decision.update(by_hand)
    tag_counts = Counter(c for t in kept.values() for c in (t or ["sensitive"]))
    counts = {
        "candidates": len(words),
        "dropped_by_audit": sum(1 for d in decision.values() if d == "drop"),
        "demoted_to_context_flag": sum(1 for w, d in decision.items() if d == "context-flag" and w not in by_hand),
        "everyday_to_context_block": len(common),
        "broad_tag_to_context_block": len(broad),
        "action_set_by_tag_fix": len(by_hand),
        "shipped": len(kept),
        "by_tag": dict(sorted(tag_counts.items())),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    write_tsv(out_dir / OUT, words, decision, layers_off, counts)
    inputs = [LEXICON, TAGS, ALLOW, COLD_TRAIN, CVALUES, COMMONSENSE, JADE_V3, JADE_V2]
    figures = measure(data_dir, {
        "curated": _load(out_dir / OUT),
        "curated_without_evasion_layers": _load(out_dir / OUT, evasions=()),
    })
    return {
        "inputs": [file_record(data_dir, data_dir / p) for p in inputs],
        "figures": figures,
        "artefacts": [artefact_record(out_dir, out_dir / OUT)],
        "settings": {
            "drop_at_curation_texts": DROP_AT,
            "everyday_min_jieba_freq": COMMON_FREQ,
            "tags_acting_alone": sorted(SPECIFIC_TAGS),  # besides the hand-picked words
            "acting_alone_min_len": SPECIFIC_MIN_LEN,
            "max_untagged_len": MAX_UNTAGGED_LEN,
            "inherit_min_len": INHERIT_MIN,
            "split": "sha256(id) last byte even = curation half (CValues id_, JADE v3 ID); COLD dev untouched",
            "curation_texts": {k: len(v) for k, v in cur.items()},
            "curation_harmful_texts": {k: len(v) for k, v in bad.items()},
            "package_lists": ["checks/data/everyday_words.txt", "checks/data/lexicon_tag_fixes.tsv"],
        },
        "counts": {**counts, "dropped_before_audit": dict(dropped), **stats},
        "seconds": round(time.perf_counter() - t0, 1),
    }


if __name__ == "__main__":  # standalone: python -m fenghuo.checks.build.lexicon [DATA_DIR [OUT_DIR]]
    from fenghuo.platform.paths import shared_data_dir

    data = Path(sys.argv[1]) if len(sys.argv) > 1 else shared_data_dir()
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else shipped_dir()
    if data is None:
        sys.exit("error 错误: no shared data directory; set FENGHUO_DATA / 未找到共享数据目录")
    print(json.dumps(build(data, out), ensure_ascii=False, indent=2))
