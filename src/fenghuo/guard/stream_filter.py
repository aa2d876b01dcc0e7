"""The stream filter: what of a streamed answer may be shown now (see ``guard.checking``'s
module doc for why it holds back the last ``holdback`` characters)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fenghuo.checks.base import Finding, Verdict
from fenghuo.guard.checking import mask


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
