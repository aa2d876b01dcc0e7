"""`fenghuo demo --console`: after the demo, leave its control plane and web console running
on the demo's database and print where to log in, with a token per role, so a newcomer can
look at what the demo did (states, warnings, incidents and their clocks, the ledger)."""

from __future__ import annotations

from pathlib import Path

from fenghuo.platform.cli_support import console


def serve_console(workdir: Path, host: str = "127.0.0.1", port: int = 8600) -> None:
    """Serve the demo's database until Ctrl-C (the same app ``fenghuo serve`` runs)."""
    import uvicorn
    from rich.panel import Panel

    from fenghuo.api.app import create_app
    from fenghuo.platform.config import Settings
    from fenghuo.platform.db import open_database
    from fenghuo.platform.roles import Role, local_actor
    from fenghuo.registry.tokens import create_token

    db = open_database(str(workdir / "demo.db"))
    me = local_actor()
    tokens = [
        ("admin 管理员", create_token(db, me, "console-admin", Role.admin)),
        ("operator 运营者 (xuebao)", create_token(db, me, "console-xuebao", Role.operator, provider_id="xuebao")),
        ("regulator 监管方 (cn-bj)", create_token(db, me, "console-beijing", Role.regulator, jurisdiction_id="cn-bj")),
    ]
    url = f"http://{host}:{port}/"
    console.print(Panel("\n".join([f"[bold]{url}[/]", "用以下令牌登录 / log in with one of these tokens:"] +
                                  [f"  {who}: [bold]{tok}[/]" for who, tok in tokens] + ["Ctrl-C 结束 / to stop"]),
                        title="控制台 / web console"))
    uvicorn.run(create_app(Settings(), db), host=host, port=port, log_level="warning", timeout_graceful_shutdown=1)
