"""The resident-code pool: codes the national centre allots to this municipality.

Until the network exists, a municipality allots its own pool through :func:`allot_codes`,
standing in for the national centre; the rule that a code is issued once and a retired code
never returns holds either way, because every code ever seen stays in the table.
"""

from __future__ import annotations

import random
import secrets

from jukinet.domain.codes import random_resident_codes
from jukinet.domain.errors import ValidationError
from jukinet.services.context import ServiceContext

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


def pool_size(node: ServiceContext) -> int:
    """Codes left in this municipality's pool."""
    with node.uow() as uow:
        return uow.codes.available_count(node.municipality_code)
