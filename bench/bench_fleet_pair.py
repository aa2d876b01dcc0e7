"""Paired ingest measurement for issue 19: two source trees' ``fenghuo serve`` side by side.

``bench fleet`` runs one tree at a time, minutes apart, on a shared machine whose load moves
by more than a 5-10 % change; this runs an old and a new tree at once, on copies of one fleet
database, posts the same bodies to both in each round (which server goes first alternates by
round) and reads each server's CPU from schedstat around its own posts. ``json.loads`` of the
same bytes is timed in a fresh process per round, as ``bench fleet`` does. Only the ratios of
one run compare.

    PYTHONPATH=src:. python -m bench.bench_fleet_pair make --n 100000 --out /tmp/fleet100k
    PYTHONPATH=src:. python -m bench.bench_fleet_pair run --db /tmp/fleet100k \
        --old /tmp/old_tree --new /work/main --rounds 10 --per 10

``--both`` runs the pair again with the trees' places swapped and pools the rounds (``both``).
``make`` writes the database and a token file beside it; ``run`` copies the database for each
server, so every run starts from the same registry. Nothing here writes the docs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.bench_fleet import _body, _json_fresh, _load, _split, _threads_ns
from fenghuo.api.server import free_port


def make(n: int, out: Path) -> None:
    from fenghuo.control import services as registry
    from fenghuo.demo.fleet import batches
    from fenghuo.platform.db import Database
    from fenghuo.platform.roles import Role, local_actor
    from fenghuo.registry.spec import RegistrationFile
    from fenghuo.registry.tokens import create_token

    out.mkdir(parents=True, exist_ok=True)
    db = Database(str(out / "fleet.db"))
    db.upgrade()
    parts = list(batches(n))
    registry.register(db, local_actor(), RegistrationFile(jurisdictions=parts[0].jurisdictions, providers=parts[0].providers))
    for b in parts:
        registry.register(db, local_actor(), RegistrationFile(services=b.services))
    token = create_token(db, local_actor(), "poster", Role.system)
    db.dispose()
    (out / "meta.json").write_text(json.dumps({"n": n, "token": token}))


class Tree:
    """One ``fenghuo serve`` of the source tree at ``root`` on its own copy of the database."""

    def __init__(self, name: str, root: Path, template: Path, tmp: Path) -> None:
        self.name = name
        home = tmp / name
        home.mkdir()
        for f in template.iterdir():
            if f.name.startswith("fleet.db"):
                shutil.copy(f, home / f.name)
        self.port = free_port()
        self.log = open(home / "server.log", "w+b")  # noqa: SIM115 - read back at the end
        env = {**os.environ, "FENGHUO_HOME": str(home), "FENGHUO_MAX_BODY_BYTES": str(4 << 20),
               "PYTHONPATH": f"{root / 'src'}:{root}"}
        self.proc = subprocess.Popen([sys.executable, "-m", "fenghuo.cli", "--db", str(home / "fleet.db"), "serve",
                                      "--port", str(self.port), "--checkpoint-every", "0"],
                                     env=env, stdout=self.log, stderr=subprocess.STDOUT, cwd=str(home))
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=120)

    def wait(self) -> None:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if self.http.get("/api/v1/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not start")

    def post(self, bodies: list[bytes], headers: dict) -> tuple[int, float, tuple[float, float, float]]:
        """Accepted events, server CPU seconds, and ms a batch (ingest thread, loop, other)."""
        pid = self.proc.pid
        t0 = _threads_ns(pid)
        got = 0
        for b in bodies:
            r = self.http.post("/api/v1/events", content=b, headers=headers)
            assert r.status_code == 200, r.text
            got += r.json()["accepted"]
        t1 = _threads_ns(pid)
        cpu = sum(t1.values()) - sum(t0.get(k, 0) for k in t1)
        return got, cpu / 1e9, _split(pid, t0, t1, len(bodies))

    def close(self) -> int:
        self.http.close()
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.flush()
        locked = Path(self.log.name).read_bytes().count(b"database is locked")
        self.log.close()
        return locked


def run(db: Path, old: Path, new: Path, rounds: int, per: int, again: bool, offset: int) -> dict:
    meta = json.loads((db / "meta.json").read_text())
    n, headers = meta["n"], {"Authorization": f"Bearer {meta['token']}", "content-type": "application/json"}
    with tempfile.TemporaryDirectory() as tmp:
        trees = [Tree("old", old, db, Path(tmp)), Tree("new", new, db, Path(tmp))]
        try:
            for t in trees:
                t.wait()
            time.sleep(3)
            warm = [_body(n, 1000, 10_000 + k) for k in range(3)]  # not counted
            for t in trees:
                t.post(warm, headers)
            rows = []
            for rnd in range(rounds):
                load = _load()
                bodies = [_body(n, 1000, offset + rnd * per + k) for k in range(per)]
                order = trees if rnd % 2 == 0 else trees[::-1]
                got = _interleaved(order, bodies, headers)
                path = Path(tmp) / "bodies.ndjson"
                path.write_text("\n".join(b.decode() for b in bodies), encoding="utf-8")
                js = _json_fresh(str(path))
                row = {"round": rnd, "load": load, "json": js}
                for name, (acc, cpu, split) in got.items():
                    row[name] = {"ms": cpu * 1000 / per, "rate": acc / cpu, "split": split}
                if again:
                    redo = [_body(n, 1000, offset + rnd * per + k) for k in range(per)]
                    for t in order:
                        acc, cpu, _ = t.post(redo, headers)
                        row[t.name]["again_rate"] = acc / cpu
                row["new/old"] = row["new"]["ms"] / row["old"]["ms"]
                rows.append(row)
                print(json.dumps({"round": rnd, "load": load, "new/old": round(row["new/old"], 3),
                                  "old ms": round(row["old"]["ms"], 2), "new ms": round(row["new"]["ms"], 2),
                                  "old/json": round(row["old"]["rate"] / js, 3), "new/json": round(row["new"]["rate"] / js, 3),
                                  "split old": [round(x, 2) for x in row["old"]["split"]],
                                  "split new": [round(x, 2) for x in row["new"]["split"]]}), flush=True)
        finally:
            locked = {t.name: t.close() for t in trees}
    return summary(n, rows, locked)


def _interleaved(trees: list[Tree], bodies: list[bytes], headers: dict) -> dict:
    """Each body to every server in turn, which goes first alternating by body, each server's
    CPU read around its own posts: a spike of another process's load lands on one batch of
    one server, not on a whole round of it (on this shared machine single rounds ranged ±30 %)."""
    acc = {t.name: [0, 0.0, [0.0, 0.0, 0.0]] for t in trees}
    for k, b in enumerate(bodies):
        for t in (trees if k % 2 == 0 else trees[::-1]):
            got, cpu, split = t.post([b], headers)
            a = acc[t.name]
            a[0] += got
            a[1] += cpu
            a[2] = [x + y / len(bodies) for x, y in zip(a[2], split)]
    return {name: (a[0], a[1], tuple(a[2])) for name, a in acc.items()}


def summary(n: int, rows: list[dict], locked: dict) -> dict:
    med = statistics.median
    out = {"n": n, "rounds": len(rows), "load": (min(r["load"] for r in rows), max(r["load"] for r in rows)),
           "new/old": (med(r["new/old"] for r in rows), min(r["new/old"] for r in rows), max(r["new/old"] for r in rows)),
           # in how many rounds new took less CPU, and how far that is from the half two equal trees
           # give (z of a sign test): under load single rounds range ±30 %, and a median of 0.97
           # over 20 rounds can be chance (issue 19, session 21: an old/old run read 0.957 over 6).
           # The rounds of one run share its two server processes, so a run can lean one way as a
           # whole: two runs at 100,000 services of trees whose ingest differed only in a path not
           # taken there read 1.06 (new less in 1 of 10) and 0.95 (9 of 10) at load 10-12. Judge
           # over several runs, each with fresh servers.
           "new less in": sum(r["new/old"] < 1 for r in rows),
           "sign z": (2 * sum(r["new/old"] < 1 for r in rows) - len(rows)) / len(rows) ** 0.5,
           "ingest thread new/old": med(r["new"]["split"][0] / r["old"]["split"][0] for r in rows if r["old"]["split"][0]),
           # the ingest thread and the event loop only: the other threads are the idle ticks (response
           # executor, switch poll, notifier: ~16 ms a second at load 12, issue 19 session 23), whose
           # CPU inside a post grows with the post's wall time, so under load they are 6-13 % of a
           # batch's server CPU and most of a round's noise while no ingest code runs on them
           "ingest+loop new/old": med(_busy(r["new"]) / _busy(r["old"]) for r in rows if _busy(r["old"])),
           "rounds ingest+loop new/old": [round(_busy(r["new"]) / _busy(r["old"]), 4) for r in rows if _busy(r["old"])],
           "locked": locked,
           "rounds new/old": [round(r["new/old"], 4) for r in rows]}
    for name in ("old", "new"):
        out[f"{name} ms"] = med(r[name]["ms"] for r in rows)
        out[f"{name}/json"] = med(r[name]["rate"] / r["json"] for r in rows)
        out[f"{name} split"] = tuple(round(med(r[name]["split"][i] for r in rows), 3) for i in range(3))
        if "again_rate" in rows[0][name]:
            out[f"{name} again/json"] = med(r[name]["again_rate"] / r["json"] for r in rows)
    return out


def _busy(side: dict) -> float:
    """ms a batch of the ingest thread and the event loop (``_split``'s first two)."""
    return side["split"][0] + side["split"][1]


def both(db: Path, old: Path, new: Path, rounds: int, per: int, again: bool, offset: int) -> dict:
    """``run`` twice with fresh servers, the second time with the trees' places swapped, and the
    two runs' rounds pooled as new/old: an A/A run (two copies of one tree) read 0.979, the second
    place lower in 10 of 14 rounds (issue 19, session 22): one orientation can lean by a few per
    cent, and both orientations cancel a lean by place."""
    first = run(db, old, new, rounds, per, again, offset)
    second = run(db, new, old, rounds, per, again, offset)
    ratios = first["rounds new/old"] + [1 / x for x in second["rounds new/old"]]
    lower = sum(x < 1 for x in ratios)
    busy = first["rounds ingest+loop new/old"] + [1 / x for x in second["rounds ingest+loop new/old"]]
    busy_lower = sum(x < 1 for x in busy)
    return {"n": first["n"], "rounds": len(ratios), "new/old": statistics.median(ratios),
            "new/old by orientation": (first["new/old"][0], 1 / second["new/old"][0]),
            "new less in": lower, "sign z": (2 * lower - len(ratios)) / len(ratios) ** 0.5,
            "ingest+loop new/old": statistics.median(busy) if busy else None, "ingest+loop new less in": busy_lower,
            "ingest+loop sign z": (2 * busy_lower - len(busy)) / len(busy) ** 0.5 if busy else None,
            "old/json": (first["old/json"], second["new/json"]), "new/json": (first["new/json"], second["old/json"]),
            "load": (min(first["load"][0], second["load"][0]), max(first["load"][1], second["load"][1])),
            "locked": (first["locked"], second["locked"])}


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("--n", type=int, required=True)
    m.add_argument("--out", type=Path, required=True)
    r = sub.add_parser("run")
    r.add_argument("--db", type=Path, required=True)
    r.add_argument("--old", type=Path, required=True)
    r.add_argument("--new", type=Path, required=True)
    r.add_argument("--rounds", type=int, default=10)
    r.add_argument("--per", type=int, default=10)
    r.add_argument("--again", action="store_true", help="each round's services once more, fresh ids")
    r.add_argument("--offset", type=int, default=0, help="first batch number (another slice of the fleet)")
    r.add_argument("--both", action="store_true", help="then again with the trees' places swapped; rounds pooled")
    a = ap.parse_args()
    if a.cmd == "make":
        make(a.n, a.out)
    else:
        go = both if a.both else run
        print(json.dumps(go(a.db, a.old, a.new, a.rounds, a.per, a.again, a.offset)), flush=True)


if __name__ == "__main__":
    main()
