"""What the access log records about operators themselves (pure).

Each event is written with a structured tag (``source:subject:action``, as warehouse does) at the
start of its ``reason``, so that the transparency page can count sign-ins, permits and lockouts
per month without reading anything personal.
"""

from __future__ import annotations

from enum import StrEnum


class OperatorEvent(StrEnum):
    """Tags of operator, card, terminal and permit events."""

    SIGNIN = "operator:session:signin"
    SIGNIN_FAILED = "operator:session:signin-failed"
    SIGNIN_LOCKED_ACCOUNT = "operator:session:signin-refused-locked"
    SIGNOUT = "operator:session:signout"
    SESSIONS_ENDED = "operator:session:ended"
    #: A command of the administrative command line, run by a signed-in operator.
    COMMAND = "operator:cli:command"
    ADDED = "operator:account:added"
    #: One of the node's first three operators, created once by ``jukinet bootstrap``.
    BOOTSTRAPPED = "operator:account:bootstrapped"
    LOCKED = "operator:account:locked"
    UNLOCKED = "operator:account:unlocked"
    DISABLED = "operator:account:disabled"
    ENABLED = "operator:account:enabled"
    ROLE_CHANGED = "operator:account:role-changed"
    PASSWORD_CHANGED = "operator:account:password-changed"  # noqa: S105 - an event tag
    PASSWORD_RESET = "operator:account:password-reset"  # noqa: S105 - an event tag
    CARD_REGISTERED = "operator:card:registered"
    CARD_LENT = "operator:card:lent"
    CARD_RETURNED = "operator:card:returned"
    CARD_LOST = "operator:card:lost"
    CARD_REFUSED = "operator:card:refused"
    CARD_CLONED = "operator:card:cloned"
    #: An agency officer's card (a FIDO2 security key) lent, or reported lost (revoked).
    OFFICER_CARD_LENT = "agency:officer-card:lent"
    OFFICER_CARD_LOST = "agency:officer-card:lost"
    TERMINAL_REGISTERED = "operator:terminal:registered"
    TERMINAL_REVOKED = "operator:terminal:revoked"
    TERMINAL_REFUSED = "operator:terminal:refused"
    PERMIT_REQUESTED = "operator:permit:requested"
    PERMIT_APPROVED = "operator:permit:approved"
    PERMIT_ENDED = "operator:permit:ended"
    HOURS_CHANGED = "operator:hours:changed"
    #: A security officer opened the security console or the network map (page, API).
    SECURITY_CONSOLE_VIEWED = "security:console:viewed"
    #: The municipality was connected to or disconnected from the network.
    PARTICIPATION_CHANGED = "node:participation:changed"
    #: The security council's decision on the threat level was recorded (or an order received).
    THREAT_LEVEL_CHANGED = "node:threat-level:changed"
    #: A first card proposed to cut, renew or end an emergency disconnect.
    EMERGENCY_PROPOSED = "node:emergency:proposed"
    #: A second card countersigned: the cut started, was renewed or ended.
    EMERGENCY_ACTIVATED = "node:emergency:activated"
    EMERGENCY_RENEWED = "node:emergency:renewed"
    EMERGENCY_ENDED = "node:emergency:ended"
    #: An affair was marked urgent (still provided at threat level 3), or unmarked.
    URGENT_AFFAIR_CHANGED = "node:emergency:urgent-affair"

    def reason(self, text: str = "") -> str:
        """The log's reason: the tag, then what a reader needs (never personal data)."""
        return f"{self.value}: {text}" if text else self.value
