"""Fleet listings (issue 19): a page of 100 from every list endpoint at 1,000 / 10,000 / 100,000
services, on SQLite AND PostgreSQL, with bulk registration timed on both.

``python -m bench fleet_lists`` (sizes: ``FENGHUO_BENCH_FLEET`` as for ``bench fleet``;
PostgreSQL: ``FENGHUO_BENCH_PG`` or ``FENGHUO_TEST_PG``, in a schema of its own dropped at the
end). Kept apart from ``bench fleet`` (ingest, idle CPU, memory — SQLite, a server process) so
the listing figures can be measured on both databases without re-running ingest, and so each
writes only its own section of docs/benchmarks.md.

Per backend and size, on one fresh database:

1. bulk registration in-process, 1,000 services per transaction: services per second (wall, CPU);
2. as many warnings (2 % open), incidents, complaint tickets and guard instances as services, plus 1,000
   commands awaiting approval and 1,000 tokens, bulk-inserted (not timed; spread over the
   fleet, timestamps with ties so the (time, id) cursor is exercised);
3. each listing's page of 100 through HTTP (the app in a server thread of this process, an
   httpx client): the first page, a page deep in the order (cursor from the middle), a filtered
   page, a provincial regulator's page (the widest scope
   below the root: ~1/31 of the fleet, the slowest scope to page) and, for warnings, a city's; p50 / p99 client wall time over repeated requests.

Load gauge: the 1-minute load average before each run, and ``json.loads`` of a fixed 1 MB
document timed in this process (ms, median of 15) beside it.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert

from bench import lists_scope
from fenghuo.alerts.models import WarningRow
from fenghuo.api.server import ServerThread
from fenghuo.control import services as registry
from fenghuo.control.instance_models import GuardInstance
from fenghuo.control.models import Command
from fenghuo.demo.fleet import batches
from fenghuo.platform import pages
from fenghuo.platform.auth import Token
from fenghuo.platform.config import Settings
from fenghuo.platform.db import Database
from fenghuo.platform.roles import Role, local_actor
from fenghuo.registry.spec import RegistrationFile
from fenghuo.registry.tokens import create_token
from fenghuo.response.models import ComplaintTicket, Incident

CHUNK = 5000


def _sizes(quick: bool) -> list[int]:
    env = os.environ.get("FENGHUO_BENCH_FLEET")
    if env:
        return [int(x) for x in env.split(",")]
    return [1000] if quick else [1000, 10000, 100000]


def _load() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def _gauge() -> float:
    doc = json.dumps([{"i": i, "s": "x" * 40, "f": i / 3} for i in range(12000)])
    times = []
    for _ in range(15):
        t = time.perf_counter()
        json.loads(doc)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def _when(i: int) -> str:
    # ~4 rows per second of a day-long span: ties on the time column are common
    s = (i * 7919) % 86400
    return f"2026-01-01T{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.000000Z"


def _bulk(db: Database, model: Any, rows: list[dict]) -> None:
    for k in range(0, len(rows), CHUNK):
        with db.transaction() as s:
            s.execute(insert(model), rows[k:k + CHUNK])


def seed(db: Database, n: int, svc: list[tuple[str, str, str]]) -> dict[str, Any]:
    """Rows for every listing; returns a middle row's cursor per listing (a deep page). Each row
    is given its service's jurisdiction as the server's writers fill it (migration 0020; given
    here rather than looked up per row, to keep the seeding short)."""
    rng = random.Random(19)
    # open warnings are rare (2 %, pending, none firing): a firing one would set the response
    # executor's plans going in the background of the timing; state=open is the sparse filter
    levels = ("blue", "yellow", "orange", "red")
    w = [{"id": f"w-{i:08d}", "fingerprint": f"{i:032x}", "active": None, "alert": f"rule{i % 14}", "service_id": svc[i % len(svc)][0],
          "state": "pending" if rng.random() < 0.02 else "resolved", "level": levels[rng.randrange(4)], "rule": "r", "value": 1.0, "description": "",
          "started_at": _when(i), "rules": {}, "flaps": 0, "labels": {}, "updated_at": _when(i), "jurisdiction_id": svc[i % len(svc)][2]}
         for i in range(n)]
    _bulk(db, WarningRow, w)
    inc = [{"id": f"inc-{i:08d}", "service_id": svc[i % len(svc)][0], "provider_id": svc[i % len(svc)][1], "title": "t",
            "grade": ("IV", "III", "II", "I")[rng.randrange(4)], "grade_inputs": {}, "flags": [],
            "status": "open" if rng.random() < 0.2 else "ended", "opened_by": "bench", "source": "plan", "detected_at": _when(i),
            "opened_at": _when(i), "profile": "cn-2025-operator", "profile_version": "1", "jurisdiction_id": svc[i % len(svc)][2]}
           for i in range(n)]
    _bulk(db, Incident, inc)
    cpl = [{"id": f"cpl-{i:08d}", "service_id": svc[i % len(svc)][0], "provider_id": svc[i % len(svc)][1], "category": "complaint",
            "channel": "web", "content": "c", "received_at": _when(i), "due_at": None, "status": ("open", "handled", "closed")[i % 3],
            "overdue": False, "created_by": "bench", "jurisdiction_id": svc[i % len(svc)][2]} for i in range(n)]
    _bulk(db, ComplaintTicket, cpl)
    gi = [{"id": f"g-{i:08d}", "service_id": svc[i % len(svc)][0], "state": "running", "version": 1, "enforced_since": _when(i),
           "last_seen": _when(i), "failsafe": False, "meta": {}, "jurisdiction_id": svc[i % len(svc)][2]} for i in range(n)]
    _bulk(db, GuardInstance, gi)
    cmd = [{"id": f"c-{i:06d}", "service_id": svc[(i * 97) % len(svc)][0], "action": ("pause", "stop", "degrade", "resume")[i % 4],
            "params": {}, "reason": "r", "actor": "bench", "status": "awaiting_approval", "from_state": "running", "to_state": "paused",
            "approvals_needed": 2, "created_at": _when(i), "jurisdiction_id": svc[(i * 97) % len(svc)][2]} for i in range(1000)]
    _bulk(db, Command, cmd)
    _bulk(db, Token, [{"token_hash": uuid.uuid4().hex * 2, "name": f"t{i}", "role": "operator", "provider_id": svc[i % len(svc)][1],
                       "created_at": _when(i), "revoked": False} for i in range(1000)])

    def mid(rows: list[dict], key: str) -> str:
        r = sorted(rows, key=lambda x: (x[key], x["id"]))[len(rows) // 2]
        return pages.encode([r[key], r["id"]])

    return {"warnings": mid(w, "started_at"), "incidents": mid(inc, "opened_at"), "complaints": mid(cpl, "received_at"),
            "instances": pages.encode([sorted(x["id"] for x in gi)[len(gi) // 2]])}


def one(db: Database, n: int, quick: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"n": n, "load_before": _load(), "gauge_ms": _gauge()}
    parts = list(batches(n))
    tree = RegistrationFile(jurisdictions=parts[0].jurisdictions, providers=parts[0].providers)
    registry.register(db, local_actor(), tree)
    t, c = time.perf_counter(), time.process_time()
    for b in parts:
        registry.register(db, local_actor(), RegistrationFile(services=b.services))
    out["reg_wall"], out["reg_cpu"] = n / (time.perf_counter() - t), n / (time.process_time() - c)
    where = {p.id: p.jurisdiction for p in parts[0].providers}
    svc = [(s.id, s.provider, s.jurisdiction or where[s.provider]) for b in parts for s in b.services]
    deep = seed(db, n, svc)
    province = "p00"
    admin = {"Authorization": f"Bearer {create_token(db, local_actor(), 'bench', Role.admin)}"}
    reg = {"Authorization": f"Bearer {create_token(db, local_actor(), 'cac', Role.regulator, jurisdiction_id=province)}"}
    city = {"Authorization": f"Bearer {create_token(db, local_actor(), 'city', Role.regulator, jurisdiction_id=province + 'c0')}"}
    cases = {
        "services": [("first", {}, admin), ("deep", {"after": f"svc{n // 2:06d}"}, admin), ("sector=finance", {"sector": "finance"}, admin),
                     ("regulator", {}, reg)],
        "warnings": [("first", {}, admin), ("deep", {"after": deep["warnings"]}, admin), ("state=open", {"state": "open"}, admin),
                     ("regulator", {}, reg), ("city regulator", {}, city)],
        "incidents": [("first", {}, admin), ("deep", {"after": deep["incidents"]}, admin), ("status=open", {"status": "open"}, admin),
                      ("regulator", {}, reg)],
        "complaints": [("first", {}, admin), ("deep", {"after": deep["complaints"]}, admin), ("status=open", {"status": "open"}, admin),
                       ("regulator", {}, reg)],
        "instances": [("first", {}, admin), ("deep", {"after": deep["instances"]}, admin),
                      ("service=…", {"service": svc[len(svc) // 3][0]}, admin), ("regulator", {}, reg)],
        "commands/pending": [("first", {"all": "true"}, admin), ("regulator", {"all": "true"}, reg)],
        "tokens": [("first", {}, admin), ("status=active", {"status": "active"}, admin)],
        "states": [("first", {}, admin), ("regulator", {}, reg)],
    }
    reps = 5 if quick else 21
    out["pages"] = {}
    # start-up reads the fleet (at 100,000 on a loaded machine longer than ServerThread's 15 s default)
    server = ServerThread(db, Settings(checkpoint_seconds=0)).start(timeout=300)
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            time.sleep(2)  # the runtime's start-up work
            for path, variants in cases.items():
                for name, params, headers in variants:
                    q = {"limit": 100, **params}
                    http.get(f"/api/v1/{path}", params=q, headers=headers)  # warm-up, not counted
                    lat = []
                    for _ in range(reps):
                        t = time.perf_counter()
                        r = http.get(f"/api/v1/{path}", params=q, headers=headers)
                        lat.append((time.perf_counter() - t) * 1000)
                        assert r.status_code == 200, (path, r.text)
                    out["pages"][(path, name)] = (statistics.median(lat), _pct(lat, 0.99), len(r.json()))
    finally:
        server.__exit__(None, None, None)
    out["scope"] = lists_scope.compare(db, province, reps)
    out["load_after"] = _load()
    return out


def _pg_url() -> str | None:
    return os.environ.get("FENGHUO_BENCH_PG") or os.environ.get("FENGHUO_TEST_PG")


def run_backend(kind: str, n: int, quick: bool, tmp: Path) -> dict[str, Any]:
    if kind == "sqlite":
        db = Database(str(tmp / f"lists{n}.db"))
        try:
            db.upgrade()
            return one(db, n, quick)
        finally:
            db.dispose()
    import sqlalchemy as sa

    url = _pg_url()
    name = f"bench_lists_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{name}"')
    db = Database(url, schema=name)
    try:
        db.upgrade()
        return one(db, n, quick)
    finally:
        db.dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        admin.dispose()


def run(quick: bool) -> str:
    kinds = ["sqlite"] + (["postgresql"] if _pg_url() else [])
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in _sizes(quick):
            for kind in kinds:
                r = run_backend(kind, n, quick, Path(tmp))
                r["kind"] = kind
                results.append(r)
                print(json.dumps({k: v for k, v in r.items() if k != "pages"}, default=str), flush=True)
    lines = ["## Fleet listings (issue 19)", "",
             "Every list endpoint as a keyset page (`fenghuo.platform.pages`: `WHERE <visible> AND <filters> AND (time, id) "
             "past the cursor ORDER BY time, id LIMIT 101`, indexes from migrations 0018 and 0020; a regulator's scope is "
             "the row's own `jurisdiction_id` in its subtree's nodes, `control.row_scope`), on generated fleets "
             "(`fenghuo.demo.fleet`) with as many warnings, incidents, complaint tickets and guard instances as services "
             "(1,000 pending commands, 1,000 tokens). The app runs in a server thread of the benchmark process; times are "
             "client wall time through HTTP. Load gauge: 1-minute load average on this shared 2-core machine, and "
             "`json.loads` of a fixed 1 MB document (ms).", "",
             "| database | services | load before / after | gauge ms | bulk registration, services/s (wall / CPU) |",
             "|---|---:|---|---:|---|"]
    for r in results:
        lines.append(f"| {r['kind']} | {r['n']:,} | {r['load_before']:.1f} / {r['load_after']:.1f} | {r['gauge_ms']:.1f} | "
                     f"{r['reg_wall']:,.0f} / {r['reg_cpu']:,.0f} |")
    lines += ["", "Page of 100, ms p50 / p99 (rows returned); target < 50 ms at 100,000:", ""]
    keys = list(results[0]["pages"])
    lines += ["| listing | page | " + " | ".join(f"{r['kind']} {r['n']:,}" for r in results) + " |",
              "|---|---|" + "---:|" * len(results)]
    for path, name in keys:
        cells = []
        for r in results:
            p50, p99, k = r["pages"][(path, name)]
            cells.append(f"{p50:.1f} / {p99:.1f} ({k})")
        lines.append(f"| `{path}` | {name} | " + " | ".join(cells) + " |")
    lines += ["", "A province regulator's page in SQL, in process: the query before migration 0020 (each row joined to its "
              "service) and today's (the row's own `jurisdiction_id`), alternately on the same database "
              "(`bench/lists_scope.py`); ms p50, and the ratio:", "",
              "| listing | " + " | ".join(f"{r['kind']} {r['n']:,} before / now" for r in results) + " |",
              "|---|" + "---:|" * len(results)]
    for name in results[0]["scope"]:
        cells = []
        for r in results:
            before, now, _ = r["scope"][name]
            cells.append(f"{before:.1f} / {now:.1f} ({before / now:.1f}×)")
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    worst = max((r["pages"][k][0], r["kind"], r["n"], k) for r in results for k in keys if r["n"] == max(x["n"] for x in results))
    lines += ["", f"Slowest p50 at the largest size: {worst[0]:.1f} ms ({worst[1]}, `{worst[3][0]}` {worst[3][1]})."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import sys

    print(run(quick="--quick" in sys.argv))
