"""Request bodies read with their size limit enforced while they arrive (issue 11, finding 7).

Reading a body whole and then checking its length let a 400 MiB post take a node to 878 MiB.
Here a declared ``Content-Length`` over the limit is refused before a byte is read, and a body
without one (chunked) is refused the moment the bytes received pass the limit; a batch upload
goes to a temporary file instead of memory. The operator app's bodies (forms, small JSON)
pass through :class:`BodyLimit`.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import IO, Final

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jukinet.domain.errors import DomainError

#: Bytes gathered in memory before they are written to the spool file.
SPOOL_BLOCK: Final = 1024 * 1024
#: Bytes read from the spool file at a time.
READ_BLOCK: Final = 256 * 1024


class BodyTooLarge(Exception):
    """The request body is over its limit (the caller answers 413 in its own format)."""


def _check_declared(request: Request, limit: int) -> None:
    declared = request.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        raise BodyTooLarge


async def read_limited(request: Request, limit: int) -> bytes:
    """The whole body, if it is at most ``limit`` bytes; :class:`BodyTooLarge` otherwise."""
    _check_declared(request, limit)
    body = bytearray()
    async for part in request.stream():
        if len(body) + len(part) > limit:
            raise BodyTooLarge
        body += part
    return bytes(body)


async def spool_limited(request: Request, limit: int) -> IO[bytes]:
    """The body in an anonymous temporary file (mode 0600, unlinked at once, so nothing is left
    behind whatever happens), positioned at its start; :class:`BodyTooLarge` past ``limit``.

    The caller closes the file.
    """
    _check_declared(request, limit)
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the caller, who closes it
    try:
        size = 0
        block = bytearray()
        async for part in request.stream():
            size += len(part)
            if size > limit:
                raise BodyTooLarge
            block += part
            if len(block) >= SPOOL_BLOCK:
                await run_in_threadpool(spool.write, bytes(block))
                block.clear()
        await run_in_threadpool(spool.write, bytes(block))
        await run_in_threadpool(spool.seek, 0)
    except BaseException:
        spool.close()
        raise
    return spool


def file_blocks(spool: IO[bytes]) -> Iterator[bytes]:
    """The spooled body in blocks of :data:`READ_BLOCK` bytes."""
    while block := spool.read(READ_BLOCK):
        yield block


class RequestTooLarge(DomainError):
    """A request body over the operator app's limit."""

    status = 413

    def __init__(self, limit: int) -> None:
        mib = limit // (1024 * 1024)
        super().__init__(
            "JUKI-API-004",
            ja=f"リクエストが大きすぎます（{mib}MiBまで）。",
            en=f"The request is too large ({mib} MiB at most).",
        )


class BodyLimit:
    """ASGI middleware: no request body over ``limit`` bytes is read.

    A declared ``Content-Length`` over the limit is answered 413 before the app runs; a body
    without one raises :class:`RequestTooLarge` (413 through the error handlers) from the app's
    ``receive`` the moment the bytes received pass the limit.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request with its body counted."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.strip().isdigit() and int(declared) > self.limit:
            error = RequestTooLarge(self.limit)
            body = {"errors": error.details()}
            await JSONResponse(body, status_code=413)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise RequestTooLarge(self.limit)
            return message

        await self.app(scope, counted, send)
