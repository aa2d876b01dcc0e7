"""A bounded fuzz run of the control plane's HTTP API (issue 14): schemathesis reads the OpenAPI
schema (``/openapi.json``) and sends generated and mutated requests to every operation, once
with a token of each role (every ``platform.roles.Role``), checking only that no answer is a
500 (``not_a_server_error``).

Not part of ``make test`` (time): ``make fuzz`` runs it, and ``.ci/run`` after the tests.

    python -m tests.security.fuzz_api [--seconds 120] [--seed 14] [--roles admin,operator]
                                      [--database postgresql://…] [--keep]

A fresh SQLite database in a temporary directory (or a fresh schema in the PostgreSQL named by
``--database``, which refuses more than SQLite: NUL bytes in text, over-long VARCHARs, integer
ranges), the foundation tests' registry (two provinces, two providers, three services) and a
token per role; the server runs in this process on a free port, schemathesis in a child process
per role. The time budget is split evenly between the roles. Exit status: 0 when no role found a
server error, 1 otherwise; the failures are printed with a curl that reproduces them, and the
server's tracebacks are in ``server.log`` of the temporary directory (kept on failure or with
``--keep``).
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

SCOPES = {"operator": {"provider_id": "pa"}, "regulator": {"jurisdiction_id": "cn-bj"}}
# Operations a fuzzer cannot finish: the SSE streams never end by design.
EXCLUDE_PATH_REGEX = r"(/stream$|/events/stream$)"


def _schemathesis() -> str:
    for cand in (shutil.which("schemathesis"), str(Path(sysconfig.get_path("scripts")) / "schemathesis"),
                 str(Path(sys.executable).parent / "schemathesis")):
        if cand and Path(cand).is_file():
            return cand
    raise SystemExit("schemathesis is not installed: pip install -e '.[test]' / 未安装 schemathesis")


def _pg_schema(url: str, create: bool, name: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{name}"' if create else f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    engine.dispose()


def _setup(root: Path, pg_url: str | None, schema: str):
    os.environ["FENGHUO_HOME"] = str(root / "home")
    os.environ["FENGHUO_LEDGER_KEY"] = str(root / "home" / "ledger-key.pem")
    from fenghuo.platform.db import Database
    from fenghuo.platform.roles import Role
    from fenghuo.registry.tokens import create_token
    from tests.foundation.fixtures import ADMIN, seed

    if pg_url:
        _pg_schema(pg_url, True, schema)
        db = Database(pg_url, schema=schema)
    else:
        db = Database(str(root / "fuzz.db"))
    db.upgrade()
    seed(db)
    tokens = {r.value: create_token(db, ADMIN, f"fuzz-{r.value}", r, **SCOPES.get(r.value, {})) for r in Role}
    return db, tokens


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=float(os.environ.get("FUZZ_SECONDS", 120)),
                    help="whole budget, split between the roles (default 120)")
    ap.add_argument("--seed", type=int, default=int(os.environ.get("FUZZ_SEED", 14)))
    ap.add_argument("--roles", default="", help="comma-separated (default: every role)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (reports, server log)")
    ap.add_argument("--database", default="", help="a PostgreSQL URL: fuzz on a fresh schema there instead of SQLite")
    args = ap.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="fenghuo-fuzz-"))
    schema = f"fuzz_{root.name.rsplit('-', 1)[-1].lower()}"
    db, tokens = _setup(root, args.database or None, schema)
    roles = [r for r in args.roles.split(",") if r] or list(tokens)

    from fenghuo.api.server import ServerThread
    from fenghuo.platform.config import Settings

    per_role = max(5, int(args.seconds / len(roles)))
    failed: list[str] = []
    cases = 0
    t0 = time.monotonic()
    # rate limiting of failed logins would answer the fuzzer's bad tokens with 429: that is fine
    server = ServerThread(db, Settings(checkpoint_seconds=0, heartbeat_seconds=0.5))
    # uvicorn set up its loggers when the server was made: the tracebacks of 500s go to a file too
    handler = logging.FileHandler(root / "server.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    for name in ("", "uvicorn.error"):
        logging.getLogger(name).addHandler(handler)
    with server:
        for role in roles:
            report = root / f"report-{role}"
            cmd = [_schemathesis(), "run", f"{server.url}/openapi.json",
                   "--checks", "not_a_server_error", "--max-time", str(per_role), "--workers", "1",
                   "--seed", str(args.seed), "--request-timeout", "10", "--no-shrink",
                   "--exclude-path-regex", EXCLUDE_PATH_REGEX, "--suppress-health-check", "all",
                   "--warnings", "off", "--report", "ndjson", "--report-dir", str(report),
                   "-H", f"Authorization: Bearer {tokens[role]}"]
            print(f"\n== fuzz as {role}: {per_role} s / 以 {role} 身份模糊测试", flush=True)
            r = subprocess.Popen(cmd, cwd=root, stdout=subprocess.PIPE, text=True, errors="replace",
                                 env={**os.environ, "SCHEMATHESIS_HOOKS": ""})
            for line in r.stdout:  # echoed as it comes, and the number of test cases counted
                print(line, end="", flush=True)
                if m := re.match(r"\s*(\d+) generated", line):
                    cases += int(m.group(1))
            if r.wait(timeout=per_role + 120) != 0:
                failed.append(role)
    handler.close()
    db.dispose()
    if args.database and not (failed or args.keep):
        _pg_schema(args.database, False, schema)
    took = time.monotonic() - t0
    if failed:
        print(f"\n✗ server errors found as {', '.join(failed)} in {took:.0f} s ({cases} test cases); "
              f"files in {root}, tracebacks in {root / 'server.log'} / 发现服务器错误", flush=True)
        return 1
    print(f"\n✓ no server error in {took:.0f} s over {len(roles)} roles, {cases} test cases, seed {args.seed} "
          f"/ 未发现服务器错误", flush=True)
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
