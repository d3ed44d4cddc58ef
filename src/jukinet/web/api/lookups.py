"""Reading the register: search, one record, its history, a household.

Lists mask resident codes (search results, a household's members); a lookup by code answers
with the code the caller gave; a lookup by record reference masks it, and the full code is an
explicit, logged request (``POST /records/{ref}/reveal`` with a reason).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query

from jukinet.data.catalog import get_municipality
from jukinet.domain.operators import Permission
from jukinet.services import reading
from jukinet.services.codes import pool_size
from jukinet.web.api.schemas import (
    HistoryOut,
    HouseholdOut,
    PoolOut,
    ResidentOut,
    RevealBody,
    RevealedOut,
    SearchBody,
)
from jukinet.web.auth import ApiActor, NodeDep
from jukinet.web.errors import ERROR_RESPONSES

router = APIRouter(tags=["lookups"], responses=ERROR_RESPONSES)


@router.post("/residents/search")
def search_posted(body: SearchBody, node: NodeDep, actor: ApiActor) -> list[ResidentOut]:
    """Candidates by name and/or date of birth, the terms posted (never in the URL); codes
    masked."""
    query = reading.SearchQuery(
        name=body.name,
        birth_date=body.birth_date,
        include_removed=body.include_removed,
        limit=body.limit,
    )
    views = reading.search_residents(node, actor=actor, query=query)
    return [ResidentOut.of(v, full_code=False) for v in views]


@router.get("/residents", deprecated=True)
def search(
    node: NodeDep,
    actor: ApiActor,
    name: Annotated[
        str | None, Query(max_length=60, description="Kanji (variants folded) or kana")
    ] = None,
    birth_date: date | None = None,
    include_removed: bool = False,
    limit: Annotated[int, Query(ge=1, le=reading.MAX_SEARCH_RESULTS)] = 50,
) -> list[ResidentOut]:
    """Candidates by name and/or date of birth; removed records (除票) only when asked; codes
    masked. Deprecated: the name travels in the query string; post to ``/residents/search``."""
    query = reading.SearchQuery(
        name=name, birth_date=birth_date, include_removed=include_removed, limit=limit
    )
    views = reading.search_residents(node, actor=actor, query=query)
    return [ResidentOut.of(v, full_code=False) for v in views]


@router.get("/residents/{resident_code}")
def resident(
    resident_code: Annotated[str, Path(max_length=20)], node: NodeDep, actor: ApiActor
) -> ResidentOut:
    """One 住民票 or 除票."""
    return ResidentOut.of(reading.read_resident(node, actor=actor, resident_code=resident_code))


@router.get("/residents/{resident_code}/history")
def history(
    resident_code: Annotated[str, Path(max_length=20)], node: NodeDep, actor: ApiActor
) -> list[HistoryOut]:
    """Every version of a record, oldest first, with the event that made it."""
    return [
        HistoryOut.of(h)
        for h in reading.read_history(node, actor=actor, resident_code=resident_code)
    ]


@router.get("/households/{household_number}")
def household(
    household_number: Annotated[str, Path(max_length=12)], node: NodeDep, actor: ApiActor
) -> HouseholdOut:
    """A household with all its members (removed ones included)."""
    view = reading.read_household(node, actor=actor, household_number=household_number)
    return HouseholdOut(
        household_number=view.household_number,
        members=[ResidentOut.of(m, full_code=False) for m in view.members],
    )


@router.get("/records/{record_ref}")
def record(
    record_ref: Annotated[str, Path(max_length=64)], node: NodeDep, actor: ApiActor
) -> ResidentOut:
    """One record by its opaque reference (from a list); the code masked."""
    view = reading.read_resident_by_ref(node, actor=actor, record_ref=record_ref)
    return ResidentOut.of(view, full_code=False)


@router.post("/records/{record_ref}/reveal")
def reveal(
    record_ref: Annotated[str, Path(max_length=64)],
    body: RevealBody,
    node: NodeDep,
    actor: ApiActor,
) -> RevealedOut:
    """The full resident code of one record; needs the reveal permission and a reason, and is
    logged as ``code revealed: <reason>``."""
    code = reading.reveal_resident_code(
        node, actor=actor, record_ref=record_ref, reason=body.reason
    )
    return RevealedOut(record_ref=record_ref, resident_code=code)


@router.get("/code-pool")
def code_pool(node: NodeDep, actor: ApiActor) -> PoolOut:
    """How many unused resident codes the municipality has left (supervisors)."""
    actor.require(Permission.EX_OFFICIO)
    return PoolOut(available=pool_size(node))


@router.get(
    "/municipalities/{code}", responses={404: ERROR_RESPONSES[404], 422: ERROR_RESPONSES[422]}
)
def municipality(code: Annotated[str, Path(max_length=10)]) -> dict[str, str]:
    """A municipality by its code (全国地方公共団体コード); public reference data."""
    m = get_municipality(code)
    return {
        "code": m.code,
        "prefecture": m.prefecture,
        "name": m.name,
        "name_kana": m.name_kana,
        "full_name": m.full_name,
    }
