"""Resident codes are need-to-know: reading by record reference, and revealing a code in full."""

from __future__ import annotations

import pytest

from jukinet.domain.access_log import Action
from jukinet.domain.errors import NotFound, PermissionDenied, ValidationError
from jukinet.domain.operators import Actor, Role
from jukinet.domain.register import Relationship
from jukinet.services import reading
from jukinet.services.context import ServiceContext
from jukinet.storage import access_log
from tests.support.factories import make_actor, move_in_household, person

_NO_SUCH_REF = "0" * 32


def _resident(node: ServiceContext, clerk: Actor) -> tuple[str, str]:
    """A resident's code and record reference."""
    view = move_in_household(node, clerk, person()).records[0]
    return view.record.resident_code, view.record_ref


def _log_size(node: ServiceContext) -> int:
    with node.uow() as uow:
        return access_log.log_size(uow.session)


def _reveals(node: ServiceContext, code: str) -> list[tuple[str | None, tuple[str, ...]]]:
    with node.uow() as uow:
        entries = access_log.entries_about(uow.session, code)
    return [
        (e.reason, e.items)
        for _, e in entries
        if e.reason and e.reason.startswith(reading.REVEAL_REASON_PREFIX)
    ]


def test_every_record_has_its_own_opaque_reference(node: ServiceContext) -> None:
    clerk = make_actor(node, Role.CLERK)
    result = move_in_household(
        node,
        clerk,
        person(),
        person(given="花子", given_kana="ハナコ", relationship=Relationship.WIFE),
    )
    refs = [v.record_ref for v in result.records]
    codes = [v.record.resident_code for v in result.records]
    assert len(set(refs)) == 2
    for ref, code in zip(refs, codes, strict=True):
        assert len(ref) == 32
        assert int(ref, 16) >= 0  # hex
        assert code not in ref
        view = reading.read_resident_by_ref(node, actor=clerk, record_ref=ref)
        assert view.record.resident_code == code
        assert view.record_ref == ref
    assert reading.resident_codes_for_refs(node, actor=clerk, record_refs=refs[::-1]) == codes[::-1]


def test_an_unknown_reference_names_nothing(node: ServiceContext) -> None:
    clerk = make_actor(node, Role.CLERK)
    code, _ = _resident(node, clerk)
    for ref in (_NO_SUCH_REF, code, "not-a-ref"):
        with pytest.raises(NotFound) as refused:
            reading.read_resident_by_ref(node, actor=clerk, record_ref=ref)
        assert refused.value.code == "JUKI-REG-038"
        assert ref not in refused.value.message("ja")
        assert ref not in refused.value.message("en")


def test_reveal_is_logged_with_its_reason(node: ServiceContext) -> None:
    clerk = make_actor(node, Role.CLERK)
    code, ref = _resident(node, clerk)
    before = _log_size(node)

    shown = reading.reveal_resident_code(
        node, actor=clerk, record_ref=ref, reason="  証明書への記載\n（本人申請）  "
    )

    assert shown == code
    assert _log_size(node) == before + 1
    assert _reveals(node, code) == [
        ("code revealed: 証明書への記載 （本人申請）", ("resident_code",))
    ]
    with node.uow() as uow:
        [(_, entry)] = [
            (i, e)
            for i, e in access_log.entries_about(uow.session, code)
            if e.items == ("resident_code",)
        ]
    assert entry.action is Action.READ
    assert entry.actor == clerk.username


@pytest.mark.parametrize("reason", ["", "   ", "\n\t"])
def test_reveal_needs_a_reason(node: ServiceContext, reason: str) -> None:
    clerk = make_actor(node, Role.CLERK)
    code, ref = _resident(node, clerk)
    before = _log_size(node)
    with pytest.raises(ValidationError) as refused:
        reading.reveal_resident_code(node, actor=clerk, record_ref=ref, reason=reason)
    assert (refused.value.code, refused.value.field) == ("JUKI-REG-039", "reason")
    assert _log_size(node) == before
    assert _reveals(node, code) == []


@pytest.mark.parametrize("reason", ["x" * (reading.MAX_REVEAL_REASON + 1), "理由\x00"])
def test_reveal_refuses_an_overlong_or_unprintable_reason(
    node: ServiceContext, reason: str
) -> None:
    clerk = make_actor(node, Role.CLERK)
    code, ref = _resident(node, clerk)
    with pytest.raises(ValidationError) as refused:
        reading.reveal_resident_code(node, actor=clerk, record_ref=ref, reason=reason)
    assert (refused.value.code, refused.value.field) == ("JUKI-REG-044", "reason")
    assert _reveals(node, code) == []


@pytest.mark.parametrize("role", [Role.SECURITY_OFFICER, Role.CARD_ISSUER])
def test_a_role_without_the_permission_is_refused_and_nothing_is_logged(
    node: ServiceContext, role: Role
) -> None:
    clerk = make_actor(node, Role.CLERK)
    code, ref = _resident(node, clerk)
    other = make_actor(node, role, username="other1")
    before = _log_size(node)
    with pytest.raises(PermissionDenied) as refused:
        reading.reveal_resident_code(node, actor=other, record_ref=ref, reason="確認のため")
    assert refused.value.code == "JUKI-AUTH-003"
    assert "reveal_codes" in refused.value.message("en")
    assert code not in refused.value.message("en")
    assert _log_size(node) == before
    # Refused before the reference is even looked up: an unknown one gets the same answer.
    with pytest.raises(PermissionDenied):
        reading.reveal_resident_code(node, actor=other, record_ref=_NO_SUCH_REF, reason="x")
