"""One input model per use case for the card move: the API bodies, the counter pages and the
CLI carry exactly the fields of ``CardMoveOut``, ``CardMoveIn`` and ``CardContinuation``."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable

from jukinet.cli.card_move import (
    card_continue_command,
    card_move_in_command,
    card_move_out_command,
)
from jukinet.services.card_move.inputs import CardContinuation, CardMoveIn, CardMoveOut
from jukinet.web.api.card_move import (
    CardContinuationRequest,
    CardMoveInRequest,
    CardMoveOutRequest,
)
from jukinet.web.ui.card_move import _CONTINUE_INPUTS, _IN_INPUTS, _OUT_INPUTS

#: Pages name residents by record reference, never by resident code.
_AS_REFS = {"holder_code": "holder_ref", "member_codes": "member_refs"}


def _fields(model: type) -> set[str]:
    return {field.name for field in dataclasses.fields(model)}


def test_the_api_bodies_have_exactly_the_models_fields() -> None:
    assert set(CardMoveOutRequest.model_fields) == _fields(CardMoveOut)
    assert set(CardMoveInRequest.model_fields) == _fields(CardMoveIn)
    assert set(CardContinuationRequest.model_fields) == _fields(CardContinuation)


def test_the_pages_have_exactly_the_models_fields() -> None:
    assert set(_OUT_INPUTS) == {_AS_REFS.get(f, f) for f in _fields(CardMoveOut)}
    assert set(_IN_INPUTS) == _fields(CardMoveIn)
    assert set(_CONTINUE_INPUTS) == _fields(CardContinuation)


def options(command: Callable[..., object]) -> set[str]:
    """The parameters (options and arguments) of a CLI command."""
    return set(inspect.signature(command).parameters)


def test_the_cli_has_every_field_of_the_models() -> None:
    out = options(card_move_out_command)
    assert _fields(CardMoveOut) <= out
    # The PIN is typed on the pad (or read from standard input), never given as an option.
    assert _fields(CardMoveIn) - {"pin"} <= options(card_move_in_command)
    assert _fields(CardContinuation) - {"pin"} <= options(card_continue_command)
