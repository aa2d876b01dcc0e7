"""Settling a gateway process once it has loaded everything, so nothing but calls holds its
event loop.

Measured on the packaged check pipeline (issue 19): the loaded gateway holds ≈ 530,000
tracked objects (the lexicon automaton's tables, the classifier, the rules, the imported
modules). None of them ever becomes garbage, yet a full (generation 2) collection walks them
all: 60–260 ms with the event loop stopped, one in a 9-second run at c=16 — every call in flight
waited for it. ``gc.freeze()`` moves them to the permanent generation, so a collection only
walks what was made after the start. A call makes a few hundred container objects that live
across its awaits; with generation 0 collected every 700 allocations, sixteen calls in flight
keep promoting each other's short-lived objects to the older generations, which are then
collected more often. Collecting generation 0 every 10,000 lets them die young first.

Background threads (the telemetry worker, the switch follower's poll, the acknowledgement pool)
take the interpreter lock while the loop waits for it; by default a thread keeps it up to 5 ms
(``sys.getswitchinterval()``) before it must hand it over, which showed as 5 ms steps in the
loop's lag. One millisecond bounds that wait; the cost is a few more lock hand-overs when two
threads both run Python, which on the gateway is rare.
"""

from __future__ import annotations

import gc
import sys
import threading

GEN0_THRESHOLD = 10_000
SWITCH_INTERVAL = 0.001  # seconds

_lock = threading.Lock()
_settled = False


def settle() -> bool:
    """Freeze what was loaded, collect young objects less often, shorten the lock's turns.
    Once per process (later calls do nothing and return False)."""
    global _settled
    with _lock:
        if _settled:
            return False
        _settled = True
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(max(GEN0_THRESHOLD, gc.get_threshold()[0]), gen1, gen2)
    sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
    return True
