"""Registering recipients and granting or revoking statutory affairs (the versioned registry).

Who may use what, from when, is itself recorded: each grant and revocation is an append-only
entry naming the official who decided, the document that decided it, the Act's row it rests on
and when it was written (``jukinet.domain.affairs``). The official is the signed-in operator
with the right to manage recipients, never free text: a registry entry must point at someone who
can be asked.
"""

from __future__ import annotations

from datetime import date

from jukinet.data.affairs import SEED_RECIPIENTS, SeedRecipient
from jukinet.domain.affairs import Recipient, RegistryEntry
from jukinet.domain.operators import Actor, Permission
from jukinet.services.context import ServiceContext
from jukinet.storage.registry import build_registry, save_entry, save_recipient

#: Who decided the demo's seed grants (synthetic data only; never a real official).
SEED_DECIDER = "seed"
SEED_DECISION = "demo seed (design/domain.md §4.4)"


def _check(actor: Actor | None) -> None:
    # ``None`` is the node's own administrator at the command line (like `operator add`).
    if actor is not None:
        actor.require(Permission.MANAGE_RECIPIENTS)


def register_recipient(node: ServiceContext, *, actor: Actor | None, recipient: Recipient) -> bool:
    """Register ``recipient``; ``False`` when the same one was already registered."""
    _check(actor)
    with node.uow() as uow:
        added = save_recipient(uow.session, recipient, now=node.now())
        uow.commit()
    return added


def grant(
    node: ServiceContext,
    *,
    actor: Actor,
    recipient_id: str,
    affair_code: str,
    decision: str,
    valid_from: date | None = None,
    valid_until: date | None = None,
    reason: str | None = None,
) -> RegistryEntry:
    """Let a recipient use an affair from ``valid_from`` (default today, Japan time).

    ``actor`` is the deciding official, signed in, and ``decision`` the document that decided;
    both are recorded with the Act's row the grant rests on.
    """
    actor.require(Permission.MANAGE_RECIPIENTS)
    return _grant(
        node,
        recipient_id=recipient_id,
        affair_code=affair_code,
        decided_by=actor.username,
        decision=decision,
        valid_from=valid_from,
        valid_until=valid_until,
        reason=reason,
    )


def _grant(
    node: ServiceContext,
    *,
    recipient_id: str,
    affair_code: str,
    decided_by: str,
    decision: str,
    valid_from: date | None,
    valid_until: date | None,
    reason: str | None,
) -> RegistryEntry:
    with node.uow() as uow:
        registry = build_registry(uow.session)
        entry = registry.grant(
            recipient_id,
            affair_code,
            valid_from=valid_from or node.today(),
            valid_until=valid_until,
            granted_by=decided_by,
            recorded_at=node.now(),
            reason=reason,
            decision=decision,
        )
        save_entry(uow.session, entry)
        uow.commit()
    return entry


def revoke(
    node: ServiceContext,
    *,
    actor: Actor,
    recipient_id: str,
    affair_code: str,
    decision: str,
    effective_from: date | None = None,
    reason: str | None = None,
) -> RegistryEntry:
    """End a recipient's use of an affair from ``effective_from`` (default today), decided by
    the signed-in ``actor`` in the document ``decision``."""
    actor.require(Permission.MANAGE_RECIPIENTS)
    with node.uow() as uow:
        registry = build_registry(uow.session)
        entry = registry.revoke(
            recipient_id,
            affair_code,
            effective_from=effective_from or node.today(),
            revoked_by=actor.username,
            recorded_at=node.now(),
            reason=reason,
            decision=decision,
        )
        save_entry(uow.session, entry)
        uow.commit()
    return entry


def recipients(node: ServiceContext) -> list[tuple[Recipient, list[str]]]:
    """Every registered recipient with the affair codes it may use today."""
    with node.uow() as uow:
        registry = build_registry(uow.session)
    today = node.today()
    return [
        (recipient, [affair.code for affair in registry.affairs_for(recipient.id, today)])
        for recipient in registry.recipients.values()
    ]


def history(node: ServiceContext, recipient_id: str) -> tuple[RegistryEntry, ...]:
    """Every grant and revocation concerning one recipient, oldest first."""
    with node.uow() as uow:
        return build_registry(uow.session).history(recipient_id)


def seed(
    node: ServiceContext,
    *,
    seeds: tuple[SeedRecipient, ...] = SEED_RECIPIENTS,
    valid_from: date | None = None,
) -> int:
    """Register the example recipients of domain.md §4.4 with their affairs (for demos and tests).

    Idempotent: affairs a recipient already holds today are not granted again. Returns the
    number of grants made. The entries name :data:`SEED_DECIDER`, not an official: they are
    synthetic, like the residents they serve.
    """
    made = 0
    start = valid_from or node.today()
    for item in seeds:
        register_recipient(node, actor=None, recipient=item.recipient)
        with node.uow() as uow:
            held = build_registry(uow.session).affairs_for(item.recipient.id, start)
        held_codes = {affair.code for affair in held}
        for code in item.affair_codes:
            if code in held_codes:
                continue
            _grant(
                node,
                recipient_id=item.recipient.id,
                affair_code=code,
                decided_by=SEED_DECIDER,
                decision=SEED_DECISION,
                valid_from=start,
                valid_until=None,
                reason=f"seed: {item.topic}",
            )
            made += 1
    return made
