"""Typed application errors, raised by services and rendered by one handler.

Every error body has the same shape: ``{"detail": "...", "code": "...", "field": "..." | null}``
(plus ``errors`` for row-level import problems), so clients can show the message as it is.
"""

from __future__ import annotations

from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout


class ErrorBody(BaseModel):
    detail: str
    code: str
    field: str | None = None
    errors: list[dict[str, Any]] | None = None


class AppError(Exception):
    status_code: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"

    def __init__(self, detail: str, *, field: str | None = None, errors: list[dict[str, Any]] | None = None):
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.errors = errors

    def body(self) -> dict[str, Any]:
        return ErrorBody(detail=self.detail, code=self.code, field=self.field, errors=self.errors).model_dump(
            exclude_none=True
        )


class NotAuthenticated(AppError):
    status_code = 401
    code = "not_authenticated"


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"


class NotFound(AppError):
    status_code = 404
    code = "not_found"


class Conflict(AppError):
    status_code = 409
    code = "conflict"


class InvalidInput(AppError):
    status_code = 422
    code = "invalid"


class PayloadTooLarge(AppError):
    status_code = 413
    code = "too_large"


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route, so the OpenAPI schema (and the generated client) knows its errors."""
    return {code: {"model": ErrorBody} for code in codes}


def _error(status: int, detail: str, code: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = ErrorBody(detail=detail, code=code)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_request: Request, exc: AppError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return JSONResponse(exc.body(), status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # The same shape as every other error, naming the first bad field; all problems in `errors`.
        problems = [
            {"field": ".".join(str(p) for p in err["loc"][1:] or err["loc"]), "message": err["msg"]}
            for err in exc.errors()
        ]
        first = problems[0] if problems else {"field": None, "message": "invalid request"}
        detail = f"{first['field']}: {first['message']}" if first["field"] else str(first["message"])
        body = ErrorBody(detail=detail, code="invalid", field=first["field"] or None, errors=problems)
        return JSONResponse(body.model_dump(exclude_none=True), status_code=422)

    @app.exception_handler(IntegrityError)
    async def _integrity(_request: Request, exc: IntegrityError) -> JSONResponse:
        # A constraint the service did not pre-check (usually a race): the write is refused, nothing changed.
        return _error(409, "The change conflicts with existing data.", "conflict")

    @app.exception_handler(OverflowError)
    async def _overflow(_request: Request, exc: OverflowError) -> JSONResponse:
        # Defence in depth: a number too large for the database slipped past validation.
        return _error(422, "A number in the request is out of range.", "invalid")

    @app.exception_handler(DataError)
    async def _unstorable(_request: Request, exc: DataError) -> JSONResponse:
        # The database refused a value validation let through (a NUL character in text, a number out of
        # range): the transaction is rolled back and the caller told, never a 500.
        return _error(422, "A value in the request cannot be stored (for example a NUL character in text).", "invalid")

    @app.exception_handler(OperationalError)
    @app.exception_handler(PoolTimeout)
    async def _db_down(_request: Request, exc: Exception) -> JSONResponse:
        return _error(503, "The database is unavailable; retry shortly.", "unavailable", {"Retry-After": "1"})
