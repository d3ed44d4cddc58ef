"""The kinds of message that travel between nodes (one home for every kind's wire name).

Identity messages go up the tiers and are kept there; a routed message travels between two
municipalities through the tiers, which relay it without keeping it; the routed payload names
its own kind (e.g. a move-in notice).
"""

from __future__ import annotations

from enum import StrEnum


class MessageKind(StrEnum):
    """An envelope's ``kind`` (and a routed payload's inner kind); the value is the wire name."""

    #: A change to one resident's identity-confirmation information (本人確認情報).
    IDENTITY_NOTICE = "identity_notice"
    #: A resident's current state (initial load, reconciliation repair, opt back in).
    IDENTITY_SNAPSHOT = "identity_snapshot"
    #: Hold nothing about this resident any more (opt-out, reconciliation repair).
    IDENTITY_WITHDRAWAL = "identity_withdrawal"
    #: A resident card's status (valid, suspended, invalid) by its serial; kept upstream.
    CARD_STATUS_NOTICE = "card_status_notice"
    #: A message for another municipality, relayed hop by hop; its payload has an inner kind.
    ROUTED = "routed"
    #: 転入通知: the new municipality tells the old one that the person moved in (routed).
    MOVE_IN_NOTICE = "move_in_notice"
    #: An incident notice (threat level 2 and above): up to the prefecture and on to the centre,
    #: sealed by the node that decided the level.
    INCIDENT_NOTICE = "incident_notice"
    #: An order of the national centre (quarantine of a node, its lifting, the network-wide
    #: threat level): down the tiers to every node, sealed by the centre.
    EMERGENCY_ORDER = "emergency_order"


#: Kinds that carry identity information upstream and are stored by prefecture and centre.
IDENTITY_KINDS: frozenset[MessageKind] = frozenset(
    {MessageKind.IDENTITY_NOTICE, MessageKind.IDENTITY_SNAPSHOT, MessageKind.IDENTITY_WITHDRAWAL}
)

#: Kinds whose body the node that made them seals (checked by the inbox against that node's
#: certificate, whoever relayed them).
ORIGIN_SEALED_KINDS: frozenset[MessageKind] = frozenset(
    {MessageKind.INCIDENT_NOTICE, MessageKind.EMERGENCY_ORDER}
)
