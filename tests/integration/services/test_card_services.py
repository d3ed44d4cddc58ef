"""Card services by ordinance (条例利用) on SQLite and PostgreSQL, with SoftHSM cards: the
registry, enrolment at the counter, the service terminal and its use counts."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from jukinet.domain.card_services import EnrolmentState, is_service_identifier
from jukinet.domain.errors import (
    AuthenticationFailed,
    Conflict,
    DomainError,
    FieldErrors,
    NotFound,
    PermissionDenied,
)
from jukinet.domain.operators import Actor, Role
from jukinet.network.hsm import DEFAULT_MODULE
from jukinet.services.card_services import terminal as service_terminal
from jukinet.services.card_services.enrolment import enrol, enrolments_of, withdraw
from jukinet.services.card_services.figures import card_service_figures
from jukinet.services.card_services.inputs import Enrolment, NewCardService, Withdrawal
from jukinet.services.card_services.registry import (
    add_service,
    deactivate_service,
    list_services,
)
from jukinet.services.context import ServiceContext
from jukinet.services.resident_card import counter
from jukinet.services.resident_card.inputs import CallerRelation, LossReport
from jukinet.storage.card_service_tables import CardServiceUseRow
from jukinet.storage.tables import AccessLogRow
from tests.support.card_services import (
    PIN,
    TERMINAL_REFUSAL_WRITES,
    enrolled,
    library,
    resident_with_card,
    signed_challenge,
)
from tests.support.clock import FixedClock
from tests.support.factories import make_actor
from tests.support.snapshots import table_digests

pytestmark = pytest.mark.skipif(
    not Path(DEFAULT_MODULE).exists(), reason="SoftHSM2 is not installed (apt-get install softhsm2)"
)


@pytest.fixture
def supervisor(node: ServiceContext) -> Actor:
    return make_actor(node, Role.SUPERVISOR)


def _reasons(node: ServiceContext) -> list[str]:
    with node.session_factory() as session:
        return [r or "" for r in session.scalars(select(AccessLogRow.reason)).all()]


def _kiosk(code: str = "certificate-kiosk") -> NewCardService:
    return NewCardService(
        code, "証明書自動交付機", "Certificate kiosk", "証明書条例", date(2026, 1, 5)
    )


def test_registry_add_list_deactivate_and_who_may(node: ServiceContext, supervisor: Actor) -> None:
    view = library(node, supervisor)
    assert view.active
    assert view.ordinance_name == "西東京市住民基本台帳カードの利用に関する条例"
    before = table_digests(node)
    for role in (Role.CLERK, Role.CARD_ISSUER, Role.SECURITY_OFFICER, Role.AUDITOR):
        with pytest.raises(PermissionDenied):
            add_service(node, actor=make_actor(node, role), service=_kiosk())
    for role in (Role.CLERK, Role.CARD_ISSUER):
        with pytest.raises(PermissionDenied):
            deactivate_service(node, actor=make_actor(node, role), code="library")
    # Refusals write nothing (the accounts made above are the only change).
    after = table_digests(node, exclude={"operators"})
    assert after == {k: v for k, v in before.items() if k != "operators"}

    with pytest.raises(Conflict) as twice:
        add_service(node, actor=supervisor, service=_kiosk("library"))
    assert twice.value.code == "JUKI-ORD-010"
    with pytest.raises(FieldErrors) as bad:
        add_service(
            node,
            actor=supervisor,
            service=NewCardService("X", "", "Library", "条" * 121, node.today() + timedelta(1)),
        )
    assert {e.code for e in bad.value.errors} == {
        "JUKI-ORD-001",
        "JUKI-ORD-002",
        "JUKI-ORD-004",
        "JUKI-ORD-005",
    }
    assert table_digests(node, exclude={"operators"}) == after

    add_service(node, actor=supervisor, service=_kiosk())
    assert [s.code for s in list_services(node)] == ["certificate-kiosk", "library"]
    ended = deactivate_service(node, actor=supervisor, code="library")
    assert not ended.active
    with pytest.raises(Conflict) as again:
        deactivate_service(node, actor=supervisor, code="library")
    assert again.value.code == "JUKI-ORD-013"
    with pytest.raises(NotFound):
        deactivate_service(node, actor=supervisor, code="no-such")
    assert [(s.code, s.active) for s in list_services(node)] == [
        ("certificate-kiosk", True),
        ("library", False),
    ]
    reasons = _reasons(node)
    assert "card-service:registry:added: library" in reasons
    assert "card-service:registry:deactivated: library" in reasons


def test_enrolment_needs_a_valid_card(
    node: ServiceContext, card_reader: Path, supervisor: Actor
) -> None:
    library(node, supervisor)
    clerk = make_actor(node)
    waiting = resident_with_card(node, issue=False)
    before = table_digests(node)
    with pytest.raises(Conflict) as applied_only:
        enrol(node, actor=clerk, enrolment=Enrolment(waiting.resident_code, "library"))
    assert applied_only.value.code == "JUKI-ORD-020"
    with pytest.raises(NotFound):
        enrol(node, actor=clerk, enrolment=Enrolment("12345678901", "library"))
    with pytest.raises(NotFound) as unknown:
        enrol(node, actor=clerk, enrolment=Enrolment(waiting.resident_code, "gym"))
    assert unknown.value.code == "JUKI-ORD-011"
    with pytest.raises(PermissionDenied):
        enrol(
            node,
            actor=make_actor(node, Role.CARD_ADMINISTRATOR),
            enrolment=Enrolment(waiting.resident_code, "library"),
        )
    assert table_digests(node, exclude={"operators"}) == {
        k: v for k, v in before.items() if k != "operators"
    }

    holder = resident_with_card(node, given="次郎")
    view = enrol(
        node,
        actor=make_actor(node, Role.CARD_ISSUER),
        enrolment=Enrolment(holder.resident_code, "library"),
    )
    assert view.state is EnrolmentState.ENROLLED
    assert is_service_identifier(view.service_identifier)
    # Random, not derived from the resident code: no run of its digits appears in it.
    assert holder.resident_code not in view.service_identifier.replace("-", "")
    with pytest.raises(Conflict) as twice:
        enrol(node, actor=clerk, enrolment=Enrolment(holder.resident_code, "library"))
    assert twice.value.code == "JUKI-ORD-021"

    gone = withdraw(node, actor=clerk, withdrawal=Withdrawal(holder.resident_code, "library"))
    assert gone.state is EnrolmentState.WITHDRAWN
    with pytest.raises(Conflict) as not_enrolled:
        withdraw(node, actor=clerk, withdrawal=Withdrawal(holder.resident_code, "library"))
    assert not_enrolled.value.code == "JUKI-ORD-022"
    # Stable per (service, resident): enrolling again restores the same identifier.
    back = enrol(node, actor=clerk, enrolment=Enrolment(holder.resident_code, "library"))
    assert back.service_identifier == view.service_identifier
    add_service(node, actor=supervisor, service=_kiosk())
    kiosk = enrol(node, actor=clerk, enrolment=Enrolment(holder.resident_code, "certificate-kiosk"))
    assert kiosk.service_identifier != view.service_identifier
    listed = enrolments_of(node, actor=clerk, resident_code=holder.resident_code)
    assert [(e.service_code, e.state) for e in listed] == [
        ("certificate-kiosk", EnrolmentState.ENROLLED),
        ("library", EnrolmentState.ENROLLED),
    ]

    deactivate_service(node, actor=supervisor, code="certificate-kiosk")
    other = resident_with_card(node, given="三郎")
    with pytest.raises(Conflict) as inactive:
        enrol(node, actor=clerk, enrolment=Enrolment(other.resident_code, "certificate-kiosk"))
    assert inactive.value.code == "JUKI-ORD-012"
    # A suspended card cannot enrol either.
    counter.report_loss(
        node,
        actor=clerk,
        report=LossReport(other.serial, "山田 三郎", CallerRelation.SELF, ("name",)),
    )
    with pytest.raises(Conflict) as suspended:
        enrol(node, actor=clerk, enrolment=Enrolment(other.resident_code, "library"))
    assert suspended.value.code == "JUKI-ORD-020"
    with node.session_factory() as session:
        subjects = session.scalars(
            select(AccessLogRow.subject).where(AccessLogRow.reason.like("card-service:enrolled%"))
        ).all()
    assert holder.resident_code in subjects


def test_terminal_answers_only_the_service_identifier_and_counts_the_use(
    node: ServiceContext, card_reader: Path, clock: FixedClock
) -> None:
    library(node)
    holder = resident_with_card(node)
    identifier = enrolled(node, holder)
    for _ in range(2):
        use = service_terminal.use_service_with_pin(
            node, code="library", serial=holder.serial, pin=PIN, place="library-desk-1"
        )
        assert use == service_terminal.ServiceUse("library", identifier)
        assert holder.resident_code not in repr(use)
    clock.advance(days=1)
    challenge = service_terminal.service_challenge(node, code="library", place="library-desk-1")
    use = service_terminal.use_service(
        node,
        code="library",
        serial=holder.serial,
        challenge_id=challenge.challenge_id,
        signature=signed_challenge(node, challenge.message, holder.serial),
        place="library-desk-1",
    )
    assert use.service_identifier == identifier
    with node.session_factory() as session:
        counts = session.execute(
            select(CardServiceUseRow.day, CardServiceUseRow.count).order_by(CardServiceUseRow.day)
        ).all()
    today = node.today()
    assert [tuple(row) for row in counts] == [(today - timedelta(days=1), 2), (today, 1)]
    [figures] = card_service_figures(
        node, month_labels=("2026-11",), start=date(2026, 11, 1), end=date(2026, 12, 1)
    )
    assert (figures.service.code, figures.total) == ("library", 3)
    # The resident's disclosure shows the service's terminal used their card.
    with node.session_factory() as session:
        used = session.scalars(
            select(AccessLogRow.subject).where(AccessLogRow.reason == "card-service:used: library")
        ).all()
    assert used == [holder.resident_code] * 3


def _refused_use(node: ServiceContext, code: str, serial: str, pin: str = PIN) -> DomainError:
    before = table_digests(node)
    with pytest.raises(DomainError) as refused:
        service_terminal.use_service_with_pin(
            node, code=code, serial=serial, pin=pin, place="library-desk-1"
        )
    after = table_digests(node)
    # Only the refusal's log entries, the card's trail and the challenge changed: no
    # enrolment, no use count, no registry row.
    changed = {name for name in after if after[name] != before[name]}
    assert changed <= TERMINAL_REFUSAL_WRITES, changed
    assert f"card-service:refused {refused.value.code}: {code}" in _reasons(node)
    return refused.value


def test_terminal_refusals_are_clear_logged_and_write_no_use(
    node: ServiceContext, card_reader: Path
) -> None:
    supervisor = make_actor(node, Role.SUPERVISOR)
    library(node, supervisor)
    add_service(node, actor=supervisor, service=_kiosk())
    holder = resident_with_card(node)
    enrolled(node, holder)

    not_enrolled = _refused_use(node, "certificate-kiosk", holder.serial)
    assert (not_enrolled.code, not_enrolled.status) == ("JUKI-ORD-030", 403)
    unknown = _refused_use(node, "gym", holder.serial)
    assert (unknown.code, unknown.status) == ("JUKI-ORD-011", 404)
    wrong_pin = _refused_use(node, "library", holder.serial, pin="9999")
    assert isinstance(wrong_pin, AuthenticationFailed)
    assert wrong_pin.code == "JUKI-ORD-035"

    # Locked at three wrong PINs (the register counts them): refused even with the right PIN.
    _refused_use(node, "library", holder.serial, pin="9999")
    _refused_use(node, "library", holder.serial, pin="9999")
    locked = _refused_use(node, "library", holder.serial)
    assert (locked.code, locked.status) == ("JUKI-ORD-033", 409)

    other = resident_with_card(node, given="花子")
    enrolled(node, other)
    # A signature made before the card was suspended is refused after the loss report.
    challenge = service_terminal.service_challenge(node, code="library", place="desk")
    signature = signed_challenge(node, challenge.message, other.serial)
    counter.report_loss(
        node,
        actor=make_actor(node),
        report=LossReport(other.serial, "山田 花子", CallerRelation.SELF, ("name",)),
    )
    with pytest.raises(Conflict) as suspended:
        service_terminal.use_service(
            node,
            code="library",
            serial=other.serial,
            challenge_id=challenge.challenge_id,
            signature=signature,
            place="desk",
        )
    assert suspended.value.code == "JUKI-ORD-031"

    deactivate_service(node, actor=supervisor, code="library")
    third = resident_with_card(node, given="四郎")
    inactive = _refused_use(node, "library", third.serial)
    assert (inactive.code, inactive.status) == ("JUKI-ORD-012", 409)
    with node.session_factory() as session:
        assert session.scalars(select(CardServiceUseRow)).all() == []
