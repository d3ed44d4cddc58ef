"""One input model per use case: a move-in field exists in the page, the API and the CLI, or in
none of them (the first build lost the move-in notice to the old town because one adapter had
``previous_municipality_code`` and the others did not)."""

from __future__ import annotations

import dataclasses
import inspect

from jukinet.cli.register import move_in_command
from jukinet.services.register import MoveIn, PersonInput
from jukinet.web.api.schemas import MoveInRequest, PersonBody
from jukinet.web.ui.events.arrivals import _MOVE_IN_INPUTS, PERSON_FIELDS

#: Set by the endpoint (職権記載 has its own), not typed by the clerk.
_BY_ENDPOINT = {"ex_officio"}
#: How the page and the CLI say "a new household" / "these persons" instead of a field.
_PAGE_ONLY = {"household_mode"}


def _fields(model: type) -> set[str]:
    return {field.name for field in dataclasses.fields(model)}


def test_the_api_request_has_every_field_of_the_input_model() -> None:
    assert set(MoveInRequest.model_fields) == _fields(MoveIn) - _BY_ENDPOINT
    assert set(PersonBody.model_fields) == _fields(PersonInput)


def test_the_counter_page_has_every_field_of_the_input_model() -> None:
    page = set(_MOVE_IN_INPUTS) - _PAGE_ONLY
    assert page == _fields(MoveIn) - _BY_ENDPOINT - {"persons"}
    # Insurance flags are kept on the record page, not typed at the move-in counter.
    assert set(PERSON_FIELDS) == _fields(PersonInput) - {"insurance"}


def test_the_cli_has_every_field_of_the_input_model() -> None:
    options = set(inspect.signature(move_in_command).parameters)
    wanted = (_fields(MoveIn) - _BY_ENDPOINT - {"persons"}) | (_fields(PersonInput) - {"insurance"})
    assert wanted <= options
