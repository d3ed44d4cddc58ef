"""Turning domain errors and malformed requests into answers with stable codes."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DataError, OperationalError

from jukinet.domain.errors import DomainError
from jukinet.storage.writer_queue import WriterQueueTimeout

log = logging.getLogger(__name__)


class ErrorDetail(BaseModel):
    """One error: a stable code, the field it concerns, and messages in Japanese and English."""

    code: str
    field: str | None = None
    message_ja: str
    message_en: str


class ErrorBody(BaseModel):
    """The body of every 4xx answer of the API."""

    errors: list[ErrorDetail]


def _field_of(location: tuple[Any, ...]) -> str:
    parts = [str(p) for p in location if p not in ("body", "query", "path", "header", "form")]
    return ".".join(parts) or "request"


def validation_errors(exc: RequestValidationError) -> list[ErrorDetail]:
    """FastAPI's schema errors in our format; the offending values are never echoed back."""
    details = []
    for error in exc.errors():
        field = _field_of(tuple(error.get("loc", ())))
        kind = str(error.get("type", "invalid"))
        details.append(
            ErrorDetail(
                code="JUKI-API-001",
                field=field,
                message_ja=f"「{field}」の形式が正しくありません（{kind}）。",
                message_en=f"The field '{field}' is not valid ({kind}).",
            )
        )
    return details


#: OpenAPI documentation of the error answers every protected endpoint may give.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Not signed in, or the token is invalid/expired"},
    403: {"model": ErrorBody, "description": "The operator's role does not permit this"},
    404: {"model": ErrorBody, "description": "No such resident or household"},
    409: {"model": ErrorBody, "description": "Conflicts with the register's current state"},
    422: {"model": ErrorBody, "description": "Invalid input; the field and rule are named"},
}


#: Seconds a client is asked to wait after a 503 "busy".
RETRY_AFTER_SECONDS = 5
BUSY = ErrorDetail(
    code="JUKI-API-003",
    field=None,
    message_ja="混み合っています。しばらくしてからもう一度送ってください。",
    message_en="The node is busy; send the request again shortly.",
)
# Lock waits that ran out: SQLite's, PostgreSQL's (55P03 lock_not_available) and our queue's.
_BUSY_MARKERS = ("database is locked", "database table is locked", "lock timeout")


def is_database_busy(error: OperationalError) -> bool:
    """Whether ``error`` only says the database was busy (worth retrying), not broken."""
    if isinstance(error, WriterQueueTimeout):
        return True
    if getattr(error.orig, "sqlstate", None) == "55P03":
        return True
    text = str(error.orig).lower()
    return any(marker in text for marker in _BUSY_MARKERS)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that give every error the same shape."""

    @app.exception_handler(DomainError)
    async def _domain_error(_request: Request, exc: DomainError) -> JSONResponse:
        body = ErrorBody(errors=[ErrorDetail(**detail) for detail in exc.details()])
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(body.model_dump(), status_code=exc.status, headers=headers)

    @app.exception_handler(DataError)
    async def _data_error(_request: Request, _exc: DataError) -> JSONResponse:
        # Safety net: a value the database cannot store (e.g. a NUL byte) that slipped past
        # validation is the client's input, not a server fault.
        body = ErrorBody(
            errors=[
                ErrorDetail(
                    code="JUKI-API-002",
                    field=None,
                    message_ja="入力に使用できない文字が含まれています。",
                    message_en="The input contains characters that cannot be stored.",
                )
            ]
        )
        return JSONResponse(body.model_dump(), status_code=422)

    @app.exception_handler(OperationalError)
    async def _database_busy(_request: Request, exc: OperationalError) -> JSONResponse:
        # A writer that waited its whole turn and more is told to come back, never given a
        # bare 500; any other operational error is a fault and goes on to the server's handler.
        if not is_database_busy(exc):
            raise exc
        log.warning("database busy: answered 503 (%s)", type(exc).__name__)
        return JSONResponse(
            ErrorBody(errors=[BUSY]).model_dump(),
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    @app.exception_handler(RequestValidationError)
    async def _request_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        body = ErrorBody(errors=validation_errors(exc))
        return JSONResponse(body.model_dump(), status_code=422)
