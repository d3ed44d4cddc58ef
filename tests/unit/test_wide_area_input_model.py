"""One input model for 広域交付: every field of ``WideAreaRequest`` exists in the page, the API
and the command line (``items`` as the page's boxes and the CLI's ``--with``)."""

from __future__ import annotations

import dataclasses
import inspect

from jukinet.cli.certificates import wide_area_command
from jukinet.services.certificates.wide_area import WideAreaRequest
from jukinet.web.api.wide_area import ItemsBody, WideAreaBody
from jukinet.web.ui.wide_area import WIDE_AREA_INPUTS

_FIELDS = {field.name for field in dataclasses.fields(WideAreaRequest)}


def test_the_api_body_has_every_field() -> None:
    assert set(WideAreaBody.model_fields) == _FIELDS
    assert set(ItemsBody.model_fields) == {"relationship", "resident_code", "domicile"}


def test_the_page_has_every_field() -> None:
    page = set(WIDE_AREA_INPUTS) - {"with_relationship", "with_code"}
    assert page | {"items"} == _FIELDS


def test_the_cli_has_every_field() -> None:
    options = set(inspect.signature(wide_area_command).parameters)
    assert (_FIELDS - {"items"}) | {"with_items"} <= options
