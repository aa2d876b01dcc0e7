"""Errors that reach a user, each with a stable code, an HTTP status and text in 中文 and English.

Domain code raises these; the API turns them into ``{"error": {...}}`` bodies and the CLI into
one readable line, so the same refusal reads the same everywhere.
"""

from __future__ import annotations

from typing import Any


class FenghuoError(Exception):
    status = 400
    code = "bad_request"
    exit_code = 1  # the CLI's exit status: 1 a refusal; 2 input that cannot be used at all

    def __init__(self, zh: str, en: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(en)
        self.zh = zh
        self.en = en
        if code:
            self.code = code
        self.details = details

    @property
    def message(self) -> str:
        return f"{self.zh} / {self.en}"

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.details}


class NotFound(FenghuoError):
    status = 404
    code = "not_found"


class Forbidden(FenghuoError):
    status = 403
    code = "forbidden"


class Unauthorized(FenghuoError):
    status = 401
    code = "unauthorized"


class Invalid(FenghuoError):
    status = 422
    code = "invalid"


class Conflict(FenghuoError):
    status = 409
    code = "conflict"


class TooLarge(FenghuoError):
    status = 413
    code = "too_large"


class Unreadable(Invalid):
    """Input that cannot be used at all: a file that cannot be read or decoded, a name that
    would leave its folder. The CLI exits 2 for it, as for a usage error."""

    code = "unreadable"
    exit_code = 2
    label = ("错误", "error")  # the CLI's first word (platform.cli_output): not a refusal


class SyntaxProblem(Unreadable):
    """Not valid YAML or JSON (names the line where it can)."""

    code = "invalid_file"


class DocumentLimit(Unreadable):
    """A document over one of ``platform.documents.Limits`` (depth, aliases, nodes), or with a
    key written twice; the details name the limit."""

    code = "document_limit"


class DocumentTooLarge(TooLarge):
    """A document over ``max_bytes`` (HTTP 413)."""

    code = "too_large"
    exit_code = 2
    label = ("错误", "error")


class Unavailable(FenghuoError):
    """A dependency (the database, NATS) is down: try again later (HTTP 503 + Retry-After)."""

    status = 503
    code = "unavailable"
    retry_after = 1
