"""Turning domain errors and malformed requests into answers with stable codes.

Every answer that is not a success has the JUKI shape — a stable code, the field, messages in
Japanese and English — whatever raised it: a domain rule, request validation, the HTTP layer
(an unknown path, a wrong method, a form that cannot be parsed) or an unexpected fault (500,
logged by type only, never with the request's data). A person at a browser gets the same error
as a page when the pages are installed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from jukinet.domain.errors import DomainError
from jukinet.storage.database import is_storage_full
from jukinet.storage.writer_queue import WriterQueueTimeout

log = logging.getLogger(__name__)

#: Renders an error as a page for a person at a browser.
HtmlErrorPage = Callable[[Request, DomainError], Response]

_HTTP_MESSAGES: Final[dict[int, tuple[str, str]]] = {
    400: ("リクエストの形式が正しくありません。", "The request is malformed."),
    404: ("指定のページまたはAPIはありません。", "There is no such page or API."),
    405: ("このアドレスではその操作はできません。", "That method is not allowed here."),
    413: ("リクエストが大きすぎます。", "The request is too large."),
    415: ("この形式のデータは受け付けられません。", "This media type is not accepted."),
}
_FAULT_PAGE: Final = (
    '<!doctype html><html lang="ja"><meta charset="utf-8"><title>エラー / Error</title>'
    '<main><h1>エラー / Error</h1><p role="alert">{ja}</p><p lang="en">{en}</p>'
    '<p><a href="/">戻る / Back</a></p></main></html>'
)
_FALLBACK: Final = ("リクエストを処理できませんでした。", "The request could not be processed.")


class HttpProblem(DomainError):
    """An HTTP-level refusal (unknown path, wrong method, unparsable form) as a JUKI error."""

    def __init__(self, status: int) -> None:
        ja, en = _HTTP_MESSAGES.get(status, _FALLBACK)
        super().__init__(f"JUKI-HTTP-{status}", ja=ja, en=en)
        self.status = status


class UnexpectedFault(DomainError):
    """A fault of the node itself; the request was not applied."""

    status = 500

    def __init__(self) -> None:
        super().__init__(
            "JUKI-API-500",
            ja="システム内部でエラーが発生しました。届出は処理されていません。"
            "時間をおいて再度お試しください。",
            en="The node failed internally; nothing was applied. Please try again later.",
        )


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
    # persons[0].birth_date: the same path the register's own errors name.
    path = ""
    for part in location:
        if part in ("body", "query", "path", "header", "form"):
            continue
        path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else str(part)
    return path or "request"


#: The pydantic error type of a register rule checked while parsing a request (its code and
#: messages travel in the error's context).
JUKI_ERROR: Final = "juki_rule"


def validation_errors(exc: RequestValidationError) -> list[ErrorDetail]:
    """FastAPI's schema errors in our format; the offending values are never echoed back."""
    details = []
    for error in exc.errors():
        field = _field_of(tuple(error.get("loc", ())))
        kind = str(error.get("type", "invalid"))
        context = error.get("ctx") or {}
        if kind == JUKI_ERROR:
            details.append(
                ErrorDetail(
                    code=str(context["code"]),
                    field=field,
                    message_ja=str(context["ja"]),
                    message_en=str(context["en"]),
                )
            )
            continue
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
    code="JUKI-API-004",
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


def refusal_answer(scope_path: str, exc: DomainError) -> Response:
    """A refusal answered outside the routes (a middleware): JSON for APIs, else a bare page."""
    if scope_path.startswith(("/api/", "/provision/", "/audit/")):
        return _json(exc)
    return HTMLResponse(
        _FAULT_PAGE.format(ja=exc.message_ja, en=exc.message_en), status_code=exc.status
    )


def _json(exc: DomainError, headers: dict[str, str] | None = None) -> JSONResponse:
    body = ErrorBody(errors=[ErrorDetail(**detail) for detail in exc.details()])
    return JSONResponse(body.model_dump(), status_code=exc.status, headers=headers)


def _wants_page(request: Request) -> bool:
    # The APIs answer JSON whatever the client accepts; a browser on the pages gets a page.
    path = request.url.path
    if path.startswith(("/api/", "/provision/", "/audit/", "/network/", "/reconcile/")):
        return False
    return "text/html" in request.headers.get("accept", "")


def install_error_handlers(app: FastAPI, *, page: HtmlErrorPage | None = None) -> None:
    """Register the handlers that give every error the same shape (``page`` renders it for
    browsers on the counter pages)."""

    def answer(request: Request, exc: DomainError, headers: dict[str, str] | None) -> Response:
        if page is not None and _wants_page(request):
            return page(request, exc)
        return _json(exc, headers)

    @app.exception_handler(DomainError)
    async def _domain_error(request: Request, exc: DomainError) -> Response:
        # A refusal raised before a page ran (its permission rule) is a page for a browser.
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        retry_after = getattr(exc, "retry_after", None)
        if isinstance(retry_after, int):  # an emergency measure says when to try again
            headers = {"Retry-After": str(retry_after)}
        return answer(request, exc, headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        headers = dict(exc.headers) if exc.headers else None
        if exc.status_code < 400:  # a redirect (to the sign-in page, say), not an error
            return Response(status_code=exc.status_code, headers=headers)
        return answer(request, HttpProblem(exc.status_code), headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # The type only: an exception's text may quote the data being processed.
        log.error("unexpected %s on %s %s", type(exc).__name__, request.method, request.url.path)
        fault = UnexpectedFault()
        if page is not None and _wants_page(request):
            # This handler runs outside the session middleware: a page without templates.
            return HTMLResponse(_FAULT_PAGE.format(ja=fault.message_ja, en=fault.message_en), 500)
        return _json(fault)

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
        if is_database_busy(exc):
            # A writer that waited its whole turn and more is told to come back, never given
            # a bare 500.
            log.warning("database busy: answered 503 (%s)", type(exc).__name__)
            return JSONResponse(
                ErrorBody(errors=[BUSY]).model_dump(),
                status_code=503,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        if not is_storage_full(exc):
            raise exc  # a fault: the server's handler answers JUKI-API-500
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
