"""``corpus check``: provenance completeness per source and per sample, in one streaming pass.

Every problem names its clause, source, file and line. A corpus with millions of samples that
all lack a URL would print millions of lines, so each (source, clause, problem) lists its
first ``LIST_MAX`` samples and counts the rest exactly.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from fenghuo.corpus.consent import load_consents
from fenghuo.corpus.manifest import Manifest
from fenghuo.corpus.provenance import (
    FOREIGN_OPEN_SOURCE_MAX,
    diversity,
    foreign_open_source_share,
    sample_problems,
    source_problems,
)
from fenghuo.corpus.readers import read_source

LIST_MAX = 20
CLAUSES = ("CN-TC-03", "CN-TC-04", "CN-TC-05", "CN-TC-06", "CN-TC-07", "CN-TD-02", "CN-TD-03", "CN-TD-04", "CN-TD-05", "CN-TC-31")


def _problem(clause: str, source: str, file: str, line: int | None, problem: str) -> dict[str, Any]:
    return {"clause": clause, "source": source, "file": file, "line": line, "problem": problem}


def run_check(m: Manifest, progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    manifest_file = str(m.path)
    problems: list[dict[str, Any]] = [
        _problem("manifest", "", p["file"], p["line"], p["problem"]) for p in m.problems
    ]
    consents = load_consents(m.consent_records)
    listed: Counter = Counter()
    omitted: Counter = Counter()
    per_source: list[dict[str, Any]] = []
    samples_by_source: Counter = Counter()
    for src in m.sources:
        for clause, text in source_problems(src, m.base):
            problems.append(_problem(clause, src.id, manifest_file, src.line, text))
        if not src.files:
            problems.append(_problem("CN-TD-02", src.id, manifest_file, src.line, "来源没有数据文件 / source has no data files"))
        n = incomplete = unreadable = 0
        for s in read_source(src):
            n += 1
            if progress is not None and n % 10_000 == 0:
                progress(10_000)
            found = sample_problems(src.kind, s.meta, consents)
            if s.error:
                unreadable += 1
                found = [("CN-TD-02", s.error), *found]
            if not found:
                continue
            incomplete += 1
            for clause, text in found:
                key = (src.id, clause, text)
                if listed[key] < LIST_MAX:
                    listed[key] += 1
                    problems.append(_problem(clause, src.id, s.file, s.line, text))
                else:
                    omitted[key] += 1
        if progress is not None:
            progress(n % 10_000)
        samples_by_source[src.id] = n
        per_source.append({"id": src.id, "kind": src.kind, "language": src.language, "modality": src.modality,
                           "origin": src.origin, "files": len(src.files), "samples": n,
                           "incomplete": incomplete, "unreadable": unreadable,
                           "complete_share": round((n - incomplete) / n, 6) if n else None})
    for clause, src, text in diversity(m.sources):
        problems.append(_problem(clause, src.id, manifest_file, src.line, text))
    share = foreign_open_source_share(samples_by_source, m.sources)
    warnings = []
    if share > FOREIGN_OPEN_SOURCE_MAX:
        warnings.append(_problem("CN-TC-31", "", manifest_file, None,
                                 f"境外开源语料占 {share:.1%}，超过 30% / foreign open-source share {share:.1%} exceeds 30%"))
    omitted_list = [{"source": k[0], "clause": k[1], "problem": k[2], "more": v} for k, v in sorted(omitted.items())]
    failing = {p["clause"] for p in problems}
    clauses = {c: ("non-compliant" if c in failing else "compliant") for c in CLAUSES}
    clauses["CN-TC-31"] = "warning" if warnings else "compliant"
    clauses["CN-TD-02"] = "non-compliant" if {"CN-TD-02", "CN-TD-04"} & failing else "compliant"
    return {
        "manifest": manifest_file, "corpus": m.name,
        "sources": per_source,
        "totals": {"sources": len(m.sources), "samples": sum(samples_by_source.values()),
                   "incomplete": sum(s["incomplete"] for s in per_source),
                   "foreign_open_source_share": round(share, 6)},
        "clauses": clauses,
        "problems": problems, "omitted": omitted_list, "warnings": warnings,
        "ok": not problems,
    }
