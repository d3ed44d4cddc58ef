"""Reconciliation between the tiers (突合): is what upstream holds what the municipality sent?

domain.md §4.5. A municipality compares the identity-confirmation information it expects its
prefecture and the national centre to hold with what they actually hold, without shipping the
data set: both sides summarise their records as digests, then only the differing parts are
opened, and even then only resident codes and record hashes travel, never personal data.

- **Record hash**: :func:`~jukinet.domain.identity.identity_digest` of the six items and the
  deleted flag.
- **Bucket**: the first three digits of the resident code (1,000 buckets; codes are random, so
  they spread evenly). A bucket's digest is SHA-256 over its sorted ``code:hash`` lines; empty
  buckets are omitted.
- **Expected set** (municipality): every record on its register, current or 除票, except residents
  who opted out of upstream notification — those must be *absent* upstream.
- **Held set** (prefecture, centre) for municipality X: the records held under X, hashed from the
  stored items (so a row altered behind the store's back is seen, whatever its stored digest
  says), plus X's last word on people who have since moved on to another municipality (their
  current record belongs to the new municipality; X's deletion is kept in the history). Tombstones
  of codes replaced by a code change (住民票コード変更) are left out: the municipality no longer
  holds a record under the retired code.

Only neighbours talk: the municipality asks its prefecture, which asks the centre over its own
mutual-TLS link and passes the centre's signed answer through untouched, so the municipality
checks both signatures. Repairs are ordinary outbox messages — a snapshot for a record missing
or different upstream, a withdrawal for one held there but not expected — which the prefecture
applies and forwards to the centre like any other identity message.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import secrets
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jukinet.domain.codes import validate_resident_code
from jukinet.domain.errors import Conflict, DomainError, ValidationError
from jukinet.domain.identity import ChangeReason, IdentityInfo, identity_digest, snapshot_body
from jukinet.domain.messages import IDENTITY_KINDS, MessageKind
from jukinet.domain.municipality import validate_municipality_code
from jukinet.domain.network import NATIONAL, NodeId, NodeRole
from jukinet.network.context import NetworkContext, Rejected
from jukinet.network.inbox import record_rejection, sign_document, verify_document
from jukinet.network.node import NetworkNode
from jukinet.storage.tables import (
    HouseholdRow,
    IdentityHistoryRow,
    IdentityRecordRow,
    OutboxRow,
    ResidentRow,
)
from jukinet.storage.unit_of_work import UnitOfWork

BUCKETS_PATH = "/network/v1/reconcile/buckets"
RECORDS_PATH = "/network/v1/reconcile/records"
#: Digits of the resident code that name its bucket.
BUCKET_DIGITS = 3
MAX_BUCKETS = 10**BUCKET_DIGITS
#: Kinds of the signed answers, so one kind of answer cannot pass for the other.
BUCKETS_KIND = "reconcile_buckets"
RECORDS_KIND = "reconcile_records"
#: The hash given for a held row whose stored digest disagrees with its stored items: it can
#: never equal a real record hash, so the row is reported as different and repaired.
INCONSISTENT = "0" * 64
PREFECTURE_TIER = "prefecture"
NATIONAL_TIER = "national"
SNAPSHOT = MessageKind.IDENTITY_SNAPSHOT.value
WITHDRAWAL = MessageKind.IDENTITY_WITHDRAWAL.value
#: Bounds of a request body and of HTTP waits.
MAX_REQUEST_BYTES = 64 * 1024
HTTP_TIMEOUT_SECONDS = 120.0

_BUCKET_RE = re.compile(rf"^\d{{{BUCKET_DIGITS}}}$")
_CODE_RE = re.compile(r"^\d{11}$")
_HASH_RE = re.compile(r"^[0-9a-f]{64}$")
_NONCE_RE = re.compile(r"^[0-9A-Za-z_-]{0,64}$")
_IN_CHUNK = 500


# ---------------------------------------------------------------------------------------------
# Errors


class ReconcileRefused(Conflict):
    """Reconciliation cannot run on this node (not a municipality, not on the network)."""


class ReconcileFailed(DomainError):
    """The prefecture could not be asked, or its answer could not be trusted."""

    status = 502


def _not_a_municipality() -> ReconcileRefused:
    return ReconcileRefused(
        "JUKI-NET-030",
        ja="突合は市区町村のノードで実行してください。",
        en="Reconciliation runs on a municipality node.",
    )


def _not_connected() -> ReconcileRefused:
    return ReconcileRefused(
        "JUKI-NET-031",
        ja="ネットワークに接続されていないため、突合できません。",
        en="This municipality is not connected to the network; there is nothing to reconcile.",
    )


def _unreachable(peer: str, detail: str) -> ReconcileFailed:
    return ReconcileFailed(
        "JUKI-NET-032",
        ja=f"{peer} に照会できませんでした（{detail}）。",
        en=f"{peer} could not be asked ({detail}).",
    )


def _untrusted(detail: str) -> ReconcileFailed:
    return ReconcileFailed(
        "JUKI-NET-033",
        ja=f"突合の応答を検証できませんでした（{detail}）。",
        en=f"The reconciliation answer could not be verified ({detail}).",
    )


# ---------------------------------------------------------------------------------------------
# Digests (pure)


def bucket_of(resident_code: str) -> str:
    """The bucket of a resident code: its first three digits."""
    return resident_code[:BUCKET_DIGITS]


def bucket_digests(hashes: Mapping[str, str]) -> dict[str, str]:
    """Digest of each non-empty bucket: SHA-256 over its sorted ``code:hash`` lines."""
    lines: dict[str, list[str]] = {}
    for code in sorted(hashes):
        lines.setdefault(bucket_of(code), []).append(f"{code}:{hashes[code]}\n")
    return {
        bucket: hashlib.sha256("".join(rows).encode("ascii")).hexdigest()
        for bucket, rows in lines.items()
    }


def differing_buckets(ours: Mapping[str, str], theirs: Mapping[str, str]) -> list[str]:
    """Buckets whose digests differ, or that only one side has, in order."""
    return sorted(b for b in set(ours) | set(theirs) if ours.get(b) != theirs.get(b))


def in_buckets(hashes: Mapping[str, str], buckets: Iterable[str]) -> dict[str, str]:
    """The records of ``hashes`` that fall into ``buckets``."""
    wanted = set(buckets)
    return {code: h for code, h in hashes.items() if bucket_of(code) in wanted}


@dataclass(frozen=True, slots=True)
class Differences:
    """How the records held by one tier differ from those expected there."""

    missing: list[str] = field(default_factory=list)
    different: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        """How many records differ."""
        return len(self.missing) + len(self.different) + len(self.extra)


def compare_records(expected: Mapping[str, str], held: Mapping[str, str]) -> Differences:
    """Records missing upstream, held with another hash, or held but not expected."""
    return Differences(
        missing=sorted(set(expected) - set(held)),
        different=sorted(c for c in set(expected) & set(held) if expected[c] != held[c]),
        extra=sorted(set(held) - set(expected)),
    )


# ---------------------------------------------------------------------------------------------
# The municipality's side: what upstream should hold


def _info(
    code: str,
    family_name: str,
    given_name: str,
    family_name_kana: str,
    given_name_kana: str,
    birth_date: date,
    sex: str,
    address: str,
) -> IdentityInfo:
    return IdentityInfo(
        resident_code=code,
        family_name=family_name,
        given_name=given_name,
        family_name_kana=family_name_kana,
        given_name_kana=given_name_kana,
        birth_date=birth_date,
        sex=sex,
        address=address,
    )


def expected_hashes(session: Session) -> dict[str, str]:
    """Resident code → record hash of every record this municipality reports upstream.

    Reads only the identity columns (no household join, no domain objects), so 100,000 records
    take about a second. Built exactly as :meth:`ResidentRecord.identity` builds the items that
    notices and snapshots carry; residents who opted out are left out (they must be absent).
    """
    rows = session.execute(
        select(
            ResidentRow.resident_code,
            ResidentRow.family_name,
            ResidentRow.given_name,
            ResidentRow.family_name_kana,
            ResidentRow.given_name_kana,
            ResidentRow.birth_date,
            ResidentRow.sex,
            ResidentRow.address,
            ResidentRow.status,
        ).where(ResidentRow.upstream_opt_out.is_(False))
    )
    return {row[0]: identity_digest(_info(*row[:8]), deleted=row[8] != "active") for row in rows}


def in_flight_codes(session: Session, *, upstream: str) -> set[str]:
    """Residents with identity messages still waiting to reach the prefecture."""
    return {
        code
        for code in session.scalars(
            select(OutboxRow.subject)
            .where(
                OutboxRow.recipient == upstream,
                OutboxRow.delivered_at.is_(None),
                OutboxRow.kind.in_(IDENTITY_KINDS),
            )
            .distinct()
        )
        if code is not None
    }


# ---------------------------------------------------------------------------------------------
# The upstream side: what a prefecture or the centre holds for one municipality


def held_hashes(
    session: Session, municipality_code: str, *, buckets: Sequence[str] | None = None
) -> dict[str, str]:
    """Resident code → record hash of what this node holds for ``municipality_code``.

    Rows held under the municipality are hashed from their stored items; a row whose stored
    digest disagrees gets :data:`INCONSISTENT`. People who moved on to another municipality
    count with the municipality's last history version for them. Code-change tombstones are
    left out. ``buckets`` restricts the answer (``None``: all).
    """
    record = IdentityRecordRow
    rows = select(
        record.resident_code,
        record.family_name,
        record.given_name,
        record.family_name_kana,
        record.given_name_kana,
        record.birth_date,
        record.sex,
        record.address,
        record.deleted,
        record.last_reason,
        record.digest,
    ).where(record.municipality_code == municipality_code)
    history = IdentityHistoryRow
    moved_on = (
        select(history.resident_code, history.version, history.identity, history.deleted)
        .join(record, record.resident_code == history.resident_code)
        .where(
            history.municipality_code == municipality_code,
            record.municipality_code != municipality_code,
        )
    )
    if buckets is not None:
        wanted = sorted(set(buckets))
        rows = rows.where(func.substr(record.resident_code, 1, BUCKET_DIGITS).in_(wanted))
        moved_on = moved_on.where(func.substr(history.resident_code, 1, BUCKET_DIGITS).in_(wanted))
    held: dict[str, str] = {}
    if buckets is not None and not buckets:
        return held
    code_change = ChangeReason.CODE_CHANGE.value
    for row in session.execute(rows):
        code, deleted, last_reason, stored = row[0], row[8], row[9], row[10]
        if deleted and last_reason == code_change:
            continue  # the retired code of a code change: not a record of the municipality
        computed = identity_digest(_info(*row[:8]), deleted=deleted)
        held[code] = computed if computed == stored else INCONSISTENT
    latest: dict[str, tuple[int, dict[str, Any], bool]] = {}
    for code, version, identity, deleted in session.execute(moved_on):
        if code not in latest or version > latest[code][0]:
            latest[code] = (version, identity, deleted)
    for code, (_version, identity, deleted) in latest.items():
        held[code] = _history_hash(identity, deleted=deleted)
    return held


def _history_hash(identity: dict[str, Any], *, deleted: bool) -> str:
    try:
        info = IdentityInfo(
            **(identity | {"birth_date": date.fromisoformat(identity["birth_date"])})
        )
    except (KeyError, TypeError, ValueError):
        return INCONSISTENT
    return identity_digest(info, deleted=deleted)


def _authorise(net: NetworkContext, caller_name: str) -> NodeId:
    """The calling node, if it may ask this node at all."""
    try:
        caller = NodeId.parse(caller_name)
    except ValidationError as error:
        raise Rejected("unknown caller") from error
    here = net.node
    if here.role is NodeRole.PREFECTURE:
        if caller.role is not NodeRole.MUNICIPALITY or caller.code[:2] != here.code:
            raise Rejected("only this prefecture's municipalities may reconcile here")
    elif here.role is NodeRole.NATIONAL:
        if caller.role is not NodeRole.PREFECTURE:
            raise Rejected("only prefectures may reconcile with the national centre")
    else:
        raise Rejected("this node holds no identity records to reconcile", status=404)
    return caller


@dataclass(frozen=True, slots=True)
class _Query:
    municipality_code: str
    nonce: str
    buckets: list[str] | None
    national_buckets: list[str] | None


def _bucket_list(value: Any, name: str) -> list[str]:
    if (
        not isinstance(value, list)
        or len(value) > MAX_BUCKETS
        or not all(isinstance(b, str) and _BUCKET_RE.match(b) for b in value)
    ):
        raise Rejected(
            f"{name}: expected a list of up to {MAX_BUCKETS} 3-digit buckets", status=400
        )
    return sorted(set(value))


def _parse_query(payload: Any, *, caller: NodeId, here: NodeId, with_buckets: bool) -> _Query:
    if not isinstance(payload, dict):
        raise Rejected("expected a JSON object", status=400)
    try:
        municipality_code = validate_municipality_code(str(payload.get("municipality_code", "")))
    except ValidationError as error:
        raise Rejected("municipality_code: not a valid municipality code", status=400) from error
    nonce = payload.get("nonce", "")
    if not isinstance(nonce, str) or not _NONCE_RE.match(nonce):
        raise Rejected("nonce: up to 64 letters, digits, '-' or '_'", status=400)
    if here.role is NodeRole.PREFECTURE and municipality_code != caller.code:
        raise Rejected("a municipality may only reconcile its own records")
    if here.role is NodeRole.NATIONAL and municipality_code[:2] != caller.code:
        raise Rejected("the municipality does not belong to the calling prefecture")
    buckets: list[str] | None = None
    national_buckets: list[str] | None = None
    if with_buckets:
        buckets = _bucket_list(payload.get("buckets"), "buckets")
        if here.role is NodeRole.PREFECTURE and "national_buckets" in payload:
            national_buckets = _bucket_list(payload["national_buckets"], "national_buckets")
    return _Query(municipality_code, nonce, buckets, national_buckets)


def _answer(
    node: NetworkNode,
    net: NetworkContext,
    *,
    tls_peer_der: bytes | None,
    payload: Any,
    with_buckets: bool,
) -> dict[str, Any]:
    tls_peer: str | None = None
    try:
        # The caller is the node its TLS client certificate names, checked as the inbox does.
        tls_peer = net.peer_of_tls_certificate(tls_peer_der, now=node.now())
        caller = _authorise(net, tls_peer)
        query = _parse_query(payload, caller=caller, here=net.node, with_buckets=with_buckets)
    except Rejected as rejection:
        record_rejection(
            node,
            reason=f"reconciliation: {rejection.reason}",
            claimed_sender=tls_peer,
            tls_peer=tls_peer,
            envelope_id=None,
        )
        raise
    is_prefecture = net.node.role is NodeRole.PREFECTURE
    with ThreadPoolExecutor(max_workers=1) as pool:
        # A prefecture's centre works on its part while this node works on its own.
        ask = _national_question(query, with_buckets=with_buckets) if is_prefecture else None
        national = pool.submit(_ask_national, node, net, *ask) if ask else None
        with node.session_factory() as session:
            held = held_hashes(session, query.municipality_code, buckets=query.buckets)
        document: dict[str, Any] = {
            "kind": RECORDS_KIND if with_buckets else BUCKETS_KIND,
            "node": str(net.node),
            "requested_by": str(caller),
            "municipality_code": query.municipality_code,
            "nonce": query.nonce,
            "answered_at": node.now().isoformat(),
        }
        if with_buckets:
            document["buckets"] = query.buckets
            document["records"] = held
        else:
            document["count"] = len(held)
            document["buckets"] = bucket_digests(held)
        if is_prefecture:
            signed, error = national.result() if national is not None else (None, None)
            document["national"] = signed
            document["national_error"] = error
    return sign_document(document, net)


def _national_question(query: _Query, *, with_buckets: bool) -> tuple[str, dict[str, Any]] | None:
    """What a prefecture asks the centre about the same municipality (``None``: nothing)."""
    body: dict[str, Any] = {"municipality_code": query.municipality_code, "nonce": query.nonce}
    if not with_buckets:
        return BUCKETS_PATH, body
    wanted = query.buckets if query.national_buckets is None else query.national_buckets
    return (RECORDS_PATH, body | {"buckets": wanted}) if wanted else None


def answer_buckets(
    node: NetworkNode, net: NetworkContext, *, tls_peer_der: bytes | None, payload: Any
) -> dict[str, Any]:
    """Answer ``POST /network/v1/reconcile/buckets``: signed bucket digests for one municipality.

    A prefecture includes the centre's signed answer as ``national`` (or the reason it has none
    as ``national_error``). Raises :class:`Rejected` (recorded) for a caller that may not ask.
    """
    return _answer(node, net, tls_peer_der=tls_peer_der, payload=payload, with_buckets=False)


def answer_records(
    node: NetworkNode, net: NetworkContext, *, tls_peer_der: bytes | None, payload: Any
) -> dict[str, Any]:
    """Answer ``POST /network/v1/reconcile/records``: signed code → hash for the asked buckets.

    A prefecture asks the centre for ``national_buckets`` (default: the same buckets).
    """
    return _answer(node, net, tls_peer_der=tls_peer_der, payload=payload, with_buckets=True)


def _ask_national(
    node: NetworkNode, net: NetworkContext, path: str, body: dict[str, Any]
) -> tuple[dict[str, Any] | None, str | None]:
    """The centre's signed answer for a prefecture, or why there is none."""
    url = net.peers.get(str(NATIONAL))
    if url is None:
        return None, "the national centre is not a neighbour of this node"
    try:
        with httpx.Client(verify=net.client_ssl_context(), timeout=HTTP_TIMEOUT_SECONDS) as http:
            signed = _post(http, url.rstrip("/") + path, body, peer=str(NATIONAL))
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


# ---------------------------------------------------------------------------------------------
# The report


@dataclass(frozen=True, slots=True)
class TierReport:
    """What one tier holds for the municipality, against what it should hold."""

    tier: str
    node: str
    #: Why this tier could not be compared (``None`` when it was).
    error: str | None = None
    expected: int = 0
    held: int = 0
    buckets_compared: int = 0
    buckets_differing: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    different: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        """Whether the tier was compared and holds exactly what it should."""
        return self.error is None and not (self.missing or self.different or self.extra)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (counts beside the code lists)."""
        return {
            "tier": self.tier,
            "node": self.node,
            "error": self.error,
            "expected": self.expected,
            "held": self.held,
            "buckets_compared": self.buckets_compared,
            "buckets_differing": len(self.buckets_differing),
            "differing_buckets": self.buckets_differing,
            "counts": {
                "missing": len(self.missing),
                "different": len(self.different),
                "extra": len(self.extra),
            },
            "missing": self.missing,
            "different": self.different,
            "extra": self.extra,
        }


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    """What a reconciliation found at each tier and what it queued to repair it."""

    municipality_code: str
    started_at: str
    expected: int
    prefecture: TierReport
    national: TierReport
    #: Codes re-sent as snapshots (missing or different upstream) / withdrawn (extra upstream).
    snapshots: list[str] = field(default_factory=list)
    withdrawals: list[str] = field(default_factory=list)
    #: Differing codes with messages still on their way upstream: left alone, not repaired.
    in_flight: list[str] = field(default_factory=list)
    #: Whether the repairs were queued (``False`` for a dry run).
    repaired: bool = False
    digest_seconds: float = 0.0
    elapsed_seconds: float = 0.0

    @property
    def tiers(self) -> tuple[TierReport, TierReport]:
        """The prefecture's report, then the centre's."""
        return (self.prefecture, self.national)

    @property
    def consistent(self) -> bool:
        """Whether both tiers were compared and hold exactly what they should."""
        return self.prefecture.agrees and self.national.agrees

    @property
    def repairs_queued(self) -> int:
        """How many messages were put in the outbox."""
        return len(self.snapshots) + len(self.withdrawals) if self.repaired else 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, e.g. for ``jukinet reconcile --json``."""
        return {
            "municipality_code": self.municipality_code,
            "started_at": self.started_at,
            "expected": self.expected,
            "consistent": self.consistent,
            "tiers": {t.tier: t.as_dict() for t in self.tiers},
            "repair": {
                "queued": self.repaired,
                "snapshots": self.snapshots,
                "withdrawals": self.withdrawals,
                "count": self.repairs_queued,
            },
            "in_flight": self.in_flight,
            "digest_seconds": round(self.digest_seconds, 3),
            "elapsed_seconds": round(self.elapsed_seconds, 3),
        }

    def lines(self, *, show_codes: bool = False) -> list[str]:
        """A plain-text report; resident codes only with ``show_codes`` (staff who need them)."""
        out = [
            f"Reconciliation (突合) of municipality {self.municipality_code}: "
            f"{self.expected} records expected upstream"
        ]
        for tier in self.tiers:
            if tier.error is not None:
                out.append(f"  {tier.node}: not compared: {tier.error}")
                continue
            out.append(
                f"  {tier.node}: holds {tier.held}; {tier.buckets_compared} buckets compared, "
                f"{len(tier.buckets_differing)} differing; missing {len(tier.missing)}, "
                f"different {len(tier.different)}, extra {len(tier.extra)}"
            )
            if show_codes:
                for label, codes in (
                    ("missing", tier.missing),
                    ("different", tier.different),
                    ("extra", tier.extra),
                ):
                    if codes:
                        out.append(f"    {label}: {', '.join(codes)}")
        if self.in_flight:
            out.append(f"  still on their way upstream (not repaired): {len(self.in_flight)}")
        verb = "queued" if self.repaired else "needed (dry run)"
        out.append(
            f"  repairs {verb}: {len(self.snapshots)} snapshots, "
            f"{len(self.withdrawals)} withdrawals"
        )
        out.append("  result: consistent" if self.consistent else "  result: differences found")
        return out


# ---------------------------------------------------------------------------------------------
# The municipality's side: asking, comparing, repairing


def _network_of(node: NetworkNode) -> tuple[NetworkContext, str]:
    if node.node_id.role is not NodeRole.MUNICIPALITY:
        raise _not_a_municipality()
    net = node.network
    if not node.connected or net is None or node.upstream not in net.peers:
        raise _not_connected()
    return net, net.peers[node.upstream].rstrip("/")


def _post(http: httpx.Client, url: str, body: dict[str, Any], *, peer: str) -> dict[str, Any]:
    """POST a question to ``peer``; its answer, still to be verified."""
    response = http.post(url, json=body)
    if response.status_code != 200:
        try:
            detail = str(response.json().get("error", ""))[:200]
        except ValueError:
            detail = ""
        raise _unreachable(peer, f"HTTP {response.status_code}" + (f": {detail}" if detail else ""))
    try:
        answer = response.json()
    except ValueError as error:
        raise _untrusted("the answer is not JSON") from error
    if not isinstance(answer, dict):
        raise _untrusted("the answer is not a signed document")
    return answer


def _hash_map(value: Any, *, key_re: re.Pattern[str], what: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and key_re.match(k) and isinstance(v, str) and _HASH_RE.match(v)
        for k, v in value.items()
    ):
        raise _untrusted(f"malformed {what}")
    return dict(value)


def _count(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise _untrusted("malformed count")
    return value


@dataclass(frozen=True)
class _Conversation:
    """One run's questions to the prefecture: same nonce throughout, every answer verified."""

    node: NetworkNode
    net: NetworkContext
    http: httpx.Client
    url: str
    nonce: str = field(default_factory=lambda: secrets.token_hex(16))

    @property
    def prefecture(self) -> str:
        return self.node.upstream

    def ask(self, path: str, kind: str, extra: dict[str, Any]) -> dict[str, Any]:
        """POST a question to the prefecture; its verified answer."""
        question = {"municipality_code": self.node.municipality_code, "nonce": self.nonce}
        signed = _post(self.http, self.url + path, question | extra, peer=self.prefecture)
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
            raise _untrusted(f"no signed answer from {signer}")
        try:
            document = verify_document(signed, signer=signer, net=self.net, node=self.node)
        except Rejected as error:
            raise _untrusted(error.reason) from error
        expected = {
            "kind": kind,
            "node": signer,
            "requested_by": asked_by,
            "municipality_code": self.node.municipality_code,
            "nonce": self.nonce,
        }
        if any(document.get(k) != v for k, v in expected.items()):
            raise _untrusted(f"the answer of {signer} is not for this question")
        return document


@dataclass
class _Tier:
    """One tier during a run: its bucket digests, then its records in the differing buckets."""

    tier: str
    node: str
    error: str | None = None
    held: int = 0
    buckets: dict[str, str] = field(default_factory=dict)
    differing: list[str] = field(default_factory=list)
    records: dict[str, str] = field(default_factory=dict)

    def take_buckets(self, answer: dict[str, Any] | str, ours: Mapping[str, str]) -> None:
        """Record the tier's bucket digests (or why it has none) and which buckets differ."""
        if isinstance(answer, str):
            self.error = answer
            return
        self.buckets = _hash_map(answer.get("buckets"), key_re=_BUCKET_RE, what="buckets")
        self.held = _count(answer.get("count"))
        self.differing = differing_buckets(ours, self.buckets)

    def take_records(self, answer: dict[str, Any] | str) -> None:
        """Record the tier's records in the differing buckets (or why it has none)."""
        if isinstance(answer, str):
            self.error = answer
            return
        records = _hash_map(answer.get("records"), key_re=_CODE_RE, what="records")
        asked = set(self.differing)
        if any(bucket_of(code) not in asked for code in records):
            raise _untrusted("records outside the buckets asked for")
        self.records = records

    def report(self, expected: Mapping[str, str], ours: Mapping[str, str]) -> TierReport:
        """Compare the records of the differing buckets with those expected there."""
        if self.error is not None:
            return TierReport(self.tier, self.node, error=self.error, expected=len(expected))
        found = compare_records(in_buckets(expected, self.differing), self.records)
        return TierReport(
            self.tier,
            self.node,
            expected=len(expected),
            held=self.held,
            buckets_compared=len(set(ours) | set(self.buckets)),
            buckets_differing=self.differing,
            missing=found.missing,
            different=found.different,
            extra=found.extra,
        )


def reconcile(
    node: NetworkNode, *, repair: bool = True, client: httpx.Client | None = None
) -> ReconcileReport:
    """Compare this municipality with its prefecture and the centre; repair what differs.

    Returns the report. With ``repair`` (the default) the fixes are queued in the outbox in one
    transaction — a snapshot for every record missing or different at either tier, a withdrawal
    for every record held but not expected — and leave with the normal delivery. Records that
    still have messages on their way upstream are reported as in flight and not touched.
    ``client`` replaces the mutual-TLS HTTP client (it is not closed).

    Raises :class:`ReconcileRefused` (JUKI-NET-030/031) on a node that is not a connected
    municipality, :class:`ReconcileFailed` (JUKI-NET-032/033) when the prefecture cannot be
    asked or its answer cannot be verified. The centre being out of reach is not an error: its
    tier is reported with the reason.
    """
    net, url = _network_of(node)
    began = time.perf_counter()
    started_at = node.now().isoformat()
    prefecture = _Tier(PREFECTURE_TIER, node.upstream)
    national = _Tier(NATIONAL_TIER, str(NATIONAL))
    with _client(net, client, peer=node.upstream) as http:
        talk = _Conversation(node, net, http, url)
        with ThreadPoolExecutor(max_workers=1) as pool:
            # Upstream computes its digests while we compute ours.
            asked = pool.submit(talk.ask, BUCKETS_PATH, BUCKETS_KIND, {})
            with node.session_factory() as session:
                expected = expected_hashes(session)
            ours = bucket_digests(expected)
            digest_seconds = time.perf_counter() - began
            answer = asked.result()
        prefecture.take_buckets(answer, ours)
        national.take_buckets(talk.national(answer, BUCKETS_KIND), ours)
        if prefecture.differing or national.differing:
            records = talk.ask(
                RECORDS_PATH,
                RECORDS_KIND,
                {"buckets": prefecture.differing, "national_buckets": national.differing},
            )
            prefecture.take_records(records)
            if national.differing:
                national.take_records(talk.national(records, RECORDS_KIND))
    reports = (prefecture.report(expected, ours), national.report(expected, ours))
    snapshots, withdrawals, in_flight = _plan(node, reports, expected)
    if repair and (snapshots or withdrawals):
        snapshots, withdrawals = _queue_repairs(node, snapshots, withdrawals)
    return ReconcileReport(
        municipality_code=node.municipality_code,
        started_at=started_at,
        expected=len(expected),
        prefecture=reports[0],
        national=reports[1],
        snapshots=snapshots,
        withdrawals=withdrawals,
        in_flight=in_flight,
        repaired=repair,
        digest_seconds=digest_seconds,
        elapsed_seconds=time.perf_counter() - began,
    )


@contextlib.contextmanager
def _client(
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
            raise _unreachable(peer, f"{type(error).__name__}: {error}"[:200]) from error


def _plan(
    node: NetworkNode, reports: Sequence[TierReport], expected: Mapping[str, str]
) -> tuple[list[str], list[str], list[str]]:
    """Codes to re-send, codes to withdraw, and differing codes left alone while in flight."""
    resend: set[str] = set()
    withdraw: set[str] = set()
    for report in reports:
        resend.update(report.missing, report.different)
        withdraw.update(report.extra)
    if not (resend or withdraw):
        return [], [], []
    with node.session_factory() as session:
        pending = in_flight_codes(session, upstream=node.upstream)
    in_flight = sorted((resend | withdraw) & pending)
    withdraw = {c for c in withdraw - pending if c not in expected and _valid_code(c)}
    return sorted(resend - pending), sorted(withdraw), in_flight


def _valid_code(code: str) -> bool:
    try:
        validate_resident_code(code)
    except ValidationError:
        return False
    return True


_T = TypeVar("_T")


def _chunks(items: Sequence[_T]) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), _IN_CHUNK):
        yield items[start : start + _IN_CHUNK]


def _queue_repairs(
    node: NetworkNode, snapshots: list[str], withdrawals: list[str]
) -> tuple[list[str], list[str]]:
    """Queue the repairs in one transaction; returns the codes actually queued.

    Each record is read again inside the transaction, so a change filed since the comparison
    is what gets sent, and a resident who opted back in is not withdrawn.
    """
    queued_snapshots: list[str] = []
    queued_withdrawals: list[str] = []
    # No autoflush: the queued messages are written once, at commit, not one by one as each
    # record is read; the households are loaded in bulk (and kept referenced) for to_record.
    with UnitOfWork(node.session_factory) as uow, uow.session.no_autoflush:
        now = node.now()
        rows: dict[str, ResidentRow] = {}
        for chunk in _chunks(sorted(set(snapshots) | set(withdrawals))):
            for found in uow.session.scalars(
                select(ResidentRow).where(ResidentRow.resident_code.in_(chunk))
            ):
                rows[found.resident_code] = found
        households: list[HouseholdRow] = []
        for ids in _chunks(sorted({row.household_id for row in rows.values()})):
            households.extend(
                uow.session.scalars(select(HouseholdRow).where(HouseholdRow.id.in_(ids)))
            )
        for code in snapshots:
            row = rows.get(code)
            if row is None or row.upstream_opt_out:
                continue
            record = uow.residents.to_record(row)
            uow.outbox.add(
                kind=SNAPSHOT,
                recipient=node.upstream,
                subject=code,
                body=snapshot_body(
                    node.municipality_code, record.identity(), deleted=not record.is_active
                ),
                now=now,
            )
            queued_snapshots.append(code)
        for code in withdrawals:
            row = rows.get(code)
            if row is not None and not row.upstream_opt_out:
                continue
            uow.outbox.add(
                kind=WITHDRAWAL,
                recipient=node.upstream,
                subject=code,
                body={"resident_code": code, "municipality_code": node.municipality_code},
                now=now,
            )
            queued_withdrawals.append(code)
        uow.commit()
    return queued_snapshots, queued_withdrawals
