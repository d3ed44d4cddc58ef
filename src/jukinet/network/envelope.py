"""Signed envelopes: what crosses a link between two nodes.

The signature covers the envelope's canonical bytes: UTF-8 JSON with sorted keys and no
insignificant whitespace, of every field but the signature itself. Both ends compute the same
bytes from the same values, so nothing depends on how a JSON library formats its output.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

#: The largest sequence number a link can store (a signed 64-bit column).
MAX_SEQUENCE = 2**63 - 1


def canonical_json(value: Any) -> bytes:
    """Deterministic bytes of a JSON value: UTF-8, sorted keys, no insignificant whitespace.

    Byte-for-byte what ``json.dumps(value, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)`` gives for our messages (text, integers, booleans, null, lists and
    objects), computed by orjson because signing and verifying every envelope makes this hot.
    """
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


@dataclass(frozen=True, slots=True)
class Envelope:
    """One message on one link, numbered per link so gaps and replays show."""

    sender: str
    recipient: str
    kind: str
    sequence: int
    created_at: str
    body: dict[str, Any]
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    signature: str = ""

    def signed_fields(self) -> dict[str, Any]:
        """Every field the signature covers."""
        return {
            "id": self.id,
            "sender": self.sender,
            "recipient": self.recipient,
            "kind": self.kind,
            "sequence": self.sequence,
            "created_at": self.created_at,
            "body": self.body,
        }

    def canonical_bytes(self) -> bytes:
        """The bytes that are signed."""
        return canonical_json(self.signed_fields())

    def signed_with(self, key: Ed25519PrivateKey) -> Envelope:
        """A copy carrying an Ed25519 signature over the canonical bytes."""
        signature = key.sign(self.canonical_bytes())
        return replace(self, signature=base64.b64encode(signature).decode("ascii"))

    def verify(self, key: Ed25519PublicKey) -> bool:
        """Whether the signature is the sender's over exactly these values."""
        try:
            key.verify(base64.b64decode(self.signature, validate=True), self.canonical_bytes())
        except (InvalidSignature, ValueError, TypeError):
            # TypeError: a value no signer could have signed (an integer beyond 64 bits).
            return False
        return True

    def as_dict(self) -> dict[str, Any]:
        """The wire form."""
        return self.signed_fields() | {"signature": self.signature}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Envelope:
        """Parse the wire form; raises ``ValueError`` for anything malformed."""
        try:
            envelope = cls(
                id=str(data["id"]),
                sender=str(data["sender"]),
                recipient=str(data["recipient"]),
                kind=str(data["kind"]),
                sequence=int(data["sequence"]),
                created_at=str(data["created_at"]),
                body=dict(data["body"]),
                signature=str(data["signature"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError("malformed envelope") from error
        if not 1 <= envelope.sequence <= MAX_SEQUENCE:
            raise ValueError("malformed envelope: sequence numbers run from 1 to 2**63 - 1")
        return envelope


def new_envelope(
    *, sender: str, recipient: str, kind: str, sequence: int, now: datetime, body: dict[str, Any]
) -> Envelope:
    """An unsigned envelope stamped with ``now``."""
    return Envelope(
        sender=sender,
        recipient=recipient,
        kind=kind,
        sequence=sequence,
        created_at=now.isoformat(),
        body=body,
    )
