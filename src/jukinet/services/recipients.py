"""Registering recipients and granting or revoking statutory affairs (the versioned registry).

Who may use what, from when, is itself recorded: each grant and revocation is an append-only
entry naming the official who decided and when it was written (``jukinet.domain.affairs``).
"""

from __future__ import annotations

from datetime import date

from jukinet.data.affairs import SEED_RECIPIENTS, SeedRecipient
from jukinet.domain.affairs import Recipient, RegistryEntry
from jukinet.domain.operators import Actor, Permission
from jukinet.services.context import ServiceContext
from jukinet.storage.registry import build_registry, save_entry, save_recipient


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
    actor: Actor | None,
    recipient_id: str,
    affair_code: str,
    decided_by: str,
    valid_from: date | None = None,
    valid_until: date | None = None,
    reason: str | None = None,
) -> RegistryEntry:
    """Let a recipient use an affair from ``valid_from`` (default today, Japan time)."""
    _check(actor)
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
        )
        save_entry(uow.session, entry)
        uow.commit()
    return entry


def revoke(
    node: ServiceContext,
    *,
    actor: Actor | None,
    recipient_id: str,
    affair_code: str,
    decided_by: str,
    effective_from: date | None = None,
    reason: str | None = None,
) -> RegistryEntry:
    """End a recipient's use of an affair from ``effective_from`` (default today)."""
    _check(actor)
    with node.uow() as uow:
        registry = build_registry(uow.session)
        entry = registry.revoke(
            recipient_id,
            affair_code,
            effective_from=effective_from or node.today(),
            revoked_by=decided_by,
            recorded_at=node.now(),
            reason=reason,
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
    decided_by: str,
    seeds: tuple[SeedRecipient, ...] = SEED_RECIPIENTS,
    valid_from: date | None = None,
) -> int:
    """Register the example recipients of domain.md §4.4 with their affairs (for demos and tests).

    Idempotent: affairs a recipient already holds today are not granted again. Returns the
    number of grants made.
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
            grant(
                node,
                actor=None,
                recipient_id=item.recipient.id,
                affair_code=code,
                decided_by=decided_by,
                valid_from=start,
                reason=f"seed: {item.topic}",
            )
            made += 1
    return made
