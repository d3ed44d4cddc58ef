"""The resident card (住基カード) counter pages, on SQLite and PostgreSQL, with SoftHSM chips.

A card issuer applies for, issues, resets, suspends, resumes and takes back a card from the
resident's cards page; a clerk may take a loss report but not issue. Bad input — a PIN that is
not four digits, two PINs that differ, no answers from the caller, another town's serial, a
second card, a photo that is not one — is shown beside its input (Japanese or English) at 4xx,
the input kept, and changes nothing: no table, no photo file, no chip.
"""

from __future__ import annotations

import re
import stat
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from jukinet.domain.operators import Role
from jukinet.network import resident_card_token as chip
from jukinet.network.hsm import DEFAULT_MODULE
from jukinet.services.context import ServiceContext
from tests.support.card_counter import moved_in, nothing_changes, ref_of
from tests.support.cards import csrf_of
from tests.support.factories import make_actor, sign_in_page

pytestmark = pytest.mark.skipif(
    not Path(DEFAULT_MODULE).exists(), reason="SoftHSM2 is not installed (apt-get install softhsm2)"
)

#: The smallest files that start as a JPEG and a PNG do (the counter checks the signature).
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 60
OTHER_TOWN_SERIAL = "141003-00000001"


@pytest.fixture
def issuer(node: ServiceContext, client: TestClient) -> TestClient:
    """The test client, signed in as a card issuer."""
    make_actor(node, Role.CARD_ISSUER, username="issuer1")
    assert sign_in_page(client, "issuer1").status_code == 303
    return client


@pytest.fixture
def clerk(node: ServiceContext, client: TestClient) -> TestClient:
    """A second browser, signed in as a clerk."""
    other = TestClient(client.app)
    make_actor(node, Role.CLERK, username="clerk1")
    assert sign_in_page(other, "clerk1").status_code == 303
    return other


@pytest.fixture
def ref(node: ServiceContext) -> str:
    """The record reference of a resident who has just moved in."""
    return ref_of(node, moved_in(node))


def _post(
    client: TestClient, path: str, data: dict[str, Any], files: Any = None, *, token: str = ""
) -> Response:
    token = token or csrf_of(client.get(path).text)
    response: Response = client.post(
        path, data={**data, "csrf_token": token}, files=files, follow_redirects=False
    )
    return response


def _error_next_to(html: str, field: str) -> str:
    match = re.search(
        rf'<p class="error-message" id="{re.escape(field)}-error"[^>]*>(.*?)</p>', html, re.S
    )
    assert match, f"no error next to {field}"
    return re.sub(r"<[^>]+>", "", match[1])


def _done(response: Response, ref: str, done: str) -> None:
    assert response.status_code == 303, response.text[:3000]
    assert response.headers["location"] == f"/records/{ref}/cards?done={done}"


def _serial(html: str) -> str:
    match = re.search(r'data-card="(\d{6}-\d{8})"', html)
    assert match, "no card on the page"
    return match[1]


def _apply(client: TestClient, ref: str) -> str:
    _done(_post(client, f"/records/{ref}/cards/apply", {"card_form": "name_only"}), ref, "applied")
    return _serial(client.get(f"/records/{ref}/cards").text)


def _issue(client: TestClient, ref: str, pin: str = "1234") -> str:
    serial = _apply(client, ref)
    issued = _post(
        client,
        f"/records/{ref}/cards/issue",
        {"serial": serial, "pin": pin, "pin_confirmation": pin, "id_document": "passport"},
    )
    _done(issued, ref, "issued")
    return serial


def _row_of(html: str, serial: str) -> str:
    match = re.search(rf'<tr data-card="{serial}".*?</tr>', html, re.S)
    assert match, html
    return match[0]


def test_the_record_page_links_the_cards_page_and_every_form_renders(
    issuer: TestClient, ref: str
) -> None:
    record = issuer.get(f"/records/{ref}")
    assert f'href="/records/{ref}/cards"' in record.text
    cards = issuer.get(f"/records/{ref}/cards")
    assert cards.status_code == 200
    assert 'data-testid="no-cards"' in cards.text
    assert "住民基本台帳カード" in cards.text
    assert f'href="/records/{ref}/cards/apply"' in cards.text
    for procedure, heading in (
        ("apply", "交付申請"),
        ("issue", "住基カード 交付"),
        ("pin-reset", "暗証番号の再設定"),
        ("loss", "紛失届（一時停止）"),
        ("resume", "一時停止の解除"),
        ("return", "住基カードの返納"),
    ):
        page = issuer.get(f"/records/{ref}/cards/{procedure}")
        assert page.status_code == 200, procedure
        assert heading in page.text, procedure
        assert 'name="csrf_token"' in page.text
    issue_form = issuer.get(f"/records/{ref}/cards/issue").text
    assert 'type="password" id="pin"' in issue_form
    assert 'type="password" id="pin_confirmation"' in issue_form


def test_a_card_issuer_takes_a_card_through_its_life(
    node: ServiceContext, issuer: TestClient, ref: str, card_reader: Path
) -> None:
    serial = _apply(issuer, ref)
    assert serial.startswith("132292-")
    applied = issuer.get(f"/records/{ref}/cards?done=applied").text
    assert "交付申請を受け付けました。" in applied
    assert 'data-state="applied"' in applied
    # The issuance form offers the card applied for.
    assert f'value="{serial}"' in issuer.get(f"/records/{ref}/cards/issue").text

    issued = _post(
        issuer,
        f"/records/{ref}/cards/issue",
        {"serial": serial, "pin": "4821", "pin_confirmation": "4821", "id_document": "passport"},
    )
    _done(issued, ref, "issued")
    page = issuer.get(f"/records/{ref}/cards").text
    row = _row_of(page, serial)
    assert 'data-state="valid"' in row
    assert 'data-network="valid"' in row
    assert "令和18年11月25日" in row  # ten years less a day from 2026-11-26
    assert "正常" in row
    assert "4821" not in page
    with chip.ResidentCardToken.open(serial, "4821") as card:
        assert card.resident_code()

    reset = _post(
        issuer,
        f"/records/{ref}/cards/pin-reset",
        {
            "serial": serial,
            "new_pin": "0007",
            "pin_confirmation": "0007",
            "id_document": "drivers_licence",
        },
    )
    _done(reset, ref, "pin_reset")
    with chip.ResidentCardToken.open(serial, "0007") as card:
        assert card.resident_code()

    lost = _post(
        issuer,
        f"/records/{ref}/cards/loss",
        {
            "serial": serial,
            "caller_name": "山田 花子",
            "caller_relation": "family",
            "answered": ["name", "birth_date"],
            "note": "駅で紛失",
        },
    )
    _done(lost, ref, "suspended")
    suspended = issuer.get(f"/records/{ref}/cards").text
    assert 'data-network="suspended"' in _row_of(suspended, serial)
    assert "一時停止" in _row_of(suspended, serial)

    _done(
        _post(
            issuer,
            f"/records/{ref}/cards/resume",
            {"serial": serial, "id_document": "passport"},
        ),
        ref,
        "resumed",
    )
    _done(_post(issuer, f"/records/{ref}/cards/return", {"serial": serial}), ref, "returned")
    ended = issuer.get(f"/records/{ref}/cards").text
    assert "廃止（返納）" in _row_of(ended, serial)
    history = re.search(r'data-testid="card-history".*?</table>', ended, re.S)
    assert history
    for event in ("交付申請", "交付", "暗証番号の再設定", "紛失届（一時停止）", "一時停止の解除"):
        assert event in history[0], event
    assert "山田 花子（家族）" in history[0]
    assert "氏名、生年月日" in history[0]
    assert "旅券" in history[0]
    # Once the card has ended, a new one may be applied for.
    assert f'href="/records/{ref}/cards/apply"' in ended


def test_a_photo_id_application_keeps_the_photo_as_a_private_file(
    node: ServiceContext, issuer: TestClient, ref: str
) -> None:
    folder = node.settings.card_photo_folder
    path = f"/records/{ref}/cards/apply"
    token = csrf_of(issuer.get(path).text)
    with nothing_changes(node, folder):
        missing = _post(issuer, path, {"card_form": "photo_id"}, token=token)
        assert missing.status_code == 422
        assert "写真付きカードには写真が必要です" in _error_next_to(missing.text, "photo")
        assert 'value="photo_id" selected' in missing.text  # the choice is kept
        not_a_photo = _post(
            issuer,
            path,
            {"card_form": "photo_id"},
            files={"photo": ("photo.jpg", b"GIF89a not a photo", "image/jpeg")},
            token=token,
        )
        assert not_a_photo.status_code == 422
        assert "JPEG または PNG" in _error_next_to(not_a_photo.text, "photo")
        too_large = _post(
            issuer,
            path,
            {"card_form": "photo_id"},
            files={"photo": ("photo.jpg", JPEG + b"\x00" * 600_000, "image/jpeg")},
            token=token,
        )
        assert too_large.status_code == 422
        assert "512KB" in _error_next_to(too_large.text, "photo")
        no_form = _post(issuer, path, {"card_form": ""}, token=token)
        assert no_form.status_code == 422
        assert "入力してください。" in _error_next_to(no_form.text, "card_form")

    done = _post(
        issuer,
        path,
        {"card_form": "photo_id"},
        files={"photo": ("photo.jpg", JPEG, "image/jpeg")},
        token=token,
    )
    _done(done, ref, "applied")
    [stored] = [p for p in folder.iterdir() if p.is_file()]
    assert stored.read_bytes() == JPEG
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert "写真あり" in issuer.get(f"/records/{ref}/cards").text


def test_bad_issuance_input_is_shown_beside_its_field_and_changes_nothing(
    node: ServiceContext, issuer: TestClient, ref: str, card_reader: Path
) -> None:
    serial = _apply(issuer, ref)
    other_ref = ref_of(node, moved_in(node, given="次郎", given_kana="ジロウ"))
    other_serial = _apply(issuer, other_ref)
    path = f"/records/{ref}/cards/issue"
    token = csrf_of(issuer.get(path).text)
    good = {"serial": serial, "pin": "1234", "pin_confirmation": "1234", "id_document": "passport"}
    with nothing_changes(node, card_reader, node.settings.card_photo_folder):
        short = _post(issuer, path, good | {"pin": "12a4", "pin_confirmation": "12a4"}, token=token)
        assert short.status_code == 422
        assert "暗証番号は数字4桁で入力してください。" in _error_next_to(short.text, "pin")
        assert f'value="{serial}"' in short.text  # the serial typed is kept
        assert 'value="12a4"' not in short.text  # a PIN is never shown again

        differ = _post(issuer, path, good | {"pin_confirmation": "1243"}, token=token)
        assert differ.status_code == 422
        assert "一致しません" in _error_next_to(differ.text, "pin_confirmation")

        other_town = _post(issuer, path, good | {"serial": OTHER_TOWN_SERIAL}, token=token)
        assert other_town.status_code == 409
        assert "他の市区町村が交付したカード" in _error_next_to(other_town.text, "serial")
        assert f'value="{OTHER_TOWN_SERIAL}"' in other_town.text

        someone_elses = _post(issuer, path, good | {"serial": other_serial}, token=token)
        assert someone_elses.status_code == 409
        assert "この方のカードではありません" in _error_next_to(someone_elses.text, "serial")

        malformed = _post(issuer, path, good | {"serial": "12345"}, token=token)
        assert malformed.status_code == 422
        assert "市区町村コード6桁" in _error_next_to(malformed.text, "serial")

        no_document = _post(issuer, path, good | {"id_document": ""}, token=token)
        assert no_document.status_code == 422
        assert "入力してください。" in _error_next_to(no_document.text, "id_document")

        no_token = issuer.post(path, data=good, follow_redirects=False)
        assert no_token.status_code == 403

        unknown = _post(issuer, f"/records/{'0' * 32}/cards/issue", good, token=token)
        assert unknown.status_code == 404
    assert not any(card_reader.rglob("*.object"))


def test_a_second_card_is_refused_and_changes_nothing(
    node: ServiceContext, issuer: TestClient, ref: str
) -> None:
    _apply(issuer, ref)
    path = f"/records/{ref}/cards/apply"
    token = csrf_of(issuer.get(path).text)
    with nothing_changes(node, node.settings.card_photo_folder):
        second = _post(
            issuer,
            path,
            {"card_form": "photo_id"},
            files={"photo": ("photo.jpg", JPEG, "image/jpeg")},
            token=token,
        )
        assert second.status_code == 409
        assert "既にあります" in second.text
        assert 'data-testid="error-summary"' in second.text


def test_a_clerk_cannot_issue_but_takes_a_loss_report(
    node: ServiceContext, issuer: TestClient, clerk: TestClient, ref: str, card_reader: Path
) -> None:
    serial = _issue(issuer, ref)
    cards = clerk.get(f"/records/{ref}/cards").text
    assert f'href="/records/{ref}/cards/loss"' in cards
    assert f'href="/records/{ref}/cards/pin-reset"' not in cards
    path = f"/records/{ref}/cards/loss"
    token = csrf_of(clerk.get(path).text)
    with nothing_changes(node, card_reader):
        assert clerk.get(f"/records/{ref}/cards/issue").status_code == 403
        refused = clerk.post(
            f"/records/{ref}/cards/pin-reset",
            data={
                "serial": serial,
                "new_pin": "1111",
                "pin_confirmation": "1111",
                "id_document": "passport",
                "csrf_token": token,
            },
            follow_redirects=False,
        )
        assert refused.status_code == 403
        assert "この操作を行う権限がありません" in refused.text

        report = {"serial": serial, "caller_name": "山田 太郎", "caller_relation": "self"}
        no_answers = _post(clerk, path, report, token=token)
        assert no_answers.status_code == 422
        assert "1つ以上選んでください" in _error_next_to(no_answers.text, "answered")
        assert 'value="山田 太郎"' in no_answers.text
        no_name = _post(
            clerk, path, report | {"caller_name": "", "answered": ["phone"]}, token=token
        )
        assert no_name.status_code == 422
        assert "届出人の氏名" in _error_next_to(no_name.text, "caller_name")
        assert 'value="phone" checked' in no_name.text
        no_relation = _post(
            clerk, path, report | {"caller_relation": "", "answered": ["phone"]}, token=token
        )
        assert no_relation.status_code == 422
        assert "入力してください。" in _error_next_to(no_relation.text, "caller_relation")

    done = _post(clerk, path, report | {"answered": ["name", "phone"]}, token=token)
    _done(done, ref, "suspended")
    page = clerk.get(f"/records/{ref}/cards?done=suspended").text
    assert "カードを一時停止しました" in page
    assert 'data-network="suspended"' in _row_of(page, serial)
    # Suspended already: a second report is a clear conflict that changes nothing.
    with nothing_changes(node, card_reader):
        again = _post(clerk, path, report | {"answered": ["name"]}, token=token)
        assert again.status_code == 409
        assert "既に一時停止中" in _error_next_to(again.text, "serial")


def test_the_pages_and_their_errors_in_english(
    node: ServiceContext, issuer: TestClient, ref: str, card_reader: Path
) -> None:
    serial = _issue(issuer, ref)
    issuer.cookies.set("lang", "en")
    page = issuer.get(f"/records/{ref}/cards").text
    assert "Resident registry cards" in page
    assert "Valid" in _row_of(page, serial)
    path = f"/records/{ref}/cards/pin-reset"
    token = csrf_of(issuer.get(path).text)
    with nothing_changes(node, card_reader):
        bad = _post(
            issuer,
            path,
            {
                "serial": serial,
                "new_pin": "123",
                "pin_confirmation": "124",
                "id_document": "passport",
            },
            token=token,
        )
        assert bad.status_code == 422
        assert "The PIN must be exactly four digits." in _error_next_to(bad.text, "new_pin")
        assert "differ" in _error_next_to(bad.text, "pin_confirmation")
