"""The resident-code pool: codes the national centre allots to this municipality.

Until the network exists, a municipality allots its own pool through :func:`allot_codes`,
standing in for the national centre; the rule that a code is issued once and a retired code
never returns holds either way, because every code ever seen stays in the table.
"""

from __future__ import annotations

import random
import secrets

from sqlalchemy import select

from jukinet.domain.codes import random_resident_codes
from jukinet.domain.errors import Conflict, ValidationError
from jukinet.services.context import ServiceContext
from jukinet.storage.participation_tables import CodeBlockRow
from jukinet.storage.tables import LinkRow

MAX_ALLOTMENT = 1_000_000


def allot_codes(node: ServiceContext, *, count: int, rng: random.Random | None = None) -> int:
    """Add ``count`` fresh random codes to this municipality's pool; returns the pool size."""
    if count < 1 or count > MAX_ALLOTMENT:
        raise ValidationError(
            "JUKI-CODE-012",
            ja=f"割当て数は1以上{MAX_ALLOTMENT}以下にしてください。",
            en=f"The allotment must be between 1 and {MAX_ALLOTMENT} codes.",
            field="count",
        )
    # Codes must be unpredictable: they are never derived from personal data or a counter.
    generator = rng or random.Random(secrets.randbits(128))  # noqa: S311 - seeded from secrets
    with node.uow() as uow:
        remaining = count
        while remaining:
            # Chunks stay well under SQLite's limit on bound parameters.
            batch = random_resident_codes(generator, min(remaining, 10_000))
            known = uow.codes.known(batch)
            fresh = [c for c in batch if c not in known]
            uow.codes.allot(fresh, municipality_code=node.municipality_code, now=node.now())
            uow.flush()
            remaining -= len(fresh)
        uow.commit()
        with node.uow() as read:
            return read.codes.available_count(node.municipality_code)


def refuse_own_allotment_on_the_network(node: ServiceContext) -> None:
    """A municipality on the network takes its codes from the centre only (JUKI-CODE-013).

    Standalone nodes (no network credentials) still allot their own pool, standing in for the
    centre; so does a municipality that is not connected.
    """
    if node.settings.role != "municipality" or not node.connected:
        return
    if node.network is None:
        # Without credentials at hand (a command run with only the database URL) the database
        # says whether this node has been on the network: links or blocks from the centre.
        with node.uow() as uow:
            linked = uow.session.scalar(select(LinkRow.peer).limit(1)) or uow.session.scalar(
                select(CodeBlockRow.id).limit(1)
            )
        if linked is None:
            return
    raise Conflict(
        "JUKI-CODE-013",
        ja="住基ネットに接続した市区町村は自ら住民票コードを割り当てられません。"
        "全国センターに割当てを依頼してください（jukinet codes request）。",
        en="A municipality on the network cannot allot its own resident codes: ask the "
        "national centre for a block (jukinet codes request).",
        field="count",
    )


def pool_size(node: ServiceContext) -> int:
    """Codes left in this municipality's pool."""
    with node.uow() as uow:
        return uow.codes.available_count(node.municipality_code)
