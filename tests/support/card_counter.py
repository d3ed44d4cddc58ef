"""Helpers for the resident card pages' and API's tests: a resident, and "nothing changed"."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import func, select

from jukinet.domain.access_log import Action
from jukinet.domain.operators import Role
from jukinet.services.context import ServiceContext
from jukinet.services.reading import read_resident
from jukinet.storage.tables import AccessLogRow
from tests.support.factories import make_actor, move_in_household, person, with_pool
from tests.support.snapshots import table_digests

#: The access log grows with every read (a form shown again reads the record); the session
#: tables with every request. Everything else must stay byte for byte.
_GROWING = frozenset(
    {
        "access_log",
        "access_log_state",
        "access_log_subtrees",
        "operator_sessions",
        "signin_challenges",
    }
)


def moved_in(node: ServiceContext, *, given: str = "太郎", given_kana: str = "タロウ") -> str:
    """A resident who has just moved in to Nishitokyo: their resident code."""
    with_pool(node)
    result = move_in_household(node, make_actor(node), person(given=given, given_kana=given_kana))
    return result.records[0].record.resident_code


def ref_of(node: ServiceContext, code: str) -> str:
    """The opaque reference the pages address the resident's record by."""
    reader = make_actor(node, Role.CLERK)
    return read_resident(node, actor=reader, resident_code=code).record_ref


def _last_position(node: ServiceContext) -> int:
    with node.session_factory() as session:
        last = session.scalar(select(func.max(AccessLogRow.position)))
        return -1 if last is None else int(last)


def _writes_since(node: ServiceContext, position: int) -> list[str]:
    with node.session_factory() as session:
        rows = session.scalars(select(AccessLogRow).where(AccessLogRow.position > position)).all()
        return [row.reason or "" for row in rows if row.action != Action.READ.value]


def _files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*")) if folder.exists() else []


@contextmanager
def nothing_changes(node: ServiceContext, *folders: Path) -> Iterator[None]:
    """Assert that the block changes no table (the access log only gains reads) and no file
    in ``folders`` (card photos, the chips' token directory)."""
    before = table_digests(node, exclude=_GROWING)
    position = _last_position(node)
    files = {folder: _files(folder) for folder in folders}
    yield
    assert table_digests(node, exclude=_GROWING) == before
    assert _writes_since(node, position) == []
    for folder, listed in files.items():
        assert _files(folder) == listed, folder
