"""A fleet of guards in one process, each following the NATS KV bucket with its own instance id
(used by the scale tests and ``bench_scale``): several such processes make "100 instances in
several processes".

    python -m bench.scale_fleet --url nats://… --prefix P --service S --count 25 [--lease 2 --failsafe closed]

Prints ``ready <n>`` once every guard holds the bucket's current state, then one JSON line per
change of any guard's enforced state; exits when stdin closes (or on SIGKILL, which is the point).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--prefix")
    ap.add_argument("--service", required=True)
    ap.add_argument("--count", type=int, default=25)
    ap.add_argument("--lease", type=float, default=30.0)
    ap.add_argument("--failsafe", default="closed")
    ap.add_argument("--provider", default="pa")
    ap.add_argument("--ack-seconds", type=float, default=5.0)
    ap.add_argument("--name", default="fleet")
    ap.add_argument("--quiet", action="store_true", help="no state lines (benchmarks: nobody reads them)")
    a = ap.parse_args()

    from fenghuo.guard.nats import link_for, nats_guard
    from fenghuo.guard.telemetry import NullSink

    link = link_for(a.url, a.prefix)
    out_lock = threading.Lock()

    def say(line: str) -> None:
        with out_lock:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

    guards = []
    for i in range(a.count):
        g = nats_guard(a.service, link, instance=f"{a.name}-{i}", lease=a.lease, failsafe=a.failsafe, provider=a.provider,
                       checks=None, sink=NullSink(), ack_seconds=a.ack_seconds)

        guards.append(g)
    deadline = time.monotonic() + 30
    while not all(g.follower.connected.is_set() for g in guards) and time.monotonic() < deadline:
        time.sleep(0.02)
    say(f"ready {sum(g.follower.connected.is_set() for g in guards)}")

    def watch() -> None:  # lookups, not listeners: a lease that runs out changes nothing until asked
        last: dict[str, tuple] = {}
        while True:
            for g in guards:
                e = g.state()
                key = (e.state, e.version, e.failsafe)
                if last.get(g.instance) != key:
                    last[g.instance] = key
                    say(json.dumps({"instance": g.instance, "state": e.state, "version": e.version, "failsafe": e.failsafe,
                                    "t": time.time()}))
            time.sleep(0.05)

    if not a.quiet:
        threading.Thread(target=watch, daemon=True).start()
    sys.stdin.read()  # until the parent closes our stdin
    for g in guards:
        g.follower.stop()


if __name__ == "__main__":
    main()
