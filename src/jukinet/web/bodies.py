"""Request bodies read with their size limit enforced while they arrive (issue 11, finding 7).

Reading a body whole and then checking its length let a 400 MiB post take a node to 878 MiB.
Here a declared ``Content-Length`` over the limit is refused before a byte is read, and a body
without one (chunked) is refused the moment the bytes received pass the limit; a batch upload
goes to a temporary file instead of memory.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import IO, Final

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

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
