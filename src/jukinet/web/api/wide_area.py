"""広域交付 over the JSON API: the counter's request in, the certificate's PDF out."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import Field

from jukinet.domain.certificates import OptionalItems
from jukinet.domain.wide_area import Identification
from jukinet.services.certificates.wide_area import WideAreaRequest, issue_wide_area
from jukinet.services.resident_card.inputs import IdDocument
from jukinet.web.api.schemas import Strict
from jukinet.web.auth import ApiActor, NodeDep
from jukinet.web.errors import ERROR_RESPONSES

router = APIRouter(
    tags=["certificates"],
    responses={k: ERROR_RESPONSES[k] for k in (401, 403, 409, 422)},
)


class ItemsBody(Strict):
    """Optional items the resident asked for (the domicile is refused for a wide-area copy)."""

    relationship: bool = False
    resident_code: bool = False
    domicile: bool = False


class WideAreaBody(Strict):
    """A wide-area copy: the card and its PIN, or a photo ID's details and the home town."""

    identification: Identification
    household: bool = False
    items: ItemsBody = Field(default_factory=ItemsBody)
    card_serial: Annotated[str, Field(max_length=20)] = ""
    pin: Annotated[str, Field(max_length=8)] = ""
    home_municipality_code: Annotated[str, Field(max_length=6)] = ""
    id_document: IdDocument | None = None
    name: Annotated[str, Field(max_length=100)] = ""
    birth_date: date | None = None
    address: Annotated[str, Field(max_length=200)] = ""


@router.post(
    "/certificates/wide-area",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}, "description": "The certificate's PDF"},
    },
)
def wide_area_copy(body: WideAreaBody, node: NodeDep, actor: ApiActor) -> Response:
    """住民票の写しの広域交付: ask the home municipality, print the copy here (PDF).

    409 with JUKI-RELAY-0xx when the home municipality cannot be asked (and why), or with its
    refusal (JUKI-WIDE-010…013); nothing is printed then.
    """
    request = WideAreaRequest(
        **(body.model_dump(exclude={"items"}) | {"items": OptionalItems(**body.items.model_dump())})
    )
    issued = issue_wide_area(node, actor=actor, request=request)
    return Response(
        issued.pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="certificate-{issued.serial}.pdf"',
            "X-Certificate-Serial": issued.serial,
            "X-Fee-Yen": str(issued.fee_yen),
        },
    )
