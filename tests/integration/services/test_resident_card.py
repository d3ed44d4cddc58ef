"""The resident card (住基カード) at the counter, on SQLite and PostgreSQL, with SoftHSM chips.

Each test writes its cards into a SoftHSM2 token directory of its own (``card_reader``).
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from jukinet.domain.access_log import Action
from jukinet.domain.errors import (
    AuthenticationFailed,
    Conflict,
    FieldErrors,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from jukinet.domain.operators import Actor, Role
from jukinet.domain.resident_card import CardForm, CardState, InvalidReason, NetworkStatus
from jukinet.network import resident_card_token as chip
from jukinet.network.hsm import DEFAULT_MODULE
from jukinet.services import register
from jukinet.services.context import ServiceContext
from jukinet.services.resident_card import counter, terminal
from jukinet.services.resident_card.inputs import (
    CallerRelation,
    CardApplication,
    CardIssue,
    IdDocument,
    LossReport,
    PinReset,
    Resumption,
)
from jukinet.services.resident_card.status import check_card_status
from jukinet.storage.card_tables import (
    CardStatusCheckRow,
    ResidentCardEventRow,
    ResidentCardRow,
)
from jukinet.storage.tables import AccessLogRow, OutboxRow
from tests.support.clock import FixedClock
from tests.support.factories import make_actor, move_in_household, person, with_pool

pytestmark = pytest.mark.skipif(
    not Path(DEFAULT_MODULE).exists(), reason="SoftHSM2 is not installed (apt-get install softhsm2)"
)


@pytest.fixture
def issuer(node: ServiceContext) -> Actor:
    return make_actor(node, Role.CARD_ISSUER)


@pytest.fixture
def resident(node: ServiceContext) -> str:
    """The resident code of a resident who has just moved in."""
    with_pool(node)
    result = move_in_household(node, make_actor(node), person())
    return result.records[0].record.resident_code


def _code(resident: str) -> str:
    return resident


def _issued(node: ServiceContext, issuer: Actor, code: str, pin: str = "1234") -> str:
    applied = counter.apply_for_card(
        node, actor=issuer, application=CardApplication(code, CardForm.NAME_ONLY)
    )
    counter.issue_card(
        node,
        actor=issuer,
        issue=CardIssue(applied.serial, pin, pin, IdDocument.DRIVERS_LICENCE),
    )
    return applied.serial


def _fingerprint(node: ServiceContext) -> str:
    """A digest of every card-related row: a refusal must leave it unchanged."""
    digest = hashlib.sha256()
    with node.uow() as uow:
        for table in (ResidentCardRow, ResidentCardEventRow, OutboxRow, AccessLogRow):
            rows = uow.session.scalars(select(table)).all()
            for row in rows:
                values = {c.key: getattr(row, c.key) for c in table.__table__.columns}
                digest.update(repr(sorted(values.items())).encode())
    return digest.hexdigest()


def _card_notices(node: ServiceContext) -> list[dict[str, object]]:
    with node.uow() as uow:
        rows = uow.session.scalars(
            select(OutboxRow).where(OutboxRow.kind == "card_status_notice").order_by(OutboxRow.id)
        ).all()
        return [dict(r.body) for r in rows]


def _sign_challenge(node: ServiceContext, serial: str, pin: str) -> tuple[str, bytes]:
    challenge = terminal.new_challenge(node)
    with terminal.open_chip(node, serial=serial, pin=pin, place="counter-1") as card:
        return challenge.challenge_id, card.authenticate(challenge.message)


def test_issue_writes_chip_and_notifies_upward(
    node: ServiceContext, card_reader: Path, issuer: Actor, resident: str
) -> None:
    code = _code(resident)
    serial = _issued(node, issuer, code)
    assert serial.startswith("132292-")
    [view] = counter.cards_of_resident(node, actor=issuer, resident_code=code)
    assert view.state is CardState.VALID
    assert view.expires_on == date(
        node.today().year + 10, node.today().month, node.today().day
    ) - timedelta(days=1)
    with chip.ResidentCardToken.open(serial, "1234") as card:
        assert card.resident_code() == code
    [notice] = _card_notices(node)
    assert notice["serial"] == serial
    assert notice["status"] == "valid"
    # Nothing personal but the serial and status goes upward.
    assert code not in repr(notice)
    kinds = [e.kind for e in counter.card_history(node, actor=issuer, serial=serial)]
    assert kinds == ["applied", "issued"]


def test_a_second_card_for_one_resident_is_refused(
    node: ServiceContext, card_reader: Path, issuer: Actor, resident: str
) -> None:
    _issued(node, issuer, _code(resident))
    before = _fingerprint(node)
    with pytest.raises(Conflict) as refused:
        counter.apply_for_card(
            node, actor=issuer, application=CardApplication(_code(resident), CardForm.NAME_ONLY)
        )
    assert refused.value.code == "JUKI-CARD-020"
    assert _fingerprint(node) == before


def test_bad_pins_are_refused_before_anything_is_written(
    node: ServiceContext, card_reader: Path, issuer: Actor, resident: str
) -> None:
    applied = counter.apply_for_card(
        node, actor=issuer, application=CardApplication(_code(resident), CardForm.NAME_ONLY)
    )
    before = _fingerprint(node)
    for pin, confirmation in (
        ("123", "123"),
        ("12a4", "12a4"),
        ("12345", "12345"),
        ("1234", "4321"),
    ):
        with pytest.raises(FieldErrors):
            counter.issue_card(
                node,
                actor=issuer,
                issue=CardIssue(applied.serial, pin, confirmation, IdDocument.PASSPORT),
            )
    assert _fingerprint(node) == before
    from pkcs11.exceptions import NoSuchToken

    with pytest.raises(NoSuchToken):
        chip.find_token(applied.serial)


def test_clerks_cannot_issue_cards(node: ServiceContext, resident: str) -> None:
    with pytest.raises(PermissionDenied):
        counter.apply_for_card(
            node,
            actor=make_actor(node),
            application=CardApplication(_code(resident), CardForm.NAME_ONLY),
        )


def test_photo_card_keeps_face_in_register_not_chip(
    node: ServiceContext, card_reader: Path, issuer: Actor, resident: str
) -> None:
    with pytest.raises(ValidationError) as missing:
        counter.apply_for_card(
            node, actor=issuer, application=CardApplication(_code(resident), CardForm.PHOTO_ID)
        )
    assert missing.value.code == "JUKI-CARD-004"
    applied = counter.apply_for_card(
        node,
        actor=issuer,
        application=CardApplication(_code(resident), CardForm.PHOTO_ID, photo_ref="photos/a.jpg"),
    )
    assert applied.has_photo
    with node.uow() as uow:
        row = uow.session.scalars(
            select(ResidentCardRow).where(ResidentCardRow.serial == applied.serial)
        ).one()
        assert row.face is not None
        assert row.face["birth_date"] == "1980-04-01"


def test_lock_at_exactly_three_wrong_pins_survives_restart(
    node: ServiceContext, card_reader: Path, issuer: Actor, resident: str
) -> None:
    serial = _issued(node, issuer, _code(resident))
    for attempt in (1, 2):
        with pytest.raises(AuthenticationFailed):
            _sign_challenge(node, serial, "9999")
        [view] = counter.cards_of_resident(node, actor=issuer, resident_code=_code(resident))
        assert view.pin_failures == attempt
        assert not view.pin_locked
    # Two wrong, then right: the count is cleared.
    _sign_challenge(node, serial, "1234")
    for _ in range(3):
        with pytest.raises(AuthenticationFailed):
            _sign_challenge(node, serial, "0000")
    # The right PIN no longer opens it, and the chip itself refuses too.
    with pytest.raises(Conflict) as locked:
        _sign_challenge(node, serial, "1234")
    assert locked.value.code == "JUKI-CARD-014"
    assert chip.tries_left(serial) == 0
    # A restart: the register's count is in the database, not in memory.
    from jukinet.runtime.bootstrap import build_node

    again = build_node(node.settings, clock=node.clock)
    try:
        [view] = counter.cards_of_resident(again, actor=issuer, resident_code=_code(resident))
        assert view.pin_locked
        assert view.pin_failures == 3
        with pytest.raises(Conflict):
            _sign_challenge(again, serial, "1234")
        # In person with ID: a new PIN, unlocked on the chip and in the register.
        counter.reset_pin(
            again,
            actor=issuer,
            reset=PinReset(serial, "5678", "5678", IdDocument.DRIVERS_LICENCE),
        )
        _sign_challenge(again, serial, "5678")
    finally:
        again.engine.dispose()
    kinds = [e.kind for e in counter.card_history(node, actor=issuer, serial=serial)]
    assert kinds.count("pin_failed") == 4
    assert kinds.count("pin_locked") == 1
    assert "pin_reset" in kinds


def test_phone_loss_report_suspends_at_once_and_resumption_in_person(
    node: ServiceContext, card_reader: Path, issuer: Actor, resident: str
) -> None:
    serial = _issued(node, issuer, _code(resident))
    clerk = make_actor(node)
    suspended = counter.report_loss(
        node,
        actor=clerk,
        report=LossReport(serial, "山田 花子", CallerRelation.FAMILY, ("name", "birth_date")),
    )
    assert suspended.network_status is NetworkStatus.SUSPENDED
    with pytest.raises(Conflict) as refused:
        _challenge_id, _signature = _sign_challenge(node, serial, "1234")
    assert refused.value.code == "JUKI-CARD-011"
    history = counter.card_history(node, actor=issuer, serial=serial)
    assert history[-1].details["answered"] == ["birth_date", "name"]
    assert history[-1].details["caller_relation"] == "family"
    # A clerk may take the call but not resume: that is in person, by a card issuer.
    with pytest.raises(PermissionDenied):
        counter.resume_card(node, actor=clerk, resumption=Resumption(serial, IdDocument.PASSPORT))
    resumed = counter.resume_card(
        node, actor=issuer, resumption=Resumption(serial, IdDocument.PASSPORT)
    )
    assert resumed.network_status is NetworkStatus.VALID
    assert [n["status"] for n in _card_notices(node)] == ["valid", "suspended", "valid"]


def test_loss_report_without_answers_is_refused_and_writes_nothing(
    node: ServiceContext, card_reader: Path, issuer: Actor, resident: str
) -> None:
    serial = _issued(node, issuer, _code(resident))
    before = _fingerprint(node)
    with pytest.raises(FieldErrors):
        counter.report_loss(
            node,
            actor=issuer,
            report=LossReport(serial, "", CallerRelation.OTHER, ()),
        )
    assert _fingerprint(node) == before


def test_another_towns_serial_and_unknown_serial_are_refused(
    node: ServiceContext, card_reader: Path, issuer: Actor
) -> None:
    before = _fingerprint(node)
    with pytest.raises(Conflict) as foreign:
        counter.resume_card(
            node, actor=issuer, resumption=Resumption("141003-00000001", IdDocument.PASSPORT)
        )
    assert foreign.value.code == "JUKI-CARD-021"
    with pytest.raises(NotFound) as unknown:
        counter.resume_card(
            node, actor=issuer, resumption=Resumption("132292-00000099", IdDocument.PASSPORT)
        )
    assert unknown.value.code == "JUKI-CARD-022"
    assert _fingerprint(node) == before


def test_card_authentication_and_a_used_challenge(
    node: ServiceContext, card_reader: Path, issuer: Actor, resident: str
) -> None:
    serial = _issued(node, issuer, _code(resident))
    challenge_id, signature = _sign_challenge(node, serial, "1234")
    card = terminal.authenticate_card(
        node, serial=serial, challenge_id=challenge_id, signature=signature, place="kiosk-1"
    )
    assert card.local
    assert card.resident_code == _code(resident)
    with pytest.raises(AuthenticationFailed) as replay:
        terminal.authenticate_card(
            node, serial=serial, challenge_id=challenge_id, signature=signature, place="kiosk-1"
        )
    assert replay.value.code == "JUKI-CARD-034"
    other_id, _ = _sign_challenge(node, serial, "1234")
    with pytest.raises(AuthenticationFailed) as forged:
        terminal.authenticate_card(
            node, serial=serial, challenge_id=other_id, signature=bytes(64), place="kiosk-1"
        )
    assert forged.value.code == "JUKI-CARD-036"


def test_expired_card_is_invalid(
    node: ServiceContext, clock: FixedClock, card_reader: Path, issuer: Actor, resident: str
) -> None:
    serial = _issued(node, issuer, _code(resident))
    clock.advance(days=3653 + 1)
    answer = check_card_status(node, serial=serial, asked_by="test")
    assert answer.effective(node.today()) is NetworkStatus.INVALID
    with pytest.raises(Conflict) as expired:
        _sign_challenge(node, serial, "1234")
    assert expired.value.code == "JUKI-CARD-013"


def test_death_ends_the_card_and_tells_the_network(
    node: ServiceContext, card_reader: Path, issuer: Actor, resident: str
) -> None:
    _issued(node, issuer, _code(resident))
    register.file_death(
        node,
        actor=make_actor(node),
        resident_code=_code(resident),
        died_on=date(2026, 11, 25),
        filed_on=date(2026, 11, 26),
    )
    [view] = counter.cards_of_resident(node, actor=issuer, resident_code=_code(resident))
    assert view.state is CardState.INVALID
    assert view.invalid_reason is InvalidReason.DIED
    assert _card_notices(node)[-1]["status"] == "invalid"


def test_status_checks_are_recorded(
    node: ServiceContext, card_reader: Path, issuer: Actor, resident: str
) -> None:
    serial = _issued(node, issuer, _code(resident))
    assert check_card_status(node, serial=serial, asked_by="kiosk-2").status is NetworkStatus.VALID
    with node.uow() as uow:
        checks = uow.session.scalar(
            select(func.count())
            .select_from(CardStatusCheckRow)
            .where(CardStatusCheckRow.serial == serial)
        )
        reads = uow.session.scalar(
            select(func.count())
            .select_from(AccessLogRow)
            .where(AccessLogRow.action == Action.REFUSED.value)
        )
    assert checks == 1
    assert reads == 0


def test_a_move_abroad_ends_the_card_as_emigration(
    node: ServiceContext, card_reader: Path, issuer: Actor, resident: str
) -> None:
    _issued(node, issuer, resident)
    register.file_move_out(
        node,
        actor=make_actor(node),
        resident_codes=[resident],
        destination="国外（大韓民国）",
        planned_on=date(2026, 11, 30),
        filed_on=date(2026, 11, 26),
    )
    [view] = counter.cards_of_resident(node, actor=issuer, resident_code=resident)
    assert view.invalid_reason is InvalidReason.EMIGRATED
    assert _card_notices(node)[-1]["reason"] == "emigrated"
