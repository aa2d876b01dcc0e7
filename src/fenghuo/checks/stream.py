"""Scanning text that arrives in chunks (a streamed model answer), spans relative to the stream.

The lexicon part keeps the last ``max_len - 1`` *normalised* characters with their absolute
original positions, and rescans them with each new chunk, reporting only hits that end in the
new part — so a word split across two chunks (or across a chunk boundary plus separators) is
found once. PII is rescanned over an original-text tail for the same reason: the tail holds
the longest value any PII pattern can match (``pii.MAX_MATCH``: an e-mail, capped at RFC
5321's 254 characters), the 64 characters a held-back hit may be followed by (below), and one
character of context for the patterns' lookbehinds. A hit that
touches the end of what has arrived so far and could still grow (an ASCII word, any PII value:
``192.168.1.1`` may become ``192.168.1.100``) is held back until the next chunk or ``close()``;
so is a PII hit followed only by characters an e-mail allows (``13800138000ab`` may turn out
to be the start of an e-mail address, ``a@b.com.c`` the start of a longer one), as long as it
stays inside the tail. Known limit: an unbroken run of e-mail characters over ~320 characters
can make the stream report a prefix the whole-text scan does not (it rejects the over-long
address); real addresses are at most 254.
Checks that judge the whole text (classifier, LLM guard) run once, at ``close()``.
"""

from __future__ import annotations

import re

import numpy as np

from fenghuo.checks.base import Finding, Verdict
from fenghuo.checks.corroborate import bands_of, demote, frame_acting, has_context, levels_of, settle
from fenghuo.checks.matcher import homophone_form, pack3
from fenghuo.checks.mention import unmentioned
from fenghuo.checks.pii import MAX_MATCH
from fenghuo.checks.variants import canonical_codes

# Text after a hit that could still turn it into (a longer) e-mail: ``13800138000ab`` may be a
# local part, ``13800138000ab@exa`` an address whose domain is still arriving, ``a@b.com.c``
# a longer domain.
_EMAIL_CHARS = re.compile(r"[A-Za-z0-9._%+@-]*\Z")
# An e-mail's local part is at most 64 characters.
LOCAL_MAX = 64
# Characters kept from earlier chunks: the longest possible PII match, the 64 characters of a
# local part that may follow a held-back hit, and one character of context so a lookbehind at
# the first scanned position sees what the whole-text scan sees.
PII_TAIL = MAX_MATCH + LOCAL_MAX + 1
_NONE = 1 << 62


class LexiconStream:
    def __init__(self, check) -> None:
        self.check = check
        self.carry_codes = np.empty(0, dtype=np.uint32)
        self.carry_origin = np.empty(0, dtype=np.int64)
        self.text_tail = ""  # original text kept for the ASCII word-boundary check
        self.tail_base = 0
        self.offset = 0  # characters received so far
        self.reported: set[tuple[int, int, str]] = set()

    def feed(self, chunk: str, final: bool = False) -> list[Finding]:
        n = self.check.normaliser.normalise(chunk)
        origin = self.offset + n.to_original(np.arange(n.codes.size))
        codes = np.concatenate([self.carry_codes, n.codes])
        allorigin = np.concatenate([self.carry_origin, origin])
        window, tbase = self.text_tail + chunk, self.tail_base
        new_from = self.carry_codes.size
        self.offset += len(chunk)
        # Hits ending in the new part, plus those ending exactly where the last chunk ended:
        # the latter were held back (ASCII) or already reported (filtered by `reported`).
        # The carry holds max_len characters, so a word containing such a hit is seen whole
        # and the containment rule in `findings` still applies.
        st = self.check._state
        pid, start, end = st.engine.find(codes)
        if st.homophones is not None and codes.size:  # the homophone layer (涽睡药 for 昏睡药), as ``scan`` does
            pid, start, end = _with_homophones(st, codes, pid, start, end)
        new = (end >= new_from) & (end > 0)
        found = self.check.findings(window, None, (pid[new], start[new], end[new]), origin=allorigin, tbase=tbase)
        out = []
        for f in found:
            key = (f.start, f.end, f.category)
            if key in self.reported:
                continue
            if not final and f.end == self.offset and f.rule.isascii():
                continue  # an ASCII word may continue in the next chunk: decide then
            self.reported.add(key)
            out.append(f)
        keep = self.check.max_len
        self.carry_codes, self.carry_origin = codes[-keep:], allorigin[-keep:]
        first = int(self.carry_origin[0]) if self.carry_origin.size else self.offset
        cut = max(first - 1, tbase)
        self.text_tail, self.tail_base = window[cut - tbase :], cut
        return out


def _with_homophones(st, codes: np.ndarray, pid: np.ndarray, start: np.ndarray, end: np.ndarray):
    """The main matcher's hits on ``codes`` (normalised) plus the homophone layer's, as the
    whole-text scan finds them (``variants.Homophones.find`` on text with nothing expanded):
    pattern ids of the lexicon's state, normalised positions."""
    h = st.homophones
    canon = canonical_codes(codes)
    if h.fused:  # the patterns live in the main database, in the homophone form; ids are the lexicon's
        flat = h.engine.scan_packed(homophone_form(pack3(canon)))
    else:
        flat = h.engine.scan_raw(canon)
        if flat:
            flat[0::2] = [h.base + k for k in flat[0::2]]
    if not flat:
        return pid, start, end
    a = np.array(flat, dtype=np.int64)
    hpid, hend = a[0::2], a[1::2]
    return (np.concatenate([pid, hpid]), np.concatenate([start, hend - st.length_arr[hpid]]), np.concatenate([end, hend]))


class PIIStream:
    def __init__(self, check) -> None:
        self.check = check
        self.tail = ""
        self.tail_base = 0
        self.reported: set[tuple[int, int, str]] = set()
        self.pending_from = _NONE  # start of the earliest hit held back at the last feed

    def feed(self, chunk: str, final: bool = False) -> list[Finding]:
        window = self.tail + chunk
        prev_end = self.tail_base + len(self.tail)
        end = prev_end + len(chunk)
        # Once the stream has been cut, the tail's first character is context only: a value
        # starting there could be the truncated end of a longer one.
        skip = 1 if self.tail_base > 0 else 0
        out = []
        pending: set[tuple[int, int, str]] = set()
        for f in self.check.find(window, base=self.tail_base, start=skip):
            key = (f.start, f.end, f.category)
            # Anything ending before the previous data ended was decided then, unless it starts
            # where a held-back hit did: that hit may have grown, shrunk back (``a@b.cn.com``
            # then a digit: the address is ``a@b.cn``) or become part of a longer one.
            if key in self.reported or (f.end < prev_end and f.start < self.pending_from):
                continue
            if not final and (f.end == end or (end - f.start < PII_TAIL - 1 and _EMAIL_CHARS.match(window, f.end - self.tail_base))):
                pending.add(key)  # may still grow (or become an e-mail): the next chunk's rescan decides
                continue
            self.reported.add(key)
            out.append(f)
        held = min((k[0] for k in pending), default=_NONE)
        old = self.pending_from
        # A held hit can vanish for a chunk (``a@….com`` one character past 254 is rejected)
        # and come back shorter: remember it while everything after its start is still
        # e-mail characters inside the tail.
        if old != _NONE and old - self.tail_base >= skip and end - old < PII_TAIL - 1 and _EMAIL_CHARS.match(window, old - self.tail_base):
            held = min(held, old)
        self.pending_from = held
        cut = max(len(window) - PII_TAIL, 0)
        self.tail, self.tail_base = window[cut:], self.tail_base + cut
        return out


class PipelineStream:
    """Feed chunks, get new findings back; ``close()`` finishes and returns the full verdict."""

    def __init__(self, pipeline) -> None:
        self.pipeline = pipeline
        self.parts = []
        self.whole_text_checks = []
        for check in pipeline.checks:
            if hasattr(check, "_state") and hasattr(check, "normaliser"):
                self.parts.append(LexiconStream(check))
            elif hasattr(check, "find") and hasattr(check, "types"):
                self.parts.append(PIIStream(check))
            else:
                self.whole_text_checks.append(check)
        self.chunks: list[str] = []
        self.findings: list[Finding] = []
        self.unsettled: list[Finding] = []  # topic words dropped mid-stream, settled again at close
        self.closed = False

    def feed(self, chunk: str) -> list[Finding]:
        if self.closed:
            raise RuntimeError("stream is closed / 流已关闭")
        self.chunks.append(chunk)
        new: list[Finding] = []
        for part in self.parts:
            new += part.feed(chunk)
        new.sort(key=lambda f: (f.start, f.end))
        so_far = "".join(self.chunks) if new else ""
        if new and self.pipeline.corroborate:
            new = frame_acting(new, so_far, whole=False)  # the sentence so far: a cue after the word comes at close()
        if has_context(new):
            # A topic word mid-stream is settled on what has arrived so far (a corroborated
            # context-block word must cut the stream now, not after the answer went out); the
            # ones dropped are settled again on the whole answer at close().
            settled = settle(new, self._model_scores(so_far), self.pipeline.corroborate, so_far, whole=False, levels=levels_of(self.pipeline.checks),
                             bands=bands_of(self.pipeline.checks))
            kept = {(f.start, f.end, f.rule, f.category) for f in settled}
            self.unsettled += [f for f in new if has_context([f]) and (f.start, f.end, f.rule, f.category) not in kept]
            new = settled
        if new and self.pipeline.corroborate:
            new = demote(new, so_far, whole=False)  # its own sentence so far; the rest at close()
        self.findings += new
        return new

    def close(self) -> Verdict:
        """Flush held-back hits and run whole-text checks; returns everything found."""
        if not self.closed:
            self.closed = True
            for part in self.parts:
                self.findings += part.feed("", final=True)
            text = "".join(self.chunks)
            errors: list[str] = []
            for check in self.whole_text_checks:
                v = self.pipeline.run_one(check, text, None)
                self.findings += v.findings
                errors += v.errors
            self.findings.sort(key=lambda f: (f.start, f.end))
            if self.findings and self.pipeline.corroborate:
                self.findings = frame_acting(self.findings, text)
                self.findings = unmentioned(self.findings, text, self.pipeline.checks)  # as Pipeline.scan
            if has_context(self.findings) or self.unsettled:  # topic words, settled on the whole answer's scores
                self.findings = settle(self.findings + self.unsettled, self._model_scores(text), self.pipeline.corroborate, text,
                                       levels=levels_of(self.pipeline.checks), bands=bands_of(self.pipeline.checks))
                self.findings.sort(key=lambda f: (f.start, f.end))
            if self.findings and self.pipeline.corroborate:
                self.findings = demote(self.findings, text)  # as Pipeline.scan
            self.errors = errors
        return Verdict(list(self.findings), 0.0, tuple(c.name for c in self.pipeline.checks), list(getattr(self, "errors", [])))

    def _model_scores(self, text: str) -> dict[str, float] | None:
        """The whole text's per-category scores from the checks that score texts, or None."""
        out: dict[str, float] | None = None
        for check in self.whole_text_checks:
            scores_in = getattr(check, "scores_in", None)
            if scores_in is None:
                continue
            try:
                got = scores_in(text, check.normaliser.normalise(text))
            except Exception:  # noqa: BLE001 - a check that fails here corroborates nothing
                continue
            out = out or {}
            for k, v in got.items():
                out[k] = max(v, out.get(k, 0.0))
        return out

    @property
    def blocked(self) -> bool:
        return any(f.action.value == "block" for f in self.findings)
