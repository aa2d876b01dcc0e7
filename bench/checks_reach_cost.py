"""The classifier check's cost per 1 KB with and without a model's reach heads (session 26's rule 4).

    python -m bench.checks_reach_cost MODEL [--procs 6] [--passes 12]

COLD dev text joined and cut into 1,000-character pieces; in each of ``--procs`` fresh processes
the shipped model and MODEL are timed alternately, ``--passes`` passes each (thread CPU of
``find_in`` over every cut, the text normalised beforehand); a process reports the median of its
per-pass ratio MODEL / shipped. Paired within a process, so the machine's load moves both.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

CUT = 1000


def cuts(data: Path, n: int = 300) -> list[str]:
    with open(data / "classifier" / "cold" / "dev.csv", encoding="utf-8-sig", newline="") as f:
        text = "".join(r["TEXT"] for r in csv.DictReader(f))
    return [text[i : i + CUT] for i in range(0, min(len(text), n * CUT), CUT)]


def one_process(model: str, passes: int) -> float:
    from fenghuo.checks.classifier.check import ClassifierCheck
    from fenghuo.checks.classifier.model import shipped_model_path

    data = Path(os.environ.get("FENGHUO_DATA", Path(__file__).resolve().parent.parent.parent / "shared" / "data"))
    pieces = cuts(data)
    checks = [ClassifierCheck(shipped_model_path(), reload_interval=0), ClassifierCheck(Path(model), reload_interval=0)]
    normed = [(t, checks[0].normaliser.normalise(t)) for t in pieces]
    for c in checks:  # warm up
        for t, n in normed[:20]:
            c.find_in(t, n)
    ratios = []
    for _ in range(passes):
        spent = []
        for c in checks:
            t0 = time.thread_time()
            for t, n in normed:
                c.find_in(t, n)
            spent.append(time.thread_time() - t0)
        ratios.append(spent[1] / spent[0])
    print(f"{statistics.median(ratios):.4f} {1e6 * spent[0] / len(normed):.1f}")
    return statistics.median(ratios)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model")
    ap.add_argument("--procs", type=int, default=6)
    ap.add_argument("--passes", type=int, default=12)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        one_process(args.model, args.passes)
        return 0
    out = []
    for _ in range(args.procs):
        r = subprocess.run([sys.executable, "-m", "bench.checks_reach_cost", args.model, "--passes", str(args.passes), "--child"],
                           capture_output=True, text=True, check=True)  # fmt: skip
        ratio, us = r.stdout.split()
        out.append(float(ratio))
        print(f"process: ratio {ratio} (shipped {us} us a cut)", flush=True)
    print(f"median of the processes' ratios: {statistics.median(out):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
