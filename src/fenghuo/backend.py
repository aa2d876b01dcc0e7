"""What the command line talks to: the local database, or a running server.

Both backends answer the same questions with the same dictionaries, so every CLI command is
written once. The local one acts as the deployment admin (whoever holds the database file
holds everything); the remote one acts as whoever the bearer token names.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx

from fenghuo.platform.errors import Conflict, FenghuoError, Forbidden, Invalid, NotFound, TooLarge, Unauthorized


class LocalBackend:
    def __init__(self, db_url: str | None) -> None:
        from fenghuo.platform.auth import local_actor
        from fenghuo.platform.db import open_database

        self.db = open_database(db_url)
        self.actor = local_actor()
        self.where = self.db.url

    def register(self, path: str) -> list[dict[str, Any]]:
        from fenghuo.registry import service
        from fenghuo.registry.spec import load_registration

        return service.register(self.db, self.actor, load_registration(path))

    def list_services(self, **filters: str | None) -> list[dict[str, Any]]:
        from fenghuo.registry import service

        return service.list_services(self.db, self.actor, **filters)

    def show_service(self, service_id: str) -> dict[str, Any]:
        from fenghuo.registry import service

        return service.get(self.db, self.actor, service_id)

    def command(self, service_id: str, action: str, reason: str, **kw: Any) -> dict[str, Any]:
        from fenghuo.control import switch

        return switch.execute(self.db, self.actor, service_id, action, reason, command_id=kw.get("id"),
                              rate=kw.get("rate"), percent=kw.get("percent"))

    def approve(self, command_id: str) -> dict[str, Any]:
        from fenghuo.control import switch

        return switch.approve(self.db, self.actor, command_id)

    def pending(self) -> list[dict[str, Any]]:
        from fenghuo.control import switch

        return switch.pending(self.db, self.actor)

    def state(self, service_id: str) -> dict[str, Any]:
        from fenghuo.control import switch

        return switch.get_state(self.db, self.actor, service_id)

    def states(self) -> list[dict[str, Any]]:
        from fenghuo.control import switch

        return switch.all_states(self.db, self.actor)

    def ledger_verify(self) -> dict[str, Any]:
        from fenghuo.ledger import service as ledger

        return ledger.verify_report(self.db)

    def ledger_lines(self):
        from fenghuo.ledger import service as ledger

        return ledger.export_lines(self.db)

    def ledger_checkpoint(self) -> dict[str, Any]:
        from fenghuo.ledger import service as ledger

        return asdict(ledger.checkpoint(self.db))

    def create_token(self, name: str, role: str, provider: str | None, jurisdiction: str | None) -> str:
        from fenghuo.platform.auth import Role, create_token

        return create_token(self.db, self.actor, name, Role(role), provider, jurisdiction)


_STATUS = {401: Unauthorized, 403: Forbidden, 404: NotFound, 409: Conflict, 413: TooLarge, 422: Invalid}


class RemoteBackend:
    def __init__(self, server: str, token: str | None) -> None:
        self.where = server
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=server.rstrip("/"), headers=headers, timeout=30)

    def _call(self, method: str, path: str, **kw: Any) -> Any:
        try:
            r = self.http.request(method, path, **kw)
        except httpx.HTTPError as exc:
            raise FenghuoError(f"无法连接服务器 {self.where}：{exc}", f"cannot reach server {self.where}: {exc}", code="unreachable") from None
        if r.status_code >= 400:
            try:
                err = r.json()["error"]
                message = err.get("message", r.text)
            except (ValueError, KeyError, TypeError):
                err, message = {}, r.text
            zh, _, en = message.partition(" / ")
            exc = _STATUS.get(r.status_code, FenghuoError)(zh, en or zh, code=err.get("code"))
            exc.status = r.status_code
            raise exc
        return r.json()

    def register(self, path: str) -> list[dict[str, Any]]:
        from fenghuo.registry.spec import load_registration

        reg = load_registration(path)  # validate here so errors name the local file and line
        return self._call("POST", "/api/v1/services", json=reg.model_dump(mode="json"))["results"]

    def list_services(self, **filters: str | None) -> list[dict[str, Any]]:
        return self._call("GET", "/api/v1/services", params={k: v for k, v in filters.items() if v})

    def show_service(self, service_id: str) -> dict[str, Any]:
        return self._call("GET", f"/api/v1/services/{service_id}")

    def command(self, service_id: str, action: str, reason: str, **kw: Any) -> dict[str, Any]:
        body = {"action": action, "reason": reason, **{k: v for k, v in kw.items() if v is not None}}
        return self._call("POST", f"/api/v1/services/{service_id}/commands", json=body)

    def approve(self, command_id: str) -> dict[str, Any]:
        return self._call("POST", f"/api/v1/commands/{command_id}/approve")

    def pending(self) -> list[dict[str, Any]]:
        return self._call("GET", "/api/v1/commands/pending")

    def state(self, service_id: str) -> dict[str, Any]:
        return self._call("GET", f"/api/v1/services/{service_id}/state")

    def states(self) -> list[dict[str, Any]]:
        return self._call("GET", "/api/v1/states")

    def ledger_verify(self) -> dict[str, Any]:
        return self._call("GET", "/api/v1/ledger/verify")

    def ledger_lines(self):
        with self.http.stream("GET", "/api/v1/ledger/export") as r:
            if r.status_code >= 400:
                r.read()
                raise FenghuoError("导出失败", f"export failed: HTTP {r.status_code} {r.text}")
            for line in r.iter_lines():
                if line:
                    yield line + "\n"

    def ledger_checkpoint(self) -> dict[str, Any]:
        return self._call("POST", "/api/v1/ledger/checkpoint")

    def create_token(self, name: str, role: str, provider: str | None, jurisdiction: str | None) -> str:
        return self._call("POST", "/api/v1/tokens", json={"name": name, "role": role, "provider": provider,
                                                         "jurisdiction": jurisdiction})["token"]


def make_backend(server: str | None, token: str | None, db_url: str | None):
    if server:
        return RemoteBackend(server, token)
    return LocalBackend(db_url)


def write_atomic(path: str | Path, lines) -> int:  # noqa: ANN001
    """Write lines to a file through a temporary name, so a failure leaves no half file."""
    import os
    import tempfile

    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", prefix=f".{path.name}.")
    n = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for line in lines:
                fh.write(line)
                n += 1
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return n
