"""The counter pages (窓口画面): sign-in, search, the record, event forms, roles, language."""

from __future__ import annotations

import random
import re
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from jukinet.domain.codes import mask_resident_code, random_resident_codes
from jukinet.domain.operators import Role
from jukinet.domain.register import Relationship, Sex
from jukinet.services.context import ServiceContext
from jukinet.services.reading import (
    read_history,
    read_household,
    read_resident,
    read_resident_by_ref,
)
from tests.support.factories import (
    PASSWORD,
    make_actor,
    move_in_household,
    person,
    sign_in_page,
    with_pool,
)

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _csrf(client: TestClient, path: str = "/") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    match = _CSRF.search(page.text)
    assert match, "the page has no anti-forgery token"
    return match[1]


def _login(client: TestClient, username: str, password: str = PASSWORD) -> Response:
    response: Response = sign_in_page(client, username, password)
    return response


def _post(client: TestClient, path: str, data: dict[str, Any], *, form_page: str = "/") -> Response:
    response: Response = client.post(
        path, data={**data, "csrf_token": _csrf(client, form_page)}, follow_redirects=False
    )
    return response


def _error_next_to(html: str, field: str) -> str:
    """The error message rendered right beside the input ``field``."""
    match = re.search(
        rf'<p class="error-message" id="{re.escape(field)}-error"[^>]*>(.*?)</p>', html, re.S
    )
    assert match, f"no error next to {field}"
    return re.sub(r"<[^>]+>", "", match[1])


def _watanabe(node: ServiceContext, actor: Any, **kwargs: Any) -> str:
    result = move_in_household(
        node,
        actor,
        person(
            family="渡邊",
            given="健一",
            family_kana="ワタナベ",
            given_kana="ケンイチ",
            birth_date=date(1975, 3, 14),
        ),
        person(
            family="渡邊",
            given="花子",
            family_kana="ワタナベ",
            given_kana="ハナコ",
            birth_date=date(1978, 6, 2),
            sex=Sex.FEMALE,
            relationship=Relationship.WIFE,
        ),
        **kwargs,
    )
    return result.records[0].record.resident_code


def _ref(node: ServiceContext, actor: Any, code: str) -> str:
    """The opaque reference the pages address this resident's record by."""
    return read_resident(node, actor=actor, resident_code=code).record_ref


#: A well-formed record reference no record has.
_NO_SUCH_REF = "0" * 32


@pytest.fixture
def clerk(node: ServiceContext, client: TestClient) -> Any:
    """A clerk signed in to the pages (the client carries the session)."""
    actor = make_actor(node, Role.CLERK, username="clerk1")
    assert _login(client, "clerk1").status_code == 303
    return actor


def _move_in_form(**overrides: str) -> dict[str, str]:
    data = {
        "household_mode": "new",
        "address": "東京都西東京市泉町一丁目2番3号",
        "previous_address": "東京都国立市中一丁目1番1号",
        "moved_on": "令和8年11月20日",
        "filed_on": "R8.11.26",
        "p0_family_name": "髙橋",
        "p0_given_name": "一郎",
        "p0_family_name_kana": "タカハシ",
        "p0_given_name_kana": "イチロウ",
        "p0_birth_date": "S50.3.14",
        "p0_sex": "male",
        "p0_relationship": "head",
        "p0_resident_code": "",
        "p1_relationship": "",
    }
    data.update(overrides)
    return data


# ---------------------------------------------------------------------------------------------


def test_pages_need_sign_in(client: TestClient) -> None:
    for path in ("/", f"/records/{_NO_SUCH_REF}", "/events/move-in", "/corrections?ref=1"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/login"
    posted = client.post("/events/move-in", data={}, follow_redirects=False)
    assert posted.status_code == 303
    from_htmx = client.post("/search", data={}, headers={"HX-Request": "true"})
    assert from_htmx.status_code == 401
    assert from_htmx.headers["HX-Redirect"] == "/login"
    login = client.get("/login")
    assert login.status_code == 200
    assert '<html lang="ja">' in login.text
    assert '<label for="username">' in login.text


def test_wrong_password_shows_the_form_again_with_401(
    node: ServiceContext, client: TestClient
) -> None:
    make_actor(node, Role.CLERK, username="clerk1")
    response = _login(client, "clerk1", "wrong password here")
    assert response.status_code == 401
    assert "ユーザー名またはパスワードが正しくないか" in response.text
    assert 'value="clerk1"' in response.text  # the username is kept, the password never is
    assert "wrong password here" not in response.text
    assert client.get("/", follow_redirects=False).status_code == 303


def test_form_without_the_session_token_is_refused(
    node: ServiceContext, client: TestClient
) -> None:
    make_actor(node, Role.CLERK, username="clerk1")
    response = client.post(
        "/login", data={"username": "clerk1", "password": PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 403


def test_search_by_kana_and_by_variant_kanji(
    node: ServiceContext, client: TestClient, clerk: Any
) -> None:
    code = _watanabe(node, clerk)
    by_kana = _post(client, "/search", {"name": "わたなべ　けんいち"})
    assert by_kana.status_code == 200
    assert "渡邊　健一" in by_kana.text
    assert mask_resident_code(code) in by_kana.text
    assert f"/records/{_ref(node, clerk, code)}" in by_kana.text  # the link names the record
    assert code not in by_kana.text  # …by its reference: the list shows the masked code only
    assert by_kana.headers["cache-control"] == "no-store"

    by_variant = client.post(
        "/search",
        data={"name": "渡辺", "csrf_token": _csrf(client)},
        headers={"HX-Request": "true"},
    )
    assert by_variant.status_code == 200
    assert "<html" not in by_variant.text  # htmx gets the panel alone
    assert by_variant.text.count("/records/") == 2  # husband and wife
    assert "渡邊　花子" in by_variant.text


def test_search_by_wareki_birth_date_and_bad_date(
    node: ServiceContext, client: TestClient, clerk: Any
) -> None:
    _watanabe(node, clerk)
    found = _post(client, "/search", {"birth_date": "昭和50年3月14日"})
    assert "渡邊　健一" in found.text
    assert "渡邊　花子" not in found.text
    bad = _post(client, "/search", {"birth_date": "昭和70年1月1日"})
    assert bad.status_code == 422
    assert "昭和が終わった後の日付" in _error_next_to(bad.text, "birth_date")
    empty = _post(client, "/search", {"name": ""})
    assert empty.status_code == 422
    assert "氏名（漢字またはカナ）か生年月日を入力してください。" in empty.text


def test_record_page_shows_wareki_items_household_and_history(
    node: ServiceContext, client: TestClient, clerk: Any
) -> None:
    code = _watanabe(node, clerk)
    page = client.get(f"/records/{_ref(node, clerk, code)}")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    html = page.text
    assert code not in html  # masked until revealed, on purpose
    assert f">{mask_resident_code(code)}<" in html
    for text in (
        "昭和50年3月14日",  # birth date
        "令和8年11月20日",  # resident since / address since
        "東京都国立市中一丁目1番1号",  # previous address
        "東京都千代田区千代田1番",  # domicile
        "世帯主",
        "渡邊　花子",  # household member
        "妻",
        "転入",  # history event
        "新規記載",
    ):
        assert text in html, text
    assert 'data-version="1"' in html
    assert "correction-link" not in html  # clerks do not see the supervisor's action
    assert client.get(f"/records/{_NO_SUCH_REF}").status_code == 404
    assert client.get("/records/not-a-ref").status_code == 404
    assert client.get(f"/records/{code}").status_code == 404  # a code is no reference
    assert client.get(f"/residents/{code}").status_code == 404  # the old address is gone


def test_move_in_with_hiragana_kana_shows_the_error_next_to_the_field(
    node: ServiceContext, client: TestClient, clerk: Any
) -> None:
    with_pool(node)
    response = _post(
        client,
        "/events/move-in",
        _move_in_form(p0_family_name_kana="たかはし"),
        form_page="/events/move-in",
    )
    assert response.status_code == 422
    message = _error_next_to(response.text, "p0_family_name_kana")
    assert "ひらがなは使用できません" in message
    assert 'value="たかはし"' in response.text  # what the clerk typed is kept
    assert 'value="髙橋"' in response.text
    assert 'aria-invalid="true"' in response.text
    with node.uow() as uow:
        assert uow.residents.count(active_only=False) == 0


def test_move_in_form_with_a_bad_date_and_a_service_error(
    node: ServiceContext, client: TestClient, clerk: Any
) -> None:
    bad_date = _post(
        client, "/events/move-in", _move_in_form(moved_on="令和8年2月30日"), form_page="/"
    )
    assert bad_date.status_code == 422
    assert "存在しない日付" in _error_next_to(bad_date.text, "moved_on")
    # No code and not from abroad: the service names persons[0].resident_code.
    no_code = _post(client, "/events/move-in", _move_in_form(), form_page="/")
    assert no_code.status_code == 422
    assert "住民票コードが必要です" in _error_next_to(no_code.text, "p0_resident_code")


def _resident_rows(node: ServiceContext) -> int:
    with node.uow() as uow:
        return uow.residents.count(active_only=False)


def test_move_in_with_two_bad_rows_shows_both_rows_errors_in_one_answer(
    node: ServiceContext, client: TestClient, clerk: Any
) -> None:
    _watanabe(node, clerk)
    with_pool(node)
    before = _resident_rows(node)
    response = _post(
        client,
        "/events/move-in",
        _move_in_form(
            from_abroad="1",
            p0_family_name_kana="たかはし",  # hiragana
            p1_family_name="髙橋",
            p1_given_name="次郎2",  # a digit
            p1_family_name_kana="タカハシ",
            p1_given_name_kana="ジロウ",
            p1_birth_date="H20.5.5",
            p1_sex="male",
            p1_relationship="child",
            p1_domicile="東京都千代田区千代田1番",  # without its 筆頭者
        ),
        form_page="/events/move-in",
    )
    # The service validates every person once and answers with all their errors together.
    assert response.status_code == 422
    html = response.text
    assert "ひらがなは使用できません" in _error_next_to(html, "p0_family_name_kana")
    assert "使用できない文字" in _error_next_to(html, "p1_given_name")
    assert "本籍と筆頭者は両方とも入力してください" in _error_next_to(html, "p1_domicile_head")
    for fine in ("p0_given_name", "p1_family_name", "p1_given_name_kana", "p1_birth_date"):
        assert f'id="{fine}-error"' not in html, fine
    assert 'value="次郎2"' in html  # both rows are kept as typed
    assert 'value="たかはし"' in html
    assert _resident_rows(node) == before


def test_move_in_form_offers_the_previous_municipality_and_refuses_an_unknown_one(
    node: ServiceContext, client: TestClient, clerk: Any
) -> None:
    form = client.get("/events/move-in")
    assert form.status_code == 200
    assert 'name="previous_municipality_code"' in form.text
    before = _resident_rows(node)
    # 139998 is well formed (its check digit is right) but names no municipality.
    response = _post(
        client,
        "/events/move-in",
        _move_in_form(previous_municipality_code="139998", p0_resident_code=_a_resident_code()),
        form_page="/events/move-in",
    )
    assert response.status_code == 422
    message = _error_next_to(response.text, "previous_municipality_code")
    assert "該当する地方公共団体がありません" in message
    assert 'value="139998"' in response.text
    assert _resident_rows(node) == before


def _a_resident_code() -> str:
    return random_resident_codes(random.Random(2026), 1)[0]


def test_name_errors_of_birth_name_change_and_correction_come_from_the_service(
    node: ServiceContext, client: TestClient, clerk: Any
) -> None:
    code = _watanabe(node, clerk)
    number = read_resident(node, actor=clerk, resident_code=code).record.household_number
    with_pool(node)
    before = _resident_rows(node)
    birth = _post(
        client,
        "/events/birth",
        {
            "household_number": number,
            "family_name": "渡邊",
            "given_name": "翔太",
            "family_name_kana": "ワタナベ",
            "given_name_kana": "ｼｮｳﾀ",  # half-width katakana
            "birth_date": "令和8年11月20日",
            "sex": "male",
            "relationship": "child",
            "filed_on": "令和8年11月26日",
        },
    )
    assert birth.status_code == 422
    assert "半角カタカナは使用できません" in _error_next_to(birth.text, "given_name_kana")
    assert _resident_rows(node) == before
    empty = _post(client, "/events/birth", {"household_number": number, "given_name": " "})
    assert empty.status_code == 422  # an empty name is still marked by the page itself
    assert _error_next_to(empty.text, "given_name")

    renamed = _post(
        client,
        "/events/name-change",
        {
            "record_ref": _ref(node, clerk, code),
            "expected_version": "1",
            "family_name": "佐藤<b>",
            "given_name": "健一",
            "family_name_kana": "サトウ",
            "given_name_kana": "ケンイチ",
            "changed_on": "R8.11.26",
            "filed_on": "R8.11.26",
        },
    )
    assert renamed.status_code == 422
    assert "使用できない文字" in _error_next_to(renamed.text, "family_name")
    assert read_resident(node, actor=clerk, resident_code=code).version == 1

    client.post("/logout", data={"csrf_token": _csrf(client)})
    make_actor(node, Role.SUPERVISOR, username="super1")
    assert _login(client, "super1").status_code == 303
    corrected = _post(
        client,
        "/corrections",
        {
            "record_ref": _ref(node, clerk, code),
            "expected_version": "1",
            "family_name": "渡邊",
            "given_name": "健一",
            "family_name_kana": "わたなべ",
            "given_name_kana": "ケンイチ",
            "birth_date": "昭和50年3月14日",
            "sex": "male",
            "address": "東京都西東京市泉町一丁目2番3号",
            "reason_note": "届書の記載誤り",
        },
    )
    assert corrected.status_code == 422
    assert "ひらがなは使用できません" in _error_next_to(corrected.text, "family_name_kana")
    assert len(read_history(node, actor=clerk, resident_code=code)) == 1


def test_move_in_through_the_form_then_late_notice(
    node: ServiceContext, client: TestClient, clerk: Any
) -> None:
    with_pool(node)
    response = _post(
        client,
        "/events/move-in",
        _move_in_form(
            moved_on="2026-10-01",
            from_abroad="1",
            p1_family_name="髙橋",
            p1_given_name="次郎",
            p1_family_name_kana="タカハシ",
            p1_given_name_kana="ジロウ",
            p1_birth_date="H20.5.5",
            p1_sex="male",
            p1_relationship="child",
        ),
    )
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert re.fullmatch(r"/records/[0-9a-f]{32}\?done=move_in&late=1", location)
    page = client.get(location)
    assert "転入届を受け付けました。" in page.text
    assert "届出期間超過（遅延）" in page.text
    assert "髙橋　次郎" in page.text
    assert "遅延" in page.text.split('data-testid="history"')[1]


def test_move_within_adds_a_version_with_what_changed(
    node: ServiceContext, client: TestClient, clerk: Any
) -> None:
    code = _watanabe(node, clerk)
    household = read_resident(node, actor=clerk, resident_code=code).record.household_number
    response = _post(
        client,
        "/events/move-within",
        {
            "household_number": household,
            "address": "東京都西東京市田無町四丁目5番6号",
            "moved_on": "R8.11.25",
            "filed_on": "R8.11.26",
            "return_ref": _ref(node, clerk, code),
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/records/{_ref(node, clerk, code)}?done=move_within"
    page = client.get(response.headers["location"]).text
    assert "転居届を受け付けました。" in page
    assert "届出期間超過" not in page
    history = page.split('data-testid="history"')[1]
    assert 'data-version="2"' in history
    assert "転居" in history
    assert "東京都西東京市田無町四丁目5番6号" in history
    # The operator by display name, never as "#4" (issue 17, item 10).
    assert clerk.display_name in history
    assert not re.search(r"<td>#\d+</td>", history)
    assert len(read_history(node, actor=clerk, resident_code=code)) == 2


def test_move_out_from_the_record_page_and_removed_record(
    node: ServiceContext, client: TestClient, clerk: Any
) -> None:
    code = _watanabe(node, clerk)
    view = read_resident(node, actor=clerk, resident_code=code)
    ref = view.record_ref
    page = client.get(f"/records/{ref}").text
    assert 'form="move-out-form" name="resident_refs"' in page
    refs = re.findall(r'name="resident_refs" value="([0-9a-f]{32})"', page)
    wife = next(m for m in refs if m != ref)
    # The head alone cannot leave the household behind without a head.
    refused = _post(
        client,
        "/events/move-out",
        {
            "household_number": view.record.household_number,
            "resident_refs": [ref],
            "destination": "大阪府大阪市北区梅田1丁目",
            "planned_on": "R8.12.1",
            "filed_on": "R8.11.26",
        },
    )
    assert refused.status_code == 422
    assert "世帯主がいません" in _error_next_to(refused.text, "resident_refs")
    moved = _post(
        client,
        "/events/move-out",
        {
            "household_number": view.record.household_number,
            "resident_refs": [ref, wife],
            "destination": "大阪府大阪市北区梅田1丁目",
            "planned_on": "R8.12.1",
            "filed_on": "R8.11.26",
            "return_ref": ref,
        },
    )
    assert moved.status_code == 303
    removed = client.get(moved.headers["location"]).text
    assert 'data-testid="removed-banner"' in removed
    assert "転出" in removed
    assert "令和8年12月1日" in removed
    assert "/events/death" not in removed  # no counter events on a 除票
    hidden = _post(client, "/search", {"name": "ワタナベ"})
    assert "渡邊" not in hidden.text.split('data-testid="results"')[1]
    shown = _post(client, "/search", {"name": "ワタナベ", "include_removed": "1"})
    assert "除票" in shown.text.split('data-testid="results"')[1]


def test_name_change_with_a_stale_version_is_a_clear_conflict(
    node: ServiceContext, client: TestClient, clerk: Any
) -> None:
    code = _watanabe(node, clerk)
    ref = _ref(node, clerk, code)
    form = client.get(f"/events/name-change?ref={ref}&v=1")
    assert 'name="expected_version" value="1"' in form.text
    data = {
        "record_ref": ref,
        "expected_version": "1",
        "family_name": "佐藤",
        "given_name": "健一",
        "family_name_kana": "サトウ",
        "given_name_kana": "ケンイチ",
        "changed_on": "R8.11.26",
        "filed_on": "R8.11.26",
    }
    done = _post(client, "/events/name-change", data)
    assert done.status_code == 303
    stale = _post(client, "/events/name-change", {**data, "family_name": "鈴木"})
    assert stale.status_code == 409
    assert "他の操作者によって更新されました" in stale.text
    assert 'value="鈴木"' in stale.text


def test_death_of_the_head_with_a_new_head(
    node: ServiceContext, client: TestClient, clerk: Any
) -> None:
    code = _watanabe(node, clerk)
    ref = _ref(node, clerk, code)
    form = client.get(f"/events/death?ref={ref}&v=1").text
    wife = re.search(r'<option value="([0-9a-f]{32})">渡邊　花子', form)
    assert wife, "the remaining member is offered as the new head"
    response = _post(
        client,
        "/events/death",
        {
            "record_ref": ref,
            "expected_version": "1",
            "died_on": "R8.11.24",
            "filed_on": "R8.11.26",
            "new_head_ref": wife[1],
        },
    )
    assert response.status_code == 303
    page = client.get(response.headers["location"]).text
    assert "死亡届を受け付けました。" in page
    assert 'data-testid="removed-badge"' in page


def test_household_change_and_code_change(
    node: ServiceContext, client: TestClient, clerk: Any
) -> None:
    code = _watanabe(node, clerk)
    number = read_resident(node, actor=clerk, resident_code=code).record.household_number
    members = read_household(node, actor=clerk, household_number=number).members
    wife = next(m.record.resident_code for m in members if m.record.resident_code != code)
    ref, wife_ref = _ref(node, clerk, code), _ref(node, clerk, wife)
    dates = {"changed_on": "R8.11.26", "filed_on": "R8.11.26"}
    # The wife becomes head; the former head becomes her husband.
    become_head = _post(
        client,
        "/events/household-change",
        {"record_ref": wife_ref, "mode": "become_head", **dates},
    )
    assert become_head.status_code == 422
    assert _error_next_to(become_head.text, "old_head_relationship")
    become_head = _post(
        client,
        "/events/household-change",
        {
            "record_ref": wife_ref,
            "mode": "become_head",
            "old_head_relationship": "husband",
            **dates,
        },
    )
    assert become_head.status_code == 303, become_head.text
    assert "世帯変更を受け付けました。" in client.get(become_head.headers["location"]).text
    assert read_resident(node, actor=clerk, resident_code=wife).record.is_head
    # He then splits off as the head of a household of his own.
    split = _post(
        client,
        "/events/household-change",
        {"record_ref": ref, "mode": "new_household", **dates},
    )
    assert split.status_code == 303, split.text
    moved = read_resident(node, actor=clerk, resident_code=code)
    assert moved.record.is_head
    assert moved.record.household_number != number

    with_pool(node)
    stale = _post(
        client,
        "/events/code-change",
        {"record_ref": ref, "expected_version": "1", "filed_on": "R8.11.26"},
    )
    assert stale.status_code == 409
    changed = _post(
        client,
        "/events/code-change",
        {"record_ref": ref, "expected_version": str(moved.version), "filed_on": "R8.11.26"},
    )
    assert changed.status_code == 303
    # The record keeps its reference; its code is new, and the page shows it masked.
    assert changed.headers["location"] == f"/records/{ref}?done=code_change"
    new_code = read_resident_by_ref(node, actor=clerk, record_ref=ref).record.resident_code
    assert new_code != code
    page = client.get(changed.headers["location"]).text
    assert "住民票コード変更" in page
    assert f">{mask_resident_code(new_code)}<" in page
    assert new_code not in page


def test_birth_and_joining_a_household(
    node: ServiceContext, client: TestClient, clerk: Any
) -> None:
    code = _watanabe(node, clerk)
    number = read_resident(node, actor=clerk, resident_code=code).record.household_number
    with_pool(node)
    form = client.get(f"/events/birth?household={number}").text
    assert 'value="渡邊"' in form  # the head's family name is suggested
    born = _post(
        client,
        "/events/birth",
        {
            "household_number": number,
            "family_name": "渡邊",
            "given_name": "翔太",
            "family_name_kana": "ワタナベ",
            "given_name_kana": "ショウタ",
            "birth_date": "令和8年11月20日",
            "sex": "male",
            "relationship": "child",
            "filed_on": "令和8年11月26日",
        },
    )
    assert born.status_code == 303, born.text
    assert "出生届を受け付けました。" in client.get(born.headers["location"]).text
    unknown = _post(
        client,
        "/events/move-in",
        _move_in_form(household_mode="join", household_number="9999999999", from_abroad="1"),
    )
    assert unknown.status_code == 422
    assert _error_next_to(unknown.text, "household_number")
    joined = _post(
        client,
        "/events/move-in",
        _move_in_form(
            household_mode="join",
            household_number=number,
            address="",
            from_abroad="1",
            p0_relationship="cohabitant",
        ),
    )
    assert joined.status_code == 303, joined.text
    page = client.get(joined.headers["location"]).text
    assert "髙橋　一郎" in page
    assert "同居人" in page
    assert "渡邊　翔太" in page  # same household


def test_clerk_cannot_correct_but_a_supervisor_can(
    node: ServiceContext, client: TestClient, clerk: Any
) -> None:
    code = _watanabe(node, clerk)
    ref = _ref(node, clerk, code)
    correction = {
        "record_ref": ref,
        "expected_version": "1",
        "family_name": "渡邉",
        "given_name": "健一",
        "family_name_kana": "ワタナベ",
        "given_name_kana": "ケンイチ",
        "birth_date": "昭和50年3月15日",
        "sex": "male",
        "address": "東京都西東京市泉町一丁目2番3号",
        "reason_note": "届書の記載誤り",
    }
    assert client.get(f"/corrections?ref={ref}").status_code == 403
    assert _post(client, "/corrections", correction).status_code == 403
    assert len(read_history(node, actor=clerk, resident_code=code)) == 1

    client.post("/logout", data={"csrf_token": _csrf(client)})
    make_actor(node, Role.SUPERVISOR, username="super1")
    assert _login(client, "super1").status_code == 303
    record = client.get(f"/records/{ref}").text
    assert 'data-testid="correction-link"' in record
    assert client.get(f"/corrections?ref={ref}&v=1").status_code == 200
    no_reason = _post(client, "/corrections", {**correction, "reason_note": ""})
    assert no_reason.status_code == 422
    assert _error_next_to(no_reason.text, "reason_note")
    done = _post(client, "/corrections", correction)
    assert done.status_code == 303, done.text
    page = client.get(done.headers["location"]).text
    assert "職権修正を記録しました。" in page
    assert "渡邉　健一" in page
    assert "昭和50年3月15日" in page
    assert "届書の記載誤り" in page


def test_english_switch_changes_the_labels(
    node: ServiceContext, client: TestClient, clerk: Any
) -> None:
    ref = _ref(node, clerk, _watanabe(node, clerk))
    switched = client.get(
        "/lang/en",
        headers={"referer": f"http://testserver/records/{ref}"},
        follow_redirects=False,
    )
    assert switched.status_code == 303
    assert switched.headers["location"] == f"/records/{ref}"
    page = client.get(f"/records/{ref}").text
    assert '<html lang="en">' in page
    assert "Resident record" in page
    assert "Date of birth" in page
    assert "14 Mar 1975 (Showa 50)" in page
    assert "Move-in" in page
    search = client.get("/").text
    assert "Search residents" in search
    assert "Include removed records" in search
    client.get("/lang/ja")
    assert "住民検索" in client.get("/").text


def test_security_officer_gets_a_refusal_not_a_crash(
    node: ServiceContext, client: TestClient
) -> None:
    make_actor(node, Role.SECURITY_OFFICER, username="sec1")
    assert _login(client, "sec1").status_code == 303
    response = _post(client, "/search", {"name": "ワタナベ"})
    assert response.status_code == 403
    assert "権限がありません" in response.text
    assert client.get(f"/records/{_NO_SUCH_REF}").status_code == 403


def test_an_error_beside_its_field_does_not_repeat_the_field_path(
    node: ServiceContext, client: TestClient, clerk: Any
) -> None:
    # 131017's check digit is wrong: the message sits beside the input, so it says the rule only.
    response = _post(
        client,
        "/events/move-in",
        _move_in_form(previous_municipality_code="131017", p0_resident_code=_a_resident_code()),
        form_page="/events/move-in",
    )
    assert response.status_code == 422
    message = _error_next_to(response.text, "previous_municipality_code")
    assert "検査数字が正しくありません" in message
    assert "previous_municipality_code" not in message


def test_a_persons_error_beside_its_input_names_no_internal_path(
    node: ServiceContext, client: TestClient, clerk: Any
) -> None:
    code = _a_resident_code()
    wrong = code[:-1] + str((int(code[-1]) + 1) % 10)
    response = _post(
        client,
        "/events/move-in",
        _move_in_form(p0_resident_code=wrong),
        form_page="/events/move-in",
    )
    assert response.status_code == 422
    message = _error_next_to(response.text, "p0_resident_code")
    assert message.strip()
    assert "persons[" not in message
    assert "resident_code:" not in message
