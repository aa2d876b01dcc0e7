"""The one way a command reaches the system: the local database, or a running server.

Every CLI command names its operation twice, side by side: the domain function it runs on the
local database (``local(db, actor)``) and the HTTP route that runs the same function on a server
(``method, path``). The root options (--server/--token/--db) choose, once per invocation, which
of the two :class:`Client` implementations answers; the command never asks which one it got.

- :class:`LocalClient` opens the database and acts as the deployment admin (whoever holds the
  database file holds everything anyway, see ``platform.auth``).
- :class:`RemoteClient` sends the request with the bearer token and turns an error body back
  into the same :class:`~fenghuo.platform.errors.FenghuoError` the domain raised on the server,
  so a refusal reads the same either way.

Both answer with the same JSON-shaped values (the routes return what the domain functions
return), which is what lets each command be written once. The client knows no domain: it is
plumbing, so it lives on the ground floor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from fenghuo.platform.errors import Conflict, FenghuoError, Forbidden, Invalid, NotFound, TooLarge, Unauthorized, Unavailable

if TYPE_CHECKING:
    from fenghuo.platform.db import Database
    from fenghuo.platform.roles import Actor

T = TypeVar("T")
Local = Callable[["Database", "Actor"], T]


class Client(Protocol):
    where: str  # the database URL or the server URL, for messages

    def call(self, local: Local[T] | None, method: str, path: str | None, *,
             params: dict[str, Any] | None = None, json: Any = None) -> T:
        """Run ``local(db, actor)`` here, or ``method path`` on the server. ``local=None``: the
        answer lives only in a server's memory; ``path=None``: only in the local database."""

    def lines(self, local: Local[Iterable[str]], path: str) -> Iterator[str]:
        """A streamed answer, line by line (each ending in a newline)."""


class LocalClient:
    def __init__(self, db_url: str | None) -> None:
        from fenghuo.platform.db import open_database
        from fenghuo.platform.roles import local_actor

        self.db = open_database(db_url)
        self.actor = local_actor()
        self.where = self.db.url

    def call(self, local: Local[T] | None, method: str, path: str | None, *,
             params: dict[str, Any] | None = None, json: Any = None) -> T:
        if local is None:
            raise FenghuoError(f"{path} 只在服务器内存中，请用 --server", f"{path} lives only in a server's memory: use --server URL",
                               code="needs_server")
        return local(self.db, self.actor)

    def lines(self, local: Local[Iterable[str]], path: str) -> Iterator[str]:
        yield from local(self.db, self.actor)


_STATUS = {401: Unauthorized, 403: Forbidden, 404: NotFound, 409: Conflict, 413: TooLarge, 422: Invalid, 503: Unavailable}


class RemoteClient:
    def __init__(self, server: str, token: str | None) -> None:
        import httpx

        self.where = server
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=server.rstrip("/"), headers=headers, timeout=30)

    def call(self, local: Local[T] | None, method: str, path: str | None, *,
             params: dict[str, Any] | None = None, json: Any = None) -> T:
        if path is None:
            raise FenghuoError("此操作只作用于本地数据库，不能用 --server", "this acts on the local database only: drop --server",
                               code="needs_database")
        import httpx

        try:
            r = self.http.request(method, path, params=params, json=json)
        except httpx.HTTPError as exc:
            raise FenghuoError(f"无法连接服务器 {self.where}：{exc}", f"cannot reach server {self.where}: {exc}",
                               code="unreachable") from None
        if r.status_code >= 400:
            raise _error(r.status_code, r.text, _json_or_none(r))
        return r.json()

    def lines(self, local: Local[Iterable[str]], path: str) -> Iterator[str]:
        with self.http.stream("GET", path) as r:
            if r.status_code >= 400:
                r.read()
                raise _error(r.status_code, r.text, _json_or_none(r))
            for line in r.iter_lines():
                if line:
                    yield line + "\n"


def _json_or_none(r: Any) -> Any:
    try:
        return r.json()
    except ValueError:
        return None


def _error(status: int, text: str, body: Any) -> FenghuoError:
    """The server's ``{"error": {"code", "message"}}`` as the error class of its status."""
    err = body.get("error") if isinstance(body, dict) and isinstance(body.get("error"), dict) else {}
    message = err.get("message") or text
    zh, _, en = str(message).partition(" / ")
    details = {k: v for k, v in err.items() if k not in ("code", "message")}
    exc = _STATUS.get(status, FenghuoError)(zh, en or zh, code=err.get("code") or f"http_{status}", **details)
    exc.status = status
    return exc


def make_client(server: str | None, token: str | None, db_url: str | None) -> Client:
    """--server wins; otherwise the local database (--db, FENGHUO_DB or the data directory)."""
    if server:
        return RemoteClient(server, token)
    return LocalClient(db_url)
