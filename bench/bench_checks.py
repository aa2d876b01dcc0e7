"""Content checks: lexicon throughput (with and without normalisation) against pyahocorasick in
the same run, the shipped pipeline per 1 KB message, per 50-character message (LexiconCheck.scan
against bare hyperscan on the same words, interleaved; the pipeline's p50/p99), each check's F1 and harmless
false-positive rate beside its cost on the shared dev data (``checks_quality``), PII on a
generated set. Needs the shared data (lexicon, COLD, banks, JADE v3).

The classifier is no longer trained here: the package ships it (``make models`` builds it and
records its dev figures in ``checks/shipped/manifest.json``); its quality is measured below
like every other check's."""

from __future__ import annotations

import csv
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from fenghuo.platform.paths import shared_data_dir


def _cold(split: str) -> list[str]:
    with (shared_data_dir() / "classifier" / "cold" / f"{split}.csv").open(encoding="utf-8-sig", newline="") as fh:
        return [row[4] for row in list(csv.reader(fh))[1:]]


def _best(fn, reps: int) -> float:
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _round_robin(fns: dict, reps: int) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) seconds per function, the functions interleaved in every repetition.

    On a machine shared with other work the load changes within seconds; timing the baseline
    first and fenghuo afterwards let the ratio drift with it. Interleaving exposes every
    scanner to the same load, and process CPU time leaves out the time other processes held
    the core (it still includes their effect on shared caches and memory bandwidth).
    """
    wall: dict[str, list[float]] = {k: [] for k in fns}
    cpu: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(reps):
        for k, fn in fns.items():
            w0, c0 = time.perf_counter(), time.process_time()
            fn()
            cpu[k].append(time.process_time() - c0)
            wall[k].append(time.perf_counter() - w0)
    return {k: (statistics.median(wall[k]), statistics.median(cpu[k])) for k in fns}


def _load() -> str:
    try:
        return "/".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


def _no_reload(pipe) -> None:
    """File-change checks off while timing: with them on, an edit of a shipped file during the
    run (another engineer's) compiles the new version on a background thread whose CPU the
    rows would be charged with. In service the check costs one clock read per message."""
    for c in pipe.checks:
        if getattr(c, "reload_interval", 0):
            c.reload_interval = 0


def _fresh(s: str) -> str:
    return (s + "\x00")[:-1]  # a new str object: no cached UTF-8 form (as after json.loads)


def lexicon_section(quick: bool, lexicon, words: list[str]) -> list[str]:
    import ahocorasick
    import ahocorasick_rs

    text = "\n".join(_cold("train"))
    target = 2_000_000 if quick else 20_000_000
    big = (text * (target // len(text.encode()) + 1)).encode()[:target].decode("utf-8", "ignore")
    mb = len(big.encode()) / 1e6
    reps = 2 if quick else 5
    rows = []

    ac = ahocorasick.Automaton()
    for i, w in enumerate(words):
        ac.add_word(w, i)
    ac.make_automaton()
    n_py = len(list(ac.iter(big)))
    rs = ahocorasick_rs.AhoCorasick(words)
    engine = lexicon._state.engine
    norm = lexicon.normaliser
    normalised = norm.normalise(big)
    hits = engine.find(normalised.codes)
    n_full = len(lexicon.scan(big).findings)
    load_before = _load()
    res = _round_robin(
        {
            "py": lambda: len(list(ac.iter(_fresh(big)))),
            "rs": lambda: rs.find_matches_as_indexes(_fresh(big), overlapping=True),
            "norm": lambda: norm.normalise(_fresh(big)),
            "engine": lambda: engine.find(normalised.codes),
            "resolve": lambda: lexicon.findings(big, normalised, hits),
            "full": lambda: lexicon.scan(_fresh(big)),
        },
        reps,
    )
    rows = [
        ("pyahocorasick `iter`, plain (baseline)", "py", n_py),
        ("ahocorasick-rs overlapping, plain", "rs", None),
        ("stage: fenghuo normaliser alone", "norm", None),
        ("stage: hyperscan engine alone (normalised codes → hit arrays)", "engine", hits[0].size),
        ("stage: hit resolution alone (allow-list, containment, spans, findings)", "resolve", None),
        ("**fenghuo LexiconCheck.scan: normalise + match + original spans + allow-list**", "full", n_full),
    ]
    t_py, c_py = res["py"]
    t_full, c_full = res["full"]
    out = [
        f"### Lexicon throughput\n\nShared lexicon ({len(words):,} words + allow-list), COLD train text repeated to "
        f"{mb:.1f} MB ({len(big):,} chars) of real Chinese, one core, median of {reps} repetitions with all scanners "
        f"interleaved in each (so they share the machine's load), wall-clock and process CPU time. Load average "
        f"(1/5/15 min) {load_before} before, {_load()} after, on {os.cpu_count()} cores. Target: ≥ 100 MB/s with normalisation "
        f"on an idle core, where pyahocorasick runs at ≈ 9 MB/s (anchor measurements) — i.e. ≥ 11× pyahocorasick in the same run.\n",
        "| scanner | wall s | MB/s | × pyahocorasick | CPU s | MB/s (CPU) | × pyahocorasick (CPU) | matches |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, key, n in rows:
        t, c = res[key]
        out.append(f"| {name} | {t:.3f} | {mb / t:.1f} | {t_py / t:.1f}× | {c:.3f} | {mb / c:.1f} | {c_py / c:.1f}× | {n if n is not None else ''} |")
    ratio = min(t_py / t_full, c_py / c_full)
    out.append(
        f"\npyahocorasick counts every overlapping occurrence on the raw text; fenghuo reports non-contained hits on "
        f"normalised text (separators, full-width, traditional), minus allow-listed ones, so counts differ by design. "
        f"Absolute MB/s depend on the load; the ratio is what carries over. Target (≥ 11× pyahocorasick, the equivalent "
        f"of 100 MB/s at its idle 9 MB/s) {'met' if ratio >= 100 / 9 else 'NOT met'}: {t_py / t_full:.1f}× wall, "
        f"{c_py / c_full:.1f}× CPU; ≈ {9 * t_py / t_full:.0f} MB/s scaled to an idle core.\n"
    )
    return out


def pipeline_section(quick: bool, words: list[str]) -> list[str]:
    """The shipped default pipeline (``load_pipeline()``: what ``fenghuo scan``, the gateway and
    the SDK run with no configuration) per 1 KB message, each check alone beside it."""
    import ahocorasick

    from fenghuo.checks.pipeline import Pipeline, load_pipeline

    pipe = load_pipeline()
    _no_reload(pipe)
    from bench.checks_quality import cold_messages

    msgs = cold_messages(1000 if quick else 5000)
    for m in msgs[:200]:
        pipe.scan(m)
    # Load gauge: pyahocorasick over the same messages. On an idle core it runs at ≈ 9 MB/s
    # (anchor measurements), so its p50 here over its idle time is how much slower this run is.
    ac = ahocorasick.Automaton()
    for i, w in enumerate(words):
        ac.add_word(w, i)
    ac.make_automaton()
    load_before = _load()
    for m in msgs:  # warm: lazily loaded parts (jieba's dictionary, on a background thread) are in
        pipe.scan(m)
    parts: dict[str, list[float]] = {"pipeline": []}
    cpu_each: list[float] = []
    c0 = time.process_time()
    for m in msgs:
        m = _fresh(m)
        t0, u0 = time.perf_counter(), time.thread_time()
        pipe.scan(m)
        parts["pipeline"].append(time.perf_counter() - t0)
        cpu_each.append(time.thread_time() - u0)
    cpu_pipe = (time.process_time() - c0) / len(msgs) * 1e6
    cpu50, cpu99 = np.percentile(np.array(cpu_each) * 1e6, [50, 99])
    gauge = lambda m: len(list(ac.iter(m)))  # noqa: E731
    c0 = time.process_time()
    for m in msgs:
        len(list(ac.iter(_fresh(m))))
    cpu_gauge = (time.process_time() - c0) / len(msgs) * 1e6
    alone = [("normalise", pipe.normaliser.normalise)] + [(f"{c.name} alone", Pipeline([c], pipe.policy).scan) for c in pipe.checks]
    for key, scan in alone + [("pyahocorasick (load gauge)", gauge)]:
        parts[key] = []
        for m in msgs[:100]:
            scan(m)
        for m in msgs:
            m = _fresh(m)
            t0 = time.perf_counter()
            scan(m)
            parts[key].append(time.perf_counter() - t0)
    out = [
        f"### Pipeline per 1 KB message\n\n{len(msgs):,} messages of ≤ 1,024 UTF-8 bytes cut from COLD dev; the shipped "
        f"default pipeline ({', '.join(pipe.names)}; no configuration, no shared data), one core, wall-clock per message. "
        f"Load average {load_before} before, {_load()} after. Target (idle core): p50 < 100 µs, p99 < 400 µs.\n",
        "| what | p50 µs | p90 µs | p99 µs |",
        "|---|---|---|---|",
    ]
    pct = {key: np.percentile(np.array(ts) * 1e6, [50, 90, 99]) for key, ts in parts.items()}
    for key, (p50, p90, p99) in pct.items():
        out.append(f"| {key} | {p50:.1f} | {p90:.1f} | {p99:.1f} |")
    mean_bytes = sum(len(m.encode()) for m in msgs) / len(msgs)
    idle_gauge = mean_bytes / 9.0  # µs per message at the anchor's idle 9 MB/s
    factor = max(pct["pyahocorasick (load gauge)"][0] / idle_gauge, 1.0)
    p50, _, p99 = pct["pipeline"] / factor
    raw50, _, raw99 = pct["pipeline"]
    out.append(
        f"\nLoad gauge: pyahocorasick p50 {pct['pyahocorasick (load gauge)'][0]:.0f} µs per message against ≈ {idle_gauge:.0f} µs "
        f"on an idle core (9 MB/s, anchor measurements), so this run was ≈ {factor:.1f}× slow. Pipeline as measured: "
        f"p50 {raw50:.0f} µs, p99 {raw99:.0f} µs ({'met' if raw50 < 100 and raw99 < 400 else 'NOT met'} as measured); scaled "
        f"to an idle core: p50 ≈ {p50:.0f} µs, p99 ≈ {p99:.0f} µs — target {'met' if p50 < 100 and p99 < 400 else 'NOT met'} "
        f"(p50 < 100, p99 < 400 µs). Pipeline ÷ gauge at p50: {raw50 / pct['pyahocorasick (load gauge)'][0]:.1f}× (the ratio "
        f"against the named baseline, which carries over between machines). Scaling p99 by the p50 factor is rough: tails on "
        f"a shared machine are mostly other processes' scheduling. CPU time of the scanning thread per message (which "
        f"leaves out the time other processes held the core): p50 {cpu50:.0f} µs, p99 {cpu99:.0f} µs — target "
        f"{'met' if cpu50 < 100 and cpu99 < 400 else 'NOT met'} on CPU time. Process CPU time per message (mean): pipeline "
        f"{cpu_pipe:.0f} µs, gauge {cpu_gauge:.0f} µs."
    )
    out.append(
        "\n(Each row timed separately on the same messages. The pipeline normalises once per distinct normaliser and "
        "hands the result to the checks built with it; a check alone normalises for itself, so the rows do not add up.)\n"
    )
    return out


def pii_section(quick: bool) -> list[str]:
    from fenghuo.checks.pii import PIICheck
    from fenghuo.checks.tools.pii_testset import generate, score

    data = generate(300 if quick else 2000, seed=2024)
    res = score(PIICheck(), data)
    out = [
        f"### PII on a generated set\n\n{len(data):,} sentences built from faker zh_CN values (IDs, phones, cards, e-mail, "
        "IPv4/6, plates; passports in the Chinese E/G+8-digit format), 1–3 values each, with distractors "
        "(ID numbers with a wrong check digit, cards failing Luhn, dates, version numbers). Exact-span match.\n",
        "| type | support | precision | recall |",
        "|---|---|---|---|",
    ]
    for k, r in res.items():
        out.append(f"| {k} | {r['support']} | {r['precision']:.4f} | {r['recall']:.4f} |")
    return out + [""]


def run(quick: bool) -> str:
    from fenghuo.checks.lexicon import LexiconCheck

    if shared_data_dir() is None:
        return "_Skipped: shared data not available (set FENGHUO_DATA)._"
    lx = shared_data_dir() / "lexicon"
    words = [w for w in (lx / "sensitive_word_dict.txt").read_text(encoding="utf-8").split("\n") if w]
    lexicon = LexiconCheck(
        files=[lx / "sensitive_word_dict.txt", lx / "sensitive_word_tags.txt"],
        allow_files=[lx / "sensitive_word_allow.txt"],
        cache_dir=Path(tempfile.mkdtemp()),
    )
    from bench.checks_quality import quality_section
    from bench.checks_short import short_section

    out = ["## Content checks (`fenghuo.checks`)\n"]
    out += lexicon_section(quick, lexicon, words)
    out += pipeline_section(quick, words)
    out += short_section(quick, lexicon)
    out += quality_section(quick)
    out += pii_section(quick)
    return "\n".join(out)
