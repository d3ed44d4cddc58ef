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


def test_emergency_decisions_have_one_input_model_in_every_adapter() -> None:
    from jukinet.cli import emergency as cli
    from jukinet.domain.emergency import DisconnectProposal, LevelDecision
    from jukinet.web.api.emergency import LevelBody, ProposalBody
    from jukinet.web.ui import emergency as page

    assert set(LevelBody.model_fields) == _fields(LevelDecision)
    assert set(ProposalBody.model_fields) == _fields(DisconnectProposal)
    assert set(page._LEVEL_INPUTS) == _fields(LevelDecision)
    assert set(page._PROPOSAL_INPUTS) == _fields(DisconnectProposal)
    level_options = set(inspect.signature(cli.level_command).parameters) - {
        "ctx",
        "folder",
        "operator",
    }
    assert level_options == _fields(LevelDecision)
    # The command line has one command per action: together they take every field.
    by_action = {
        "activate": cli.disconnect_command,
        "renew": cli.renew_command,
        "end": cli.end_command,
    }
    typed: set[str] = {"action"}
    for command in by_action.values():
        typed |= set(inspect.signature(command).parameters) - {"ctx", "folder", "operator"}
    assert {
        "minutes" if f == "duration_minutes" else f for f in _fields(DisconnectProposal)
    } == typed
