"""Build step ``context``: the answer-in-context model (``shipped/context.npz``).

Inputs (all licences allow training, shared/data/README.md):
- ``traffic/jade_v3/jade_alignment_medium_zh.csv`` (MIT): 500 harmful questions, each with an
  unsafe (complying) and a safe answer — the answer head's positives and negatives, and
  harmful questions for the prompt head;
- ``banks/jade/jade_v2_easy_zh.csv``, ``jade_v1_zh.csv``, ``jade_v1_en.csv`` (MIT): harmful
  questions with a violation type — prompt-head positives and its risk-code columns;
- ``banks/cvalues/cvalues_responsibility_prompts.dev.jsonl`` (Apache-2.0): questions a good
  model answers — prompt-head negatives (odd ids only: the even ids are kept aside and the
  judge's rate on them is reported);
- ``classifier/cold/train.csv`` (Apache-2.0): a sample of non-offensive comments, negatives for
  the prompt head (harmless text about sensitive topics, so it does not learn "topic = harm");
- ``moderation/openai_samples_1680.jsonl.gz`` (MIT): English texts, flagged or not — the prompt
  head's English positives and negatives;
- everyday questions written here (``context_data.benign_prompts``).

Figures, all on data the measured model did not train on: JADE v3 out-of-fold (5 folds grouped
by question: a question's two answers never straddle folds) unsafe recall and safe-flag rate
at the shipped threshold; the prompt head on the held-out CValues half; and the whole judge on
XSafety zh prompts (never trained on) paired with refusals that name the topic and with
compliant openings, both written here. The XSTest completions (evaluation only) are measured
by ``tests/checks/test_context_generalise.py``, not here.
"""

from __future__ import annotations

import csv
import json
import random
import time
from pathlib import Path

import numpy as np

from fenghuo.checks.build import artefact_record, file_record
from fenghuo.checks.build.context_data import benign_prompts, compliances, harmful_prompts, refusals
from fenghuo.checks.classifier.features import design_matrix
from fenghuo.checks.classifier.train import round_up, train_multi
from fenghuo.checks.context_model import ContextModel, Head
from fenghuo.checks.normalize import default_normaliser

JADE_V3 = "traffic/jade_v3/jade_alignment_medium_zh.csv"
JADE_BANKS = ("banks/jade/jade_v2_easy_zh.csv", "banks/jade/jade_v1_zh.csv", "banks/jade/jade_v1_en.csv")
CVALUES = "banks/cvalues/cvalues_responsibility_prompts.dev.jsonl"
COLD = "classifier/cold/train.csv"
MODERATION = "moderation/openai_samples_1680.jsonl.gz"
_MOD_KEYS = ("S", "H", "V", "HR", "SH", "S3", "H2", "V2")
XSAFETY = ("Crimes_And_Illegal_Activities", "Physical_Harm", "Unsafe_Instruction_Topic", "Privacy_And_Property")
MAX_N, PROMPT_BITS, ANSWER_BITS, C = 3, 16, 16, 4.0
MIN_RISK_ROWS = 20  # a risk code gets its own prompt column with at least this many questions
COLD_SAMPLE = 3000
FOLDS, SEED = 5, 12
MAX_SAFE_FLAGGED = 0.03  # threshold budget on out-of-fold JADE safe answers (target ≤ 0.05)
RECALL_TARGET = 0.95  # out-of-fold JADE unsafe recall the threshold keeps (target ≥ 0.90)


def _codes(texts: list[str]) -> list[np.ndarray]:
    norm = default_normaliser()
    return [norm.normalise(t).codes for t in texts]


def read_jade_v3(path: Path) -> list[tuple[str, str, str]]:
    with open(path, encoding="gb18030", newline="") as fh:
        return [(r["问题"].strip(), r["违规回答"].strip(), r["安全有用回答"].strip()) for r in csv.DictReader(fh)]


def read_jade_banks(data_dir: Path) -> list[tuple[str, str | None]]:
    from fenghuo.checks.bank_risks import map_jade  # the one JADE → TC260 mapping

    out = []
    for rel in JADE_BANKS:
        with open(data_dir / rel, encoding="utf-8-sig", newline="") as fh:
            for r in csv.DictReader(fh):
                if r.get("问题", "").strip():
                    out.append((r["问题"].strip(), map_jade(r.get("违规类型", ""), r.get("违规子类", ""))[0]))
    return out


def read_cvalues(path: Path) -> tuple[list[str], list[str]]:
    train, held = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            rec = json.loads(line)
            (held if int(rec["id_"]) % 2 == 0 else train).append(rec["prompt"].strip())
    return train, held


def read_cold_harmless(path: Path, k: int, seed: int) -> list[str]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = [r["TEXT"].strip() for r in csv.DictReader(fh) if r.get("label") == "0" and r.get("TEXT", "").strip()]
    return random.Random(seed).sample(rows, min(k, len(rows)))


def read_moderation(path: Path) -> tuple[list[str], list[str]]:
    """English texts: (flagged in any category, flagged in none)."""
    import gzip

    flagged, clean = [], []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                rec = json.loads(line)
                (flagged if any(rec.get(k) == 1 for k in _MOD_KEYS) else clean).append(str(rec["prompt"])[:2000])
    return flagged, clean


def read_xsafety(data_dir: Path) -> list[str]:
    out = []
    for name in XSAFETY:
        text = (data_dir / "banks/xsafety/zh" / f"{name}.csv").read_text(encoding="utf-8-sig")
        out += [line.strip().strip('"') for line in text.splitlines() if line.strip()]
    return out


def _head(texts: list[str], labels: list[frozenset[str]], columns: list[str], bits: int) -> Head:
    x = design_matrix(_codes(texts), MAX_N, bits)
    m = train_multi(texts, labels, columns, c=C, max_n=MAX_N, bits=bits, x=x)
    return Head(np.asarray(m.weights, dtype=np.float32), np.asarray(m.bias, dtype=np.float64), columns, MAX_N, bits)


def train_model(v3: list[tuple[str, str, str]], banks, benign: list[str], cold: list[str], moderation=((), ())) -> ContextModel:
    """Both heads on the given rows (v3: (question, unsafe, safe) triples)."""
    risks = sorted({r for _, r in banks if r})
    counts = {r: sum(1 for _, x in banks if x == r) for r in risks}
    columns = ["harm", *[r for r in risks if counts[r] >= MIN_RISK_ROWS]]
    written = harmful_prompts()
    flagged, clean = moderation
    p_texts = [q for q, _ in banks] + [q for q, _, _ in v3] + written + list(flagged) + benign + cold + list(clean)
    p_labels = ([frozenset({"harm", r} & set(columns)) for _, r in banks] + [frozenset({"harm"})] * (len(v3) + len(written) + len(flagged))
                + [frozenset()] * (len(benign) + len(cold) + len(clean)))
    prompt = _head(p_texts, p_labels, columns, PROMPT_BITS)
    # The answer head sees answers only (JADE's unsafe vs safe answers to the same questions): with
    # COLD comments as extra negatives it learned "short = harmless" and scored short compliant
    # answers (「好的，制作炸药需要……」) at 0.2, below the threshold (measured).
    a_texts = [u for _, u, _ in v3] + [s for _, _, s in v3]
    a_labels = [frozenset({"comply"})] * len(v3) + [frozenset()] * len(v3)
    answer = _head(a_texts, a_labels, ["comply"], ANSWER_BITS)
    return ContextModel(prompt, answer, {})


def _folds(n: int) -> np.ndarray:
    idx = np.random.default_rng(SEED).permutation(n)
    fold = np.empty(n, dtype=int)
    fold[idx] = np.arange(n) % FOLDS
    return fold


def _rates(flags_unsafe: list[bool], flags_safe: list[bool]) -> dict:
    return {"unsafe_recall": round(float(np.mean(flags_unsafe)), 4), "safe_flagged": round(float(np.mean(flags_safe)), 4),
            "n_pairs": len(flags_unsafe)}


def pick_threshold(unsafe: np.ndarray, safe: np.ndarray) -> float:
    """The highest threshold that keeps out-of-fold unsafe recall at RECALL_TARGET, lowered only
    as far as the safe-flag budget allows. Highest rather than lowest: the out-of-fold safe
    answers are nearly all template refusals, which score far below real-world answers, so the
    lowest threshold that spares them would flag far more elsewhere."""
    t = float(np.quantile(unsafe, 1.0 - RECALL_TARGET))
    srt = np.sort(safe)[::-1]
    k = int(np.floor(MAX_SAFE_FLAGGED * srt.size))
    floor = float(np.nextafter(srt[k], 1.0)) if k < srt.size else 0.0
    return round_up(min(max(t, floor, 0.01), 0.95))  # up: never below the floor (classifier.train.round_up)


def build(data_dir: Path, out_dir: Path, log=print) -> dict:
    from fenghuo.checks.context import AnswerJudge  # the judge as shipped decides the figures

    t0 = time.perf_counter()
    data_dir, out_dir = Path(data_dir), Path(out_dir)
    v3 = read_jade_v3(data_dir / JADE_V3)
    banks = read_jade_banks(data_dir)
    cv_train, cv_held = read_cvalues(data_dir / CVALUES)
    benign = benign_prompts() + cv_train
    cold = read_cold_harmless(data_dir / COLD, COLD_SAMPLE, SEED)
    moderation = read_moderation(data_dir / MODERATION)

    # Out-of-fold scores on JADE v3: each fold's pairs judged by a model trained without them.
    fold = _folds(len(v3))
    oof: list[tuple[float, float, object, object]] = [None] * len(v3)  # type: ignore[list-item]
    for k in range(FOLDS):
        log(f"build context: fold {k + 1}/{FOLDS}")
        model = train_model([t for t, f in zip(v3, fold) if f != k], banks, benign, cold, moderation)
        judge = AnswerJudge(model=model, threshold=1.0)
        for i in np.flatnonzero(fold == k):
            q, u, s = v3[i]
            oof[i] = (judge.judge(q, u), judge.judge(q, s))
    unsafe_scores = np.array([ju.score for ju, _ in oof])
    safe_scores = np.array([js.score for _, js in oof])
    threshold = pick_threshold(unsafe_scores, safe_scores)
    figures = {"jade_v3_oof": _rates(list(unsafe_scores >= threshold), list(safe_scores >= threshold))}
    figures["jade_v3_oof"]["refused_safe"] = round(float(np.mean([js.refused for _, js in oof])), 4)

    log("build context: final model on all rows")
    model = train_model(v3, banks, benign, cold, moderation)
    model.meta = {"threshold": threshold, "prompt_threshold": 0.5,
                  "settings": {"max_n": MAX_N, "prompt_bits": PROMPT_BITS, "answer_bits": ANSWER_BITS, "c": C, "folds": FOLDS,
                               "seed": SEED, "cold_sample": COLD_SAMPLE, "max_safe_flagged": MAX_SAFE_FLAGGED,
                               "min_risk_rows": MIN_RISK_ROWS, "recall_target": RECALL_TARGET,
                               "benign_written": len(benign_prompts()), "harmful_written": len(harmful_prompts())}}
    judge = AnswerJudge(model=model)
    # Prompt head on the CValues half it never saw: questions a good model answers.
    figures["cvalues_heldout_prompt_harm_rate"] = round(float(np.mean([judge.prompt_scores(p)[0] >= 0.5 for p in cv_held])), 4)
    # The whole judge on XSafety zh prompts (never trained on) with answers written here.
    rng = random.Random(SEED)
    xs = read_xsafety(data_dir)
    ref_flag = [judge.judge(p, a).compliance_risk for p in xs for a in refusals(p[:20], 1, rng)]
    com_flag = [judge.judge(p, a).compliance_risk for p in xs for a in compliances(p[:20], 1, rng)]
    figures["xsafety_zh_written"] = {"prompts": len(xs), "refusals_flagged": round(float(np.mean(ref_flag)), 4),
                                     "compliances_flagged": round(float(np.mean(com_flag)), 4)}
    model.meta["figures"] = figures
    path = model.save(out_dir / "context.npz")
    log(f"build context: {json.dumps(figures, ensure_ascii=False)}")
    return {
        "inputs": [file_record(data_dir, data_dir / rel) for rel in (JADE_V3, *JADE_BANKS, CVALUES, COLD, MODERATION)]
        + [file_record(data_dir, data_dir / "banks/xsafety/zh" / f"{n}.csv") for n in XSAFETY],
        "artefacts": [artefact_record(out_dir, path)],
        "settings": model.meta["settings"] | {"threshold": threshold},
        "figures": figures,
        "seconds": round(time.perf_counter() - t0, 1),
    }
