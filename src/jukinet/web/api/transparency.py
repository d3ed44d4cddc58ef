"""The transparency report over the JSON API: public figures, no sign-in, no personal data."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from jukinet.services import audit
from jukinet.services.transparency import (
    DEFAULT_MONTHS,
    MAX_MONTHS,
    cached_transparency_stats,
    to_json,
)
from jukinet.web.auth import NodeDep
from jukinet.web.errors import ERROR_RESPONSES

router = APIRouter(tags=["transparency"], responses={422: ERROR_RESPONSES[422]})


class ProvisionOut(BaseModel):
    """Records provided to one recipient for one affair by one channel in a month (JST)."""

    month: str = Field(description="Calendar month in Japan time, YYYY-MM")
    recipient_id: str
    recipient_name: str | None
    affair_code: str | None = Field(description="Statutory affair code, or 'invalid'")
    affair_title: str
    channel: str
    count: int


class RefusalOut(BaseModel):
    """Queries refused before any personal data was read; a recipient is named, nobody else."""

    month: str
    actor_kind: str
    recipient_id: str | None
    recipient_name: str | None
    affair_code: str | None
    affair_title: str
    channel: str
    count: int


class BatchJobOut(BaseModel):
    """One recipient's batch jobs created in a month, with their row totals."""

    month: str
    recipient_id: str
    recipient_name: str | None
    jobs: int
    total_rows: int
    found_rows: int
    error_rows: int


class BatchSizeOut(BaseModel):
    """Batch jobs of one size class created in a month."""

    month: str
    bucket: str
    jobs: int
    total_rows: int


class BatchSizeTotalOut(BaseModel):
    """Batch jobs of one size class over the whole period (every class, zeros included)."""

    bucket: str
    min_rows: int
    max_rows: int | None
    jobs: int
    total_rows: int


class CounterReadOut(BaseModel):
    """Reads by this node's own operators in a month (a count; nobody is named)."""

    month: str
    count: int


class OperatorUsageTotalsOut(BaseModel):
    """Operators' use of this node over the period (counts; nobody is named)."""

    signins: int = Field(description="Sessions opened with password and operator card")
    failed_signins: int = Field(description="Refused sign-ins of existing accounts")
    lockouts: int = Field(description="Accounts locked after repeated failed sign-ins")
    permits_approved: int = Field(description="Out-of-hours permits approved")
    lookups: int = Field(description="Records read at the counter by operators")


class OperatorUsageOut(OperatorUsageTotalsOut):
    """Operators' use of this node in a month (JST); months without any count are left out."""

    month: str


class TotalsOut(BaseModel):
    """The period's totals."""

    provisions: int
    refusals: int
    batch_jobs: int
    batch_rows: int
    counter_reads: int
    operator_usage: OperatorUsageTotalsOut
    batch_sizes: list[BatchSizeTotalOut]


class TransparencyOut(BaseModel):
    """The transparency report of this node for the last ``months`` calendar months (JST)."""

    node: str
    generated_at: datetime
    time_zone: str
    months: int
    month_labels: list[str]
    period_start: date = Field(description="First day of the period (Japan date)")
    period_end: date = Field(description="First day after the period (Japan date)")
    totals: TotalsOut
    provisions: list[ProvisionOut]
    refusals: list[RefusalOut]
    batch_jobs: list[BatchJobOut]
    batch_sizes: list[BatchSizeOut]
    counter_reads: list[CounterReadOut]
    operator_usage: list[OperatorUsageOut]


@router.get("/transparency/stats")
def stats(
    node: NodeDep,
    months: Annotated[
        int,
        Query(ge=1, le=MAX_MONTHS, description=f"Calendar months to cover (1 to {MAX_MONTHS})"),
    ] = DEFAULT_MONTHS,
) -> TransparencyOut:
    """Records provided by recipient, affair, channel and month; refusals; batch-job sizes;
    counter reads; operators' sign-ins, failed sign-ins, lockouts, out-of-hours permits and
    lookups per month. Public: no sign-in, and nothing in it identifies a person."""
    return TransparencyOut.model_validate(to_json(cached_transparency_stats(node, months=months)))


class LogKeyOut(BaseModel):
    """This node's published log-signing key: what checks its tree heads and disclosures."""

    signer: str = Field(description="The node whose tree heads the key signs")
    public_key_pem: str = Field(description="Ed25519 public key, PEM (SubjectPublicKeyInfo)")
    fingerprint_sha256: str = Field(description="SHA-256 of the DER key, colon-separated hex")


@router.get("/log-public-key", responses={404: ERROR_RESPONSES[404]})
def log_public_key(node: NodeDep) -> LogKeyOut:
    """The node's log-signing public key (also /log-public-key.pem and the transparency page);
    ``jukinet audit check-proof DOCUMENT --public-key log-public-key.pem`` checks with it."""
    key = audit.require_published_key(node)
    return LogKeyOut(
        signer=key.signer, public_key_pem=key.public_key_pem, fingerprint_sha256=key.fingerprint
    )
