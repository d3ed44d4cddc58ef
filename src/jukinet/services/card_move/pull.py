"""The card move over the network: the new municipality pulls the move-out information from
the old one through the tiers' relay (M2 → P2 → centre → P1 → M1, signed and verified at each
hop, logged at every node under the affair 「転入転出の特例」; :mod:`jukinet.services.relay`).

The old municipality answers with :func:`answer_card_move` (registered in the relay's purpose
table); a refusal on the merits (no such planned move, a card no longer valid) is an answer too
and comes back to the clerk with the old municipality's code and message.
"""

from __future__ import annotations

from typing import Any, Final

from jukinet.domain.errors import Conflict, DomainError
from jukinet.network.relay import RelayRequest
from jukinet.services.card_move.move_out import move_out_information
from jukinet.services.context import ServiceContext
from jukinet.services.relay import ask_municipality

#: The relay purpose of the card move, and the affair every node logs it under.
PURPOSE: Final = "card_move"
AFFAIR: Final = "転入転出の特例"


def answer_card_move(node: ServiceContext, request: RelayRequest) -> dict[str, Any]:
    """At the old municipality: the move-out information for the asking one, or a refusal."""
    serial = request.body.get("serial")
    try:
        info = move_out_information(node, serial=str(serial), asked_by=str(request.origin))
    except DomainError as error:
        return {"refused": error.as_dict()}
    return {"move_out": info}


def _malformed() -> Conflict:
    return Conflict(
        "JUKI-MOVE-021",
        ja="転出元から受け取った転出証明書情報が不正です。",
        en="The move-out information from the old municipality is malformed.",
        field="serial",
    )


def pull_move_out(node: ServiceContext, old_code: str, serial: str) -> dict[str, Any]:
    """At the new municipality: the move-out information of card ``serial`` from ``old_code``.

    Raises the relay's failure (JUKI-RELAY-…) when the old municipality cannot be asked, and
    the old municipality's own refusal (its code and message) when it answers no.
    """
    _request, answer = ask_municipality(
        node, destination=old_code, purpose=PURPOSE, body={"serial": serial}
    )
    refused = answer.get("refused")
    if isinstance(refused, dict):
        try:
            raise Conflict(
                str(refused["code"]),
                ja=str(refused["message_ja"]),
                en=str(refused["message_en"]),
                field="serial",
            )
        except KeyError:
            raise _malformed() from None
    info = answer.get("move_out")
    if not isinstance(info, dict):
        raise _malformed()
    return info
