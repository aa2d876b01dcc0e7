"""The English classifier's training sources, each with its categories and a fixed split
(build step ``classifier_en``; its docstring says what is used and why). Splits are decided by
``sha256(source NUL text)`` before anything is trained."""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from fenghuo.checks.build.classifier_data import _jade_labels, read_written, split_of
from fenghuo.checks.build.templates_en import generate

# Every label a source may carry (the written files are checked against it) ...
LABELS = ["offensive", "discrimination", "porn", "violence", "harm", "crime", "privacy"]
# ... and the categories the model scores: ``LABELS`` less ``DROPPED``.
# Session 14, second build: ``crime`` is dropped. Its training rows (XSafety en crimes, JADE v1
# en) are *questions asking for* a crime, and char n-grams on ~1k English rows learn "a question"
# more than the intent. Rule fixed before the val reading: crime and privacy stay only if, on
# val, AUC(its score: its positives vs the written harmless look-alikes) >= 0.90, recall at its
# calibrated threshold >= 0.30, and recall on its *written* val positives (other phrasing than
# XSafety / JADE) >= 0.20. Crime: 0.895, 0.44, 1 of 8 -> dropped. Privacy: 0.921, 0.65, 3 of
# 11 -> stays (but on written positives alone its AUC is 0.79: most of its val recall is the
# generated privacy rows and XSafety). Its rows stay in the data: not harmless, and ignored by the
# related categories (violence, porn, privacy), as before.
DROPPED = ["crime"]
CATEGORIES = [c for c in LABELS if c not in DROPPED]
OPENAI = "moderation/openai_samples_1680.jsonl.gz"
OPENAI_MAP = {"S": "porn", "S3": "porn", "H": "discrimination", "H2": "discrimination", "HR": "offensive", "V": "violence", "V2": "violence", "SH": "harm"}
JADE_EN = "banks/jade/jade_v1_en.csv"
XSAFETY_DIR = "banks/xsafety/en"
XSAFETY_FILES = {
    "Crimes_And_Illegal_Activities_en.csv": "crime",
    "Insult_n.csv": "offensive",
    "Unfairness_And_Discrimination_n.csv": "discrimination",
    "Privacy_And_Property_n.csv": "privacy",
    "commonsense.csv": None,  # harmless
}
XSAFETY_MENTAL = "Mental_Health_n.csv"
XSAFETY_UNUSED = [
    "Ethics_And_Morality_n.csv", "Goal_Hijacking_n.csv", "Inquiry_With_Unsafe_Opinion_n.csv", "Physical_Harm_n.csv", "Prompt_Leaking_n.csv",
    "Reverse_Exposure_n.csv", "Role_Play_Instruction_n.csv", "Unsafe_Instruction_Topic_n.csv",
]  # fmt: skip
XSTEST = "banks/xstest/xstest_prompts.csv"  # evaluation only

# Categories the sources cannot tell apart cleanly: a row of one is not a negative of the other;
# ``?cat`` marks a row whose label for ``cat`` is unknown (an OpenAI key missing).
_RELATED = {
    "offensive": {"discrimination", "violence", "porn"},
    "discrimination": {"offensive", "violence"},
    "porn": {"offensive", "crime"},
    "violence": {"harm", "crime", "discrimination", "offensive"},
    "harm": {"violence"},
    "crime": {"violence", "privacy", "porn", "harm"},
    "privacy": {"crime"},
}
IGNORE: dict[str, set[str]] = {c: _RELATED[c] | {f"?{c}"} for c in LABELS}
# Written English text (package data, build/written_en/*.jsonl): harmful messages and hard
# harmless look-alikes, {"labels": [LABELS...], "text": ...}; [] is harmless.
WRITTEN_EN_DIR = Path(__file__).resolve().parent / "written_en"
WRITTEN_SPLIT = (70, 15)  # train / val / test (the rest)
SEED = 20261206
GEN_PER_KIND = {"train": 160, "heldout": 80}  # attempts per kind (duplicates dropped)
# openai rows: bucket < 50 train, < 75 val, else test (the test rows are those of the first build).
OPENAI_SPLIT = (50, 25)


@dataclass(frozen=True, slots=True)
class Row:
    text: str
    labels: frozenset[str]  # categories, plus ``?cat`` markers (unknown) for training only
    source: str
    split: str

    @property
    def harm(self) -> frozenset[str]:
        return frozenset(c for c in self.labels if not c.startswith("?"))


def bucket(source: str, text: str) -> int:
    """0..99, fixed by source and text (sha256)."""
    return int.from_bytes(hashlib.sha256(f"{source}\x00{text}".encode()).digest()[:4], "big") % 100


def _lines(path: Path) -> list[str]:
    """One prompt a line (XSafety: no header, some quoted): the CSV's first field."""
    out = []
    with open(path, encoding="utf-8-sig", newline="") as fh:
        for rec in csv.reader(fh):
            text = ",".join(rec).strip().strip(",").strip()
            if text:
                out.append(text)
    return out

# --- Rows ----------------------------------------------------------------------------------


def written_en_files(directory: Path = WRITTEN_EN_DIR) -> list[Path]:
    return sorted(directory.glob("*.jsonl"))


def written_en_rows(directory: Path = WRITTEN_EN_DIR) -> list[Row]:
    """The English texts written for this model (package data, not shared data), split by hash
    (source ``written_en``); lines checked by ``classifier_data.read_written``."""
    return [Row(text, labels, "written_en", split_of(bucket("written_en", text), *WRITTEN_SPLIT))
            for text, labels, _kind in read_written(written_en_files(directory), LABELS)]


def load_rows(data_dir: Path) -> tuple[list[Row], list[str]]:
    """All rows (train, val, test) and the input files read (relative to ``data_dir``)."""
    rows: list[Row] = []
    inputs: list[str] = [OPENAI]
    with gzip.open(data_dir / OPENAI, "rt", encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            obj = json.loads(line)
            text = str(obj["prompt"]).strip()
            if not text:
                continue
            labels = {cat for key, cat in OPENAI_MAP.items() if obj.get(key) == 1}
            unknown = {f"?{cat}" for key, cat in OPENAI_MAP.items() if key not in obj and cat not in labels}
            rows.append(Row(text, frozenset(labels | unknown), "openai", split_of(bucket("openai", text), OPENAI_SPLIT[0], OPENAI_SPLIT[1])))
    inputs.append(JADE_EN)
    with open(data_dir / JADE_EN, encoding="utf-8-sig", newline="") as fh:
        for r in csv.DictReader(fh):
            text = r["问题"].strip()
            labels = _jade_labels(r["违规类型"].strip(), r["违规子类"]) & set(LABELS)
            labels = labels or {"crime" if "违法" in r["违规类型"] else "privacy" if "权益" in r["违规类型"] else "discrimination"}
            if text:
                rows.append(Row(text, frozenset(labels), "jade", split_of(bucket("jade", text), 70, 15)))
    for name, cat in XSAFETY_FILES.items():
        rel = f"{XSAFETY_DIR}/{name}"
        inputs.append(rel)
        src = "xsafety_commonsense" if cat is None else "xsafety"
        for text in _lines(data_dir / rel):
            rows.append(Row(text, frozenset() if cat is None else frozenset({cat}), src, split_of(bucket(src, text), 70, 15)))
    rel = f"{XSAFETY_DIR}/{XSAFETY_MENTAL}"
    inputs.append(rel)
    for text in _lines(data_dir / rel):
        rows.append(Row(text, frozenset(), "xsafety_mental", split_of(bucket("xsafety_mental", text), 50, 0)))
    for text, cats, kind in generate("train", GEN_PER_KIND["train"], SEED):
        rows.append(Row(text, cats, f"gen_{kind}", "train" if bucket("gen", text) < 85 else "val"))
    for text, cats, kind in generate("heldout", GEN_PER_KIND["heldout"], SEED):
        rows.append(Row(text, cats, f"gen_{kind}", "test"))
    rows += written_en_rows()
    return _dedupe(rows), inputs


def _dedupe(rows: list[Row]) -> list[Row]:
    """A text in a held-out split is never also trained on; repeated texts merge their labels."""
    rank = {"test": 0, "val": 1, "train": 2}
    best: dict[str, Row] = {}
    for r in rows:
        cur = best.get(r.text)
        if cur is None:
            best[r.text] = r
            continue
        keep = r if rank[r.split] < rank[cur.split] else cur
        merged = (r.harm | cur.harm) | frozenset(x for x in r.labels | cur.labels if x.startswith("?") and x[1:] not in r.harm | cur.harm)
        best[r.text] = Row(keep.text, merged, keep.source, keep.split)
    return list(best.values())


def xsafety_unused(data_dir: Path) -> dict[str, list[str]]:
    return {name: _lines(data_dir / XSAFETY_DIR / name) for name in XSAFETY_UNUSED}


def xstest(data_dir: Path) -> list[tuple[str, str, str]]:
    """(prompt, type, label) of XSTest: evaluation only."""
    with open(data_dir / XSTEST, encoding="utf-8", newline="") as fh:
        return [(r["prompt"].strip(), r["type"].strip(), r["label"].strip()) for r in csv.DictReader(fh)]
