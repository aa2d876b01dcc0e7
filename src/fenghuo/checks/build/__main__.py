"""``python -m fenghuo.checks.build`` — what `make models` runs (see the package docstring)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fenghuo.checks.build import STEPS, run, shipped_dir
from fenghuo.platform.paths import shared_data_dir


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m fenghuo.checks.build", description="Build the shipped detection artefacts / 构建内置检测模型")
    ap.add_argument("--data", type=Path, default=None, help="shared data dir (default: $FENGHUO_DATA or ../shared/data)")
    ap.add_argument("--out", type=Path, default=None, help=f"output dir (default: {shipped_dir()})")
    ap.add_argument("--only", nargs="+", choices=list(STEPS), help="build only these steps")
    args = ap.parse_args(argv)
    data = args.data or shared_data_dir()
    if data is None:
        print("error 错误: no shared data directory; set FENGHUO_DATA or pass --data / 未找到共享数据目录", file=sys.stderr)
        return 2
    try:
        run(data, args.out, args.only)
    except ValueError as exc:
        print(f"error 错误: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
