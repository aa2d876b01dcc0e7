"""Monitoring and warning benchmarks (issue 5).

1. Decoding a 1,000-event batch: plain ``json.loads`` (baseline: parsing only, no validation),
   the pydantic ``Event`` contract, and the msgspec mirror ingest uses.
2. Ingest in-process (decode, checks, dedup, durable ids, indicators, rule evaluation with the
   default packs) — events per second.
3. Ingest through HTTP: a real uvicorn server in this process, a load client in another
   process posting batches of 1,000 over keep-alive — events per second.
4. Event-to-warning latency: the time from starting the POST of a batch that makes a ``for: 0``
   red rule true to the warning's committed ``firing`` transition, p50/p99 — compared with the
   Prometheus + Alertmanager default arithmetic from research/anchors-controlplane.md.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _event(service: str, i: int, now: str, unsafe: bool = False) -> dict:
    return {"id": str(uuid.uuid4()), "type": "call", "service": service, "time": now, "instance": f"g{i % 4}",
            "state": "running", "state_version": 1, "route": "backup" if i % 50 == 0 else "primary", "status": "ok",
            "model": "m", "latency_ms": 50.0 + (i * 7) % 400, "tokens_in": 20, "tokens_out": 200,
            "input": {"blocked": False, "categories": []},
            "output": {"blocked": unsafe, "categories": ["A1"] if unsafe else []}, "label": True, "stream": False}


def _batch(service: str, n: int = 1000, unsafe_every: int = 0) -> bytes:
    now = datetime.now(UTC).isoformat()
    return json.dumps([_event(service, i, now, bool(unsafe_every) and i % unsafe_every == 0) for i in range(n)]).encode()


def _rate(fn, seconds: float) -> tuple[float, float]:
    """Events per second of wall time and per second of this process's CPU time. On a shared
    machine the CPU figure is the steadier one: it is what the work costs on a core of its own."""
    n = 0
    t0, c0 = time.perf_counter(), time.process_time()
    while time.perf_counter() - t0 < seconds:
        n += fn()
    return n / (time.perf_counter() - t0), n / max(time.process_time() - c0, 1e-9)


def _load() -> str:
    try:
        return " / ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:  # pragma: no cover - not Linux
        return "?"


JSON_FRESH = """
import json, sys, time
body, secs = open(sys.argv[1], "rb").read(), float(sys.argv[2])
n, t0, c0 = 0, time.perf_counter(), time.process_time()
while time.perf_counter() - t0 < secs:
    n += len(json.loads(body))
print(json.dumps([n / (time.perf_counter() - t0), n / (time.process_time() - c0)]))
"""


def _json_rate(seconds: float) -> tuple[float, float]:
    """json.loads of the same batch in a fresh process (issue 19): in this process, after the
    in-process ingest had run, the same loop read ~45 % slower (heap and allocator state), which
    flattered every ratio against it."""
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        f.write(_batch("svc"))
        f.flush()
        out = subprocess.run([sys.executable, "-c", JSON_FRESH, f.name, str(seconds)], capture_output=True, text=True,
                             timeout=120, check=True)
    wall, cpu = json.loads(out.stdout)
    return wall, cpu


def bench_decode(quick: bool) -> list[str]:
    from pydantic import TypeAdapter

    from fenghuo.monitor.schema import Event
    from fenghuo.monitor.wire import decode_batch

    body = _batch("svc")
    ta = TypeAdapter(list[Event])
    secs = 0.5 if quick else 3
    r_json = _rate(lambda: len(json.loads(body)), secs)[1]
    r_pyd = _rate(lambda: len(ta.validate_json(body)), secs)[1]
    r_ms = _rate(lambda: len(decode_batch(body)[0]), secs)[1]
    return ["| decoder (1,000-event batch, ~420 B/event), CPU time | events per CPU-second | vs json.loads |", "|---|---:|---:|",
            f"| `json.loads` (parse only, baseline) | {r_json:,.0f} | 1.00× |",
            f"| pydantic `list[Event]` (the contract) | {r_pyd:,.0f} | {r_pyd / r_json:.2f}× |",
            f"| msgspec `WireEvent` (ingest) | {r_ms:,.0f} | {r_ms / r_json:.2f}× |"]


def _setup(tmp: str, services: int = 3):
    from fenghuo.control import services as registry
    from fenghuo.platform.db import Database
    from fenghuo.platform.roles import Role, local_actor
    from fenghuo.registry.spec import parse_registration
    from fenghuo.registry.tokens import create_token

    db = Database(f"{tmp}/bench.db")
    db.upgrade()
    svcs = "\n".join(f"  - {{id: s{i}, name: S{i}, provider: p, sector: general, function: content_generation, "
                     f"modalities: [text], reach: 1000, no_human_in_loop: false, labels: {{bench: x}}}}" for i in range(services))
    registry.register(db, local_actor(), parse_registration(
        f"jurisdictions:\n  - {{id: cn, name: CN, level: national}}\nproviders:\n  - {{id: p, name: P, jurisdiction: cn}}\nservices:\n{svcs}\n"))
    return db, create_token(db, local_actor(), "bench", Role.system)


RED = """
rules:
  - {name: bench-red, services: {labels: {bench: x}}, indicator: output_violation_rate, window: 1m,
     threshold: {op: ">", value: 0.5}, for: 0, min_samples: 10, level: red, description: bench}
"""


def bench_inprocess(quick: bool) -> tuple[tuple[float, float], str]:
    from fenghuo.alerts.config import AlertsConfig, load_rule_set
    from fenghuo.alerts.engine import AlertEngine
    from fenghuo.alerts.packs import pack_paths
    from fenghuo.monitor.ingest import Monitor
    from fenghuo.platform.roles import local_actor

    with tempfile.TemporaryDirectory() as tmp:
        db, _ = _setup(tmp)
        m = Monitor(db)
        m.start()
        rules = load_rule_set(pack_paths("default"))
        eng = AlertEngine(m, AlertsConfig(rules=rules))
        eng.start(background=False)
        bodies = [_batch(f"s{i % 3}") for i in range(20 if quick else 200)]
        actor = local_actor()
        t0, c0 = time.perf_counter(), time.process_time()
        n = sum(m.ingest_body(b, actor).accepted for b in bodies)
        rate = n / (time.perf_counter() - t0), n / (time.process_time() - c0)
        db.dispose()
    return rate, f"{len(rules)} default-pack rules evaluated per batch"


CLIENT = textwrap.dedent("""
    import json, sys, time, httpx
    url, token, path, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    bodies = [line.encode() for line in open(path, encoding="utf-8")]
    n = i = 0
    with httpx.Client(headers={"Authorization": "Bearer " + token, "content-type": "application/json"}, timeout=30) as c:
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < seconds and i < len(bodies):
            r = c.post(url + "/api/v1/events", content=bodies[i]); i += 1
            n += r.json()["accepted"]
        print(json.dumps({"events": n, "seconds": time.perf_counter() - t0}))
""")


def bench_http(quick: bool) -> tuple[float, float]:
    """(events/s of wall time as the client saw it, events per CPU-second of the server process).
    The server process is this one (uvicorn in a thread, plus the alerts threads); the client
    runs in another process, so this process's CPU time is the server's."""
    from fenghuo.alerts.config import AlertsConfig, load_rule_set
    from fenghuo.alerts.packs import pack_paths
    from fenghuo.api.server import ServerThread
    from fenghuo.platform.config import Settings

    with tempfile.TemporaryDirectory() as tmp:
        db, token = _setup(tmp)
        seconds = 3 if quick else 10
        batches = 60 if quick else 500
        with open(f"{tmp}/bodies.ndjson", "w", encoding="utf-8") as fh:
            for i in range(batches):
                fh.write(_batch(f"s{i % 3}").decode() + "\n")
        Path(f"{tmp}/client.py").write_text(CLIENT, encoding="utf-8")
        srv = ServerThread(db, Settings(checkpoint_seconds=0, max_body_bytes=4 << 20),
                           alerts_config=AlertsConfig(rules=load_rule_set(pack_paths("default"))))
        with srv:
            c0 = time.process_time()
            out = subprocess.run([sys.executable, f"{tmp}/client.py", srv.url, token, f"{tmp}/bodies.ndjson", str(seconds)],
                                 capture_output=True, text=True, timeout=600)
            cpu = time.process_time() - c0
        db.dispose()
    res = json.loads(out.stdout.strip().splitlines()[-1])
    return res["events"] / res["seconds"], res["events"] / cpu


def bench_latency(quick: bool) -> list[float]:
    import httpx

    from fenghuo.alerts import listeners
    from fenghuo.alerts.config import AlertsConfig
    from fenghuo.alerts.rules import parse_rules
    from fenghuo.api.server import ServerThread
    from fenghuo.platform.config import Settings

    n = 10 if quick else 60
    delays: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        db, token = _setup(tmp, services=n)
        fired: dict[str, float] = {}
        done = threading.Event()

        def on(change):
            if change["kind"] == "firing":
                fired[change["warning"]["service"]] = time.perf_counter()
                done.set()

        unsub = listeners.subscribe(on)
        srv = ServerThread(db, Settings(checkpoint_seconds=0, max_body_bytes=4 << 20), alerts_config=AlertsConfig(rules=parse_rules(RED)))
        with srv, httpx.Client(headers={"Authorization": f"Bearer {token}", "content-type": "application/json"}) as c:
            for i in range(n):
                body = _batch(f"s{i}", 1000, unsafe_every=1)
                done.clear()
                t0 = time.perf_counter()
                c.post(srv.url + "/api/v1/events", content=body)
                done.wait(5)
                delays.append((fired[f"s{i}"] - t0) * 1000)
        unsub()
        db.dispose()
    return delays


def run(quick: bool) -> str:
    load_before = _load()
    decode_lines = bench_decode(quick)
    secs = 0.5 if quick else 3
    # json.loads of the same batches just before and just after each ingest measurement, each in
    # a fresh process, so a change in the machine's load moves the baseline with it and no heap
    # state left by the measured code biases it
    j0 = _json_rate(secs)
    inproc, note = bench_inprocess(quick)
    j1 = _json_rate(secs)
    http = bench_http(quick)
    j2 = _json_rate(secs)
    base_in = [(a + b) / 2 for a, b in zip(j0, j1)]
    base_http = [(a + b) / 2 for a, b in zip(j1, j2)]
    lat = sorted(bench_latency(quick))
    load_after = _load()
    p50 = statistics.median(lat)
    p99 = lat[min(len(lat) - 1, int(round(0.99 * (len(lat) - 1))))]
    prom_ms = (60 + 60 + 30) * 1000  # scrape 1 m + evaluation 1 m + group_wait 30 s, before any `for`
    idle = http[1]
    verdict = "met" if idle >= 100_000 else "NOT met"
    out = ["## Monitoring and warnings (issue 5)", "",
           f"Load average (1/5/15 min) on this shared 2-core machine: {load_before} at the start, {load_after} at the end.", "",
           "Ingest decodes with msgspec because the pydantic contract alone caps ingest below the target "
           "on this machine (table 1); `tests/monitor/test_wire_parity.py` keeps the two in step.", "",
           *decode_lines, "",
           "| path | events/s (wall) | events per CPU-second | vs `json.loads`, wall | vs `json.loads`, CPU | target |",
           "|---|---:|---:|---:|---:|---:|",
           f"| `json.loads` of the same batches (baseline: a fresh process before and after, mean) | {base_http[0]:,.0f} | {base_http[1]:,.0f} | 1.00× | 1.00× | — |",
           f"| in-process ingest ({note}, durable dedup ids) | {inproc[0]:,.0f} | {inproc[1]:,.0f} | "
           f"{inproc[0] / base_in[0]:.2f}× | {inproc[1] / base_in[1]:.2f}× | — |",
           f"| HTTP `POST /api/v1/events`, batches of 1,000, one server process | {http[0]:,.0f} | {http[1]:,.0f} | "
           f"{http[0] / base_http[0]:.2f}× | {http[1] / base_http[1]:.2f}× | ≥ 100,000 |", "",
           "The whole ingest is measured (HTTP, auth, decode, checks, durable dedup, indicators, 56 rules) against "
           "parsing the same JSON alone. Wall-clock rates swing several-fold with the load other engineers put on "
           "this machine, and the load client shares its two cores. *Events per CPU-second* of the server "
           "process (uvicorn's thread, the alerts threads; the client is another process) is what one core of "
           f"its own would sustain: **{idle:,.0f} events/s — target {verdict}** (still an underestimate under "
           "load: shared caches and the other hyperthread slow each instruction).", "",
           "Before the batch fold (commit 7778d07 under this same benchmark, 2026-11-29, load 7.7–11): HTTP "
           "28,652 and 31,172 events/s wall, 64,860 and 66,680 per server CPU-second (0.52× `json.loads` by CPU); "
           "in-process 20,796 and 29,664 wall, 69,594 and 76,106 per CPU-second.", "",
           "| event-to-warning (POST start → committed red `firing`, batches of 1,000) | ms |", "|---|---:|",
           f"| p50 | {p50:.1f} |", f"| p99 (n={len(lat)}) | {p99:.1f} |",
           f"| Prometheus + Alertmanager defaults (scrape 60 s + eval 60 s + group_wait 30 s) | {prom_ms:,} |",
           f"| ratio, defaults / fenghuo p99 | {prom_ms / p99:,.0f}× |", "",
           "HTTP throughput is measured with the server and the load client on the same 2-core machine "
           "shared with other work; the server runs one event loop (one core)."]
    return "\n".join(out)


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
