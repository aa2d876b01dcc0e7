"""Corpus scan (issue 17): samples per second per core in-process, on every local core and on
Ray in local mode, next to the content checks' own cost per message on the same texts; peak
memory of the whole process tree on a small and on a ~3 GB generated corpus (constant memory).

The corpus is generated under /tmp (never in the repository) from public text read at run time
(COLD train, ``../shared/data``), ~1 KB per sample, 2 % harmful. Every measurement runs in a
fresh process, the variants interleaved, with CPU time beside wall time and the load average
beside both: the machine is shared.
"""

from __future__ import annotations

import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from fenghuo.platform.paths import shared_data_dir

ROOT = Path(tempfile.gettempdir()) / "fenghuo-corpus-bench"
HARMFUL = ["欢迎来到澳门娱乐城，首充送彩金", "出售冰毒，量大从优", "网上百家乐赌场，注册就送"]


def _load() -> str:
    try:
        return "/".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


def _texts() -> list[str]:
    with (shared_data_dir() / "classifier" / "cold" / "train.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = [r[4] for r in list(csv.reader(fh))[1:]]
    out, cur = [], ""
    for r in rows:
        cur += r
        if len(cur.encode()) >= 1000:
            out.append(cur)
            cur = ""
    return out


def generate(folder: Path, megabytes: int) -> Path:
    """JSONL files of ~1 KB samples in two sources, and a manifest; reused if already there."""
    manifest = folder / "corpus.yaml"
    if manifest.exists():
        return manifest
    folder.mkdir(parents=True, exist_ok=True)
    base = _texts()
    target = megabytes * 1_000_000
    per_file = 8_000_000
    written, i, n_file = 0, 0, 0
    while written < target:
        with open(folder / f"part-{n_file:04d}.jsonl", "w", encoding="utf-8") as fh:
            size = 0
            while size < per_file and written + size < target:
                text = HARMFUL[i % 3] + base[i % len(base)] if i % 50 == 0 else base[i % len(base)]
                line = json.dumps({"text": text, "url": f"https://example.org/{i}"}, ensure_ascii=False) + "\n"
                fh.write(line)
                size += len(line.encode())
                i += 1
        written += size
        n_file += 1
    (folder / "LICENSE.txt").write_text("Apache-2.0 (COLDataset)\n", encoding="utf-8")
    manifest.write_text(textwrap.dedent("""\
        name: bench
        sources:
          - {id: even, kind: open-source, language: zh, licence: LICENSE.txt, files: ["part-*[02468].jsonl"]}
          - {id: odd, kind: open-source, language: zh, licence: LICENSE.txt, files: ["part-*[13579].jsonl"]}
        """), encoding="utf-8")
    return manifest


def _tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants (from /proc)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return total


CHILD = """
import json, os, sys, time
from pathlib import Path

def tree_cpu(pid):
    # CPU seconds of a process and its live descendants, with the reaped ones (cutime/cstime)
    tick, total, todo = os.sysconf("SC_CLK_TCK"), 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            f = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(x) for x in f[11:15]) / tick
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return total

from fenghuo.corpus.manifest import load_manifest
from fenghuo.corpus.scan import Settings, run_scan
from fenghuo.corpus.engines import pipeline_for
mode, manifest, fraction, workers = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
m = load_manifest(manifest)
pipeline_for(None)
if mode == "ray":
    import ray
    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
    run_scan(load_manifest(manifest), Settings(fraction=0.001, seed=1, engine="ray"), None)  # warm the workers
print("READY", flush=True)
w0, c0 = time.perf_counter(), tree_cpu(os.getpid())
if mode == "checks":
    from fenghuo.corpus.readers import read_corpus
    from fenghuo.corpus.figures import selected
    texts = [s.text for s in read_corpus(m.sources) if selected(1, fraction, s.source, s.file, s.line)]
    w0, c0 = time.perf_counter(), tree_cpu(os.getpid())
    p = pipeline_for(None)
    for t in texts:
        p.scan(t)
    n = len(texts)
else:
    engine = {"inline": "inline", "local": "local", "ray": "ray"}[mode]
    import tempfile
    out = Path(tempfile.mkdtemp()) / "results.parquet"
    r = run_scan(m, Settings(fraction=fraction, seed=1, engine=engine, workers=workers), out)
    out.unlink(missing_ok=True)
    n = r["totals"]["scanned"]
wall, cpu = time.perf_counter() - w0, tree_cpu(os.getpid()) - c0
print(json.dumps({"n": n, "wall": wall, "cpu": cpu}), flush=True)
"""


def measure(mode: str, manifest: Path, fraction: float, workers: int) -> dict:
    """Run one measurement in a fresh process; sample its process tree's RSS every 0.2 s."""
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen([sys.executable, "-c", CHILD, mode, str(manifest), str(fraction), str(workers)], stdout=out)
        peak = 0
        while proc.poll() is None:
            peak = max(peak, _tree_rss(proc.pid))
            time.sleep(0.2)
        out.seek(0)
        lines = [x for x in out.read().splitlines() if x.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{mode} failed (exit {proc.returncode})")
    result = json.loads(lines[-1])
    result["peak_rss"] = peak
    return result


def run(quick: bool) -> str:
    cores = len(os.sched_getaffinity(0))
    small_mb = 4 if quick else 16
    small = generate(ROOT / f"small-{small_mb}", small_mb)
    load_before = _load()
    reps = 1 if quick else 2
    modes = [("checks", 1), ("inline", 1), ("local", cores), ("ray", cores)]
    results: dict[str, list[dict]] = {m: [] for m, _ in modes}
    starts: list[dict] = []
    for _ in range(reps):
        for mode, w in modes:
            results[mode].append(measure(mode, small, 1.0, w))
        starts.append(measure("local", small, 0.002, cores))  # ≈ start-up: spawn + a pipeline per worker, one batch
    rows = ["| run | samples | wall s | CPU s (all processes) | samples/s | samples/s per core (CPU) | peak RSS, tree |",
            "|---|---|---|---|---|---|---|"]
    per_msg = None
    start_wall = statistics.median(r["wall"] for r in starts)
    start_cpu = statistics.median(r["cpu"] for r in starts)
    for mode, w in modes:
        rs = results[mode]
        n = rs[0]["n"]
        wall = statistics.median(r["wall"] for r in rs)
        cpu = statistics.median(r["cpu"] for r in rs)
        if mode == "checks":
            per_msg = cpu / n * 1e6
        label = {"checks": "checks alone (pipeline.scan loop, texts in memory)", "inline": "corpus scan, inline (1 process)",
                 "local": f"corpus scan, local engine ({w} processes)", "ray": f"corpus scan, Ray local ({w} CPUs, workers warm)"}[mode]
        ray_note = "; CPU includes Ray's raylet and GCS" if mode == "ray" else ""
        rows.append(f"| {label}{ray_note} | {n:,} | {wall:.1f} | {cpu:.1f} | {n / wall:,.0f} | {n / cpu:,.0f} | "
                    f"{max(r['peak_rss'] for r in rs) / 1e6:,.0f} MB |")
        if mode == "local":
            rows.append(f"| … local engine less its start-up (≈ {start_wall:.1f} s wall, {start_cpu:.1f} s CPU: spawn + a pipeline per worker) "
                        f"| {n:,} | {wall - start_wall:.1f} | {cpu - start_cpu:.1f} | {n / max(wall - start_wall, 1e-9):,.0f} | "
                        f"{n / max(cpu - start_cpu, 1e-9):,.0f} | |")
    # "a few GB" (issue 17); FENGHUO_BENCH_CORPUS_MB to change it (generated under /tmp, reused)
    big_mb = 64 if quick else int(os.environ.get("FENGHUO_BENCH_CORPUS_MB", "3072"))
    big = generate(ROOT / f"big-{big_mb}", big_mb)
    size = sum(f.stat().st_size for f in big.parent.glob("*.jsonl"))
    mem = []
    for manifest, label in ((small, "small"), (big, "big")):
        r = measure("local", manifest, 0.02, cores)
        fsize = sum(f.stat().st_size for f in manifest.parent.glob("*.jsonl"))
        mem.append(f"| {label}: {fsize / 1e6:,.0f} MB | {r['n']:,} | {r['wall']:.1f} | {r['peak_rss'] / 1e6:,.0f} MB |")
    return "\n".join([
        "## Corpus scan (`fenghuo corpus scan`, issue 17)",
        "",
        f"Generated corpus of ~1 KB Chinese samples (COLD train text, 2 % with a planted harmful phrase) under /tmp; "
        f"the shipped checks (lexicon, PII, rules, classifier); {reps} repetitions, modes interleaved, each in a fresh process. "
        f"Load average before: {load_before}, after: {_load()} (machine shared with other sessions).",
        "",
        "### Throughput next to the checks' own cost",
        "",
        *rows,
        "",
        f"The checks alone cost {per_msg:,.0f} µs CPU per ~1 KB sample; every corpus-scan row's CPU also includes reading and "
        "parsing JSONL, the selection hash, joining consent, the results hash and writing the Parquet results.",
        "",
        "### Peak memory: small vs big corpus (local engine, every core, `--fraction 0.02`, whole corpus read)",
        "",
        "| corpus | scanned | wall s | peak RSS, process tree |",
        "|---|---|---|---|",
        *mem,
        "",
        f"The big corpus is {size / 1e9:.2f} GB of JSONL. Memory is one pipeline in the driver and one in each spawned worker "
        "(~300 MB each) plus at most 2 × workers batches in flight: it does not grow with the corpus.",
    ])
