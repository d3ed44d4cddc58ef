"""The counter's pages and MJ identifiers (issue 14 item 5): a name whose kanji has no MJ glyph
is refused next to its field with nothing stored; the record shows its glyphs' identifiers."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from jukinet.services.context import ServiceContext
from tests.integration.web.test_pages import _error_next_to, _move_in_form, _post, clerk
from tests.support.factories import with_pool

__all__ = ["clerk"]  # the signed-in clerk of test_pages, used here as a fixture
TSUCHIYOSHI = "\U00020bb7"  # 𠮷


def test_a_kanji_without_an_mj_identifier_is_refused_next_to_its_field(
    node: ServiceContext, client: TestClient, clerk: Any
) -> None:
    with_pool(node)
    form = _move_in_form(p0_given_name="葛\U000e0100", p0_given_name_kana="カツ")
    response = _post(client, "/events/move-in", form, form_page="/events/move-in")
    assert response.status_code == 422
    message = _error_next_to(response.text, "p0_given_name")
    assert "MJ文字" in message
    assert "U+845B+U+E0100" in message
    with node.uow() as uow:
        assert uow.residents.count(active_only=False) == 0


def test_the_record_shows_the_mj_identifiers_of_its_name(
    node: ServiceContext, client: TestClient, clerk: Any
) -> None:
    with_pool(node)
    form = _move_in_form(
        p0_given_name=f"{TSUCHIYOSHI}郎", p0_given_name_kana="ヨシロウ", from_abroad="1"
    )
    response = _post(client, "/events/move-in", form, form_page="/events/move-in")
    assert response.status_code == 303, response.text
    page = client.get(response.headers["location"]).text
    shown = page.split('data-testid="name-mj">')[1].split("<")[0]
    assert shown == f"髙:MJ028902 {TSUCHIYOSHI}:MJ032129"
