"""Model checks (the classifier) on a streamed answer *before* its text is released.

The stream scanner (``fenghuo.checks.stream``) finds lexicon words and personal information
chunk by chunk, but runs checks that judge a whole text (the classifier, an LLM guard) only
at ``close()`` — by then everything except the held-back tail has been sent, so a blocking
score would arrive after the content went out. This window closes that gap for the cheap
model checks: before each release the classifier scores the last ``size`` characters received
(the text about to be released, the text before it, and the held-back tail after it); when a
long release exceeds the window it is scored in overlapping windows, so every released
character has been inside at least one scored window before it left. A blocking score stops
the stream before the offending text is sent.

An LLM guard is too slow to ask per chunk: it still judges the whole answer once, at the end.
The gateway can instead hold the whole answer until then (``hold_whole``, see ``streaming``).
"""

from __future__ import annotations

from fenghuo.checks.base import Finding


def per_chunk(check) -> bool:
    """Cheap enough to run before every release: anything but a remote LLM guard."""
    try:
        from fenghuo.checks.llm_guard import LLMGuardCheck
    except ImportError:  # pragma: no cover - the checks package ships both
        return True
    return not isinstance(check, LLMGuardCheck)


def model_checks(scanner) -> tuple[list, list]:
    """(checks run on a window before release, checks run only on the whole answer at the end)."""
    whole = list(getattr(scanner, "whole_text_checks", ()) or ())
    return [c for c in whole if per_chunk(c)], [c for c in whole if not per_chunk(c)]


class ModelWindow:
    """Feed every received piece of one answer; ``check()`` before releasing text."""

    __slots__ = ("run", "checks", "size", "buf", "buf_base", "received", "checked", "findings")

    def __init__(self, scanner, size: int = 128) -> None:
        if size < 16:
            raise ValueError(f"stream window must be at least 16 characters, got {size} / 流式检查窗口至少 16 字")
        self.checks, _ = model_checks(scanner)
        pipeline = getattr(scanner, "pipeline", None)
        # The pipeline's run_one turns a crashing check into an error instead of a dead stream.
        self.run = pipeline.run_one if pipeline is not None else (lambda c, text, n: c.scan(text))
        self.size = size
        self.buf, self.buf_base = "", 0  # received text from stream offset buf_base
        self.received = self.checked = 0
        self.findings: list[Finding] = []  # every model finding (flags too), offsets in the stream

    @property
    def active(self) -> bool:
        return bool(self.checks)

    def feed(self, text: str) -> None:
        if not self.checks or not text:
            return
        self.buf += text
        self.received += len(text)

    def check(self) -> Finding | None:
        """Score what arrived since the last check; the first blocking finding, if any."""
        if not self.checks or self.received == self.checked:
            return None
        size, step = self.size, self.size // 2
        ends = list(range(self.checked + step, self.received, step)) if self.received - self.checked > size else []
        ends.append(self.received)
        seen = {(f.category, f.rule) for f in self.findings}
        for end in ends:
            lo = max(end - size, 0)
            window = self.buf[lo - self.buf_base:end - self.buf_base]
            for check in self.checks:
                for f in self.run(check, window, None).findings:
                    g = Finding(f.category, lo + f.start, lo + f.end, f.rule, f.action, f.risk, f.score)
                    if f.action.value == "block":
                        self.findings.append(g)
                        return g
                    if (f.category, f.rule) not in seen:  # a flag is reported once, not per window
                        seen.add((f.category, f.rule))
                        self.findings.append(g)
        self.checked = self.received
        keep = max(self.received - size, 0)  # the next window reaches back at most `size` characters
        self.buf, self.buf_base = self.buf[keep - self.buf_base:], keep
        return None
