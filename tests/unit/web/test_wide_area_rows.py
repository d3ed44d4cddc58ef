"""A wide-area copy (広域交付) in a resident's disclosure reads as words in both languages: the
item, the outcome and its detail (the asking town by name, a refusal's reason), never the
reason or item codes the services record."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from jukinet.domain.access_log import AccessEntry, Action, ActorKind, Channel, entry_to_dict
from jukinet.domain.wide_area import AFFAIR
from jukinet.web.ui.disclosure import disclosure_rows


def _row(reason: str, lang: str, *, action: Action = Action.READ) -> tuple[str, str]:
    entry = AccessEntry(
        recorded_at=datetime(2026, 11, 2, 1, 30, tzinfo=UTC),
        node="municipality:132292",
        action=action,
        channel=Channel.NETWORK,
        actor_kind=ActorKind.NODE,
        actor="prefecture:13",
        subject="12345678901",
        affair_code=AFFAIR,
        reason=reason,
        items=("name", "wide_area_copy"),
    )
    (row,) = disclosure_rows({"entries": [{"entry": entry_to_dict(7, entry)}]}, lang)
    return row.reason, row.items


@pytest.mark.parametrize(
    ("reason", "ja", "en"),
    [
        (
            "wide-area:answered for municipality:141003",
            "広域交付：神奈川県横浜市からの請求に回答",
            "Wide-area copy: answered the request of 神奈川県横浜市",
        ),
        (
            "wide-area:issued W-2026-000123",
            "広域交付：住民票の写しを交付（交付番号 W-2026-000123）",
            "Wide-area copy: issued (serial W-2026-000123)",
        ),
    ],
)
def test_outcomes_read_as_words(reason: str, ja: str, en: str) -> None:
    assert _row(reason, "ja") == (ja, "氏名、住民票の写しの広域交付")
    assert _row(reason, "en") == (en, "name, wide-area copy of the resident record")


def test_a_refusal_names_its_reason() -> None:
    reason_ja, _ = _row("wide-area:refused JUKI-WIDE-010", "ja", action=Action.REFUSED)
    reason_en, _ = _row("wide-area:refused JUKI-WIDE-010", "en", action=Action.REFUSED)
    assert reason_ja.startswith("広域交付：交付せず（JUKI-WIDE-010 住所地の市区町村に")
    assert reason_en.startswith("Wide-area copy: refused (JUKI-WIDE-010 The home municipality")
    # A code the table does not know is shown as it is, not as another refusal's reason.
    assert _row("wide-area:refused JUKI-WIDE-999", "en")[0] == (
        "Wide-area copy: refused (JUKI-WIDE-999)"
    )
