"""Scale-out benchmark (issue 8): PostgreSQL + NATS JetStream, control-plane replicas as real
``fenghuo serve --bus nats://…`` processes, guards as real KV-watching processes.

1. Switch propagation: 100 guard instances in 4 processes watch the KV bucket; 1,000 throttle
   commands in a row (POST to a replica); per command, acceptance → enforcement by all (the
   instances' own times), acceptance → all acknowledged (booked by a replica, as the enforcement
   answer reports it), and sent → the 100th acknowledgement heard over NATS (client clock).
2. Ingest through JetStream with two replicas: 1,000-event batches POSTed to both replicas at
   once; events/s accepted (stored in JetStream) and counted (the leader's indicators hold them all).
3. Event-to-warning: 1,000 unsafe events POSTed to the replica that does NOT lead; time until
   the red warning is committed as firing (read from PostgreSQL every 2 ms).

Needs PostgreSQL (FENGHUO_TEST_PG, default the machine's) and NATS at 127.0.0.1:4222.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson

from bench.bench_guard import gauge

PG = os.environ.get("FENGHUO_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
NATS = os.environ.get("FENGHUO_TEST_NATS", "nats://127.0.0.1:4222")
N_SERVICES = 60


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def _registry() -> str:
    lines = ["jurisdictions:", "  - {id: cn, name: China, level: national}", "providers:", "  - {id: pa, name: Provider A, jurisdiction: cn}",
             "services:"]
    for i in range(N_SERVICES):
        lines.append(f"  - {{id: svc-{i}, name: S{i}, provider: pa, sector: general, function: content_generation, modalities: [text], "
                     f"reach: 1000, no_human_in_loop: false, backup_model: small}}")
    return "\n".join(lines) + "\n"


def _rules() -> str:
    ids = ", ".join(f"svc-{i}" for i in range(N_SERVICES))
    return ("rules:\n  - {name: viol-red, services: {ids: [" + ids + "]}, indicator: output_violation_rate, window: 1m,\n"
            "     threshold: {op: \">\", value: 0.5}, for: 0, min_samples: 10, level: red, description: red}\n")


def _events(service: str, n: int, unsafe: bool = False) -> list[dict]:
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    tag = uuid.uuid4().hex[:10]
    return [{"id": f"{tag}-{k}", "type": "call", "service": service, "time": now, "instance": "bench", "status": "ok",
             "route": "primary", "latency_ms": 12.0, "output": {"blocked": unsafe, "categories": ["A1"] if unsafe else []}}
            for k in range(n)]


class Setup:
    def __init__(self, tmp: Path) -> None:
        from fenghuo.control import services as registry
        from fenghuo.platform.roles import Role, local_actor
        from fenghuo.registry.spec import parse_registration
        from fenghuo.registry.tokens import create_token
        from tests.conftest import PgSchema
        from tests.scale import conftest

        conftest.PG_URL = PG
        import tests.conftest as root_conftest

        root_conftest.PG_URL = PG
        self.schema = PgSchema()
        self.db = self.schema.database()
        self.db.upgrade()
        registry.register(self.db, local_actor(), parse_registration(_registry()))
        self.token = create_token(self.db, local_actor(), "bench", Role.admin)
        self.url = f"{PG}?options=-csearch_path%3D{self.schema.name}"
        self.prefix = f"b{uuid.uuid4().hex[:8]}"
        (tmp / "rules.yaml").write_text(_rules(), encoding="utf-8")
        (tmp / "alerts.yaml").write_text('{"packs": "none", "rules": ["rules.yaml"], "channels": []}', encoding="utf-8")
        self.env = {**os.environ, "FENGHUO_NATS_PREFIX": self.prefix, "FENGHUO_ALERTS": str(tmp / "alerts.yaml"),
                    "FENGHUO_HOME": str(tmp / "home"), "FENGHUO_LEASE_SECONDS": "5", "FENGHUO_MAX_EVENTS": "5000"}
        self.tmp = tmp
        self.auth = {"Authorization": f"Bearer {self.token}"}

    def close(self, link) -> None:
        from tests.scale.conftest import drop

        drop(link)
        self.db.dispose()
        self.schema.drop()


def _propagation(setup: Setup, replica, link, commands: int) -> dict[str, list[float]]:
    """Per command: sent → the 100th acknowledgement heard by this process's own NATS
    subscription (client clock); acceptance → enforcement by all 100 (the instances' own
    times); acceptance → all 100 acknowledged, as ``GET /services/{id}/enforcement`` reports
    it (each instance's ``last_seen``: when a replica booked its acknowledgement, server clock)."""
    acks: dict[int, int] = {}
    done: dict[int, float] = {}
    enforced: dict[int, str] = {}  # the latest instance's own enforcement time per version
    lock = threading.Lock()

    async def listen():
        async def cb(msg):
            body = orjson.loads(msg.data)
            for one in body if isinstance(body, list) else [body]:  # a batch from one guard process
                v = one["version"]
                with lock:
                    enforced[v] = max(enforced.get(v, ""), one["enforced_at"])
                    acks[v] = acks.get(v, 0) + 1
                    if acks[v] == 100:
                        done[v] = time.perf_counter()
        return await link.nc.subscribe(f"{link.settings.acks_subject}.>", cb=cb)

    sub = link.run(listen())
    fleet = [subprocess.Popen([sys.executable, "-m", "bench.scale_fleet", "--url", NATS, "--prefix", setup.prefix, "--service", "svc-0",
                               "--count", "25", "--name", f"p{p}", "--ack-seconds", "60", "--quiet"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) for p in range(4)]
    try:
        for p in fleet:
            assert p.stdout.readline().startswith("ready 25")
        lat, lag, booked = [], [], []
        with httpx.Client(base_url=replica.url, headers=setup.auth, timeout=10) as c:
            for i in range(commands):
                sent = time.perf_counter()
                r = c.post("/api/v1/services/svc-0/commands", json={"action": "throttle", "reason": f"p{i}", "rate": i % 50 + 1}).json()
                v = r["version"]
                deadline = time.monotonic() + 5
                while v not in done and time.monotonic() < deadline:
                    time.sleep(0.0005)
                if v not in done:
                    raise RuntimeError(f"command {i}: only {acks.get(v, 0)}/100 acknowledgements of v{v}")
                lat.append((done[v] - sent) * 1000)
                lag.append((_t(enforced[v]) - _t(r["applied_at"])) * 1000)
                while time.monotonic() < deadline:  # the replicas' books write them within ~30 ms of booking
                    e = c.get("/api/v1/services/svc-0/enforcement").json()
                    if e["version"] == v and e["all_enforce"] and e["instances"] == 100:
                        booked.append((max(_t(x["last_seen"]) for x in e["live"]) - _t(e["changed_at"])) * 1000)
                        break
                    time.sleep(0.01)
                else:
                    raise RuntimeError(f"command {i}: the enforcement answer never showed all 100 on v{v}: {e['message']}")
        return {"heard": lat, "enforced": lag, "booked": booked}
    finally:
        for p in fleet:
            p.kill()
        link.run(sub.unsubscribe())


def _t(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _ingest(setup: Setup, replicas: list, leader, total: int) -> tuple[float, float]:
    per = total // len(replicas)
    bodies = [[orjson.dumps(_events(f"svc-{1 + (k % 10)}", 1000)) for k in range(per // 1000)] for _ in replicas]

    def post(r, mine) -> None:
        with httpx.Client(base_url=r.url, headers={**setup.auth, "Content-Type": "application/json"}, timeout=30) as c:
            for body in mine:
                assert c.post("/api/v1/events", content=body).json()["accepted"] == 1000

    t0 = time.perf_counter()
    threads = [threading.Thread(target=post, args=(r, b)) for r, b in zip(replicas, bodies)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    accepted = time.perf_counter() - t0
    n = per * len(replicas)

    def counted_calls() -> int:  # what the leader has counted, from its indicators
        rows = httpx.get(f"{leader.url}/api/v1/indicators", headers=setup.auth, timeout=30).json()
        return sum(int(r["windows"]["5m"]["calls"]) for r in rows if r["service"] in {f"svc-{1 + k}" for k in range(10)})

    while counted_calls() < n:
        time.sleep(0.02)
    counted = time.perf_counter() - t0
    return n / accepted, n / counted


def _warning_latency(setup: Setup, follower, rounds: int) -> list[float]:
    from sqlalchemy import text

    out = []
    with httpx.Client(base_url=follower.url, headers={**setup.auth, "Content-Type": "application/json"}, timeout=30) as c:
        for i in range(rounds):
            svc = f"svc-{11 + i}"
            body = orjson.dumps(_events(svc, 1000, unsafe=True))
            t0 = time.perf_counter()
            assert c.post("/api/v1/events", content=body).json()["accepted"] == 1000
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                with setup.db.reader() as s:
                    if s.execute(text("SELECT 1 FROM alert_warnings WHERE service_id = :s AND state = 'firing'"), {"s": svc}).first():
                        break
                time.sleep(0.002)
            else:
                raise RuntimeError(f"no warning for {svc}")
            out.append((time.perf_counter() - t0) * 1000)
    return out


def json_baseline(total: int) -> float:
    import json

    body = orjson.dumps(_events("svc-1", 1000))
    t0 = time.perf_counter()
    for _ in range(total // 1000):
        json.loads(body)
    return total / (time.perf_counter() - t0)


def json_baseline_fresh(total: int) -> float:
    """``json_baseline`` in a fresh interpreter: in this process it would run on the heap the
    earlier parts left (issue 19: the ingest benchmark's baseline read 158k events/s after its in-process
    part, 289k fresh)."""
    r = subprocess.run([sys.executable, "-m", "bench.bench_scale", "json", str(total)], cwd=Path(__file__).resolve().parent.parent,
                       capture_output=True, text=True, check=True)
    return float(r.stdout.strip().splitlines()[-1])


def _section(name: str) -> tuple[list[list[str]], str]:
    """Table rows and date of another benchmark's section as ``make bench`` last wrote it, so the
    embedded figures sit beside these without re-running (or copying) them."""
    doc = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
    text = doc.read_text(encoding="utf-8") if doc.exists() else ""
    section = text.partition(f"<!-- bench:{name}:start -->")[2].partition(f"<!-- bench:{name}:end -->")[0]
    rows = [[c.strip() for c in ln.strip().strip("|").split("|")] for ln in section.splitlines() if ln.startswith("|")]
    stamp = next((ln.strip("_").removeprefix("Measured ").split(" on ")[0] for ln in section.splitlines() if ln.startswith("_Measured")), "")
    # a subsection measured alone since (the guard section's propagation) names its own time
    stamp = next((ln.split(" alone ")[1].split(" UTC")[0] + " UTC" for ln in section.splitlines()
                  if ln.startswith("_Propagation subsection re-measured alone ")), stamp)
    return rows, stamp


def _embedded(name: str, starts: str, label: str, cols: list[int]) -> str:
    rows, stamp = _section(name)
    row = next((r for r in rows if r[0].startswith(starts)), None)
    if row is None:
        return f"| {label}: not measured yet (`make bench BENCH_ARGS={name}`) |" + " – |" * len(cols)
    return f"| {label} (section {name}, {stamp}) | " + " | ".join(row[c] for c in cols) + " |"


def _monitor_e2w(which: str) -> str:
    rows, _ = _section("monitor")
    return next((r[1] for r in rows if r[0].startswith(which)), "–")


def run(quick: bool = False) -> str:
    from fenghuo.scale import lease
    from fenghuo.scale.connection import NatsLink, NatsSettings
    from tests.scale.servers import Replica

    commands, total, rounds = (100, 20_000, 10) if quick else (1000, 100_000, 40)
    load = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory() as tmp:
        setup = Setup(Path(tmp))
        link = NatsLink(NatsSettings(servers=[NATS]).with_prefix(setup.prefix), name="bench").connect()
        a = Replica(setup.url, NATS, setup.env, Path(tmp) / "a.log")
        while lease.holder(setup.db, "leader") is None:
            time.sleep(0.05)
        b = Replica(setup.url, NATS, setup.env, Path(tmp) / "b.log")
        try:
            gauges = [gauge()]
            measured = _propagation(setup, a, link, commands)
            prop, lag, booked = measured["heard"], measured["enforced"], measured["booked"]
            gauges.append(gauge())
            load.append(os.getloadavg()[0])
            base_before = json_baseline_fresh(total)  # interleaved: before and after the ingest it is compared with
            leader_pid = int(lease.holder(setup.db, "leader")["holder"].split("-")[-2])
            leader, follower = (a, b) if leader_pid == a.proc.pid else (b, a)
            ingest_rate, count_rate = _ingest(setup, [a, b], leader, total)
            base = (base_before + json_baseline_fresh(total)) / 2
            load.append(os.getloadavg()[0])
            e2w = _warning_latency(setup, follower, rounds)
            load.append(os.getloadavg()[0])
        finally:
            a.stop()
            b.stop()
            setup.close(link)
    p99_ok = pct(booked, 0.99) < 50
    return "\n".join([
        "## Scale-out: PostgreSQL + NATS JetStream (issue 8)", "",
        "Control plane: two `fenghuo serve --db postgresql://… --bus nats://…` replicas; one NATS server (JetStream, file storage); "
        "PostgreSQL 15; all on this machine.", "",
        "### Switch propagation through the KV bucket", "",
        f"{commands} throttle commands in a row (HTTP to a replica) to one service followed by 100 guard instances in 4 processes, "
        "each watching the service's key in the KV bucket and acknowledging over NATS (a process's acknowledgements of a change "
        "in one message, 3 ms after its first; both replicas book them, one queue group). All acknowledged = the latest "
        "instance's `last_seen` in `GET /api/v1/services/{id}/enforcement` (when a replica booked its acknowledgement) minus "
        "the command's acceptance, asked after the benchmark's own NATS subscription heard all 100, until the answer shows them "
        "(server clock). Heard = from sending the command to the benchmark's subscription hearing the 100th (client clock, so "
        "it includes the command's HTTP round trip).", "",
        f"Load gauge (wall ÷ CPU time of a fixed pyahocorasick scan in the benchmark's process; 1.0: a core to itself) before "
        f"/ after: {gauges[0]:.2f} / {gauges[1]:.2f}.", "",
        "| measure | p50 ms | p99 ms | max ms |", "|---|---|---|---|",
        f"| NATS KV: acceptance → enforcement by all 100 (the instances' own times, as the embedded row) | {pct(lag, .5):.1f} | {pct(lag, .99):.1f} | {max(lag):.1f} |",
        f"| NATS KV: acceptance → all 100 acknowledged (booked by a replica) | {pct(booked, .5):.1f} | {pct(booked, .99):.1f} | {max(booked):.1f} |",
        f"| NATS KV: command sent → 100th acknowledgement heard by the benchmark | {pct(prop, .5):.1f} | {pct(prop, .99):.1f} | {max(prop):.1f} |",
        _embedded("guard", "acceptance → enforcement by all", "embedded SSE: acceptance → enforcement by all 100", [1, 2, 3]),
        _embedded("guard", "acceptance → all 100 acknowledged", "embedded SSE: acceptance → all 100 acknowledged", [1, 2, 3]), "",
        f"- Target p99 < 50 ms to all 100 instances, acknowledged: **{'met' if p99_ok else 'NOT met'}** on this run "
        f"(acceptance → all acknowledged p99 {pct(booked, .99):.1f} ms; acceptance → enforcement p99 {pct(lag, .99):.1f} ms; "
        f"load gauge {gauges[0]:.2f} / {gauges[1]:.2f}).", "",
        "### Ingest through JetStream, two replicas", "",
        f"{total:,} events in 1,000-event batches POSTed to both replicas at once (one client thread each). Accepted = stored "
        "in JetStream (the HTTP answer waits for every PubAck; one message per service per batch); counted = the leader's indicators hold every event (read over HTTP every 20 ms).", "",
        "| path | events/s | vs json.loads in this run |", "|---|---:|---:|",
        f"| `json.loads` of the same batches (baseline: a fresh interpreter just before and just after, mean) | {base:,.0f} | 1.00× |",
        f"| two replicas, accepted (stored in JetStream) | {ingest_rate:,.0f} | {ingest_rate / base:.2f}× |",
        f"| two replicas, counted by the leader | {count_rate:,.0f} | {count_rate / base:.2f}× |",
        _embedded("monitor", "HTTP `POST /api/v1/events`", "embedded HTTP ingest, one process", [1, 3]).removesuffix(" |") + " (its run) |", "",
        "### Event-to-warning through JetStream", "",
        f"1,000 unsafe events POSTed to the replica that does not lead, {rounds} services one after another; time until the red "
        "warning is committed as firing (PostgreSQL polled every 2 ms).", "",
        "| | p50 ms | p99 ms |", "|---|---:|---:|",
        f"| NATS: non-leader ingest → JetStream → leader counts and evaluates | {pct(e2w, .5):.1f} | {pct(e2w, .99):.1f} |",
        "| embedded: POST start → committed red firing (section monitor, "
        f"{_section('monitor')[1]}) | {_monitor_e2w('p50')} | {_monitor_e2w('p99')} |", "",
        f"_Machine load average (1 min) at start / after each part: {', '.join(f'{x:.1f}' for x in load)} on 2 cores shared with "
        "other engineers' test suites; the control plane, NATS, PostgreSQL, the guards and the load client all share them._",
    ])


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "json":
    print(json_baseline(int(sys.argv[2])))
