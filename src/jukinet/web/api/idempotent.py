"""One write under an ``Idempotency-Key``, for every API that files or changes something.

The first request with a key runs, and its answer is stored by the service in the same
transaction as the write (:func:`jukinet.services.idempotency.remember`); a retry with the same
key gets that answer again, marked ``Idempotent-Replayed: true``, without running anything; the
same key with a different request is refused (JUKI-IDEM-002).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import Header
from fastapi.responses import Response
from pydantic import BaseModel

from jukinet.domain.operators import Actor
from jukinet.services import idempotency
from jukinet.services.context import ServiceContext

R = TypeVar("R")

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Any unique string (e.g. a UUID) per intended write; a retry with the same "
        "key returns the first answer instead of filing again. Kept 24 hours.",
    ),
]


def answer_once(
    node: ServiceContext,
    actor: Actor,
    key: str | None,
    operation: str,
    body: BaseModel,
    status_code: int,
    run: Callable[[], R],
    out: Callable[[R], BaseModel],
) -> BaseModel | Response:
    """``out(run())``, run once per key: a repeated key gets the first answer instead."""
    if key is None:
        return out(run())
    scope = f"operator:{actor.operator_id}"
    checked = idempotency.check_key(key)
    asked = idempotency.fingerprint("POST", operation, body.model_dump_json().encode())
    stored = idempotency.replay(node, scope=scope, key=checked, fingerprint=asked)
    if stored is not None:
        return Response(
            stored.body,
            status_code=stored.status_code,
            media_type="application/json",
            headers={"Idempotent-Replayed": "true"},
        )

    def render(result: R) -> bytes:
        return out(result).model_dump_json().encode()

    request = idempotency.IdempotentRequest(scope, checked, asked, status_code, render)
    with idempotency.requested(request):
        return out(run())
