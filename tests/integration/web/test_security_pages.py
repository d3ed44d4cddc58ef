"""The security console's pages: permits, accounts, operator cards, terminals, hours.

Each role does its page's actions (the register changes, the access log gets the event's tag);
a clerk is refused every /security/* GET and POST; a post without the anti-forgery token is
refused; bad input is a 4xx with the message next to its input and leaves storage unchanged.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from jukinet.domain.operators import Role
from jukinet.services.context import ServiceContext
from jukinet.services.operator_security.cards import list_cards, register_token_card
from jukinet.storage.tables import (
    AccessLogRow,
    CalendarDayRow,
    OperatingHoursRow,
    OperatorRow,
    TerminalRow,
)
from tests.support.cards import (
    SoftAuthenticator,
    TokenCard,
    card_administrator,
    csrf_of,
    page_sign_in,
)
from tests.support.clock import FixedClock
from tests.support.factories import PASSWORD, make_actor, node_of, security_key_of, sign_in_page
from tests.support.snapshots import table_digests

#: Touched by every sign-in and ceremony; the register's own tables are compared.
_SESSION_TABLES = frozenset({"operator_sessions", "signin_challenges"})


def _signed_in(client: TestClient, role: Role, username: str) -> None:
    node = node_of(client)
    make_actor(node, role, username=username)
    assert sign_in_page(client, username).status_code == 303


def _other_client(client: TestClient) -> TestClient:
    """A second browser on the same app (its own cookies)."""
    return TestClient(client.app)


def _post(client: TestClient, path: str, data: dict[str, Any], *, page: str) -> Response:
    token = csrf_of(client.get(page).text)
    response: Response = client.post(
        path, data={**data, "csrf_token": token}, follow_redirects=False
    )
    return response


def _done(response: Response, page: str, done: str) -> None:
    assert response.status_code == 303, response.text[:2000]
    assert response.headers["location"] == f"{page}?done={done}"


def _log(node: ServiceContext) -> list[str]:
    with node.session_factory() as session:
        rows = session.scalars(select(AccessLogRow).order_by(AccessLogRow.position)).all()
        return [row.reason or "" for row in rows]


def _logged(node: ServiceContext, tag: str) -> list[str]:
    return [reason for reason in _log(node) if reason.startswith(tag)]


def _error_next_to(html: str, field: str) -> str:
    match = re.search(
        rf'<p class="error-message" id="{re.escape(field)}-error"[^>]*>(.*?)</p>', html, re.S
    )
    assert match, f"no error next to {field}"
    return re.sub(r"<[^>]+>", "", match[1])


def _operator(node: ServiceContext, username: str) -> OperatorRow:
    with node.session_factory() as session:
        row = session.scalars(select(OperatorRow).where(OperatorRow.username == username)).one()
        session.expunge(row)
        return row


# ---------------------------------------------------------------------------------------------
# Permits
# ---------------------------------------------------------------------------------------------


def test_out_of_hours_permit_asked_approved_and_in_force(
    node: ServiceContext, client: TestClient, clock: FixedClock
) -> None:
    clock.advance(hours=8)  # Thursday 20:00 in Japan: closed
    _signed_in(client, Role.CLERK, "clerk1")
    sent = client.get("/", follow_redirects=False)
    assert sent.status_code == 303
    assert sent.headers["location"] == "/permits?closed=1"
    page = client.get("/permits?closed=1")
    assert page.status_code == 200
    assert 'data-testid="closed-banner"' in page.text
    assert "業務時間外です" in page.text
    assert "outside operating hours" in page.text
    assert 'value="120"' in page.text  # the default length, from the settings

    asked = _post(
        client,
        "/permits",
        {"permit_reason": "転入届の処理が残っているため", "permit_minutes": "60"},
        page="/permits",
    )
    _done(asked, "/permits", "requested")
    mine = client.get("/permits").text
    assert 'data-state="requested"' in mine
    assert "2026-11-26 20:00" in mine  # asked at 20:00, shown in Japan time
    assert _logged(node, "operator:permit:requested")

    officer = _other_client(client)
    _signed_in(officer, Role.SECURITY_OFFICER, "anzen")
    approvals = officer.get("/permits").text
    match = re.search(r'action="/permits/(\d+)/approve"', approvals)
    assert match, approvals
    assert "clerk1" in approvals
    approved = _post(officer, f"/permits/{match[1]}/approve", {}, page="/permits")
    _done(approved, "/permits", "approved")
    assert _logged(node, "operator:permit:approved")

    after = client.get("/permits")
    assert 'data-testid="permit-in-force"' in after.text
    assert 'data-state="in_force"' in after.text
    assert 'data-testid="closed-banner"' not in after.text
    assert client.get("/", follow_redirects=False).status_code == 200

    # The holder ends it: out of hours again on the next request.
    ended = _post(client, f"/permits/{match[1]}/end", {}, page="/permits")
    _done(ended, "/permits", "ended")
    assert client.get("/", follow_redirects=False).headers["location"] == "/permits?closed=1"


def test_nobody_approves_their_own_permit_and_bad_minutes_are_shown(
    node: ServiceContext, client: TestClient
) -> None:
    _signed_in(client, Role.SECURITY_OFFICER, "anzen")
    _post(
        client, "/permits", {"permit_reason": "夜間の点検", "permit_minutes": ""}, page="/permits"
    )
    html = client.get("/permits").text
    permit_id = re.search(r'data-permit="(\d+)"', html)
    assert permit_id
    before = table_digests(node, exclude=_SESSION_TABLES)

    own = _post(client, f"/permits/{permit_id[1]}/approve", {}, page="/permits")
    assert own.status_code == 403
    assert "自分の時間外利用許可は承認できません" in own.text
    bad = _post(
        client, "/permits", {"permit_reason": "点検", "permit_minutes": "abc"}, page="/permits"
    )
    assert bad.status_code == 422
    assert "数字" in _error_next_to(bad.text, "permit_minutes")
    too_long = _post(
        client, "/permits", {"permit_reason": "点検", "permit_minutes": "9999"}, page="/permits"
    )
    assert too_long.status_code == 422
    assert "5分から12時間" in _error_next_to(too_long.text, "permit_minutes")
    assert table_digests(node, exclude=_SESSION_TABLES) == before


# ---------------------------------------------------------------------------------------------
# Accounts
# ---------------------------------------------------------------------------------------------


def test_security_officer_manages_accounts(node: ServiceContext, client: TestClient) -> None:
    _signed_in(client, Role.SECURITY_OFFICER, "anzen")
    target = _other_client(client)
    _signed_in(target, Role.CLERK, "clerk1")
    with node.uow() as uow:
        row = uow.operators.by_username("clerk1")
        assert row is not None
        row.failed_signins, row.locked_at = 5, node.now()
        uow.commit()

    page = client.get("/security/accounts")
    assert page.status_code == 200
    assert 'data-account="clerk1" data-role="clerk" data-active="true" data-locked="true"' in (
        page.text
    )
    assert 'data-session-of="clerk1"' in page.text  # the live session, before the lock ends it

    form = "/security/accounts"
    unlocked = _post(
        client,
        "/security/accounts/unlock",
        {"unlock_username": "clerk1", "unlock_reason": "本人確認の上"},
        page=form,
    )
    _done(unlocked, form, "unlocked")
    assert _operator(node, "clerk1").locked_at is None
    assert _operator(node, "clerk1").failed_signins == 0
    assert "operator:account:unlocked: clerk1: 本人確認の上" in _log(node)

    disabled = _post(
        client,
        "/security/accounts/enabled",
        {"enable_username": "clerk1", "enable_choice": "disable", "enable_reason": "休職"},
        page=form,
    )
    _done(disabled, form, "disabled")
    assert _operator(node, "clerk1").active is False
    assert _logged(node, "operator:account:disabled")
    assert target.get("/", follow_redirects=False).headers["location"] == "/login"
    enabled = _post(
        client,
        "/security/accounts/enabled",
        {"enable_username": "clerk1", "enable_choice": "enable", "enable_reason": "復職"},
        page=form,
    )
    _done(enabled, form, "enabled")
    assert _operator(node, "clerk1").active is True
    assert _logged(node, "operator:account:enabled")

    changed = _post(
        client,
        "/security/accounts/role",
        {"role_username": "clerk1", "role_role": "supervisor", "role_reason": "昇任"},
        page=form,
    )
    _done(changed, form, "role")
    assert _operator(node, "clerk1").role == "supervisor"
    assert _logged(node, "operator:account:role-changed: clerk1: clerk -> supervisor")

    new_password = "another long password"
    reset = _post(
        client,
        "/security/accounts/password",
        {
            "reset_username": "clerk1",
            "reset_password": new_password,
            "reset_password2": new_password,
            "reset_reason": "失念",
        },
        page=form,
    )
    _done(reset, form, "reset")
    assert _logged(node, "operator:account:password-reset: clerk1")
    again = _other_client(client)
    assert (
        page_sign_in(again, "clerk1", PASSWORD, security_key_of(client, "clerk1")).status_code
        != 303
    )
    assert (
        page_sign_in(again, "clerk1", new_password, security_key_of(client, "clerk1")).status_code
        == 303
    )

    added = _post(
        client,
        "/security/accounts/add",
        {
            "add_username": "newclerk",
            "add_display_name": "新人 職員",
            "add_role": "clerk",
            "add_password": "a first password 1",
            "add_password2": "a first password 1",
        },
        page=form,
    )
    _done(added, form, "added")
    assert _operator(node, "newclerk").role == "clerk"
    assert "operator:account:added: newclerk (clerk)" in _log(node)
    assert "新人 職員" in client.get("/security/accounts").text


def test_account_forms_show_errors_next_to_their_inputs(
    node: ServiceContext, client: TestClient
) -> None:
    _signed_in(client, Role.SECURITY_OFFICER, "anzen")
    make_actor(node, Role.CLERK, username="clerk1")
    form = "/security/accounts"
    client.get(form)
    before = table_digests(node, exclude=_SESSION_TABLES)

    no_reason = _post(
        client,
        "/security/accounts/unlock",
        {"unlock_username": "clerk1", "unlock_reason": " "},
        page=form,
    )
    assert no_reason.status_code == 422
    assert _error_next_to(no_reason.text, "unlock_reason")
    not_locked = _post(
        client,
        "/security/accounts/unlock",
        {"unlock_username": "clerk1", "unlock_reason": "念のため"},
        page=form,
    )
    assert not_locked.status_code == 409
    assert "ロックされていません" in _error_next_to(not_locked.text, "unlock_username")
    unknown = _post(
        client,
        "/security/accounts/role",
        {"role_username": "nobody", "role_role": "clerk", "role_reason": "x"},
        page=form,
    )
    assert unknown.status_code == 422
    assert "アカウントはありません" in _error_next_to(unknown.text, "role_username")
    self_disable = _post(
        client,
        "/security/accounts/enabled",
        {"enable_username": "anzen", "enable_choice": "disable", "enable_reason": "x"},
        page=form,
    )
    assert self_disable.status_code == 409
    assert "自分自身" in _error_next_to(self_disable.text, "enable_username")
    mismatch = _post(
        client,
        "/security/accounts/password",
        {
            "reset_username": "clerk1",
            "reset_password": "a long new password",
            "reset_password2": "a different one!!",
            "reset_reason": "失念",
        },
        page=form,
    )
    assert mismatch.status_code == 422
    assert "一致しません" in _error_next_to(mismatch.text, "reset_password2")
    short = _post(
        client,
        "/security/accounts/add",
        {
            "add_username": "Bad Name",
            "add_display_name": "新人",
            "add_role": "wizard",
            "add_password": "short",
            "add_password2": "short",
        },
        page=form,
    )
    assert short.status_code == 422
    assert _error_next_to(short.text, "add_role")
    assert table_digests(node, exclude=_SESSION_TABLES) == before


# ---------------------------------------------------------------------------------------------
# Operator cards
# ---------------------------------------------------------------------------------------------


def _token_card(node: ServiceContext, serial: str) -> None:
    card = TokenCard(serial)
    register_token_card(
        node, actor=card_administrator(), serial=serial, public_key_der=card.public_der()
    )


def _status(node: ServiceContext, serial: str) -> tuple[str, str | None]:
    cards = {c.serial: c for c in list_cards(node, actor=card_administrator())}
    return cards[serial].status, cards[serial].holder


def test_card_administrator_lends_takes_back_revokes_and_replaces(
    node: ServiceContext, client: TestClient
) -> None:
    _signed_in(client, Role.CARD_ADMINISTRATOR, "cardadmin")
    make_actor(node, Role.CLERK, username="clerk1")
    _token_card(node, "T-0001")
    _token_card(node, "T-0002")
    form = "/security/cards"
    assert 'data-card="T-0001" data-status="in_stock"' in client.get(form).text

    _done(
        _post(
            client, form + "/lend", {"lend_serial": "t-0001", "lend_username": "clerk1"}, page=form
        ),
        form,
        "lent",
    )
    assert _status(node, "T-0001") == ("lent", "clerk1")
    assert "operator:card:lent: T-0001 to clerk1" in _log(node)

    _done(_post(client, form + "/return", {"return_serial": "T-0001"}, page=form), form, "returned")
    assert _status(node, "T-0001") == ("in_stock", None)
    assert _logged(node, "operator:card:returned: T-0001")

    _post(client, form + "/lend", {"lend_serial": "T-0001", "lend_username": "clerk1"}, page=form)
    lost = _post(
        client, form + "/lost", {"lost_serial": "T-0001", "lost_note": "帰宅途中に紛失"}, page=form
    )
    _done(lost, form, "lost")
    assert _status(node, "T-0001")[0] == "lost"
    assert _logged(node, "operator:card:lost: T-0001 (clerk1): 帰宅途中に紛失")

    replaced = _post(
        client, form + "/replace", {"replace_lost": "T-0001", "replace_new": "T-0002"}, page=form
    )
    _done(replaced, form, "replaced")
    assert _status(node, "T-0002") == ("lent", "clerk1")
    assert "operator:card:lent: T-0002 to clerk1" in _log(node)


def test_card_forms_show_errors_and_change_nothing(
    node: ServiceContext, client: TestClient
) -> None:
    _signed_in(client, Role.CARD_ADMINISTRATOR, "cardadmin")
    _token_card(node, "T-0001")
    form = "/security/cards"
    client.get(form)
    before = table_digests(node, exclude=_SESSION_TABLES)

    unknown = _post(
        client, form + "/lend", {"lend_serial": "T-9999", "lend_username": "cardadmin"}, page=form
    )
    assert unknown.status_code == 422
    assert "登録されていません" in _error_next_to(unknown.text, "lend_serial")
    nobody = _post(
        client, form + "/lend", {"lend_serial": "T-0001", "lend_username": "nobody"}, page=form
    )
    assert "アカウントはありません" in _error_next_to(nobody.text, "lend_username")
    not_lent = _post(client, form + "/return", {"return_serial": "T-0001"}, page=form)
    assert not_lent.status_code == 409
    assert _error_next_to(not_lent.text, "return_serial")
    empty = _post(client, form + "/lost", {"lost_serial": ""}, page=form)
    assert empty.status_code == 422
    assert _error_next_to(empty.text, "lost_serial")
    bad_serial = _post(client, form + "/register", {"register_serial": "x"}, page=form)
    assert bad_serial.status_code == 422
    assert "カード番号" in _error_next_to(bad_serial.text, "register_serial")
    not_lost = _post(
        client, form + "/replace", {"replace_lost": "T-0001", "replace_new": "T-0002"}, page=form
    )
    assert not_lost.status_code == 409
    assert 'data-testid="error-summary"' in not_lost.text
    assert table_digests(node, exclude=_SESSION_TABLES) == before


def test_a_lost_card_sends_its_holder_to_the_sign_in_page(
    node: ServiceContext, client: TestClient
) -> None:
    holder = _other_client(client)
    _signed_in(holder, Role.CLERK, "clerk1")
    assert holder.get("/", follow_redirects=False).status_code == 200
    _signed_in(client, Role.CARD_ADMINISTRATOR, "cardadmin")
    serial = security_key_of(holder, "clerk1").serial

    lost = _post(
        client,
        "/security/cards/lost",
        {"lost_serial": serial, "lost_note": "置き忘れ"},
        page="/security/cards",
    )
    _done(lost, "/security/cards", "lost")

    next_request = holder.get("/", follow_redirects=False)
    assert next_request.status_code == 303
    assert next_request.headers["location"] == "/login"
    sign_in = holder.get("/login")
    assert "操作者カードが返却・紛失" in sign_in.text
    assert _logged(node, f"operator:card:lost: {serial} (clerk1)")


def test_registering_a_security_key_by_its_ceremony(
    node: ServiceContext, client: TestClient
) -> None:
    _signed_in(client, Role.CARD_ADMINISTRATOR, "cardadmin")
    make_actor(node, Role.CLERK, username="clerk1")
    ceremony = _post(
        client, "/security/cards/register", {"register_serial": "k-new1"}, page="/security/cards"
    )
    assert ceremony.status_code == 200, ceremony.text[:2000]
    assert '<script src="/static/card.js" defer></script>' in ceremony.text
    assert "<script>" not in ceremony.text  # no inline script (CSP script-src 'self')
    options_match = re.search(
        r'<script type="application/json" id="card-options">(.*?)</script>', ceremony.text, re.S
    )
    challenge_match = re.search(r'name="challenge_id" value="([^"]+)"', ceremony.text)
    assert options_match
    assert challenge_match
    options = json.loads(options_match[1].replace("\\u003c", "<"))
    key = SoftAuthenticator(serial="K-NEW1")

    tampered = client.post(
        "/security/cards/register/finish",
        data={
            "csrf_token": csrf_of(ceremony.text),
            "register_serial": "K-NEW1",
            "challenge_id": challenge_match[1],
            "credential": key.attestation(options, "https://evil.example"),
        },
        follow_redirects=False,
    )
    assert tampered.status_code == 422
    assert "セキュリティキーを登録できませんでした" in tampered.text
    assert "K-NEW1" not in {c.serial for c in list_cards(node, actor=card_administrator())}

    # The challenge was used up: start again.
    ceremony = _post(
        client, "/security/cards/register", {"register_serial": "K-NEW1"}, page="/security/cards"
    )
    options_match = re.search(
        r'<script type="application/json" id="card-options">(.*?)</script>', ceremony.text, re.S
    )
    challenge_match = re.search(r'name="challenge_id" value="([^"]+)"', ceremony.text)
    assert options_match
    assert challenge_match
    options = json.loads(options_match[1].replace("\\u003c", "<"))
    finished = client.post(
        "/security/cards/register/finish",
        data={
            "csrf_token": csrf_of(ceremony.text),
            "register_serial": "K-NEW1",
            "challenge_id": challenge_match[1],
            "credential": key.attestation(options, "http://testserver"),
        },
        follow_redirects=False,
    )
    _done(finished, "/security/cards", "registered")
    assert _status(node, "K-NEW1") == ("in_stock", None)
    assert _logged(node, "operator:card:registered: K-NEW1 (webauthn)")

    # Lent, the key signs its holder in.
    _post(
        client,
        "/security/cards/lend",
        {"lend_serial": "K-NEW1", "lend_username": "clerk1"},
        page="/security/cards",
    )
    holder = _other_client(client)
    assert page_sign_in(holder, "clerk1", PASSWORD, key).status_code == 303


# ---------------------------------------------------------------------------------------------
# Terminals
# ---------------------------------------------------------------------------------------------


def _certificate_pem(name: str) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def test_security_officer_registers_and_revokes_terminals(
    node: ServiceContext, client: TestClient
) -> None:
    _signed_in(client, Role.SECURITY_OFFICER, "anzen")
    form = "/security/terminals"
    client.get(form)
    before = table_digests(node, exclude=_SESSION_TABLES)
    bad = _post(
        client,
        form + "/register",
        {"reg_name": "窓口1", "reg_place": "1階", "reg_purpose": "転入", "reg_certificate": "junk"},
        page=form,
    )
    assert bad.status_code == 422
    assert "PEM" in _error_next_to(bad.text, "reg_certificate")
    no_reason = _post(client, form + "/revoke", {"revoke_name": "窓口1"}, page=form)
    assert no_reason.status_code == 422
    assert _error_next_to(no_reason.text, "revoke_reason")
    assert table_digests(node, exclude=_SESSION_TABLES) == before

    registered = _post(
        client,
        form + "/register",
        {
            "reg_name": "madoguchi-1",
            "reg_place": "市民課 1階",
            "reg_purpose": "住民異動届",
            "reg_certificate": _certificate_pem("madoguchi-1"),
        },
        page=form,
    )
    _done(registered, form, "registered")
    page = client.get(form).text
    assert 'data-terminal="madoguchi-1" data-status="active"' in page
    assert "クライアント証明書" in page
    assert _logged(node, "operator:terminal:registered: madoguchi-1")

    revoked = _post(
        client, form + "/revoke", {"revoke_name": "madoguchi-1", "revoke_reason": "更新"}, page=form
    )
    _done(revoked, form, "revoked")
    with node.session_factory() as session:
        row = session.scalars(select(TerminalRow).where(TerminalRow.name == "madoguchi-1")).one()
        assert row.status == "revoked"
    assert "operator:terminal:revoked: madoguchi-1: 更新" in _log(node)
    again = _post(
        client, form + "/revoke", {"revoke_name": "madoguchi-1", "revoke_reason": "x"}, page=form
    )
    assert again.status_code == 409
    assert "取り消されています" in _error_next_to(again.text, "revoke_name")


# ---------------------------------------------------------------------------------------------
# Hours and calendar
# ---------------------------------------------------------------------------------------------


def _week(**changes: str) -> dict[str, str]:
    data = {}
    for d in range(7):
        if d < 5:
            data[f"h{d}_opens"], data[f"h{d}_closes"] = "08:30", "17:15"
        else:
            data[f"h{d}_closed"] = "1"
    data.update(changes)
    return data


def test_security_officer_sets_hours_and_calendar(node: ServiceContext, client: TestClient) -> None:
    _signed_in(client, Role.SECURITY_OFFICER, "anzen")
    form = "/security/hours"
    page = client.get(form)
    assert page.status_code == 200
    assert 'data-state="open"' in page.text  # Thursday noon
    assert "元日" in page.text  # the next public holiday after 26 November 2026
    assert "年末年始" in page.text
    assert 'name="h0_opens" value="08:30"' in page.text
    before = table_digests(node, exclude=_SESSION_TABLES)

    bad = _post(client, form, _week(h1_opens="25:00"), page=form)
    assert bad.status_code == 422
    assert "HH:MM" in _error_next_to(bad.text, "h1_opens")
    backwards = _post(client, form, _week(h2_opens="18:00"), page=form)
    assert "前に" in _error_next_to(backwards.text, "h2_closes")
    empty = _post(client, form, _week(h3_opens=""), page=form)
    assert _error_next_to(empty.text, "h3_opens")
    no_note = _post(
        client, form + "/calendar", {"cal_day": "2026-12-01", "cal_state": "closed"}, page=form
    )
    assert no_note.status_code == 422
    assert _error_next_to(no_note.text, "cal_note")
    bad_day = _post(
        client, form + "/calendar", {"cal_day": "someday", "cal_state": "closed"}, page=form
    )
    assert _error_next_to(bad_day.text, "cal_day")
    assert table_digests(node, exclude=_SESSION_TABLES) == before

    # An unticked box is not posted at all.
    saved_data = _week(h5_opens="09:00", h5_closes="12:00")
    saved_data.pop("h5_closed")
    saved = _post(client, form, saved_data, page=form)
    _done(saved, form, "hours")
    with node.session_factory() as session:
        rows = {r.weekday: (r.opens, r.closes) for r in session.scalars(select(OperatingHoursRow))}
    assert rows[5] == ("09:00", "12:00")
    assert rows[6] == ("", "")
    assert _logged(node, "operator:hours:changed: 0=08:30-17:15")

    day = _post(
        client,
        form + "/calendar",
        {"cal_day": "令和8年12月1日", "cal_state": "closed", "cal_note": "庁舎点検"},
        page=form,
    )
    _done(day, form, "calendar")
    with node.session_factory() as session:
        entry = session.get(CalendarDayRow, date(2026, 12, 1))
        assert entry is not None
        assert entry.open is False
        assert entry.note == "庁舎点検"
    assert "operator:hours:changed: 2026-12-01 closed" in _log(node)
    assert 'data-day="2026-12-01" data-open="false"' in client.get(form).text


# ---------------------------------------------------------------------------------------------
# Refusals, navigation and the terminal label
# ---------------------------------------------------------------------------------------------

_PAGES = ("/security/accounts", "/security/cards", "/security/terminals", "/security/hours")
_POSTS = (
    "/security/accounts/unlock",
    "/security/accounts/enabled",
    "/security/accounts/role",
    "/security/accounts/password",
    "/security/accounts/add",
    "/security/cards/lend",
    "/security/cards/return",
    "/security/cards/lost",
    "/security/cards/replace",
    "/security/cards/register",
    "/security/cards/register/finish",
    "/security/terminals/revoke",
    "/security/terminals/register",
    "/security/hours",
    "/security/hours/calendar",
    "/permits/1/approve",
)


def test_a_clerk_is_refused_every_security_page_and_action(
    node: ServiceContext, client: TestClient
) -> None:
    _signed_in(client, Role.CLERK, "clerk1")
    make_actor(node, Role.CLERK, username="clerk2")
    token = csrf_of(client.get("/permits").text)
    before = table_digests(node, exclude=_SESSION_TABLES)
    for path in _PAGES:
        page = client.get(path)
        assert page.status_code == 403, path
        assert "権限がありません" in page.text
    for path in _POSTS:
        data = {
            "csrf_token": token,
            "unlock_username": "clerk2",
            "unlock_reason": "x",
            "lend_serial": "T-0001",
            "lend_username": "clerk1",
            "register_serial": "K-0001",
        }
        refused = client.post(path, data=data, follow_redirects=False)
        assert refused.status_code == 403, path
        without_token = client.post(path, data={}, follow_redirects=False)
        assert without_token.status_code == 403, path
    assert table_digests(node, exclude=_SESSION_TABLES) == before
    nav = client.get("/permits").text
    assert 'href="/permits"' in nav
    for path in _PAGES:
        assert f'href="{path}"' not in nav


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/security/accounts/unlock", {"unlock_username": "clerk1", "unlock_reason": "x"}),
        ("/security/accounts/add", {"add_username": "someone", "add_role": "clerk"}),
        ("/permits", {"permit_reason": "x", "permit_minutes": "30"}),
        ("/security/hours/calendar", {"cal_day": "2026-12-01", "cal_state": "clear"}),
    ],
)
def test_a_post_without_the_token_is_refused(
    node: ServiceContext, client: TestClient, path: str, data: dict[str, str]
) -> None:
    _signed_in(client, Role.SECURITY_OFFICER, "anzen")
    make_actor(node, Role.CLERK, username="clerk1")
    before = table_digests(node, exclude=_SESSION_TABLES)
    for token in (None, "forged"):
        sent = {**data, **({"csrf_token": token} if token else {})}
        refused = client.post(path, data=sent, follow_redirects=False)
        assert refused.status_code == 403
        assert "フォームの有効期限が切れました" in refused.text
    assert table_digests(node, exclude=_SESSION_TABLES) == before


def test_navigation_follows_permissions_and_every_page_names_the_terminal(
    node: ServiceContext, client: TestClient
) -> None:
    _signed_in(client, Role.SECURITY_OFFICER, "anzen")
    for path in ("/permits", *_PAGES):
        if path == "/security/cards":
            assert client.get(path).status_code == 403  # the card register is not theirs
            continue
        html = client.get(path).text
        assert 'data-testid="terminal"' in html, path
        assert "loopback-demo" in html
        assert "デモ・試験用ループバック端末" in html
        assert 'href="/security/accounts"' in html
        assert 'href="/security/terminals"' in html
        assert 'href="/security/hours"' in html
        assert 'href="/security/cards"' not in html
    client.get("/lang/en")
    english = client.get("/security/hours").text
    assert "Operating hours and calendar" in english
    assert "Loopback terminal for demo and tests" in english

    admin = _other_client(client)
    _signed_in(admin, Role.CARD_ADMINISTRATOR, "cardadmin")
    html = admin.get("/security/cards").text
    assert 'href="/security/cards"' in html
    assert 'href="/security/accounts"' not in html
    # A card administrator cannot ask for permits; the page says so instead of a form.
    permits = admin.get("/permits")
    assert permits.status_code == 200
    assert 'data-testid="permit-form"' not in permits.text
