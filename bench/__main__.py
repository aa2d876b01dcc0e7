"""Run benchmarks and write each one's results into its own section of docs/benchmarks.md.

Every ``bench/bench_<name>.py`` exposes ``run(quick: bool) -> str`` returning Markdown. The
runner stamps the machine and date and replaces only that benchmark's section, so separate
benchmarks can be re-run alone without losing the others' figures.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
HEADER = """# Benchmarks

Each section is written by `make bench` (or `make bench BENCH_ARGS=<name>` for one) and names
the machine and date it was measured on. Absolute times on shared machines are noisy; every
benchmark therefore compares against a named baseline measured in the same run and reports
the ratio.
"""


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()} {platform.release()}"


def available() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in Path(__file__).parent.glob("bench_*.py"))


def foreign_sections(old: str, body: str) -> list[str]:
    """The sections (from a ``##``/``###`` heading to the next) of a generated block's old text
    whose heading the new body does not have: text someone wrote inside the markers by hand."""
    heads = {line.strip() for line in body.splitlines() if line.startswith("#")}
    parts = re.split(r"(?m)^(?=#{2,3} )", old)
    return [p for p in parts if p.startswith("#") and p.splitlines()[0].strip() not in heads]


def write_section(name: str, body: str) -> None:
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else HEADER
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    except OSError:
        commit = "?"
    block = f"{start}\n{body.rstrip()}\n\n_Measured {stamp} on {machine()}, commit {commit}._\n{end}"
    pattern = re.compile(re.escape(start) + r"(.*?)" + re.escape(end), re.S)
    found = pattern.search(text)
    if found:
        kept = foreign_sections(found.group(1), body)
        if kept:  # hand-written sections that ended up inside the markers are moved out, not erased
            print(f"bench: kept {len(kept)} section(s) not written by bench {name} below its block: "
                  + "; ".join(k.splitlines()[0] for k in kept), file=sys.stderr)
            block += "\n\n" + "\n\n".join(k.strip("\n") for k in kept)
        text = text[:found.start()] + block + text[found.end():]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default all): {', '.join(available())}")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run; does not write docs")
    args = parser.parse_args(argv)
    names = args.names or available()
    unknown = [n for n in names if n not in available()]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available())}")
    for name in names:
        print(f"== bench {name} ==", flush=True)
        body = importlib.import_module(f"bench.bench_{name}").run(quick=args.quick)
        print(body, flush=True)
        if not args.quick:
            write_section(name, body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
