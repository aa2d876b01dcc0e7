"""Paired bulk registration for issue 19 (≥ 1,000 services a second at 100,000): two source trees
register the same generated fleet, one after the other in fresh processes and fresh databases,
their order swapped every round (old, new; new, old; ...), with the load gauge taken before each.

    PYTHONPATH=src:. python -m bench.bench_fleet_register --old /work/wt_start --new . --n 100000 --rounds 2
    PYTHONPATH=src:. python -m bench.bench_fleet_register ... --pg postgresql://postgres@127.0.0.1:5432/test

Each build is what ``bench fleet`` times: jurisdictions and providers first (not timed), then the
services 1,000 to a transaction through ``control.services.register`` (specs validated before the
clock starts). Reported per build: services a second of wall time and of the process's CPU over
the whole build and over its last tenth (the rate at the full size), and with ``--pg`` the CPU of
the PostgreSQL backends serving the build's own database (created for the build, dropped after).
Nothing here writes the docs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import uuid
from pathlib import Path

from bench.bench_fleet import _gauge, _load

TICK = os.sysconf("SC_CLK_TCK")

CHILD = r"""
import json, os, sys, time
from pathlib import Path
from fenghuo.control import services as registry
from fenghuo.demo.fleet import batches
from fenghuo.platform.db import Database
from fenghuo.platform.roles import local_actor
from fenghuo.registry.spec import RegistrationFile

url, n, dbname = sys.argv[1], int(sys.argv[2]), sys.argv[3]
TICK = os.sysconf("SC_CLK_TCK")

def pg_cpu():
    # the backends serving this build's database (their titles name it), utime + stime
    total = 0
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            if dbname.encode() not in (p / "cmdline").read_bytes():
                continue
            f = (p / "stat").read_text().rsplit(")", 1)[1].split()
            total += int(f[11]) + int(f[12])
        except OSError:
            pass
    return total / TICK

db = Database(url)
db.upgrade()
parts = list(batches(n))
registry.register(db, local_actor(), RegistrationFile(jurisdictions=parts[0].jurisdictions, providers=parts[0].providers))
rows = []
for b in parts:
    t, c, p = time.perf_counter(), time.process_time(), pg_cpu() if dbname else 0.0
    registry.register(db, local_actor(), RegistrationFile(services=b.services))
    rows.append((time.perf_counter() - t, time.process_time() - c, (pg_cpu() - p) if dbname else 0.0, len(b.services)))
db.dispose()
print(json.dumps(rows))
"""


def _build(tree: Path, n: int, tmp: Path, pg: str | None) -> dict:
    dbname = ""
    if pg:
        import sqlalchemy as sa

        dbname = f"fleet_f_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(pg.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{dbname}"')
        url = pg.rsplit("/", 1)[0] + "/" + dbname
    else:
        url = str(tmp / f"reg-{uuid.uuid4().hex[:8]}.db")
    gauge, load = _gauge(), _load()
    try:
        env = {**os.environ, "PYTHONPATH": f"{tree / 'src'}", "FENGHUO_HOME": str(tmp)}
        out = subprocess.run([sys.executable, "-c", CHILD, url, str(n), dbname], env=env, capture_output=True, text=True,
                             timeout=3600)
        if out.returncode:
            raise RuntimeError(out.stderr[-2000:])
        rows = json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        if pg:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{dbname}"')
            admin.dispose()
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(url + suffix).unlink(missing_ok=True)
    tail = rows[-max(1, len(rows) // 10):]

    def rate(part: list, i: int) -> float:
        return sum(r[3] for r in part) / sum(r[i] for r in part)

    return {"gauge_ms": gauge, "load": load, "load_after": _load(),
            "wall": rate(rows, 0), "cpu": rate(rows, 1), "tail_wall": rate(tail, 0), "tail_cpu": rate(tail, 1),
            "pg_cpu_ms_per_batch": 1000 * statistics.mean(r[2] for r in rows) if pg else None,
            "cpu_ms_per_batch_tail": 1000 * statistics.mean(r[1] for r in tail)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--old", type=Path, required=True)
    ap.add_argument("--new", type=Path, required=True)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--pg", help="a PostgreSQL URL whose server may create and drop databases")
    ap.add_argument("--tmp", type=Path, default=Path("/tmp"))
    a = ap.parse_args()
    res: dict[str, list[dict]] = {"old": [], "new": []}
    for rnd in range(a.rounds):
        order = ("old", "new") if rnd % 2 == 0 else ("new", "old")
        for name in order:
            r = _build(getattr(a, name).resolve(), a.n, a.tmp, a.pg)
            res[name].append(r)
            print(json.dumps({"round": rnd, "tree": name, **{k: round(v, 2) if isinstance(v, float) else v for k, v in r.items()}}),
                  flush=True)
    med = statistics.median
    summary = {k: {"old": med(r[k] for r in res["old"]), "new": med(r[k] for r in res["new"])}
               for k in ("wall", "cpu", "tail_wall", "tail_cpu")}
    summary["new/old wall, per round"] = [round(n["wall"] / o["wall"], 3) for o, n in zip(res["old"], res["new"])]
    summary["new/old cpu, per round"] = [round(n["cpu"] / o["cpu"], 3) for o, n in zip(res["old"], res["new"])]
    print(json.dumps({"n": a.n, "backend": "postgresql" if a.pg else "sqlite", **summary}), flush=True)


if __name__ == "__main__":
    main()
