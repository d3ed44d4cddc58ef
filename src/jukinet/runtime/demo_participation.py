"""The demo's opted-out resident: one Yokohama resident stops upstream notification
(Yokohama's choice, 2002–2006), so the prefecture and the centre hold nothing about them and
the transparency page counts them."""

from __future__ import annotations

from collections.abc import Callable

from jukinet.domain.participation import OptOutRequest
from jukinet.runtime.demo import DemoNetwork, demo_clerk
from jukinet.services import reading
from jukinet.services.register.notices import set_upstream_opt_out

YOKOHAMA = "municipality:141003"


def opt_out_one(demo: DemoNetwork, *, say: Callable[[str], None] = print) -> str | None:
    """Opt one Yokohama resident (not one of the demo's moves) out; returns their code."""
    town = demo.cluster.handle(YOKOHAMA)
    try:
        clerk = demo_clerk(town, demo.passwords["madoguchi"])
        candidates = reading.search_residents(
            town, actor=clerk, query=reading.SearchQuery(name="タ", limit=50)
        )
        chosen = next(
            (
                v.record
                for v in candidates
                if v.record.is_active and v.record.resident_code not in demo.moves
            ),
            None,
        )
        if chosen is None:
            return None
        set_upstream_opt_out(
            town,
            actor=clerk,
            request=OptOutRequest(
                resident_code=chosen.resident_code,
                opt_out=True,
                requested_on=town.today(),
                request_number="Y-DEMO-1",
            ),
        )
    finally:
        town.engine.dispose()
    say(
        f"通知停止（横浜市方式）: 住民票コード {chosen.resident_code} — 神奈川県・全国センターから"
        f"削除されます / opted out of upstream notification: {chosen.resident_code} (Yokohama)"
    )
    return chosen.resident_code
