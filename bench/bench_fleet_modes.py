"""Does the way a harness posts change a server's ingest ÷ ``json.loads`` (issue 19, session 24)?
One tree, two ``fenghuo serve`` on copies of one fleet database (``bench_fleet_pair make``); in
every round server a takes three sets of spread batches, in an order that rotates by round:
``interleaved`` with server b batch by batch (``bench_fleet_pair``'s way), ``consecutive`` (``bench
fleet``'s way, b idle beside it and then given as many batches), and ``alone`` (b stopped with
SIGSTOP while a takes its batches). Each set's bytes are parsed by ``json.loads`` in a fresh
process, as both benches do. Nothing here writes the docs.

    PYTHONPATH=src:. python -m bench.bench_fleet_modes /tmp/fleet1k /work/main 9 10
"""

import json
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.bench_fleet import _body, _gauge, _json_fresh, _load
from bench.bench_fleet_pair import Tree, _interleaved

MODES = ("interleaved", "consecutive", "alone")


def _one(mode: str, rnd: int, a: Tree, b: Tree, bodies: list[bytes], headers: dict, n: int, k0: int) -> tuple:
    """(accepted, CPU seconds, split) of server a for ``bodies`` in ``mode``."""
    if mode == "interleaved":
        return _interleaved([a, b] if rnd % 2 == 0 else [b, a], bodies, headers)["a"]
    if mode == "consecutive":
        got = a.post(bodies, headers)
    else:
        os.kill(b.proc.pid, signal.SIGSTOP)
        try:
            got = a.post(bodies, headers)
        finally:
            os.kill(b.proc.pid, signal.SIGCONT)
    b.post([_body(n, 1000, 50_000 + k0 + k) for k in range(len(bodies))], headers)  # b keeps pace
    return got


def main() -> None:
    db, tree, rounds, per = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    meta = json.loads((db / "meta.json").read_text())
    n = meta["n"]
    headers = {"Authorization": f"Bearer {meta['token']}", "content-type": "application/json"}
    res: dict[str, list[dict]] = {m: [] for m in MODES}
    with tempfile.TemporaryDirectory() as tmp:
        a, b = Tree("a", tree, db, Path(tmp)), Tree("b", tree, db, Path(tmp))
        try:
            a.wait()
            b.wait()
            time.sleep(3)
            warm = [_body(n, 1000, 10_000 + k) for k in range(3)]
            a.post(warm, headers)
            b.post(warm, headers)
            k0 = 0
            for rnd in range(rounds):
                modes = MODES[rnd % 3:] + MODES[:rnd % 3]
                row: dict = {"load": _load(), "gauge": _gauge()}
                for m in modes:
                    bodies = [_body(n, 1000, k0 + k) for k in range(per)]
                    k0 += per
                    acc, cpu, split = _one(m, rnd, a, b, bodies, headers, n, k0)
                    path = Path(tmp) / "bodies.ndjson"
                    path.write_text("\n".join(x.decode() for x in bodies), encoding="utf-8")
                    js = _json_fresh(str(path))
                    row[m] = {"ratio": acc / cpu / js, "ms": cpu * 1000 / per, "split": [round(x, 2) for x in split],
                              "json_ms": 1e6 / js}
                    res[m].append(row[m])
                print(json.dumps({"round": rnd, "load": row["load"], "gauge": round(row["gauge"], 2),
                                  **{m: (round(row[m]["ratio"], 3), round(row[m]["ms"], 2), row[m]["split"],
                                         round(row[m]["json_ms"], 2)) for m in modes}}), flush=True)
        finally:
            a.close()
            b.close()
    med = statistics.median
    print(json.dumps({m: {"ratio med": round(med(r["ratio"] for r in v), 3), "ms med": round(med(r["ms"] for r in v), 2),
                          "json ms med": round(med(r["json_ms"] for r in v), 2)} for m, v in res.items()}))


if __name__ == "__main__":
    main()
