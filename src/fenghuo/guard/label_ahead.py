"""Labels signed ahead of need, in the gateway process's idle time.

Every answer carries an AIGC label signed with Ed25519 over its ProduceID (``guard.labels``):
≈ 20–25 µs of CPU a call, the largest single cost of the gateway's own path after the content
checks (issue 19). The signature cannot be made cheaper, but the ProduceID is ours to choose
(a uuid7), so the label can be signed before the call that needs it: a thread keeps a few dozen
fresh (ProduceID, label) pairs, and ``Labeller.issue`` takes one (or signs inline, as before,
when none is ready).

What makes it pay is *when* the thread runs. At concurrency 16 the calls reach the gateway in
bursts, and its core sits idle between them while the model and the clients work; a call's
latency is the CPU of the calls ahead of it in its burst. The thread runs under ``SCHED_IDLE``
(Linux): the kernel gives it the core only when nothing else of any priority wants it, and takes
it back at once when the event loop wakes. Signing ahead on an ordinary thread was tried and
dropped (see ``Labeller.issue``): it competed with the loop for the core and the interpreter
lock. This one gives the lock up for the signature itself (libsodium is called with the lock
released) and holds it ≈ 3 µs per label; without ``SCHED_IDLE`` it is not started.

A label made ahead is handed out at most ``MAX_AGE`` seconds after its ProduceID was made (the
id's time stays within a second of the call's), and only under the label configuration it was
made with. Used only in ``fenghuo gateway``'s own process (``Gateway.settle``), never in tests,
the SDK or an embedding application.

When a busy core leaves the thread no idle time and a call finds none ready, the call makes
``BATCH`` labels and keeps the rest for the next calls, if the stock also ran out less than
``BURST`` seconds before (a steady stream of calls, which takes them within ``MAX_AGE``).
Signing one label inside a call cost ≈ 50 µs of CPU in the gateway's path against ≈ 26 µs in a
loop of signatures (measured in one process, issue 19): between two calls the content checks'
tables push libsodium's code and tables out of the CPU caches. Eight signed in a row cut the
gateway's CPU per call by ≈ 17 µs (in-process, c=1, 168 µs a call).

Both the thread and a call's batch now make ``BATCH`` labels under one signature over the root
of their Merkle tree (``guard.label_batch``): ≈ 6.7 µs of CPU a label against ≈ 21.5 µs signed
one by one, so the call that makes a batch of 16 spends about what two single signatures cost.
A label made alone (no burst, no thread) keeps the single signature.
"""

from __future__ import annotations

import collections
import logging
import os
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fenghuo.guard.labels import Labeller

log = logging.getLogger(__name__)
LOW, HIGH = 16, 32  # refill when fewer than LOW are ready, up to HIGH (a c=16 burst takes 16)
MAX_AGE = 1.0  # seconds
BATCH = 16  # labels under one signature (guard.label_batch): what a call makes when none is ready and
# the stock ran out within BURST, and what the thread makes at a time (two batches fill HIGH)
BURST = 0.05  # seconds: two run-outs this close mean ≥ 20 calls a second, which take a batch in 0.8 s


def idle_priority(tid: int) -> bool:
    """Put the thread ``tid`` (its native id) under SCHED_IDLE; False where that is not possible."""
    try:
        os.sched_setscheduler(tid, os.SCHED_IDLE, os.sched_param(0))  # a thread's own id: that thread alone (Linux)
        return True
    except (AttributeError, OSError):
        return False


class SignedAhead:
    def __init__(self, labeller: Labeller) -> None:
        self.labeller = labeller
        self._ready: collections.deque = collections.deque()  # (made, config, pid, label, idle), oldest first
        self._dry = float("-inf")  # when a call last found none ready
        self._want = threading.Event()
        self._stop = False
        self._go = threading.Event()
        self.idle = False  # the thread runs under SCHED_IDLE
        # ahead: made by the thread in idle time; inline: signed in the call, none ready (with the
        # rest of its batch, if it signed one); batched: made in an earlier call's batch.
        self.stats = {"ahead": 0, "inline": 0, "batched": 0, "stale": 0}
        self._thread = threading.Thread(target=self._run, daemon=True, name="fenghuo-label-signer")

    def start(self) -> bool:
        """Start the thread; False (and nothing runs) when it cannot be made idle-only. Its
        priority is set from here: the thread itself may not get the core for a while on a
        busy machine (that is what SCHED_IDLE means), and the caller must not wait for it."""
        self._thread.start()  # returns once the thread runs (native_id known); it waits for _go first
        self.idle = self._thread.native_id is not None and idle_priority(self._thread.native_id)
        if not self.idle:
            log.info("label signing ahead off: no SCHED_IDLE here")
            self._stop = True
        self._go.set()
        return self.idle

    def take(self):
        """A fresh (ProduceID, label) made under the current configuration, or None (sign one
        in the call, as without this thread)."""
        ready, config, want = self._ready, self.labeller.config, self._want
        now = time.monotonic()
        while ready:
            try:
                made, cfg, pid, meta, idle = ready.popleft()
            except IndexError:  # taken meanwhile by another thread
                break
            if cfg is config and now - made <= MAX_AGE:
                if len(ready) < LOW and not want.is_set():
                    want.set()
                self.stats["ahead" if idle else "batched"] += 1
                return pid, meta
            self.stats["stale"] += 1
        # Set only when not set already: a busy core keeps the thread from running (SCHED_IDLE),
        # and every call would take the event's lock to set it again (is_set() is an attribute read).
        if not want.is_set():
            want.set()
        self.stats["inline"] += 1
        burst, self._dry = now - self._dry < BURST, now
        return self._batch(config, now) if burst and BATCH > 1 else None

    def _batch(self, config, now: float):
        """Make ``BATCH`` labels under one signature on the caller's thread: one for this call,
        the rest ready for the next ones (ids in the order made)."""
        first, *rest = self.labeller._implicit_batch(config, BATCH)
        self._ready.extend((now, config, pid, meta, False) for pid, meta in rest)
        return first

    def stop(self) -> None:
        self._stop = True
        self._want.set()

    def _run(self) -> None:
        self._go.wait()  # until start() has made this thread idle-only (or given up)

        ready, lab = self._ready, self.labeller
        # Between two labels of a batch the thread gives the interpreter lock up (os.sched_yield
        # releases it): a call that wakes preempts this thread at once (SCHED_IDLE) but then
        # needs the lock, and would otherwise wait for the batch's hashing or up to the
        # interpreter's 5 ms switch interval. The signature itself runs without the lock.
        pause = os.sched_yield
        while not self._stop:
            self._want.wait()
            self._want.clear()
            while len(ready) < HIGH and not self._stop:
                cfg, made = lab.config, time.monotonic()  # before the first id: MAX_AGE counts from it
                ready.extend((made, cfg, pid, meta, True) for pid, meta in lab._implicit_batch(cfg, BATCH, pause))
