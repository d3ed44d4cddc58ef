"""The console's second sign-in step: the officer's own card (a FIDO2 security key).

After the password (``POST /agency/login``) the session is half open; this page asks the
officer's key, through WebAuthn (``/static/card.js``, shared with the counter's operator card),
to sign a one-time challenge with its PIN verified, and only then opens the console.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from jukinet.domain.errors import DomainError
from jukinet.services import agency_officer_cards
from jukinet.web.agency.common import (
    COOKIE,
    PREFIX,
    MaybeOfficer,
    Organisation,
    node_of,
    redirect,
    render,
    require_recipient,
)

router = APIRouter(prefix=PREFIX, include_in_schema=False)


def _origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def _refused(request: Request, organisation: str, error: DomainError) -> Response:
    response = render(
        request,
        "agency/login.html",
        {"error": error},
        status=error.status,
        organisation=organisation,
    )
    response.delete_cookie(COOKIE, path=PREFIX)
    return response


@router.get("/card")
async def card_page(
    request: Request, organisation: Organisation, officer: MaybeOfficer
) -> Response:
    """Ask the officer's card to sign the challenge."""
    if officer is not None:
        return redirect(PREFIX)
    await run_in_threadpool(require_recipient, request, organisation)
    node, secret = node_of(request), request.cookies.get(COOKIE)
    mode = "signin"
    try:
        try:
            challenge_id, options = await run_in_threadpool(
                agency_officer_cards.card_options, node, secret, recipient_id=organisation
            )
        except agency_officer_cards.NoCardLent:
            if not agency_officer_cards.demo_enrolment_allowed(node):
                raise
            mode = "enrol"  # the demo: the browser's own key becomes the officer's card
            challenge_id, options = await run_in_threadpool(
                agency_officer_cards.demo_enrolment_options, node, secret, recipient_id=organisation
            )
    except DomainError as error:
        return _refused(request, organisation, error)
    return render(
        request,
        "agency/card.html",
        {"challenge_id": challenge_id, "options": options, "mode": mode},
        organisation=organisation,
    )


@router.post("/card")
async def card_answer(
    request: Request,
    organisation: Organisation,
    challenge_id: Annotated[str, Form(max_length=64)] = "",
    credential: Annotated[str, Form(max_length=16_384)] = "",
    mode: Annotated[str, Form(max_length=10)] = "signin",
) -> Response:
    """Verify the card's answer; open the console, or refuse and end the half-open session."""
    await run_in_threadpool(require_recipient, request, organisation)
    try:
        await run_in_threadpool(
            agency_officer_cards.finish_demo_enrolment
            if mode == "enrol"
            else agency_officer_cards.finish_card,
            node_of(request),
            request.cookies.get(COOKIE),
            recipient_id=organisation,
            challenge_id=challenge_id,
            credential=credential,
            page_origin=_origin(request),
        )
    except DomainError as error:
        return _refused(request, organisation, error)
    return redirect(PREFIX)
