""" "My identity information" and "who looked at my data", for the signed-in resident only.

The municipality's own disclosure (its access log, its register's record) is made here; the
prefecture's and the centre's come over the network (:mod:`jukinet.services.portal.tiers`).
Every document is checked on the server — the head's signature through the network CA, the
witnesses' countersignatures, each entry's inclusion proof — and the entries are merged into one
list, newest first, each marked with the outcome of its check. The browser checks the same
proofs again (``web/static/portal.js``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Final

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from jukinet.domain.access_log import AccessEntry, Action, ActorKind, Channel
from jukinet.services import audit
from jukinet.services.context import ServiceContext
from jukinet.services.portal.signin import PORTAL_PLACE, PortalResident
from jukinet.services.portal.tiers import PORTAL_ITEMS, PORTAL_REASON, ask_upper_tiers, witnessed
from jukinet.storage.identity_records import REGISTER_ITEMS, info_of
from jukinet.storage.tables import ResidentRow

#: The items compared across tiers (the resident code is the key itself).
COMPARED: Final = (
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "birth_date",
    "sex",
    "address",
)
_ENTRY_PROBLEM = re.compile(r"^entry (\d+):")


@dataclass(frozen=True, slots=True)
class TierView:
    """What one tier holds and disclosed, and how its document checked."""

    tier: str
    node: str
    identity: dict[str, Any] | None
    document: dict[str, Any] | None
    problem: str | None = None
    head_verified: bool = False
    witnesses: tuple[str, ...] = ()
    entry_verified: tuple[bool, ...] = ()
    #: Each entry as the check read it (``None``: unreadable), so the page reads none again.
    parsed: tuple[audit.CheckedEntry | None, ...] = ()


@dataclass(frozen=True, slots=True)
class CombinedEntry:
    """One access-log entry of any tier, with its proof and the server's verdict."""

    tier: str
    item: dict[str, Any]
    tree_size: int
    root_hash: str
    verified: bool
    parsed: audit.CheckedEntry | None = None

    @property
    def recorded_at(self) -> str:
        """When it happened (UTC ISO text, sortable)."""
        return str(self.item["entry"]["recorded_at"])


@dataclass(frozen=True, slots=True)
class Overview:
    """Everything the portal shows the resident: tiers side by side and the combined list."""

    resident_code: str
    tiers: tuple[TierView, ...]
    entries: tuple[CombinedEntry, ...]
    differences: dict[str, list[str]] = field(default_factory=dict)

    @property
    def all_verified(self) -> bool:
        """Whether every tier answered and every head and entry checked."""
        return all(t.head_verified and t.problem is None for t in self.tiers) and all(
            e.verified for e in self.entries
        )


def _own_identity(session: Session, resident_id: int, municipality_code: str) -> dict[str, Any]:
    row = session.execute(select(*REGISTER_ITEMS).where(ResidentRow.id == resident_id)).one()
    return {"identity": info_of(row).as_dict() | {"municipality_code": municipality_code}}


def own_disclosure(node: ServiceContext, resident: PortalResident) -> dict[str, Any]:
    """This municipality's disclosure to the resident, with its register's record (logged)."""
    entry = AccessEntry(
        recorded_at=node.now(),
        node=str(node.node_id),
        action=Action.READ,
        channel=Channel.SYSTEM,
        actor_kind=ActorKind.SYSTEM,
        actor=PORTAL_PLACE,
        subject=resident.resident_code,
        reason=PORTAL_REASON,
        items=PORTAL_ITEMS,
    )
    document = audit.disclose_recorded(
        node,
        entry,
        also_read=lambda s: _own_identity(s, resident.resident_id, node.municipality_code),
    )
    return witnessed(node, document)


def _trust(node: ServiceContext) -> dict[str, bytes]:
    net = node.network
    if net is not None:
        return {"ca_pem": net.pki.ca_cert_path.read_bytes()}
    return {"public_key_pem": audit.public_key_pem(node).encode("ascii")}


def check(
    tier: str,
    node_name: str,
    document: dict[str, Any],
    identity: dict[str, Any] | None,
    trust: dict[str, bytes],
) -> TierView:
    """Check one tier's disclosure document: head, witnesses, each entry's proof."""
    result = audit.check_disclosure(document, **trust)
    signer_ok = document.get("tree_head", {}).get("signer") == node_name
    failed = {
        int(m.group(1)) for p in result.problems if (m := _ENTRY_PROBLEM.match(p)) is not None
    }
    head_ok = signer_ok and not any(p.startswith("tree head") for p in result.problems)
    entries = document.get("entries") or []
    return TierView(
        tier=tier,
        node=node_name,
        identity=identity,
        document=document,
        problem=None if head_ok else "; ".join(result.problems) or "signed by another node",
        head_verified=head_ok,
        witnesses=result.witnesses,
        entry_verified=tuple(head_ok and n not in failed for n in range(len(entries))),
        parsed=result.parsed,
    )


def _differences(tiers: Sequence[TierView]) -> dict[str, list[str]]:
    """Item → the tiers whose value differs from the municipality's (or that hold none)."""
    base = tiers[0].identity or {}
    differences: dict[str, list[str]] = {}
    for tier in tiers[1:]:
        if tier.problem is not None and tier.document is None:
            continue  # not asked: nothing to compare
        for item in COMPARED:
            held = (tier.identity or {}).get(item)
            if held != base.get(item):
                differences.setdefault(item, []).append(tier.tier)
    return differences


def combine(resident_code: str, tiers: Sequence[TierView]) -> Overview:
    """Merge the tiers' entries into one list, newest first."""
    entries: list[CombinedEntry] = []
    for tier in tiers:
        if tier.document is None:
            continue
        head = tier.document["tree_head"]
        for number, item in enumerate(tier.document.get("entries") or []):
            entries.append(
                CombinedEntry(
                    tier=tier.tier,
                    item=item,
                    tree_size=int(head["tree_size"]),
                    root_hash=str(head["root_hash"]),
                    verified=tier.entry_verified[number],
                    parsed=tier.parsed[number] if number < len(tier.parsed) else None,
                )
            )
    entries.sort(key=lambda e: (e.recorded_at, e.tier), reverse=True)
    return Overview(resident_code, tuple(tiers), tuple(entries), _differences(tiers))


def overview(
    node: ServiceContext, resident: PortalResident, *, http: httpx.Client | None = None
) -> Overview:
    """The resident's information at every tier and the combined, verified disclosure."""
    trust = _trust(node)
    with ThreadPoolExecutor(max_workers=1) as pool:
        # The prefecture (and through it the centre) work on their parts while this town
        # discloses and checks its own.
        upper = pool.submit(ask_upper_tiers, node, resident_code=resident.resident_code, http=http)
        own = own_disclosure(node, resident)
        identity = own.pop("identity")
        tiers = [check("municipality", str(node.node_id), own, identity, trust)]
        answers = upper.result()
    for tier_name, answer in zip(("prefecture", "national"), answers, strict=True):
        if answer.disclosure is None:
            tiers.append(TierView(tier_name, answer.node, None, None, problem=answer.problem))
            continue
        tiers.append(check(tier_name, answer.node, answer.disclosure, answer.identity, trust))
    return combine(resident.resident_code, tiers)
