"""One input model per card procedure: the page's inputs and the API's request fields are the
input model's fields (``services/resident_card/inputs.py``), so no adapter loses one."""

from __future__ import annotations

import dataclasses

import pytest
from pydantic import BaseModel

from jukinet.services.resident_card.inputs import (
    CardApplication,
    CardIssue,
    LossReport,
    PinReset,
    Resumption,
)
from jukinet.web.api.card_schemas import (
    CardApplicationRequest,
    CardIssueRequest,
    LossReportRequest,
    PinResetRequest,
    ResumptionRequest,
)
from jukinet.web.ui.resident_cards.forms import PROCEDURES

#: The application sends the photo itself where the model names the stored file.
_APPLICATION_API = {"photo_ref": "photo"}
#: The page names the resident by the record in its address, and the form as card_form.
_APPLICATION_PAGE = {"form": "card_form", "photo_ref": "photo"}


def _fields(model: type, renamed: dict[str, str] | None = None) -> set[str]:
    names = {field.name for field in dataclasses.fields(model)}
    return {(renamed or {}).get(name, name) for name in names}


@pytest.mark.parametrize(
    ("request_model", "model"),
    [
        (CardIssueRequest, CardIssue),
        (PinResetRequest, PinReset),
        (LossReportRequest, LossReport),
        (ResumptionRequest, Resumption),
    ],
)
def test_the_api_request_has_every_field_of_the_input_model(
    request_model: type[BaseModel], model: type
) -> None:
    assert set(request_model.model_fields) == _fields(model)


def test_the_application_request_sends_the_photo_itself() -> None:
    assert set(CardApplicationRequest.model_fields) == _fields(CardApplication, _APPLICATION_API)


def test_each_page_has_every_field_of_its_input_model() -> None:
    inputs = {procedure.name: set(procedure.inputs) for procedure in PROCEDURES}
    assert inputs["apply"] == _fields(CardApplication, _APPLICATION_PAGE) - {"resident_code"}
    assert inputs["issue"] == _fields(CardIssue)
    assert inputs["pin_reset"] == _fields(PinReset)
    assert inputs["loss"] == _fields(LossReport)
    assert inputs["resume"] == _fields(Resumption)
    assert inputs["return"] == {"serial"}
