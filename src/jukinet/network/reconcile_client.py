"""Reconciliation over the wire: asking a neighbour, and checking its signed answers.

The municipality asks its prefecture (:class:`Conversation`); a prefecture asks the centre
(:func:`ask_national`) and passes the centre's signed answer through untouched, so the
municipality checks both signatures. Every answer must name the question it answers (kind,
signer, asker, municipality, nonce); anything else is refused as untrusted (JUKI-NET-033), and
a neighbour that cannot be asked is reported as unreachable (JUKI-NET-032). What the answers
mean, and what is repaired, is decided in :mod:`jukinet.services.reconcile`.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final

import httpx

from jukinet.domain.errors import DomainError
from jukinet.domain.network import NATIONAL
from jukinet.domain.reconcile import (
    BUCKET_RE,
    CODE_RE,
    HASH_RE,
    ReconcileFailed,
    bucket_of,
    unreachable,
    untrusted,
)
from jukinet.network.context import NetworkContext, Rejected
from jukinet.network.inbox import verify_document
from jukinet.network.node import NetworkNode

BUCKETS_PATH: Final = "/network/v1/reconcile/buckets"
RECORDS_PATH: Final = "/network/v1/reconcile/records"
#: Bounds of a request body and of HTTP waits.
MAX_REQUEST_BYTES: Final = 64 * 1024
HTTP_TIMEOUT_SECONDS: Final = 120.0


def post_question(
    http: httpx.Client, url: str, body: dict[str, Any], *, peer: str
) -> dict[str, Any]:
    """POST a question to ``peer``; its answer, still to be verified."""
    response = http.post(url, json=body)
    if response.status_code != 200:
        try:
            detail = str(response.json().get("error", ""))[:200]
        except ValueError:
            detail = ""
        raise unreachable(peer, f"HTTP {response.status_code}" + (f": {detail}" if detail else ""))
    try:
        answer = response.json()
    except ValueError as error:
        raise untrusted("the answer is not JSON") from error
    if not isinstance(answer, dict):
        raise untrusted("the answer is not a signed document")
    return answer


@contextlib.contextmanager
def open_client(
    net: NetworkContext, client: httpx.Client | None, *, peer: str
) -> Iterator[httpx.Client]:
    """The given client (left open), or a mutual-TLS one of our own; transport faults become
    :class:`ReconcileFailed`."""
    with contextlib.ExitStack() as stack:
        if client is None:
            client = stack.enter_context(
                httpx.Client(verify=net.client_ssl_context(), timeout=HTTP_TIMEOUT_SECONDS)
            )
        try:
            yield client
        except (httpx.HTTPError, OSError) as error:
            raise unreachable(peer, f"{type(error).__name__}: {error}"[:200]) from error


@dataclass(frozen=True)
class Conversation:
    """One run's questions to the prefecture: same nonce throughout, every answer verified."""

    node: NetworkNode
    net: NetworkContext
    http: httpx.Client
    url: str
    nonce: str = field(default_factory=lambda: secrets.token_hex(16))

    @property
    def prefecture(self) -> str:
        """The prefecture asked (this municipality's upstream)."""
        return self.node.upstream

    def ask(self, path: str, kind: str, extra: dict[str, Any]) -> dict[str, Any]:
        """POST a question to the prefecture; its verified answer."""
        question = {"municipality_code": self.node.municipality_code, "nonce": self.nonce}
        signed = post_question(self.http, self.url + path, question | extra, peer=self.prefecture)
        return self.verified(signed, signer=self.prefecture, kind=kind, asked_by=str(self.net.node))

    def national(self, answer: dict[str, Any], kind: str) -> dict[str, Any] | str:
        """The centre's verified answer passed through by the prefecture, or why there is none."""
        signed = answer.get("national")
        if signed is None:
            return str(answer.get("national_error") or "no answer from the centre")
        return self.verified(signed, signer=str(NATIONAL), kind=kind, asked_by=self.prefecture)

    def verified(self, signed: Any, *, signer: str, kind: str, asked_by: str) -> dict[str, Any]:
        """The document if ``signer`` signed it and it answers exactly this question."""
        if not isinstance(signed, dict):
            raise untrusted(f"no signed answer from {signer}")
        try:
            document = verify_document(signed, signer=signer, net=self.net, node=self.node)
        except Rejected as error:
            raise untrusted(error.reason) from error
        expected = {
            "kind": kind,
            "node": signer,
            "requested_by": asked_by,
            "municipality_code": self.node.municipality_code,
            "nonce": self.nonce,
        }
        if any(document.get(k) != v for k, v in expected.items()):
            raise untrusted(f"the answer of {signer} is not for this question")
        return document


def read_buckets(answer: dict[str, Any]) -> tuple[dict[str, str], int]:
    """A verified buckets answer's bucket digests and record count (untrusted if malformed)."""
    buckets = _hash_map(answer.get("buckets"), key_re=BUCKET_RE, what="buckets")
    return buckets, _count(answer.get("count"))


def read_records(answer: dict[str, Any], *, asked: Iterable[str]) -> dict[str, str]:
    """A verified records answer's code → hash, all in the buckets ``asked`` for."""
    records = _hash_map(answer.get("records"), key_re=CODE_RE, what="records")
    wanted = set(asked)
    if any(bucket_of(code) not in wanted for code in records):
        raise untrusted("records outside the buckets asked for")
    return records


def _hash_map(value: Any, *, key_re: re.Pattern[str], what: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and key_re.match(k) and isinstance(v, str) and HASH_RE.match(v)
        for k, v in value.items()
    ):
        raise untrusted(f"malformed {what}")
    return dict(value)


def _count(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise untrusted("malformed count")
    return value


def ask_national(
    node: NetworkNode, net: NetworkContext, path: str, body: dict[str, Any]
) -> tuple[dict[str, Any] | None, str | None]:
    """The centre's signed answer for a prefecture, or why there is none."""
    url = net.peers.get(str(NATIONAL))
    if url is None:
        return None, "the national centre is not a neighbour of this node"
    try:
        with httpx.Client(verify=net.client_ssl_context(), timeout=HTTP_TIMEOUT_SECONDS) as http:
            signed = post_question(http, url.rstrip("/") + path, body, peer=str(NATIONAL))
        verify_document(signed, signer=str(NATIONAL), net=net, node=node)
    except (httpx.HTTPError, OSError, Rejected, ReconcileFailed) as error:
        return None, _reason(error)
    return signed, None


def _reason(error: Exception) -> str:
    if isinstance(error, Rejected):
        return error.reason[:200]
    if isinstance(error, DomainError):
        return error.message_en[:200]
    return f"{type(error).__name__}: {error}"[:200]
