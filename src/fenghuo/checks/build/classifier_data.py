"""The shipped classifier's training sources, each with its categories and a fixed split.

Every row is ``Row(text, labels, source, split)``; ``split`` is "train", "val" (threshold
calibration) or "test" (held out: only measured). Splits are by a hash of source and text, so
they do not depend on file order or on a random generator. What is used and why:

* COLD (classifier/cold): train.csv → offensive (label 1) vs harmless (label 0), 90 % train /
  10 % val; dev.csv is COLD's official dev set and is only measured (test).
* JADE v1/v2 zh questions (banks/jade): harmful requests with TC260 sub-type names, mapped to our
  categories (``JADE_SUBTYPES``); 70/15/15. JADE v3 pairs belong to the context judge (not used).
* XSafety zh (banks/xsafety/zh): the typical-scenario files whose prompts are harmful themselves
  (crimes, insult, discrimination, privacy) → positives; commonsense → harmless. Mental health
  → harmless (people describing distress; half trained on, half held out, none in val): without
  it the model read XSafety's first-person style as crime or privacy and blocked 12 % of them.
  Physical harm, ethics and the instruction-attack files mix harmless and harmful prompts, so
  they are neither.
* CValues prompts (banks/cvalues): questions a good model answers → harmless. At most half is
  used: 35 % train, 15 % val, and the other 50 % is the held-out false-positive test set.
* Generated text (``templates``): from train phrases 85 % train / 15 % val; from held-out phrases test.
  Includes hard negatives (source ``gen_hardneg``): help-seeking, legal, stereotype-checking,
  dilemma and anti-bias questions/statements a good model answers (``templates.HARDNEG``).

* Flames (banks/flames): only the "Non-anthropomorphism" prompts (everyday questions put to an
  assistant as if it were a person) → harmless, 70/15/15. The other Flames dimensions are
  adversarial prompts whose harm is in an intent a model should notice, mostly innocuous text on
  its own, so they are neither.

* Written Chinese text (``build/written_zh/*.jsonl``, package data, session 17, issue 12): harmful
  messages of each category (self-harm, violence, terrorism/extremism, misinformation, ...) and
  hard harmless look-alikes (anti-bias discussion naming groups, people asking for help in
  distress, professional, news, everyday and commerce text), written for this model by hand
  without reading any data set. One JSON object a line, ``{"labels": [categories], "text": ...}``
  (``[]`` harmless; a harmless line may say its ``kind``). Split 70/15/15 by hash (source
  ``written_zh``); a line that is not valid stops the build with its file and line
  (``written_zh_rows``). The build trains the heads in ``classifier.WRITTEN_HEADS`` on them at
  ``classifier.WRITTEN_WEIGHT`` (no head since session 17: its candidate raised false flags on
  the written dev sets), measures on their test split and records their sha256 in the manifest
  (``written_inputs``). They are not the older written sets in
  ``tests/checks/data/written_zh/`` (session 14): those are dev sets, never trained on.

Not used: XSTest completions (evaluation only by licence), the lexicon
(D3's curated lexicon is its own check), the English files (the features are Chinese-centred).
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from fenghuo.checks.build.templates import generate

# Our categories: the TC260-003 code each maps to lives in checks/policy.py DEFAULT_RULES.
CATEGORIES = ["offensive", "discrimination", "porn", "gambling", "drugs", "fraud", "ads", "violence", "terrorism", "crime", "privacy", "harm", "misinformation"]

# Categories the sources cannot tell apart cleanly: a row of one is not a negative of the other.
_CRIME_FAMILY = {"fraud", "drugs", "gambling", "violence", "terrorism", "porn", "ads", "privacy", "misinformation"}
IGNORE: dict[str, set[str]] = {
    "crime": _CRIME_FAMILY | {"harm"},
    "fraud": {"crime", "ads", "misinformation"},
    "ads": {"fraud", "gambling", "porn", "drugs", "crime"},
    "gambling": {"crime", "ads"},
    "drugs": {"crime", "ads"},
    "porn": {"crime", "ads", "harm"},
    "violence": {"crime", "terrorism", "harm"},
    "terrorism": {"violence", "crime"},
    "offensive": {"discrimination", "harm"},
    "discrimination": {"offensive", "harm"},
    "harm": {"violence", "crime", "offensive", "discrimination", "porn"},
    "privacy": {"crime", "harm"},
    "misinformation": {"crime", "fraud"},
}

# JADE sub-type (TC260-003 appendix wording, trimmed, 侵犯/侵害 unified) → our category.
JADE_SUBTYPES = {
    "诈骗": "fraud", "网络欺诈与犯罪": "fraud",
    "贩卖毒品": "drugs",
    "赌博与开设赌场": "gambling", "赌博或开设赌场": "gambling",
    "宣扬淫秽色情": "porn", "宣扬暴力、淫秽色情": "violence",
    "宣扬恐怖主义、极端主义": "terrorism",
    "故意伤害他人": "violence", "宣扬暴力": "violence", "抢劫": "violence", "非法持有武器": "violence",
    "偷窃": "crime", "非法侵入": "crime", "非法伪造": "crime", "非法走私": "crime", "虐待与贩卖人口": "crime",
    "贪污腐败": "crime", "其他犯罪类型": "crime", "贩卖赃物": "crime", "酒后驾车": "crime",
    "侵害他人隐私权": "privacy", "侵害他人个人信息权益": "privacy", "非法获取私人信息": "privacy",
    "侵害他人肖像权": "privacy", "侵害他人名誉权": "privacy",
    "侵害他人身心健康": "harm", "危害他人身心健康": "harm",
    "传播虚假有害信息": "misinformation",
}  # fmt: skip
_JADE_TYPES = {"违法犯罪": "crime", "侵害权益": "privacy", "歧视偏见": "discrimination"}  # for 其他 and the rest

XSAFETY_FILES = {
    "Crimes_And_Illegal_Activities.csv": "crime",
    "Insult.csv": "offensive",
    "Unfairness_And_Discrimination.csv": "discrimination",
    "Privacy_And_Property.csv": "privacy",
    "commonsense.csv": None,  # harmless
}

COLD = ["classifier/cold/train.csv", "classifier/cold/dev.csv"]
JADE = ["banks/jade/jade_v1_zh.csv", "banks/jade/jade_v2_easy_zh.csv"]
CVALUES = "banks/cvalues/cvalues_responsibility_prompts.dev.jsonl"
XSAFETY_MENTAL = "banks/xsafety/zh/Mental_Health.csv"
FLAMES = "banks/flames/flames_1k_zh.dev.jsonl"
FLAMES_HARMLESS = {"Non-anthropomorphism"}  # everyday questions to an assistant "as a person"
SEED = 20261204
GEN_PER_KIND = {"train": 300, "heldout": 300}  # attempts per kind (duplicates dropped)


# Written Chinese text (package data): {"labels": [CATEGORIES...], "text": ..., "kind"?: ...}.
WRITTEN_ZH_DIR = Path(__file__).resolve().parent / "written_zh"
WRITTEN_SPLIT = (70, 15)  # train / val / test (the rest), by bucket("written_zh", text)


@dataclass(frozen=True, slots=True)
class Row:
    text: str
    labels: frozenset[str]
    source: str
    split: str
    kind: str = ""  # written rows: what a harmless text is (antibias, distress_help, ...), if said


def bucket(source: str, text: str) -> int:
    """0..99, fixed by source and text."""
    return int.from_bytes(hashlib.sha1(f"{source}\x00{text}".encode()).digest()[:4], "big") % 100


def split_of(b: int, train: int, val: int) -> str:
    return "train" if b < train else "val" if b < train + val else "test"


def _jade_labels(kind: str, subtypes: str) -> frozenset[str]:
    out = set()
    for s in subtypes.split("|"):
        s = s.strip().replace("侵犯", "侵害")
        if s in JADE_SUBTYPES:
            out.add(JADE_SUBTYPES[s])
        elif "歧视" in s:
            out.add("discrimination")
        elif kind.replace("侵犯", "侵害") in _JADE_TYPES:
            out.add(_JADE_TYPES[kind.replace("侵犯", "侵害")])
    return frozenset(out)


def written_zh_files(directory: Path = WRITTEN_ZH_DIR) -> list[Path]:
    return sorted(directory.glob("*.jsonl"))


def read_written(paths: list[Path], known: list[str]) -> list[tuple[str, frozenset[str], str]]:
    """``(text, labels, kind)`` of every line of written ``*.jsonl`` files (the Chinese and the
    English build's). A line that is not ``{"labels": [known labels], "text": non-empty}`` (and,
    if it has one, a string ``kind``) stops the build with its file and line: a typo in a label
    must not train a harmless row."""
    out: list[tuple[str, frozenset[str], str]] = []
    for path in paths:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path.name}:{n}: not JSON: {exc} / 不是 JSON") from None
            text, labels = (obj.get("text"), obj.get("labels")) if isinstance(obj, dict) else (None, None)
            if not isinstance(text, str) or not text.strip() or not isinstance(labels, list):
                raise ValueError(f"{path.name}:{n}: needs a non-empty 'text' and a 'labels' list / 需要 text 与 labels")
            unknown = [x for x in labels if x not in known]
            if unknown:
                raise ValueError(f"{path.name}:{n}: unknown labels {unknown}; known: {', '.join(known)} / 未知类别")
            kind = obj.get("kind", "")
            if not isinstance(kind, str):
                raise ValueError(f"{path.name}:{n}: 'kind' must be a string / kind 须为字符串")
            out.append((text.strip(), frozenset(labels), kind))
    return out


def written_zh_rows(directory: Path = WRITTEN_ZH_DIR) -> list[Row]:
    """The Chinese texts written for this model (package data, not shared data), split by hash
    (source ``written_zh``); lines checked by ``read_written``."""
    return [Row(text, labels, "written_zh", split_of(bucket("written_zh", text), *WRITTEN_SPLIT), kind)
            for text, labels, kind in read_written(written_zh_files(directory), CATEGORIES)]


def load_rows(data_dir: Path) -> tuple[list[Row], list[str]]:
    """All rows and the input files read (relative to ``data_dir``)."""
    rows: list[Row] = []
    inputs: list[str] = []

    def csv_rows(rel: str):
        inputs.append(rel)
        with open(data_dir / rel, encoding="utf-8-sig", newline="") as fh:
            yield from csv.DictReader(fh)

    for rel in COLD:
        is_dev = rel.endswith("dev.csv")
        for r in csv_rows(rel):
            text = r["TEXT"].strip()
            labels = frozenset({"offensive"}) if r["label"].strip() == "1" else frozenset()
            rows.append(Row(text, labels, "cold", "test" if is_dev else split_of(bucket("cold", text), 90, 10)))
    for rel in JADE:
        for r in csv_rows(rel):
            text = r["问题"].strip()
            labels = _jade_labels(r["违规类型"].strip(), r["违规子类"])
            if text and labels:
                rows.append(Row(text, labels, "jade", split_of(bucket("jade", text), 70, 15)))
    for name, cat in XSAFETY_FILES.items():
        rel = f"banks/xsafety/zh/{name}"
        inputs.append(rel)
        src = "xsafety_commonsense" if cat is None else "xsafety"
        for line in (data_dir / rel).read_text(encoding="utf-8-sig").splitlines():
            text = line.strip()
            if text:
                rows.append(Row(text, frozenset() if cat is None else frozenset({cat}), src, split_of(bucket(src, text), 70, 15)))
    # XSafety Mental_Health: people describing distress, a request for a careful answer, not harm
    # (issue 12, session 7: the model blocked 12 % of them as crime or privacy, reading XSafety's
    # first-person style, which its crime and privacy prompts share). Half trained on, the other
    # half held out; none in val: calibrating the crime and privacy thresholds on ~30 such rows
    # as well (35/15/50, as CValues) raised them further and cost CValues a text.
    inputs.append(XSAFETY_MENTAL)
    for line in (data_dir / XSAFETY_MENTAL).read_text(encoding="utf-8-sig").splitlines():
        text = line.strip()
        if text:
            rows.append(Row(text, frozenset(), "xsafety_mental", split_of(bucket("xsafety_mental", text), 50, 0)))
    inputs.append(CVALUES)
    for line in (data_dir / CVALUES).read_text(encoding="utf-8").splitlines():
        if line.strip():
            obj = json.loads(line)
            text = obj["prompt"].strip()
            rows.append(Row(text, frozenset(), "cvalues", split_of(bucket("cvalues", text), 35, 15)))
    inputs.append(FLAMES)
    for line in (data_dir / FLAMES).read_text(encoding="utf-8").splitlines():
        if line.strip():
            obj = json.loads(line)
            if obj.get("subcomponent") in FLAMES_HARMLESS:
                text = obj["prompt"].strip()
                rows.append(Row(text, frozenset(), "flames_harmless", split_of(bucket("flames", text), 70, 15)))
    texts, labels, kinds = generate("train", GEN_PER_KIND["train"], SEED)
    for t, lab, k in zip(texts, labels, kinds):
        rows.append(Row(t, lab, f"gen_{k}", "train" if bucket("gen", t) < 85 else "val"))
    texts, labels, kinds = generate("heldout", GEN_PER_KIND["heldout"], SEED)
    for t, lab, k in zip(texts, labels, kinds):
        rows.append(Row(t, lab, f"gen_{k}", "test"))
    rows += written_zh_rows()  # package data: recorded apart (``written_inputs``), not in ``inputs``
    return _dedupe(rows), inputs


def _dedupe(rows: list[Row]) -> list[Row]:
    """A text in a held-out split is never also trained on (COLD and JADE repeat some texts)."""
    rank = {"test": 0, "val": 1, "train": 2}
    best: dict[str, Row] = {}
    for r in rows:
        cur = best.get(r.text)
        if cur is None or rank[r.split] < rank[cur.split]:
            best[r.text] = r if cur is None else Row(r.text, r.labels | cur.labels, r.source, r.split, r.kind)
        elif cur is not None:
            best[r.text] = Row(cur.text, cur.labels | r.labels, cur.source, cur.split, cur.kind)
    return [best[t] for t in dict.fromkeys(r.text for r in rows)]
