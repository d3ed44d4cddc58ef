"""The table of relayed request purposes a municipality answers (see :mod:`jukinet.services.
relay`): built when the network endpoint needs it, never by import-time registration.

Add a purpose here with its answering function; every node uses the same table, so relays
know the affair to record for it.
"""

from __future__ import annotations

from jukinet.services.relay import RelayPurpose


def relay_purposes() -> dict[str, RelayPurpose]:
    """Every purpose by name."""
    from jukinet.services.card_move.pull import AFFAIR, PURPOSE, answer_card_move
    from jukinet.services.certificates.wide_area_answer import answer_wide_area

    purposes = [
        RelayPurpose(name="wide_area_copy", affair="広域交付", answer=answer_wide_area),
        RelayPurpose(name=PURPOSE, affair=AFFAIR, answer=answer_card_move),
    ]
    return {purpose.name: purpose for purpose in purposes}
