"""Build step ``classifier_en``: the shipped English classifier (``shipped/classifier_en.npz``).

Opt-in: the packaged ``default.yaml`` does not list it (session 14: in the whole pipeline it
flagged 9 of 267 harmless OpenAI test rows, over the 3 % bar for a default; XSTest safe 4.0 %);
a config adds ``{type: classifier, name: classifier_en, model: pkg:shipped/classifier_en.npz}``.

The shipped Chinese classifier declares ``min_han_share`` and judges no English text; this model
is its mirror image: trained on English only, it declares ``max_han_share`` (``MAX_HAN_SHARE``)
and the check leaves a text whose letters are more than that share Han to the Chinese model,
*before* scoring it (``classifier/check.py``), so Chinese messages pay one script count for it.

Same learner and features as the Chinese build (``classifier.train.train_multi``: one NB-LR per
category over hashed character 1-3-grams of the normalised text; the normaliser lowercases
Latin and drops spaces), no word table. Categories are the policy's, so TC260 codes apply:
OpenAI moderation S/S3 -> porn, H/H2 -> discrimination, HR -> offensive, V/V2 -> violence,
SH -> harm; XSafety en and JADE v1 en add privacy (and insult -> offensive, discrimination);
their crime rows are labelled crime, a category the model does not score (``DROPPED``).

Sources (all under the shared data dir, licences allow training; shared/data/README.md):

* ``moderation/openai_samples_1680.jsonl.gz`` (MIT): a key 1 -> the mapped category; a row with
  no 1 is harmless. A key *missing* is unknown: the row is left out of that category's
  negatives (a marker label ``?cat`` that ``IGNORE`` names) but counts as harmless when
  thresholds are calibrated and figures read, as the data's own "not flagged" count does.
  Split 50 / 25 / 25 (train / val / test).
* XSafety en (Apache-2.0): the files whose prompts are harmful themselves (crimes, insult,
  discrimination, privacy) -> those categories, commonsense -> harmless, 70 / 15 / 15;
  Mental_Health -> harmless (people describing distress), 50 / - / 50. The other files
  (``XSAFETY_UNUSED``: ethics, physical harm, instruction attacks...) mix harmless and harmful
  prompts: never trained on, only measured (share flagged per file). Decided before measuring,
  as the Chinese build decided for the parallel zh files.
* JADE v1 en (MIT, 80 questions): sub-types mapped as the Chinese build maps them, 70 / 15 / 15.
* Generated text (``GEN`` below, written for this step): harmful messages of each category and
  harmless look-alikes (news about violence, medical and safety questions, anti-hate
  statements, refusals, support for someone in distress, figurative and technical uses of
  violent words, history, fiction and games, sex education, everyday chat). Every fourth phrase
  of each slot is held out; a held-out text takes one slot from those (test), the others are
  split 85 / 15 (train / val).
* Written English text (``build/written_en/*.jsonl``, package data, session 14): harmful messages
  of each label and hard harmless look-alikes (violent words used innocently, definitions,
  fiction, public figures, ...), written for this model without reading any data set; split
  70 / 15 / 15 by hash (source ``written_en``), weighted ``WRITTEN_WEIGHT``, recorded in the
  manifest (``written_inputs``) with sha256. A bad line stops the build with file:line.

Splits are decided by ``sha256(source NUL text)`` before anything is trained. Thresholds: on the
val splits only, per category, within a share of *each* harmless val source (``MAX_FPR``;
openai, generated, written, the rest). ``crime`` is not scored (``DROPPED``: see there). Figures in the manifest are read on the test splits, the XSafety
files never trained on, and XSTest's prompts (evaluation only, never trained or calibrated on;
recorded under ``measured_on``).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import random
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fenghuo.checks.build import artefact_record, file_record
from fenghuo.checks.build.classifier_data import _jade_labels
from fenghuo.checks.classifier.features import design_matrix
from fenghuo.checks.classifier.model import Model
from fenghuo.checks.classifier.train import MAX_N, calibrate, codes_of, train_multi

OUT = "classifier_en.npz"
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

BITS = 18
SEED = 20261206
GEN_PER_KIND = {"train": 160, "heldout": 80}  # attempts per kind (duplicates dropped)
C = dict.fromkeys(LABELS, 2.0)
POS_WEIGHT = dict.fromkeys(LABELS, 2.0)
# Share of harmless val rows of each source each category may flag; ~3 % in all.
# Budgets: a category may flag floor(b * n) of each harmless val source's n rows. With ~290
# openai harmless val rows, 0.004 lets each category flag 1 of them; 7 categories doing so flag
# at most 7 (2.4 %). (Session 14's first build split openai 60 / 15 / 25 with 0.006: 1 of 175
# each, and read 7.5 % of harmless test rows flagged: per-category floors add up.)
MAX_FPR = dict.fromkeys(LABELS, 0.004)
# openai rows: bucket < 50 train, < 75 val, else test (the test rows are those of the first build).
OPENAI_SPLIT = (50, 25)
GEN_WEIGHT = 0.3  # generated rows (harmful and harmless) in the regression
# Written rows (build/written_en) in the regression. Chosen on val among 0.5 / 1 / 2 / 4 (rule:
# the best mean of OpenAI val any-harm recall and written val harmful recall at the calibrated
# thresholds; within 0.005 of it, the smallest): 0.176 / 0.176 / 0.156 / 0.175.
WRITTEN_WEIGHT = 0.5
# Trained on English only: a text whose letters are more than this share Han is not judged.
MAX_HAN_SHARE = 0.25


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


def split_of(b: int, train: int, val: int) -> str:
    return "train" if b < train else "val" if b < train + val else "test"


def _lines(path: Path) -> list[str]:
    """One prompt a line (XSafety: no header, some quoted): the CSV's first field."""
    out = []
    with open(path, encoding="utf-8-sig", newline="") as fh:
        for rec in csv.reader(fh):
            text = ",".join(rec).strip().strip(",").strip()
            if text:
                out.append(text)
    return out


# --- Generated text ------------------------------------------------------------------------
# A kind: (categories, slots); a text joins one phrase of each slot with spaces (None: left out).
GROUPS = ["immigrants", "Muslims", "Jews", "black people", "women", "gay people", "trans people", "Mexicans", "Asians", "disabled people",
          "Christians", "old people", "refugees", "Arabs", "Indians", "poor people"]  # fmt: skip
PEOPLE = ["my neighbor", "my boss", "my ex", "that teacher", "my coworker", "the guy next door", "my stepdad", "her boyfriend", "the landlord", "my classmate"]

GEN: dict[str, tuple[tuple[str, ...], list[list]]] = {
    "porn": (("porn",), [
        ["send me", "i want to see", "show me", "post more", "dm me your", "trade", "selling", "looking for"],
        ["your nudes", "naked pics", "explicit videos of you", "dirty pics", "pussy pics", "dick pics", "hardcore porn clips", "sex tapes", "your tits"],
        [None, "right now", "tonight", "babe", "for cash", "no limits", "so i can jerk off", "and make me horny"],
    ]),
    "porn_act": (("porn",), [
        ["i want to", "let me", "tonight i will", "i'm going to", "come over and i'll", "i can't wait to"],
        ["fuck you hard", "rip your clothes off and fuck you", "suck your cock", "lick your pussy", "make you cum", "ride you until you scream", "bend you over the bed"],
        [None, "all night", "until you beg", "while you moan my name", "slowly", "like the slut you are"],
    ]),
    "porn_ad": (("porn",), [
        ["hot horny singles", "escort service", "live sex cams", "xxx videos", "barely legal teens", "milfs", "naughty girls", "nude webcam shows"],
        ["in your area", "waiting for you", "24/7", "uncensored", "full hd", "free to watch"],
        ["click here", "sign up now", "text me", "link in bio", "hookups tonight", None],
    ]),
    "hate": (("discrimination",), [
        ["{g}", "all {g}", "these {g}", "filthy {g}", "you {g}"],
        ["are subhuman", "are vermin", "are a disease on this country", "are too stupid to vote", "should be deported", "are ruining everything",
         "are animals", "should not be allowed to breed", "are all criminals", "are inferior", "don't deserve rights", "are parasites"],
        [None, "and everyone knows it", "period", "it's a fact", "honestly", "get them out"],
    ]),
    "hate_threat": (("discrimination", "violence"), [
        ["we should", "someone needs to", "i will", "it's time to", "let's"],
        ["kill all", "exterminate the", "wipe out the", "gas the", "shoot every one of the", "burn the homes of the"],
        ["{g}"],
        [None, "before it's too late", "tonight", "they deserve it", "one by one"],
    ]),
    "harass": (("offensive",), [
        ["you are", "you're", "what a", "shut up you", "look at this", "nobody likes you, you"],
        ["worthless idiot", "pathetic loser", "disgusting pig", "stupid bitch", "fat cow", "ugly piece of shit", "retard", "brainless moron",
         "dumb whore", "waste of oxygen", "fucking clown", "useless asshole"],
        [None, "go away", "everyone laughs at you", "do us all a favor and disappear", "lol", "you should be ashamed"],
    ]),
    "threat": (("violence",), [
        ["i will", "i'm going to", "i swear i'll", "tomorrow i will", "next time i see you i'll", "i want to"],
        ["beat you to death", "stab", "shoot", "slit the throat of", "break every bone of", "burn down the house of", "strangle", "bash in the skull of"],
        ["you", "{p}", "his whole family", "her", "everyone at school"],
        [None, "and enjoy it", "with a knife", "with my gun", "and nobody will find the body", "tonight"],
    ]),
    "violence_howto": (("violence",), [
        ["how do i", "tell me how to", "best way to", "step by step,", "what's the easiest way to"],
        ["make a pipe bomb", "kill {p}", "poison {p} without getting caught", "torture someone", "build a bomb to blow up", "hurt {p} so it leaves no marks",
         "shoot up a school", "beat someone unconscious"],
        [None, "quickly", "without anyone noticing", "at home", "and get away with it"],
    ]),
    "selfharm": (("harm",), [
        ["i want to", "i'm going to", "tonight i will", "i keep thinking i should", "i've decided to", "i just want to"],
        ["kill myself", "end my life", "cut myself again", "overdose on my pills", "hang myself", "jump off the bridge", "slit my wrists", "starve myself until i disappear"],
        [None, "nobody would care", "it's the only way out", "i'm done", "i have the pills ready", "goodbye everyone"],
    ]),
    "selfharm_howto": (("harm",), [
        ["what is the most painless way to", "how many pills does it take to", "how do i", "tell me the best way to", "how deep do i need to"],
        ["kill myself", "die in my sleep", "overdose", "cut to bleed out", "end it all", "hang myself", "hide my cuts and keep cutting"],
        [None, "quickly", "without anyone stopping me", "tonight", "for sure"],
    ]),
    "crime": (("crime",), [
        ["how can i", "teach me how to", "what's the best way to", "help me", "i need to know how to", "explain how to"],
        ["steal a car", "launder money", "make fake ids", "shoplift from walmart", "break into a house", "sell stolen credit cards", "cook meth",
         "smuggle drugs across the border", "counterfeit money", "rob a bank", "evade taxes with offshore accounts", "hack into a bank account"],
        [None, "without getting caught", "and not leave evidence", "fast", "so the police never find out"],
    ]),
    "privacy": (("privacy",), [
        ["find me", "give me", "look up", "i need", "get me", "post"],
        ["the home address of", "the phone number of", "the social security number of", "the bank details of", "the passwords of", "the medical records of"],
        ["{p}", "that journalist", "the girl from the gym", "my ex-wife", "this random guy on twitter", "my coworker"],
        [None, "so i can show up at her door", "without her knowing", "and dox him", "i want to track them"],
    ]),
    "privacy_track": (("privacy",), [
        ["how do i", "help me", "what app lets me"],
        ["secretly track", "read the texts of", "spy on", "hack the email of", "put a hidden camera on", "get into the phone of"],
        ["my wife", "my girlfriend", "{p}", "my employees", "my daughter's boyfriend"],
        [None, "without them knowing", "without consent", "remotely"],
    ]),
}  # fmt: skip

# Harmless text that uses the same words: the model must learn the act, not the topic.
HARMLESS: dict[str, list[list]] = {
    "news": [
        ["police said", "according to the report,", "officials confirmed", "witnesses said", "the court heard that", "reuters reports"],
        ["a man was stabbed", "two people were shot", "a bomb exploded", "the suspect killed three people", "a teenager died of an overdose",
         "the gunman opened fire", "a woman was assaulted", "the attack left dozens injured", "the riot turned violent"],
        ["near the station on friday", "in the city centre last night", "after an argument", "outside a school", "during the protest"],
        [None, "an investigation is ongoing", "the suspect has been arrested", "victims were taken to hospital", "police appealed for witnesses"],
    ],
    "medical": [
        ["what is the maximum safe dose of", "can i take", "what are the side effects of", "is it dangerous to mix alcohol with", "how long does it take for", "my doctor prescribed"],
        ["ibuprofen", "paracetamol", "antidepressants", "sleeping pills", "insulin", "codeine", "birth control pills", "blood thinners"],
        [None, "for a headache", "with my other medication", "during pregnancy", "to work", "should i worry"],
    ],
    "antihate": [
        ["{g}", "all people, including {g},", "our community stands with {g}:", "remember that {g}"],
        ["deserve the same respect as everyone", "should never be treated as inferior", "are not criminals because of who they are",
         "have the same rights as anyone else", "are our neighbors and friends", "should be safe from harassment"],
        [None, "calling them names is wrong", "hate has no place here", "stereotypes hurt real people", "please report hate speech"],
    ],
    "refusal": [
        ["i'm sorry, but", "sorry,", "as an ai assistant,", "i can't do that:", "i won't help with this:"],
        ["i can't help with making weapons", "i can't provide instructions for hurting someone", "i can't share someone's home address",
         "i won't write sexual content", "i can't help you track a person without consent", "i can't assist with stealing",
         "i won't insult people for you", "i can't give advice on self-harm"],
        [None, "if you're in danger, please contact local emergency services", "is there something else i can help with?",
         "if you are struggling, please talk to someone you trust"],
    ],
    "support": [
        ["my friend told me she wants to kill herself,", "my brother has been cutting himself,", "i've been feeling really depressed lately,",
         "someone in my class talks about suicide,", "my partner keeps threatening to hurt himself,"],
        ["how can i support them?", "what should i say?", "where can i find a suicide prevention hotline?", "who can we call for help?",
         "how do i get professional help?", "what are the warning signs?"],
    ],
    "figurative": [
        ["how do i kill", "what's the command to kill", "how can i shoot", "how do i execute", "i want to terminate", "how can i destroy"],
        ["a python process", "a background job in linux", "a photo in low light", "a sql query", "the container", "my opponent in chess",
         "the competition at the science fair", "a video for my vlog"],
        [None, "properly", "on ubuntu", "with my phone", "without losing data"],
    ],
    "idioms": [
        ["that comedian", "this song", "my sister", "the new chef", "our team", "honestly this pizza"],
        ["absolutely killed it", "slaps so hard", "is killing it at work", "blew the audience away", "murdered that karaoke song", "is to die for",
         "knocked it out of the park", "destroyed the exam"],
        [None, "last night", "lol", "i'm dying of laughter", "break a leg tomorrow"],
    ],
    "history": [
        ["why did", "what caused", "how many people died in", "what were the consequences of", "explain the history of"],
        ["world war ii", "the holocaust", "the rwandan genocide", "the attack on pearl harbor", "the atomic bombing of hiroshima", "the civil rights movement",
         "the french revolution", "the slave trade"],
        [None, "for my history essay", "in simple terms", "and how is it remembered today"],
    ],
    "fiction": [
        ["in my novel,", "in the video game,", "for my screenplay,", "in dungeons and dragons,", "in the movie,"],
        ["how does the detective figure out who poisoned the victim?", "how do i defeat the dragon boss?", "the villain threatens the hero; how should the hero respond?",
         "what's the best weapon to kill zombies?", "how should i describe a sword fight?", "how does the heist crew plan the bank robbery scene?"],
    ],
    "education": [
        ["what is", "can you explain", "how do i talk to my kids about", "what does the law say about", "how can i protect myself from"],
        ["consent", "safe sex", "online grooming", "domestic violence", "identity theft", "doxxing", "hate speech", "cyberbullying", "money laundering", "sexual harassment at work"],
        [None, "for a school project", "in simple words", "and how to report it"],
    ],
    "everyday": [
        ["can you help me", "i'd like to", "what's a good way to", "any tips to", "how do i"],
        ["plan a birthday party", "cook chicken breast", "write a cover letter", "fix a leaking tap", "learn spanish", "train my puppy",
         "save money for a trip", "choose a laptop", "sleep better", "start running"],
        [None, "this weekend", "on a budget", "thanks!", "please"],
    ],
    "safety": [
        ["how should i store", "what should i do if my child swallows", "is it safe to dispose of", "how do i safely handle"],
        ["bleach", "kitchen knives", "a hunting rifle", "old medication", "fireworks", "rat poison", "batteries"],
        [None, "at home", "with kids around", "according to the rules"],
    ],
}  # fmt: skip


def _pool(options: list, heldout: bool) -> list:
    """Every fourth phrase of a slot is held out; ``None`` (the slot left out) is in both."""
    picked = [o for i, o in enumerate(options) if o is None or (i % 4 == 3) == heldout]
    return picked or [o for o in options if o is not None]


def generate(split: str, per_kind: int, seed: int) -> list[tuple[str, frozenset[str], str]]:
    """(text, categories, kind) of generated messages; ``split``: "train" or "heldout"."""
    out: list[tuple[str, frozenset[str], str]] = []
    seen: set[str] = set()
    kinds = [(k, c, s) for k, (c, s) in sorted(GEN.items())] + [(f"neg_{k}", (), s) for k, s in sorted(HARMLESS.items())]
    for kind, cats, slots in kinds:
        rng = random.Random(f"{seed}:{split}:{kind}")
        for _ in range(per_kind):
            new = rng.randrange(len(slots)) if split == "heldout" else -1
            parts = [rng.choice(_pool(s, i == new)) for i, s in enumerate(slots)]
            r = rng.random()
            if r < 0.15:
                parts = [rng.choice(["hey", "lol", "honestly", "ok so", "listen,", "btw"])] + parts
            text = " ".join(p for p in parts if p).replace("{g}", rng.choice(GROUPS)).replace("{p}", rng.choice(PEOPLE))
            if rng.random() < 0.3:
                text = text[0].upper() + text[1:]
            if text in seen:
                continue
            seen.add(text)
            out.append((text, frozenset(cats), kind.split("_")[0] if not kind.startswith("neg_") else kind))
    return out


# --- Rows ----------------------------------------------------------------------------------


def written_en_files(directory: Path = WRITTEN_EN_DIR) -> list[Path]:
    return sorted(directory.glob("*.jsonl"))


def written_en_rows(directory: Path = WRITTEN_EN_DIR) -> list[Row]:
    """The English texts written for this model (package data, not shared data), split by hash
    (source ``written_en``). A line that is not ``{"labels": [known labels], "text": non-empty}``
    stops the build with its file and line: a typo in a label must not train a harmless row."""
    rows: list[Row] = []
    known = set(LABELS)
    for path in written_en_files(directory):
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
                raise ValueError(f"{path.name}:{n}: unknown labels {unknown}; known: {', '.join(LABELS)} / 未知类别")
            text = text.strip()
            rows.append(Row(text, frozenset(labels), "written_en", split_of(bucket("written_en", text), *WRITTEN_SPLIT)))
    return rows


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


# --- Measuring -----------------------------------------------------------------------------


def probs(model: Model, texts: list[str]) -> np.ndarray:
    return np.array([model.probs_codes(c) for c in codes_of(texts)]).reshape(len(texts), len(model.categories))


def flags(model: Model, texts: list[str]) -> np.ndarray:
    """bool[len(texts), K] as the check decides (texts under 3 normalised characters: none)."""
    th = np.array([model.thresholds.get(c, 0.5) for c in model.categories])
    short = np.array([c.size < 3 for c in codes_of(texts)])
    return (probs(model, texts) >= th) & ~short[:, None]


def _rate(f: np.ndarray) -> dict:
    return {"n": int(f.size), "flagged": int(f.sum()), "rate": round(float(f.mean()), 4) if f.size else 0.0}


def _pr(pred: np.ndarray, y: np.ndarray) -> dict:
    tp, fp, fn = int((pred & y).sum()), int((pred & ~y).sum()), int((~pred & y).sum())
    return {"n": int(y.sum()), "recall": round(tp / (tp + fn), 4) if tp + fn else 0.0, "precision": round(tp / (tp + fp), 4) if tp + fp else 0.0}


def measure(model: Model, test: list[Row], data_dir: Path) -> dict:
    """Held-out figures: the test splits, the XSafety files never trained on, XSTest."""
    out: dict = {}
    cats = model.categories
    oa = [r for r in test if r.source == "openai"]
    f = flags(model, [r.text for r in oa])
    anyf = f.any(1)
    harmful = np.array([bool(r.harm) for r in oa])
    out["openai_test"] = {
        "any": _pr(anyf, harmful) | {"rows": len(oa)},
        "harmless_flagged": _rate(anyf[~harmful]),
        "per_category": {c: _pr(f[:, k], np.array([c in r.harm for r in oa])) | {"any_recall": round(float(anyf[[c in r.harm for r in oa]].mean()), 4)}
                         for k, c in enumerate(cats) if any(c in r.harm for r in oa)},
    }  # fmt: skip
    for name in ("jade", "xsafety"):
        rs = [r for r in test if r.source == name]
        ff = flags(model, [r.text for r in rs])
        out[f"{name}_test"] = {
            "any_recall": _rate(ff.any(1)),
            "per_category": {c: _rate(ff[[c in r.harm for r in rs]].any(1)) for c in cats if any(c in r.harm for r in rs)},
        }
    wr = [r for r in test if r.source == "written_en"]
    if wr:
        fw = flags(model, [r.text for r in wr]).any(1)
        hw = np.array([bool(r.harm) for r in wr])
        out["written_en_test"] = {
            "harmful_flagged": _rate(fw[hw]), "harmless_flagged": _rate(fw[~hw]),
            "per_label": {c: _rate(fw[[c in r.harm for r in wr]]) for c in LABELS if any(c in r.harm for r in wr)},
        }
    for name in ("xsafety_commonsense", "xsafety_mental"):
        rs = [r for r in test if r.source == name]
        out[f"fpr_{name}"] = _rate(flags(model, [r.text for r in rs]).any(1))
    gen = [r for r in test if r.source.startswith("gen_")]
    fg = flags(model, [r.text for r in gen]).any(1)
    by = defaultdict(list)
    for r, v in zip(gen, fg):
        by[r.source].append(v)
    out["generated_heldout"] = {k: _rate(np.array(v)) for k, v in sorted(by.items())}
    out["xsafety_unused_flagged"] = {name: _rate(flags(model, texts).any(1)) for name, texts in xsafety_unused(data_dir).items()}
    xs = xstest(data_dir)
    fx = flags(model, [t for t, _, _ in xs]).any(1)
    lab = np.array([lb for _, _, lb in xs])
    out["xstest"] = {
        "safe_flagged": _rate(fx[lab == "safe"]), "unsafe_flagged": _rate(fx[lab == "unsafe"]),
        "safe_flagged_by_type": {t: _rate(fx[[(ty == t and lb == "safe") for _, ty, lb in xs]]) for t in sorted({ty for _, ty, lb in xs if lb == "safe"})},
    }  # fmt: skip
    return out


def _row_weight(r: Row, written_weight: float) -> float:
    return GEN_WEIGHT if r.source.startswith("gen_") else written_weight if r.source == "written_en" else 1.0


def fit(train: list[Row], val: list[Row], log=print, categories: list[str] | None = None, written_weight: float | None = None, x=None) -> Model:
    """Train on ``train`` and calibrate on ``val`` (the build's model; also what val-only
    comparisons of settings call; ``x`` may pass the design matrix of ``train``)."""
    cats = CATEGORIES if categories is None else categories
    ww = WRITTEN_WEIGHT if written_weight is None else written_weight
    texts = [r.text for r in train]
    if x is None:
        x = design_matrix(codes_of(texts), MAX_N, BITS)
    model = train_multi(
        texts, [r.labels for r in train], cats, IGNORE, C, MAX_N, BITS, POS_WEIGHT, lambda m: log(f"  {m}"), x,
        np.array([_row_weight(r, ww) for r in train]),
    )  # fmt: skip
    # Calibrate on the float16 weights the package ships, so thresholds match what is scored.
    model.weights = model.weights.astype(np.float16).astype(np.float32)
    src = np.array([r.source for r in val]).astype(str)
    oa, gen, wr = src == "openai", np.char.startswith(src, "gen_"), src == "written_en"
    # Each source of harmless val rows has its own budget: the written look-alikes (definitions,
    # fiction, public figures, innocent violent words) are not outvoted by the larger sources.
    groups = [oa, gen, wr, ~(oa | gen | wr)]
    calibrate(model, [r.text for r in val], [r.harm for r in val], MAX_FPR, groups=groups)
    return model


def build(data_dir: Path, out_dir: Path, log=print) -> dict:
    t0 = time.perf_counter()
    rows, inputs = load_rows(data_dir)
    train = [r for r in rows if r.split == "train"]
    val = [r for r in rows if r.split == "val"]
    test = [r for r in rows if r.split == "test"]
    log(f"  classifier_en: {len(train)} train, {len(val)} val, {len(test)} test rows")
    model = fit(train, val, log)
    figures = measure(model, test, data_dir)
    oa = figures["openai_test"]
    model.meta.update(
        {"built_by": "fenghuo.checks.build.classifier_en", "language": "en", "max_han_share": MAX_HAN_SHARE,
         "heldout": {"openai_any_recall": oa["any"]["recall"], "openai_harmless_flagged": oa["harmless_flagged"]["rate"],
                     "xstest_safe_flagged": figures["xstest"]["safe_flagged"]["rate"]}}
    )  # fmt: skip
    path = model.save(out_dir / OUT)
    counts: dict = defaultdict(lambda: defaultdict(int))
    for r in rows:
        counts[r.source][r.split] += 1
    return {
        "inputs": [file_record(data_dir, data_dir / rel) for rel in inputs],
        "written_inputs": [file_record(WRITTEN_EN_DIR, p) for p in written_en_files()],
        "measured_on": [file_record(data_dir, data_dir / rel) for rel in [XSTEST] + [f"{XSAFETY_DIR}/{n}" for n in XSAFETY_UNUSED]],
        "artefacts": [artefact_record(out_dir, path)],
        "settings": {
            "categories": CATEGORIES, "openai_map": OPENAI_MAP, "ignore": {k: sorted(v) for k, v in IGNORE.items()}, "bits": BITS, "max_n": MAX_N,
            "labels": LABELS, "dropped": DROPPED, "c": C, "pos_weight": POS_WEIGHT, "generated_weight": GEN_WEIGHT, "written_weight": WRITTEN_WEIGHT, "max_fpr_val": MAX_FPR, "storage": "float16", "seed": SEED,
            "generated_per_kind": GEN_PER_KIND, "max_han_share": MAX_HAN_SHARE,
            "split": "bucket = sha256(source NUL text)[:4] mod 100; openai <50 train, <75 val, else test; JADE en / XSafety en crimes, insult, "
                     "discrimination, privacy, commonsense <70 train, <85 val, else test; XSafety Mental_Health <50 train, else test; generated: "
                     "training phrases <85 train else val, held-out phrases test",
            "xsafety_unused": XSAFETY_UNUSED,
        },
        "thresholds": dict(model.thresholds),
        "rows": {k: dict(v) for k, v in sorted(counts.items())},
        "figures": figures,
        "seconds": round(time.perf_counter() - t0, 1),
    }  # fmt: skip
