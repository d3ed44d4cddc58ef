"""Architecture property 1 — one gateway to personal data — checked on the source itself.

Only the modules listed here may touch the tables that hold residents' personal data; a new
module reading them would be a second path around the access log, so adding one to these lists
must be a deliberate, reviewed decision (docs/access-log.md says what each one records).
"""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "jukinet"

ALLOWED = {
    # The register at a municipality: counter reads (logged), counter writes (logged), the
    # bulk loader of synthetic residents, views built inside those use cases, the move-in notice
    # handler (logged) and the initial load / reconciliation (identity notices and digests).
    "ResidentRow": {
        "services/reading.py",
        "services/register/change.py",
        "services/register/arrivals.py",
        "services/register/departures.py",
        "services/register/amendments.py",
        "services/register/notices.py",
        "services/population.py",
        "services/views.py",
        "services/reconcile/municipality.py",
        # Certificates: each person printed, and each check of a printed copy, is logged.
        "services/certificates/issue.py",
        "services/certificates/verify.py",
        # 広域交付 at the home municipality: each person answered (or refused) is logged with
        # the affair 広域交付 in the answer's own transaction.
        "services/certificates/wide_area_answer.py",
        # The card move: the move-out in advance (each person written is logged), the move-out
        # information answered to the new municipality (each person read is logged, reason
        # ``card_move:move_out_info``) and the continuation (logged as ``card:continued``).
        "services/card_move/move_out.py",
        "services/card_move/move_in.py",
        # The resident portal: the signed-in resident's own record, read with the portal's
        # disclosure entry in one transaction.
        "services/portal/overview.py",
    },
    # Identity information at the upper tiers: provision (logged), the store that applies
    # notices, reconciliation digests, and the demo's count of what arrived; the prefectural
    # CA comparing a certificate request's four items with the held ones (logged as
    # ``jpki:issue``, written or refused) and the revocation hook locking the held row inside
    # the identity store's own transaction (it reads nothing personal itself).
    "IdentityRecordRow": {
        "services/jpki/authority.py",
        "services/jpki/revocation.py",
        "services/provision.py",
        "services/identity_store.py",
        "runtime/demo.py",
        "services/reconcile/upstream.py",
        # The resident portal's question from the resident's own municipality (logged with the
        # tier's disclosure, refused for another town's resident).
        "services/portal/tiers.py",
    },
}


def _users(name: str) -> set[str]:
    pattern = re.compile(rf"\b{name}\b")
    return {
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if not str(path.relative_to(SRC)).startswith("storage/")
        and pattern.search(path.read_text(encoding="utf-8"))
    }


def test_only_the_gateways_touch_residents_tables() -> None:
    for table, allowed in ALLOWED.items():
        assert _users(table) <= allowed, f"{table} used outside its gateways"


def test_the_check_sees_the_gateways() -> None:
    # A guard against a pattern that silently matches nothing.
    assert "services/provision.py" in _users("IdentityRecordRow")
    assert "services/reading.py" in _users("ResidentRow") or "services/views.py" in _users(
        "ResidentRow"
    )
