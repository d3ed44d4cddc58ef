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
from jukinet.storage.database import is_storage_full

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
    async def _storage_error(_request: Request, exc: OperationalError) -> JSONResponse:
        if not is_storage_full(exc):
            raise exc
        # The transaction was rolled back whole. Logged without the statement's parameters,
        # which hold the residents' data.
        log.error("the database is full: a write was refused and rolled back")
        body = ErrorBody(
            errors=[
                ErrorDetail(
                    code="JUKI-API-003",
                    field=None,
                    message_ja="記録領域が一杯のため保存できませんでした。何も保存されていません。"
                    "システム管理者に連絡してください。",
                    message_en="The register's storage is full: nothing was saved. "
                    "Tell the system administrator.",
                )
            ]
        )
        return JSONResponse(body.model_dump(), status_code=507)

    @app.exception_handler(RequestValidationError)
    async def _request_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        body = ErrorBody(errors=validation_errors(exc))
        return JSONResponse(body.model_dump(), status_code=422)
