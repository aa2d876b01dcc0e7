"""A conversation's next turn: the input check reads only what was added since a call already
checked the rest (:class:`InputVerdicts`; the gateway's and the SDK's input check, through
``Guard.input_job``). Apart from ``guard.checking`` for its length."""

from __future__ import annotations

import collections
import threading
import time

import msgspec

from fenghuo.checks.base import Finding, Verdict
from fenghuo.guard.checking import Checked, check_text, mask

# Already-checked text rescanned with the new turns, so a word or a rule that straddles the
# boundary is still seen: longer than any packaged lexicon word (92) or rule reach (within 40,
# unless 10); a configured lexicon with longer words raises it (``InputVerdicts.reach``).
OVERLAP = 256


class InputVerdicts:
    """The input check of a conversation's next turn reads only what was added since a call
    already checked the rest.

    Chat clients resend the whole history with every call, so checking it whole made the
    gateway's CPU grow with the conversation (≈ 47 µs per KB). A bounded LRU keeps, per call,
    the findings of its whole input under a key chained over its texts (Python's keyed string
    hash and the length of each, and the pipeline's version: the checks' loaded file
    signatures). A new call looks for the longest run of leading texts some call sent before;
    the rest is scanned as one text together with the last ``reach`` characters before it, and
    the findings that end in the new part join the cached ones (offsets in the joined text, as
    a whole scan gives them). No hit: the whole text is scanned, exactly as before.

    What differs from a whole scan on a hit: a check that scores a whole text (the classifier)
    scores the new part with that much context instead of the whole conversation — a harmful
    new turn is no longer diluted by a long harmless history — and topic words in the new part
    are settled on that score. Findings of the earlier turns stay as they were checked.
    Verdicts with a check error are not kept; a reloaded lexicon or model changes the version,
    so nothing checked before it is reused.

    An input no longer than ``reach`` is scanned whole and neither looked up nor kept: any
    earlier call's texts that lead it end within ``reach`` of its start, so a hit would rescan
    it whole anyway (``start`` is 0), and an exact repeat served from the cache gives the
    findings a scan gives. Only the counts differ (such a repeat counts as ``whole``). Looking
    up and keeping cost ≈ 12 µs of the gateway's CPU per call in its path (in-process, a short
    single-turn prompt; ≈ 4 µs in a loop of them alone), for nothing on these inputs.
    """

    def __init__(self, checks, size: int = 4096, overlap: int = OVERLAP) -> None:
        self.checks, self.size, self.overlap = checks, size, overlap
        self._lru: collections.OrderedDict = collections.OrderedDict()
        self._lock = threading.Lock()
        self._ver, self._ver_until = (), 0.0
        self._reach = overlap  # ``reach`` as of the last version read
        self.stats = {"calls": 0, "whole": 0, "prefix": 0, "repeat": 0, "chars": 0, "scanned": 0}

    @property
    def reach(self) -> int:
        return max([self.overlap] + [c.max_len for c in getattr(self.checks, "checks", ()) or ()
                                     if isinstance(getattr(c, "max_len", None), int)])

    VERSION_SECONDS = 0.1  # how long a version read is reused: a reload already takes seconds to be noticed

    def version(self) -> tuple:
        """What the cached findings depend on: the checks and the files each has loaded (read
        at most every ``VERSION_SECONDS``: ≈ 1 µs a read, twice per call, was a tenth of the
        cache's cost)."""
        now = time.monotonic()
        if now < self._ver_until:
            return self._ver
        self._ver, self._ver_until = self._version(), now + self.VERSION_SECONDS
        self._reach = self.reach  # a reloaded lexicon may hold longer words
        return self._ver

    def _version(self) -> tuple:
        out = []
        for c in getattr(self.checks, "checks", None) or (self.checks,):
            sig = getattr(c, "_loaded_signatures", None)
            try:
                v = sig() if sig is not None else None
            except Exception:  # noqa: BLE001 - unknown version: a fresh object never matches a kept one
                v = object()
            out.append((id(c), tuple(sorted(v.items())) if isinstance(v, dict) else v))
        return id(self.checks), tuple(out)

    def job(self, parts: list[str]) -> InputJob:
        """Look up what is known of ``parts`` (texts joined by newlines); cheap, on the caller's
        thread. ``job.scan_chars`` says how much is left to scan; ``job.run()`` scans it."""
        text = "\n".join(parts)
        if self.checks is None or not text:
            return InputJob(self, text, None, None, None, 0, 0)
        ver = self.version()
        if len(text) <= self._reach:  # nothing known of it can shorten its scan (see the class)
            return InputJob(self, text, ver, SHORT, None, 0, len(text))
        h, size, keys = hash(ver), -1, []
        for p in parts:
            h, size = hash((h, hash(p), len(p))), size + len(p) + 1
            keys.append((h, size))
        hit, base = None, 0
        with self._lock:
            for key in reversed(keys):
                hit = self._lru.get(key)
                if hit is not None:
                    self._lru.move_to_end(key)
                    base = key[1]
                    break
        start = 0 if hit is None else max(base - self._reach, 0)
        return InputJob(self, text, ver, keys[-1], hit, base, len(text) - start if hit is None or base < len(text) else 0)

    def _keep(self, ver: tuple, key: tuple, entry: tuple) -> None:
        if self.version() != ver:  # reloaded meanwhile: this verdict may be of either version
            return
        with self._lock:
            self._lru[key] = entry
            self._lru.move_to_end(key)
            while len(self._lru) > self.size:
                self._lru.popitem(last=False)


class InputJob:
    __slots__ = ("owner", "text", "ver", "key", "hit", "base", "scan_chars")

    def __init__(self, owner: InputVerdicts, text: str, ver, key, hit, base: int, scan_chars: int) -> None:
        self.owner, self.text, self.ver, self.key, self.hit, self.base = owner, text, ver, key, hit, base
        self.scan_chars = scan_chars

    def run(self) -> Checked:
        o, text, hit = self.owner, self.text, self.hit
        if self.key is None:
            return check_text(o.checks, text)
        st = o.stats
        st["calls"] += 1
        st["chars"] += len(text)
        scanned = None  # nothing scanned: no normalisation to share
        if hit is not None and not self.scan_chars:  # the same texts again (a retry): nothing new
            st["repeat"] += 1
            findings, names = hit
            v = Verdict(list(findings), 0.0, names)
        else:
            start = 0 if hit is None else len(text) - self.scan_chars
            scanned = text[start:] if start else text
            v = o.checks.scan(scanned)
            st["whole" if hit is None else "prefix"] += 1
            st["scanned"] += len(text) - start
            if start:
                edge = self.base - start  # findings ending past the last text already checked are new
                new = [msgspec.structs.replace(f, start=f.start + start, end=f.end + start) for f in v.findings if f.end > edge]
                findings = sorted([*hit[0], *new], key=_BY_SPAN) if hit[0] and new else [*hit[0], *new]
                v = Verdict(findings, v.elapsed_us, v.checks, v.errors)
            if not v.errors and self.key is not SHORT:
                o._keep(self.ver, self.key, (tuple(v.findings), v.checks))
        if not v.findings:
            return Checked(v, text, False, None, scanned)
        out = text if v.blocked else mask(text, v.findings)
        return Checked(v, out, v.blocked, None, scanned if out is text else None)


SHORT = ("short",)  # InputJob.key of an input scanned whole, not kept (InputVerdicts: no longer than reach)


def _BY_SPAN(f: Finding) -> tuple[int, int]:  # noqa: N802 - a sort key, named like operator.attrgetter's
    return f.start, f.end
