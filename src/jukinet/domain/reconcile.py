"""The pure part of reconciliation (突合): record hashes, buckets, digests and their comparison.

No I/O: the services build the hash maps (:mod:`jukinet.services.reconcile`), the network
carries them (:mod:`jukinet.network.reconcile_client`), and this module compares them. A
bucket is the first three digits of a resident code; its digest is SHA-256 over its sorted
``code:hash`` lines, and empty buckets are omitted. The reconciliation errors live here too,
so every tier names them with the same codes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

from jukinet.domain.errors import Conflict, DomainError
from jukinet.domain.identity import IdentityInfo, identity_digest

#: Digits of the resident code that name its bucket.
BUCKET_DIGITS: Final = 3
MAX_BUCKETS: Final = 10**BUCKET_DIGITS
#: Kinds of the signed answers, so one kind of answer cannot pass for the other.
BUCKETS_KIND: Final = "reconcile_buckets"
RECORDS_KIND: Final = "reconcile_records"
#: The hash given for a held row whose stored digest disagrees with its stored items: it can
#: never equal a real record hash, so the row is reported as different and repaired.
INCONSISTENT: Final = "0" * 64

#: What a bucket, a resident code, a record hash and a question's nonce look like on the wire.
BUCKET_RE: Final = re.compile(rf"^\d{{{BUCKET_DIGITS}}}$")
CODE_RE: Final = re.compile(r"^\d{11}$")
HASH_RE: Final = re.compile(r"^[0-9a-f]{64}$")
NONCE_RE: Final = re.compile(r"^[0-9A-Za-z_-]{0,64}$")


# ---------------------------------------------------------------------------------------------
# Errors


class ReconcileRefused(Conflict):
    """Reconciliation cannot run on this node (not a municipality, not on the network)."""


class ReconcileFailed(DomainError):
    """The prefecture could not be asked, or its answer could not be trusted."""

    status = 502


def not_a_municipality() -> ReconcileRefused:
    """JUKI-NET-030: reconciliation asked for on a prefecture or the centre."""
    return ReconcileRefused(
        "JUKI-NET-030",
        ja="突合は市区町村のノードで実行してください。",
        en="Reconciliation runs on a municipality node.",
    )


def not_connected() -> ReconcileRefused:
    """JUKI-NET-031: a municipality that does not take part in the network."""
    return ReconcileRefused(
        "JUKI-NET-031",
        ja="ネットワークに接続されていないため、突合できません。",
        en="This municipality is not connected to the network; there is nothing to reconcile.",
    )


def unreachable(peer: str, detail: str) -> ReconcileFailed:
    """JUKI-NET-032: ``peer`` could not be asked (``detail`` says why; no personal data)."""
    return ReconcileFailed(
        "JUKI-NET-032",
        ja=f"{peer} に照会できませんでした（{detail}）。",
        en=f"{peer} could not be asked ({detail}).",
    )


def untrusted(detail: str) -> ReconcileFailed:
    """JUKI-NET-033: an answer that could not be verified (``detail`` says why)."""
    return ReconcileFailed(
        "JUKI-NET-033",
        ja=f"突合の応答を検証できませんでした（{detail}）。",
        en=f"The reconciliation answer could not be verified ({detail}).",
    )


# ---------------------------------------------------------------------------------------------
# Digests


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


def history_hash(identity: dict[str, Any], *, deleted: bool) -> str:
    """The record hash of a history version's stored items (:data:`INCONSISTENT` if they are
    malformed)."""
    try:
        info = IdentityInfo(
            **(identity | {"birth_date": date.fromisoformat(identity["birth_date"])})
        )
    except (KeyError, TypeError, ValueError):
        return INCONSISTENT
    return identity_digest(info, deleted=deleted)


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
