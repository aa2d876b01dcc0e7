"""The Markdown of the guard benchmark's gateway rows (measured by ``guard_gateway``)."""

from __future__ import annotations

import json
import statistics

from fenghuo.guard.label_ahead import BATCH


def gateway_report(rows: dict, own_core: list[dict] | None, per_kb: dict[str, list[float]], pinned: dict | None, health: dict,
                   full: list[dict] | None, baseline: list[str], n: int, reps: int) -> list[str]:
    med = statistics.median
    out = ["### Gateway added latency (non-streaming, check pipeline on, labels on, telemetry on)", "",
           f"{reps} repetition(s) × {n} requests per row after 200 warm-up; medians over repetitions. "
           "Added = gateway − direct, per repetition. Every request's prompt is one the gateway has not seen before (its text "
           "numbered), so its input is checked on every call rather than found among verdicts kept for repeated texts.", "",
           "Load gauge: wall ÷ CPU time of a fixed pyahocorasick scan in the load generator's process, the mean of a reading "
           "before and one after each pair (1.0: it had a core to itself; 2.0: half of one).", "",
           "| c | direct p50 / p99 ms | gateway p50 / p99 ms | added p50 ms | added p99 ms | ratio p50 | gateway req/s | gateway CPU ms/req | load gauge |",
           "|---|---|---|---|---|---|---|---|---|"]
    added = {}
    for c in (1, 16):
        d, g = rows[("direct", c)], rows[("gateway", c)]
        a50 = med([b["p50"] - a["p50"] for a, b in zip(d, g)])
        a99 = med([b["p99"] - a["p99"] for a, b in zip(d, g)])
        added[c] = (a50, a99)
        out.append(f"| {c} | {med([r['p50'] for r in d]):.2f} / {med([r['p99'] for r in d]):.2f} | "
                   f"{med([r['p50'] for r in g]):.2f} / {med([r['p99'] for r in g]):.2f} | {a50:.2f} | {a99:.2f} | "
                   f"{med([b['p50'] / a['p50'] for a, b in zip(d, g)]):.2f}× | {med([r['rps'] for r in g]):.0f} | "
                   f"{med([r['gw_cpu_ms_per_req'] for r in g]):.3f} | {med([r['gauge'] for r in g]):.2f} |")
    out += ["", "Streaming (10 chunks + [DONE], whole stream timed; the guard holds back the last 32+ characters for "
            "the output checks, so on this 32-character answer the text arrives at the end):", "",
            "| c | direct p50 / p99 ms | gateway p50 / p99 ms | added p50 ms | added p99 ms | gateway req/s |", "|---|---|---|---|---|---|"]
    for c in (1, 16):
        d, g = rows[("direct-stream", c)], rows[("gateway-stream", c)]
        out.append(f"| {c} | {med([r['p50'] for r in d]):.2f} / {med([r['p99'] for r in d]):.2f} | "
                   f"{med([r['p50'] for r in g]):.2f} / {med([r['p99'] for r in g]):.2f} | "
                   f"{med([b['p50'] - a['p50'] for a, b in zip(d, g)]):.2f} | {med([b['p99'] - a['p99'] for a, b in zip(d, g)]):.2f} | "
                   f"{med([r['rps'] for r in g]):.0f} |")
    out.append("")
    own99 = None
    if own_core:
        own99 = med([r["gateway"]["p99"] - r["direct"]["p99"] for r in own_core])
        out += ["With the gateway on a core of its own (pinned to core 0; the upstream and the load generator pinned to core 1), "
                "c=16, direct and gateway interleaved:", "",
                "| c | direct p50 / p99 ms | gateway p50 / p99 ms | added p50 ms | added p99 ms | gateway req/s | load gauge on core 0 |",
                "|---|---|---|---|---|---|---|",
                f"| 16 | {med([r['direct']['p50'] for r in own_core]):.2f} / {med([r['direct']['p99'] for r in own_core]):.2f} | "
                f"{med([r['gateway']['p50'] for r in own_core]):.2f} / {med([r['gateway']['p99'] for r in own_core]):.2f} | "
                f"{med([r['gateway']['p50'] - r['direct']['p50'] for r in own_core]):.2f} | {own99:.2f} | "
                f"{med([r['gateway']['rps'] for r in own_core]):.0f} | {med([r['gauge'] for r in own_core]):.2f} |", ""]
    c1, c64, cnext = med(per_kb["1"]), med(per_kb["64"]), med(per_kb["next"])
    out += [f"Prompt size (gateway CPU per call, c=4, {reps} interleaved repetition(s), medians; the answer is the same short text):", "",
            "| chat history | CPU µs per call | per KB over the 1 KB call |", "|---|---|---|",
            f"| 1 KB, never seen (each call's first message differs) | {c1:.0f} | |",
            f"| 64 KB, never seen (the whole history is scanned) | {c64:.0f} | {(c64 - c1) / 63:.1f} µs |",
            f"| 64 KB and growing, a conversation's next turn (its earlier turns checked by the previous call) | {cnext:.0f} | "
            f"{(cnext - c1) / 63:.1f} µs |", "",
            "A call whose leading texts an earlier call sent (a chat client resending its history) scans only the texts added "
            "since, with the last 256 characters before them (`guard.input_verdicts.InputVerdicts`); a never-seen history is scanned "
            f"whole, as before. Input checks in this gateway over the whole run: {json.dumps(health.get('input_checks'))} "
            "(whole: scanned whole; prefix: only the new part; chars / scanned: characters received / scanned). A text over "
            "8,192 characters still to scan is checked in a worker thread.", ""]
    cpu = med([r["gw_cpu_ms_per_req"] for r in rows[("gateway", 16)]])
    rps16 = med([r["rps"] for r in rows[("gateway", 16)]])
    errors = sum(r["errors"] for rs in rows.values() for r in rs)
    out += [f"- Throughput: {rps16:.0f} req/s through the gateway at c=16 on this 2-core machine, with the load generator "
            f"and the upstream sharing the cores; the gateway process used {cpu:.3f} ms CPU per request, i.e. "
            f"**≈ {1000 / cpu:.0f} req/s per core** (target ≥ 1,000; LiteLLM 1.89.7 ≈ 220 on a machine like this).",
            f"- Targets: added p50 at c=1 **{added[1][0]:.2f} ms** (target < 1 ms; LiteLLM +6.8 ms) — "
            f"{'met' if added[1][0] < 1 else 'NOT met'}; added p99 at c=16 on a core of its own "
            f"**{own99 if own99 is not None else float('nan'):.2f} ms** (target ≤ 3 ms) — "
            f"{'met' if own99 is not None and own99 <= 3 else 'NOT met'}; on the shared cores {added[16][1]:.2f} ms at load gauge "
            f"{med([r['gauge'] for r in rows[('gateway', 16)]]):.2f}.",
            f"- Errors: {errors}. Telemetry in the gateway: {json.dumps(health['telemetry'])}. Labels (`guard.label_ahead`; ahead: "
            f"signed in idle time, {BATCH} to a signature; inline: signed in the call, none ready, with {BATCH - 1} more under "
            f"the same signature for the next calls when the stock had also run out within 50 ms; batched: taken from such a "
            f"batch): {json.dumps(health.get('labels_ahead'))}.",
            f"- What held the gateway's event loop over the whole run (`/healthz` `loop`: how late a 10 ms timer fired, "
            f"and each garbage collection's pause by generation): {json.dumps(health.get('loop'))}."]
    if full:
        med = statistics.median
        out += ["", "Same measurement with the full pipeline a deployment would configure (`--checks`: the shared 64,420-word "
                "lexicon with tags and allow-list, PII, and a classifier trained on COLD) in a second gateway process; the rows "
                "above use the packaged default (a small lexicon and PII; the classifier joins it once one is trained):", "",
                "| c | added p50 ms | added p99 ms | gateway CPU ms/req |", "|---|---|---|---|"]
        for c in (1, 16):
            rs = [r for r in full if r["c"] == c]
            out.append(f"| {c} | {med([r['gateway']['p50'] - r['direct']['p50'] for r in rs]):.2f} | "
                       f"{med([r['gateway']['p99'] - r['direct']['p99'] for r in rs]):.2f} | {med([r['cpu'] for r in rs]):.3f} |")
    out += baseline
    if pinned:
        out.append(f"- Measured on one core: with the gateway pinned to core 0 and the upstream and load generator to core 1, "
                   f"a closed loop at c=32 drew **{pinned['rps']:.0f} req/s** (p50 {pinned['p50']:.2f} ms, p99 {pinned['p99']:.2f} ms), "
                   f"the gateway's core {pinned['gw_core_busy'] * 100:.0f} % busy — "
                   f"{'met' if pinned['rps'] >= 1000 else 'NOT met'} (≥ 1,000 req/s per core).")
    return out

