"""Reading a guard model's answer: the verdict, our categories and TC260 codes, and a score.

Three output styles:

- Qwen3Guard-Gen: ``Safety: Safe|Unsafe|Controversial`` / ``Categories: Violent, PII`` (and in
  response mode ``Refusal: Yes|No``, not used here);
- Llama Guard 3/4: ``safe``, or ``unsafe`` then a line of codes ``S1,S10``;
- ShieldLM: ``[答案] 安全|不安全|有争议`` / ``[分析] …`` (or ``[Answer] safe|unsafe|controversial`` /
  ``[Analysis] …``) — no category of its own; with our rules its analysis cites rule numbers.

Labels map through the data in ``llm_guard_rules.yaml``: a model's built-in labels through the
style's ``labels`` table (prompting ``native``), our own rule names and codes otherwise; both are
tried for Qwen3Guard names, since a model prompted with our rules may still answer with its own.
A label that maps nowhere is kept as ``guard.<label>`` rather than dropped: the model said unsafe.

A score is reported only when the model gives one: a ``Score: 0.93`` line, or — when the request
asked for ``logprobs`` — the probability mass the model put on the unsafe answer at the verdict
token (the approach ShieldLM's ``get_probability.py`` describes, done on the returned top
logprobs rather than on logits).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from fenghuo.checks.llm_guard_prompts import GuardRules

_THINK = re.compile(r"<think>.*?</think>", re.S)
_QWEN = re.compile(r"Safety:\s*(Safe|Unsafe|Controversial)", re.I)
_QWEN_CATS = re.compile(r"Categories:\s*(.+)", re.I)
_SHIELD = re.compile(r"\[\s*(?:答案|Answer)\s*\]\s*[:：]?\s*(不安全|有争议|安全|unsafe|controversial|safe)", re.I)
_SHIELD_RULE = re.compile(r"规则\s*(\d+)|第\s*(\d+)\s*条|\brule\s*#?\s*(\d+)", re.I)
_CODES = re.compile(r"\bS(\d+)\b")
_SCORE = re.compile(r"(?:score|probability|confidence|分数|概率|置信度)\s*[:：=]\s*([01](?:\.\d+)?|\.\d+)", re.I)
_SHIELD_LABELS = {"安全": "safe", "不安全": "unsafe", "有争议": "controversial"}
# Where the verdict word starts, per style (logprob scoring looks at the token after it).
_VERDICT_AFTER = {"qwen3guard": re.compile(r"Safety:\s*$", re.I), "shieldlm": re.compile(r"\[\s*(?:答案|Answer)\s*\]\s*$", re.I)}
_UNSAFE_WORDS = ("unsafe", "controversial", "不安全", "有争议")
_SAFE_WORDS = ("safe", "安全")


@dataclass(slots=True)
class GuardVerdict:
    label: str  # safe | unsafe | controversial
    categories: list[tuple[str, str | None]] = field(default_factory=list)  # (our category, risk or None = rule's)
    score: float | None = None  # P(unsafe) when the model gave one


def _clean(content: str) -> str:
    return _THINK.sub("", content).strip()


def _map_qwen(raw: str, rules: GuardRules, native: dict) -> tuple[str, str | None]:
    key = raw.strip().rstrip(".")
    by_label = {r.label.lower(): r for r in rules.rules}
    by_name = {r.category: r for r in rules.rules}
    low = {k.lower(): v for k, v in native.items()}
    if key.lower() in low:
        return low[key.lower()]
    rule = by_label.get(key.lower()) or by_name.get(key.lower())
    if rule is not None:
        return rule.category, None
    return "guard." + re.sub(r"\W+", "_", key.lower()).strip("_"), None


def _by_ids(ids: list[int], rules: GuardRules, style: str) -> list[tuple[str, str | None]]:
    by_id = {r.id: r for r in rules.rules}
    return [(by_id[i].category, None) if i in by_id else (f"guard.{'S' if style == 'llamaguard' else 'rule'}{i}", None) for i in ids]


def parse(content: str, style: str, rules: GuardRules, prompting: str) -> GuardVerdict:
    """The verdict in ``content``; ``ValueError`` naming the style when it is not one."""
    text = _clean(content)
    native = rules.labels.get(style, {}) if prompting == "native" else {}
    if style == "qwen3guard":
        m = _QWEN.search(text)
        if not m:
            raise ValueError(f"not a Qwen3Guard verdict: {text[:80]!r}")
        cats: list[tuple[str, str | None]] = []
        c = _QWEN_CATS.search(text)
        if c:
            for raw in c.group(1).split(","):
                if raw.strip() and raw.strip().lower() != "none":
                    cats.append(_map_qwen(raw, rules, rules.labels.get("qwen3guard", {})))
        verdict = GuardVerdict(m.group(1).lower(), cats)
    elif style == "llamaguard":
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        if not lines or lines[0].lower() not in ("safe", "unsafe"):
            raise ValueError(f"not a Llama Guard verdict: {text[:80]!r}")
        verdict = GuardVerdict(lines[0].lower())
        if verdict.label == "unsafe":
            ids = [int(n) for n in _CODES.findall(" ".join(lines[1:]))]
            if prompting == "native":
                verdict.categories = [native.get(f"S{i}", (f"guard.S{i}", None)) for i in ids]
            else:
                verdict.categories = _by_ids(ids, rules, style)
    elif style == "shieldlm":
        m = _SHIELD.search(text)
        if not m:
            raise ValueError(f"not a ShieldLM verdict: {text[:80]!r}")
        word = m.group(1).lower()
        verdict = GuardVerdict(_SHIELD_LABELS.get(word, word))
        if verdict.label != "safe" and prompting == "rules":
            analysis = text[m.end():]
            ids = [int(a or b or c) for a, b, c in _SHIELD_RULE.findall(analysis)]
            verdict.categories = _by_ids(list(dict.fromkeys(ids)), rules, style)
    else:
        raise ValueError(f"unknown guard style {style!r}; use qwen3guard, llamaguard or shieldlm")
    verdict.categories = list(dict.fromkeys(verdict.categories))
    s = _SCORE.search(text)
    if s:
        verdict.score = min(1.0, max(0.0, float(s.group(1))))
    return verdict


def _starts(token: str, words: tuple[str, ...]) -> bool:
    t = token.strip().lower()
    return bool(t) and any(w.startswith(t) or t.startswith(w) for w in words)


def logprob_score(logprobs: dict | None, style: str) -> float | None:
    """P(unsafe or controversial) at the verdict token, from OpenAI-style ``logprobs.content``
    (each token with ``top_logprobs``); None when the answer carries none or no verdict token.

    A candidate token counts as unsafe when it begins an unsafe word and not a safe one
    ("Un", "unsafe", "不"), as safe when it begins a safe word ("Safe", "安全"); the score is the
    unsafe share of the mass on either, so tokenisers that split the word still work.
    """
    content = (logprobs or {}).get("content") if isinstance(logprobs, dict) else None
    if not content:
        return None
    after = _VERDICT_AFTER.get(style)
    seen = ""
    for tok in content:
        token = str(tok.get("token", ""))
        if token.strip() and (after is None or after.search(seen)):
            unsafe = safe = 0.0
            for alt in tok.get("top_logprobs") or [{"token": token, "logprob": tok.get("logprob", 0.0)}]:
                p = math.exp(float(alt.get("logprob", -math.inf)))
                word = str(alt.get("token", ""))
                if _starts(word, _UNSAFE_WORDS) and not _starts(word, _SAFE_WORDS):
                    unsafe += p
                elif _starts(word, _SAFE_WORDS):
                    safe += p
            return unsafe / (unsafe + safe) if unsafe + safe > 0 else None
        seen += token
    return None
