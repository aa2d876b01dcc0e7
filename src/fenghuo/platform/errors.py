"""Errors that reach a user, each with a stable code, an HTTP status and text in 中文 and English.

Domain code raises these; the API turns them into ``{"error": {...}}`` bodies and the CLI into
one readable line, so the same refusal reads the same everywhere.
"""

from __future__ import annotations

from typing import Any


class FenghuoError(Exception):
    status = 400
    code = "bad_request"

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
