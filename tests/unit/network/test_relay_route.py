"""The route of a relayed request follows the topology: through the centre between prefectures,
straight down within one (the centre is not asked)."""

from __future__ import annotations

import pytest

from jukinet.domain.network import NodeId
from jukinet.network.relay import route, validate_purpose


def _names(origin: str, destination: str) -> list[str]:
    return [str(n) for n in route(NodeId.parse(origin), NodeId.parse(destination))]


def test_between_prefectures_through_the_centre() -> None:
    assert _names("municipality:141003", "municipality:132292") == [
        "municipality:141003",
        "prefecture:14",
        "national:jlis",
        "prefecture:13",
        "municipality:132292",
    ]


def test_within_one_prefecture_the_centre_is_skipped() -> None:
    assert _names("municipality:132012", "municipality:132292") == [
        "municipality:132012",
        "prefecture:13",
        "municipality:132292",
    ]


@pytest.mark.parametrize("purpose", ["", "Wide", "a-b", "x" * 41, "広域"])
def test_a_purpose_is_a_short_lower_case_name(purpose: str) -> None:
    with pytest.raises(ValueError, match="purpose"):
        validate_purpose(purpose)
    assert validate_purpose("wide_area_copy") == "wide_area_copy"
