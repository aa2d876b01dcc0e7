"""Running the content checks on a call's input and output, whole or streamed.

The guard depends only on the check interface (``fenghuo.checks.base``): anything with
``scan(text) -> Verdict`` will do, and ``stream()`` is used when the pipeline offers it. The
configured pipeline (``fenghuo.checks.pipeline.load_pipeline``) is the default; tests and SDK
users may pass their own.

Streams: no chunk that contains a blocking finding may reach the client, yet a word can be
split across chunks and a scanner may hold a hit back until it knows the word has ended. So
the filter holds back the last ``holdback`` characters (at least the longest word a check looks
for) and releases text only once it lies further back than that; a blocking finding cuts the
stream at its start, a mask finding is masked before release.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

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


def message_text(messages: list[Any]) -> str:
    """All text a caller sent (every role, not only the last user turn: checking one turn
    alone is a known bypass)."""
    parts: list[str] = []
    for m in messages:
        if not isinstance(m, dict):
            continue
        content = m.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(p.get("text", "") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return "\n".join(parts)


def mask(text: str, findings: list[Finding], base: int = 0) -> str:
    """``text`` (starting at stream offset ``base``) with every mask finding's span masked."""
    chars = None
    for f in findings:
        if f.action.value != "mask":
            continue
        start, end = max(f.start - base, 0), min(f.end - base, len(text))
        if start >= end:
            continue
        chars = chars or list(text)
        chars[start:end] = MASK_CHAR * (end - start)
    return "".join(chars) if chars is not None else text


def summarise(findings: list[Finding], blocked: bool, judgements: list[Any] | None = None) -> dict[str, Any]:
    """What a call event says about one side: ``categories`` of the findings that block or
    flag, ``risks`` of all findings, ``masked`` for the categories only masked (PII masked by the guard is not a
    violation by itself: issue 12 item 7), and for a judged answer ``refused`` (every judged
    choice refused) and ``compliance_risk`` (any choice complied with a harmful request)."""
    cats, risks, masked = set(), set(), set()
    for f in findings:
        (masked if f.action.value == "mask" else cats).add(f.category)
        if f.risk:  # every finding's risk code, masked ones too: what the text touched
            risks.add(f.risk)
    out: dict[str, Any] = {"blocked": blocked, "categories": sorted(cats), "risks": sorted(risks)}
    if masked:
        out["masked"] = sorted(masked - cats)
    if judgements:
        out["refused"] = all(j.refused for j in judgements)
        out["compliance_risk"] = any(j.compliance_risk for j in judgements)
    return out


@dataclass
class Checked:
    """The outcome of checking one text: the verdict and the text to pass on (and, for an
    answer judged in the context of its prompt, the judgement)."""

    verdict: Verdict
    text: str
    blocked: bool
    judgement: Any = None  # fenghuo.checks.context.AnswerJudgement, or None when not judged

    @property
    def summary(self) -> dict[str, Any]:
        return summarise(self.verdict.findings, self.blocked, [self.judgement] if self.judgement is not None else None)


COMPLIANCE = "compliance"  # the category of a harmful compliance, with the action the guard's policy gives it


def judge_answer(judge, prompt: str, answer: str, checked: Checked, action: str = "flag") -> Checked:
    """``checked`` (the answer's text checks) plus the judgement of ``answer`` as a reply to
    ``prompt``: a compliance risk adds a ``compliance`` finding per risk code over the whole
    answer, with ``action`` (flag: reported; block: the answer is replaced).

    A full refusal without compliance risk clears the text checks' topic findings (a lexicon
    word such as 炸药 in 「我不能提供制作炸药的方法」): they neither block the refusal nor count
    as a violation; mask findings stay (the refusal may still hold personal information). The
    same rule as ``fenghuo scan --pairs`` (checks/pairs.py), but only for *full* refusals: a
    partial one keeps every finding."""
    if judge is None or not prompt or not answer:
        return checked
    j = judge.judge(prompt, answer)
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


EMPTY = Verdict()


def check_text(checks, text: str) -> Checked:
    if checks is None or not text:
        return Checked(EMPTY, text, False)
    v = checks.scan(text)
    if not v.findings:
        return Checked(v, text, False)
    return Checked(v, text if v.blocked else mask(text, v.findings), v.blocked)


class _OverlapScanner:
    """Streaming for a check that only scans whole texts: rescan the last ``overlap``
    characters with each chunk and keep findings that end in the new part."""

    def __init__(self, checks, overlap: int) -> None:
        self.checks, self.overlap = checks, overlap
        self.tail, self.base, self.seen = "", 0, set()
        self.findings: list[Finding] = []

    def feed(self, chunk: str) -> list[Finding]:
        window = self.tail + chunk
        out = []
        for f in self.checks.scan(window).findings:
            g = Finding(f.category, f.start + self.base, f.end + self.base, f.rule, f.action, f.risk, f.score)
            key = (g.start, g.end, g.category)
            if f.end > len(self.tail) and key not in self.seen:
                self.seen.add(key)
                out.append(g)
        cut = max(len(window) - self.overlap, 0)
        self.tail, self.base = window[cut:], self.base + cut
        self.findings += out
        return out

    def close(self) -> Verdict:
        return Verdict(list(self.findings))


@dataclass
class StreamFilter:
    """Feed the model's text as it arrives; get back what may be shown now."""

    checks: Any
    holdback: int = 32
    scanner: Any = None
    pending: str = ""  # received, not yet released
    released: int = 0  # characters released so far (stream offset of ``pending``)
    blocking: Finding | None = None
    findings: list[Finding] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Never hold back less than the longest word a lexicon check looks for.
        longest = max((getattr(c, "max_len", 0) or 0 for c in getattr(self.checks, "checks", ()) if isinstance(getattr(c, "max_len", 0), int)),
                      default=0)
        self.holdback = max(self.holdback, longest)
        if self.checks is not None and self.scanner is None:
            self.scanner = self.checks.stream() if hasattr(self.checks, "stream") else _OverlapScanner(self.checks, self.holdback)

    def feed(self, chunk: str) -> str:
        """Text that is safe to send now; empty once a blocking finding has cut the stream."""
        if self.blocking is not None:
            return ""
        if self.scanner is None:
            return chunk
        self.pending += chunk
        new = self.scanner.feed(chunk)
        return self._release(new, len(self.pending) - self.holdback)

    def close(self) -> str:
        """Release the rest after the scanner's final word (held-back hits, whole-text checks)."""
        if self.blocking is not None or self.scanner is None:
            return ""
        before = {(f.start, f.end, f.category) for f in self.findings}
        verdict = self.scanner.close()
        new = [f for f in verdict.findings if (f.start, f.end, f.category) not in before]
        return self._release(new, len(self.pending))

    def _release(self, new: list[Finding], upto: int) -> str:
        self.findings += new
        for f in new:
            if f.action.value == "block":
                self.blocking = f
                keep = max(f.start - self.released, 0)
                out = mask(self.pending[:keep], self.findings, self.released)
                self.released += keep
                self.pending = ""
                return out
        if upto <= 0:
            return ""
        out = mask(self.pending[:upto], self.findings, self.released)
        self.pending = self.pending[upto:]
        self.released += upto
        return out

    @property
    def verdict(self) -> Verdict:
        return Verdict(list(self.findings))
