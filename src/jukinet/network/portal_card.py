"""The resident's side of the portal sign-in: their card, on their own reader, answers the
portal's challenge (``jukinet card sign-in``).

The PIN is checked by the chip (which counts wrong tries and locks at three); the private
authentication key never leaves it. The portal answers a one-time code that the resident types
into the browser. Why not WebAuthn: the resident card is the credential the Act defines (PIN on
the chip, suspension by loss report, status on the network); a passkey would be a second
credential to enrol, lose and revoke beside it, and a loss report would have to find it too.
"""

from __future__ import annotations

import base64
from typing import Any, Final

import httpx

from jukinet.domain.errors import AuthenticationFailed, Conflict, DomainError, ValidationError
from jukinet.network import resident_card_token as chip
from jukinet.network.hsm import DEFAULT_MODULE

CHALLENGE_PATH: Final = "/api/v1/portal/challenge"
CODE_PATH: Final = "/api/v1/portal/code"
TIMEOUT_SECONDS: Final = 30.0


def _refusal(response: httpx.Response) -> DomainError:
    try:
        body: Any = response.json()
    except ValueError:
        body = {}
    errors = body.get("errors") if isinstance(body, dict) else None
    body = errors[0] if isinstance(errors, list) and errors else body
    if not isinstance(body, dict) or "code" not in body:
        return ValidationError(
            "JUKI-PORTAL-020",
            ja=f"ポータルが応答しませんでした（HTTP {response.status_code}）。",
            en=f"The portal did not answer (HTTP {response.status_code}).",
        )
    kind: type[DomainError] = {401: AuthenticationFailed, 409: Conflict}.get(
        response.status_code, ValidationError
    )
    return kind(
        str(body["code"]),
        ja=str(body.get("message_ja", "")),
        en=str(body.get("message_en", "")),
        field=body.get("field"),
    )


def sign_in_code(
    portal_url: str,
    *,
    serial: str,
    pin: str,
    http: httpx.Client | None = None,
    module: str = DEFAULT_MODULE,
) -> str:
    """Have the card sign the portal's challenge; the portal's one-time code for the browser.

    Raises the chip's refusal (wrong PIN: JUKI-CARD-030, locked: JUKI-CARD-014) or the
    portal's (suspended card, another town's card, …) as a :class:`DomainError`.
    """
    base = portal_url.rstrip("/")
    client = http or httpx.Client(timeout=TIMEOUT_SECONDS)
    try:
        answer = client.post(base + CHALLENGE_PATH)
        if answer.status_code != 200:
            raise _refusal(answer)
        challenge = answer.json()
        message = base64.b64decode(str(challenge["message"]), validate=True)
        with chip.ResidentCardToken.open(serial, pin, module=module) as card:
            signature = card.authenticate(message)
        answer = client.post(
            base + CODE_PATH,
            json={
                "serial": serial,
                "challenge_id": str(challenge["challenge_id"]),
                "signature": base64.b64encode(signature).decode("ascii"),
            },
        )
        if answer.status_code != 200:
            raise _refusal(answer)
        return str(answer.json()["code"])
    finally:
        if http is None:
            client.close()
