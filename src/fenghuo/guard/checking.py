"""Running the content checks on a call's input and output, whole or streamed.

The guard depends only on the check interface (``fenghuo.checks.base``): anything with
``scan(text) -> Verdict`` will do, and ``stream()`` is used when the pipeline offers it. The
configured pipeline (``fenghuo.checks.pipeline.load_pipeline``) is the default; tests and SDK
users may pass their own.

Streams: no chunk that contains a blocking finding may reach the client, yet a word can be
split across chunks and a scanner may hold a hit back until it knows the word has ended. So
the filter holds back the last ``holdback`` characters (at least the longest word a check looks
for) and releases text only once it lies further back than that; a blocking finding cuts the
stream at its start, a mask finding is masked before release (``guard.stream_filter``).

A conversation's next turn is checked incrementally (``guard.input_verdicts``).
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from typing import Any

import msgspec

from fenghuo.checks.base import Action, Finding, Verdict

log = logging.getLogger(__name__)
MASK_CHAR = "*"


class DegradedChecks(ValueError):
    """The configured checks did not all load, and running without them was not allowed."""


def load_default_checks(path: str | None = None, allow_degraded: bool = False):  # a Pipeline, or None
    """The configured pipeline, or None (with a warning) when the checks package is missing.

    A configured check that cannot be loaded (a missing classifier model, an unreadable
    lexicon) refuses the start with :class:`DegradedChecks` naming each one, unless
    ``allow_degraded`` — the gateway's ``--allow-degraded-checks``, the SDK's
    ``allow_degraded_checks=True`` — in which case each is logged as a warning and the guard
    runs with the checks that did load (issue 12 item 1: no silent start without them).
    """
    try:
        from fenghuo.checks.pipeline import load_pipeline
    except ImportError:
        log.warning("fenghuo.checks.pipeline not available: guard runs without content checks / 内容检查不可用")
        return None
    pipe = load_pipeline(path, strict=False)
    lines = [d.line() for d in pipe.degraded]
    if lines and not allow_degraded:
        raise DegradedChecks(
            "content checks not all loaded; refusing to start (use --allow-degraded-checks, or "
            "allow_degraded_checks=True in the SDK, to run without them) / 内容检查未全部加载，拒绝启动: " + "; ".join(lines)
        )
    for line in lines:
        log.warning("running with degraded checks / 检查降级运行: %s", line)
    return pipe


def message_parts(messages: list[Any]) -> list[str]:
    """Every text a caller sent, in order (every role, not only the last user turn: checking
    one turn alone is a known bypass)."""
    parts: list[str] = []
    for m in messages:
        if not isinstance(m, dict):
            continue
        content = m.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(p.get("text", "") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return parts


def message_text(messages: list[Any]) -> str:
    """All text a caller sent, one text (:func:`message_parts` joined by newlines)."""
    return "\n".join(message_parts(messages))


def mask(text: str, findings: list[Finding], base: int = 0) -> str:
    """``text`` (starting at stream offset ``base``) with every mask finding's span masked."""
    spans = []
    for f in findings:
        if f.action.value != "mask":
            continue
        start, end = max(f.start - base, 0), min(f.end - base, len(text))
        if start < end:
            spans.append((start, end))
    if not spans:
        return text
    # Slices joined rather than a list of characters: a long chat history with one phone
    # number in it is masked at memory speed, not at a Python step per character.
    spans.sort()
    out, pos = [], 0
    for start, end in spans:
        if end <= pos:
            continue
        start = max(start, pos)
        out += (text[pos:start], MASK_CHAR * (end - start))
        pos = end
    out.append(text[pos:])
    return "".join(out)


def summarise(findings: list[Finding], blocked: bool, judgements: list[Any] | None = None) -> dict[str, Any]:
    """What a call event says about one side: ``categories`` of the findings that block or
    flag, ``risks`` of all findings, ``masked`` for the categories only masked (PII masked by the guard is not a
    violation by itself: issue 12 item 7), and for a judged answer ``refused`` (every judged
    choice refused) and ``compliance_risk`` (any choice complied with a harmful request)."""
    if not findings:  # most calls: the same dict without three sets and two sorts (~0.5 µs)
        out = {"blocked": blocked, "categories": [], "risks": []}
        if judgements:
            _judged(out, judgements)
        return out
    cats, risks, masked = set(), set(), set()
    for f in findings:
        (masked if f.action.value == "mask" else cats).add(f.category)
        if f.risk:  # every finding's risk code, masked ones too: what the text touched
            risks.add(f.risk)
    out: dict[str, Any] = {"blocked": blocked, "categories": sorted(cats), "risks": sorted(risks)}
    if masked:
        out["masked"] = sorted(masked - cats)
    if judgements:
        _judged(out, judgements)
    return out


def _judged(out: dict[str, Any], judgements: list[Any]) -> None:
    if len(judgements) == 1:  # one choice, the usual answer: no generator frames (~0.4 µs)
        j = judgements[0]
        out["refused"], out["compliance_risk"] = bool(j.refused), bool(j.compliance_risk)
        return
    out["refused"] = all(j.refused for j in judgements)
    out["compliance_risk"] = any(j.compliance_risk for j in judgements)


@dataclass
class Checked:
    """The outcome of checking one text: the verdict and the text to pass on (and, for an
    answer judged in the context of its prompt, the judgement)."""

    verdict: Verdict
    text: str
    blocked: bool
    judgement: Any = None  # fenghuo.checks.context.AnswerJudgement, or None when not judged
    # The input check's: the text its pipeline scanned (the whole input, or on a conversation's
    # next turn its new part), a suffix of ``text``; its normalisation can serve the answer
    # judge (:func:`judge_prompt`). None when ``text`` is not what was scanned (masked).
    scanned: str | None = field(default=None, compare=False, repr=False)

    @property
    def summary(self) -> dict[str, Any]:
        return summarise(self.verdict.findings, self.blocked, [self.judgement] if self.judgement is not None else None)


COMPLIANCE = "compliance"  # the category of a harmful compliance, with the action the guard's policy gives it


def judge_answer(judge, prompt: str, answer: str, checked: Checked, action: str = "flag", prompt_normalised: Any = None) -> Checked:
    """``checked`` (the answer's text checks) plus the judgement of ``answer`` as a reply to
    ``prompt``: a compliance risk adds a ``compliance`` finding per risk code over the whole
    answer, with ``action`` (flag: reported; block: the answer is replaced).

    A full refusal without compliance risk clears the text checks' topic findings (a lexicon
    word such as 炸药 in 「我不能提供制作炸药的方法」): they neither block the refusal nor count
    as a violation; mask findings stay (the refusal may still hold personal information). The
    same rule as ``fenghuo scan --pairs`` (checks/pairs.py), but only for *full* refusals: a
    partial one keeps every finding. ``prompt_normalised``: :func:`judge_prompt`'s, for a judge
    that takes it."""
    if judge is None or not prompt or not answer:
        return checked
    n = _normalised_by_scan(checked.verdict, answer, judge)
    if prompt_normalised is not None:
        j = judge.judge(prompt, answer, answer_normalised=n, prompt_normalised=prompt_normalised)
    else:
        j = judge.judge(prompt, answer, answer_normalised=n) if n is not None else judge.judge(prompt, answer)
    if not j.compliance_risk:
        if j.refused and not j.partial_refusal and checked.verdict.findings:
            v = checked.verdict
            kept = [f for f in v.findings if f.action is Action.MASK]
            if len(kept) < len(v.findings):
                return Checked(Verdict(kept, v.elapsed_us, v.checks, list(v.errors)), mask(answer, kept), False, j)
        return Checked(checked.verdict, checked.text, checked.blocked, j)
    act = Action(action)
    extra = [Finding(COMPLIANCE, 0, len(answer), "answer-judge", act, r, round(j.score, 4)) for r in (j.risks or [None])]
    v = checked.verdict
    verdict = Verdict(list(v.findings) + extra, v.elapsed_us + j.elapsed_us, (*v.checks, "answer-judge"), list(v.errors))
    return Checked(verdict, checked.text, checked.blocked or act is Action.BLOCK, j)


def _normalised_by_scan(verdict: Verdict, text: str, judge) -> Any:
    """The answer as the output check's pipeline normalised it, when the judge normalises the
    same way, so the judge need not normalise it again (~1.5 µs per 100 characters). None when
    there is none to share; the judge then normalises it itself, to the same codes."""
    options = getattr(getattr(judge, "normaliser", None), "options", None)
    lazy = verdict.model_scores
    if options is None or not hasattr(lazy, "normalised"):
        return None
    return lazy.normalised(text, options)


_TAKES_PROMPT: dict[type, bool] = {}


def _takes_prompt(judge) -> bool:
    """Whether the judge's ``judge()`` takes ``prompt_normalised`` (asked once per judge class)."""
    cls = type(judge)
    got = _TAKES_PROMPT.get(cls)
    if got is None:
        import inspect

        try:
            got = "prompt_normalised" in inspect.signature(judge.judge).parameters
        except (TypeError, ValueError, AttributeError):
            got = False
        _TAKES_PROMPT[cls] = got
    return got


def _prompt_chars(judge) -> int:
    chars = getattr(judge, "prompt_chars", None)
    return chars if isinstance(chars, int) else _default_prompt_chars()


@functools.cache
def _default_prompt_chars() -> int:
    """``checks.context.PROMPT_CHARS``, imported once: an import statement per call was ≈ 1 µs."""
    try:
        from fenghuo.checks.context import PROMPT_CHARS
    except ImportError:
        return 2000
    return PROMPT_CHARS


def judge_prompt(checked: Checked | None, judge) -> Any:
    """The input check's normalisation of what the answer judge reads of the prompt (its last
    ``PROMPT_CHARS`` characters), for a judge that takes it (``prompt_normalised``): the judge
    normalised up to 2,000 characters the input check had just normalised. None when there is
    none to share: no such judge, the input was masked (the judge reads the masked text), the
    check scanned less than those characters (a conversation's next turn with a short new
    part), or characters within them were dropped or expanded (a slice of the whole text's
    normalisation then needs its map rebuilt, which costs what normalising them again does)."""
    if checked is None or checked.scanned is None or judge is None or not _takes_prompt(judge):
        return None
    scanned = checked.scanned
    want = min(len(checked.text), _prompt_chars(judge))
    if len(scanned) < want:
        return None
    n = _normalised_by_scan(checked.verdict, scanned, judge)
    if n is None or n.length != len(scanned):
        return None
    if len(scanned) == want:
        return n
    if n.steps is not None:
        return None
    # One code per character: the last ``want`` codes are the last ``want`` characters'.
    return msgspec.structs.replace(n, codes=n.codes[-want:], length=want, raw=None if n.raw is None else n.raw[-want:], packed=None)


EMPTY = Verdict()


def check_text(checks, text: str) -> Checked:
    if checks is None or not text:
        return Checked(EMPTY, text, False)
    v = checks.scan(text)
    if not v.findings:
        return Checked(v, text, False)
    return Checked(v, text if v.blocked else mask(text, v.findings), v.blocked)


def __getattr__(name: str) -> Any:
    """``InputVerdicts``, ``InputJob`` and ``OVERLAP`` live in ``guard.input_verdicts`` (which
    imports this module); still importable from here, as before."""
    if name in ("InputVerdicts", "InputJob", "OVERLAP"):
        from fenghuo.guard import input_verdicts

        return getattr(input_verdicts, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
