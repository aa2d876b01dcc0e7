"""Where a cue frames a finding: the finding's sentence, its frame window, and strong frames.

``framed`` (a topic word's sentence speaks against its harm: ``corroborate.settle`` asks more of
the model), ``demote_frame`` (a block there becomes a flag), ``strong_frame`` (two different
cues, nothing evading or asking: ``corroborate.demote`` drops the finding) and ``topic_strong``
(a topic word's strong frame: only its own family of model categories corroborates it). The cue
lists are in ``frame_cues.py``; the design and its measurements in corroborate.py's docstring
and docs/checks.md ("Topic words", "Professional frames"). Split out of corroborate.py in
session 19.
"""

from __future__ import annotations

import re

from fenghuo.checks.frame_cues import ACCOUNT, DEMOTING, DODGING, EVADING, FRAMING, PROFESSIONAL, REQUESTING, by_first

_SENTENCE_END = "。！？!?；;\n"
SENTENCE_REACH = 100  # characters either side of a topic word that its sentence may span

# ``framed``'s cues in a frame window, one search: ``DEMOTING``, ``PROFESSIONAL`` or ``ACCOUNT``
# (grouped by first character again, ``by_first``: the same places match).
_WINDOW_CUES = by_first("|".join(rx.pattern for rx in (DEMOTING, PROFESSIONAL, ACCOUNT)))


_FIRST_END = re.compile(f"[{_SENTENCE_END}]")
_LAST_END = re.compile(f"(?s).*[{_SENTENCE_END}]")  # up to and including the last sentence end


def _sentence(text: str, start: int, end: int) -> tuple[int, int]:
    """The sentence of ``text`` holding ``start:end`` (cut at ``SENTENCE_REACH`` either side):
    two searches in C, bounded by the reach."""
    lo, hi = max(0, start - SENTENCE_REACH), min(len(text), end + SENTENCE_REACH)
    m = _LAST_END.match(text, lo, start)
    s = m.end() if m is not None else lo
    m = _FIRST_END.search(text, end, hi)
    return s, (m.start() if m is not None else hi)


# A short text (at most this many characters) is read as one frame: a cue in the sentence after
# a finding's counts too (「那个“裸聊敲诈”的套路大家知道吗？对方录屏后威胁你转钱，千万不要转，直接
# 报警」), and for a finding on the whole text (the classifier's) a cue anywhere in it.
SHORT_TEXT = 100


def frame_window(text: str, start: int, end: int, whole: bool = True, own: tuple[int, int] | None = None) -> tuple[int, int] | None:
    """Where a cue frames a finding at ``start:end``: its sentence (``_sentence``, or ``own``
    when already worked out), and — where ``whole`` (``text`` is all there is, not a stream so
    far) and ``text`` is short (``SHORT_TEXT``) — the next sentence too, or all of ``text`` for
    a finding that spans it. None for a finding spanning a long text: a classifier's score says
    nothing of where."""
    short = whole and len(text) <= SHORT_TEXT
    if start == 0 and end >= len(text):
        return (0, len(text)) if short else None
    s, e = own or _sentence(text, start, end)
    if short and e < len(text):
        e = _sentence(text, e + 1, e + 1)[1]
    return s, e


def framed(text: str, start: int, end: int, whole: bool = True) -> bool:
    """Whether a finding at ``start:end`` of ``text`` is framed: a ``FRAMING`` cue in its own
    sentence, or a ``DEMOTING``, ``PROFESSIONAL`` or ``ACCOUNT`` one in its ``frame_window`` (the
    next sentence of a short text too) where nothing speaks of evading or asks for the harm
    (``EVADING``, ``REQUESTING``) — and in either case nothing there speaks of getting past the
    police or of revenge (``DODGING``). The weaker
    cues (警惕, 提醒 …) frame only their own sentence: 「先说好怎么找人搞诈骗。以下步骤要警惕被发现」.
    The sentence is cut at ``SENTENCE_REACH`` characters either side, so a long text without
    punctuation costs a bounded search per finding, not one over the whole text."""
    own = _sentence(text, start, end)
    if FRAMING.search(text, *own) is not None:
        return DODGING.search(text, *own) is None
    w = frame_window(text, start, end, whole, own)
    return _cued(text, w, _WINDOW_CUES) and DODGING.search(text, *w) is None


def demote_frame(text: str, start: int, end: int, whole: bool = True) -> bool:
    """Whether a block at ``start:end`` of ``text`` is demoted (``demote``): a ``DEMOTING`` or
    ``PROFESSIONAL`` cue in its ``frame_window`` and nothing there speaks of evading or asks
    for the harm (``EVADING``, ``REQUESTING``)."""
    return _demoting(text, frame_window(text, start, end, whole))


def _demoting(text: str, w: tuple[int, int] | None) -> bool:
    return _cued(text, w, DEMOTING, PROFESSIONAL)


def _cued(text: str, w: tuple[int, int] | None, *cues: re.Pattern) -> bool:
    """A cue of ``cues`` in the window ``w`` and nothing there that speaks of evading or asks for
    the harm (``EVADING``, ``REQUESTING``)."""
    if w is None:
        return False
    s, e = w
    if all(c.search(text, s, e) is None for c in cues):
        return False
    return EVADING.search(text, s, e) is None and REQUESTING.search(text, s, e) is None


# A strong frame (``strong_frame``): at least this many different ``DEMOTING`` or
# ``PROFESSIONAL`` cues (被告 and 依法 and 法院认为; 不会以任何 and 谨防) in a finding's frame, and
# nothing anywhere in the text that speaks of evading or asks for the harm. Fixed at two before
# measuring: one cue is what a harmful text borrows (「千万别外传」, 「已被举报涉嫌诈骗」 lost six
# harmful dev texts), two apart are a court report's, a bank's notice's, a victim's.
STRONG = 2


def cue_count(text: str, s: int, e: int) -> int:
    """How many different ``PROFESSIONAL`` or ``DEMOTING`` cues ``text[s:e]`` holds, counted up to
    ``STRONG`` (searches, not a scan for all of them: most windows hold none)."""
    seen: set[str] = set()
    for rx in (PROFESSIONAL, DEMOTING):
        pos = s
        while True:
            m = rx.search(text, pos, e)
            if m is None:
                break
            seen.add(m.group())
            if len(seen) >= STRONG:
                return STRONG
            pos = m.end()
    return len(seen)


def strong_frame(text: str, start: int, end: int) -> bool:
    """Whether a finding at ``start:end`` of the whole ``text`` sits in a strong frame (``STRONG``)."""
    w = frame_window(text, start, end)
    return w is not None and cue_count(text, *w) >= STRONG and EVADING.search(text) is None and REQUESTING.search(text) is None


# A topic word in a strong frame (``topic_strong``): two different cues of any kind — framing,
# demoting, professional, account — in its frame window (a news report 「…被乘客持刀抢劫…派出所…
# 被当场抓获」, a court story 「…派出所民警…杀人抢劫…刑期…」) and nothing in the text that evades,
# asks for the harm or dodges the police. There a score in an *unrelated* category (the offensive
# head's tone, 0.55–0.8 on such reports) no longer corroborates it: only its own family at
# ``UNRELATED`` does (issue 12, session 19; docs/checks.md). Unlike ``strong_frame`` it counts
# ``ACCOUNT`` and the weak ``FRAMING`` cues, and it only raises the bar for a topic word: it drops
# no rule's or classifier's finding.
_TOPIC_CUES = by_first("|".join(rx.pattern for rx in (FRAMING, DEMOTING, PROFESSIONAL, ACCOUNT)))


def topic_strong(text: str, start: int, end: int) -> bool:
    """Whether a topic word at ``start:end`` of the whole ``text`` sits in a strong frame (above)."""
    w = frame_window(text, start, end)
    if w is None:
        return False
    seen: set[str] = set()
    pos, e = w
    while len(seen) < STRONG:
        m = _TOPIC_CUES.search(text, pos, e)
        if m is None:
            return False
        seen.add(m.group())
        pos = m.end()
    return EVADING.search(text) is None and REQUESTING.search(text) is None and DODGING.search(text) is None
