"""Resident disclosure over the operator API (本人確認情報の提供状況の開示).

A clerk or supervisor handling a resident's request fetches every retained access-log entry
about that resident, each with its inclusion proof against a freshly signed tree head — the
document ``jukinet audit disclose`` writes and ``jukinet audit check-proof`` checks. The request
is itself recorded in the log (and so appears in what it returns). Security officers, who have
no business reading residents, get 403.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from jukinet.domain.access_log import Action, ActorKind, Channel
from jukinet.services import audit, head_publication
from jukinet.web.auth import ApiActor, NodeDep
from jukinet.web.errors import ERROR_RESPONSES

router = APIRouter(tags=["audit"], responses={k: ERROR_RESPONSES[k] for k in (401, 403, 422)})


class TreeHeadOut(BaseModel):
    """A signed tree head (RFC 6962 STH) over the node's access log."""

    tree_size: int = Field(description="Entries the head covers")
    root_hash: str = Field(description="Merkle root of the first tree_size entries (hex)")
    timestamp: str = Field(description="When the head was signed (UTC, ISO 8601)")
    signature: str = Field(description="Ed25519 signature over the head (hex)")
    signer: str = Field(description="The node that signed the head")
    sequence: int = Field(description="Number of the head among the node's heads (0, 1, 2 …)")
    previous_hash: str = Field(description="SHA-256 of the head signed before it (hex)")


class AccessEntryOut(BaseModel):
    """One access-log entry as the resident receives it (enough to recompute its leaf hash)."""

    index: int = Field(description="Position of the entry in the log (0-based)")
    recorded_at: str = Field(description="When it happened (UTC, ISO 8601 with microseconds)")
    node: str = Field(description="Source: the node that provided or wrote the data")
    action: Action = Field(description="What happened (read, write, refused, …)")
    channel: Channel = Field(description="Method: how the data went (提供方法)")
    actor_kind: ActorKind = Field(description="Kind of recipient: operator, recipient, node")
    actor: str = Field(description="Recipient: operator username, recipient id or node")
    subject: str | None = Field(description="The resident code the entry is about")
    affair_code: str | None = Field(description="Statutory affair code (T1-16), if any")
    reason: str | None = Field(description="Reason recorded with the access")
    items: list[str] = Field(description="Identity items or record parts provided")
    officer: str | None
    terminal: str | None
    case_number: str | None
    job_id: str | None
    detail: dict[str, Any]


class ProvedEntryOut(BaseModel):
    """An entry with its leaf hash and inclusion proof against the document's tree head."""

    entry: AccessEntryOut
    leaf_hash: str = Field(description="RFC 6962 leaf hash of the entry (hex)")
    proof: list[str] = Field(description="Audit path from the leaf to the root (hex hashes)")


class DisclosureOut(BaseModel):
    """Every retained entry about one resident, each with its proof, and the signed head.

    Check it offline with ``jukinet audit check-proof FILE --public-key node.pem`` (or
    ``--ca network-ca.pem``); never trust the key inside the document alone.
    """

    format: str = Field(description="Document format tag (jukinet-disclosure-v1)")
    node: str = Field(description="The node whose log this is")
    resident_code: str
    issued_at: str = Field(description="When the disclosure was made (UTC, ISO 8601)")
    retention_years: int = Field(description="How long entries are kept")
    tree_head: TreeHeadOut
    signer_certificate: str | None = Field(
        description="The node's network signing certificate (PEM), if it is networked"
    )
    signer_public_key: str = Field(description="The key that signed the head (PEM)")
    entries: list[ProvedEntryOut]
    witnesses: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Countersignatures of the head by the node's witnesses (its prefecture, "
        "the centre), each with the witness's certificate; checked with --ca",
    )


@router.get(
    "/residents/{resident_code}/disclosure",
    responses={
        200: {"description": "The disclosure document, with proofs"},
        422: {
            **ERROR_RESPONSES[422],
            "description": "Not an 11-digit resident code, or a wrong check digit",
        },
    },
)
def disclosure(
    resident_code: Annotated[str, Path(max_length=20, description="The resident's 住民票コード")],
    node: NodeDep,
    actor: ApiActor,
) -> DisclosureOut:
    """本人確認情報の提供状況の開示: date, method, reason, affair, source, recipient and items of
    every retained access to one resident's data, each with its inclusion proof.

    The request is recorded in the log first, so the answer includes it (with its own proof).
    """
    document = head_publication.witnessed_disclosure(
        node, actor=actor, request=audit.DisclosureRequest(resident_code=resident_code)
    )
    return DisclosureOut.model_validate(document)
