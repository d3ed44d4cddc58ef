"""Identity-confirmation information (本人確認情報) and the notices that carry it upstream.

Exactly six items ever leave a municipality: name, date of birth, sex, address, resident code and
change information (reason, date, values before). This module is the only place that decides what
goes into a notice, so nothing else of the register can slip into it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any


class ChangeReason(StrEnum):
    """Why identity-confirmation information changed: our own closed enumeration.

    The official numeric reason codes are not public, so jukinet defines its own. The value is a
    stable machine code (it is what travels upstream); ``label_ja``/``label_en`` are for people.
    Documented in docs/identity-notices.md — add members only, never renumber.
    """

    BIRTH = "A01"
    MOVE_IN = "A02"
    MOVE_IN_FROM_ABROAD = "A03"
    EX_OFFICIO_ENTRY = "A04"
    MOVE_WITHIN = "B01"
    NAME_CHANGE = "B02"
    EX_OFFICIO_CORRECTION = "B03"
    CODE_CHANGE = "B04"
    MOVE_OUT = "C01"
    DEATH = "C02"
    EX_OFFICIO_DELETION = "C03"

    @property
    def label_ja(self) -> str:
        """The reason as a Japanese counter clerk would name it."""
        return _LABELS[self][0]

    @property
    def label_en(self) -> str:
        """The reason in English."""
        return _LABELS[self][1]

    @property
    def deletes_record(self) -> bool:
        """Whether a notice for this reason reports the record's deletion (除票)."""
        return self.value.startswith("C")

    @property
    def creates_record(self) -> bool:
        """Whether a notice for this reason reports a new record."""
        return self.value.startswith("A")


_LABELS: dict[ChangeReason, tuple[str, str]] = {
    ChangeReason.BIRTH: ("出生", "birth"),
    ChangeReason.MOVE_IN: ("転入", "move-in"),
    ChangeReason.MOVE_IN_FROM_ABROAD: ("国外からの転入", "move-in from abroad"),
    ChangeReason.EX_OFFICIO_ENTRY: ("職権記載", "ex-officio entry"),
    ChangeReason.MOVE_WITHIN: ("転居", "move within the municipality"),
    ChangeReason.NAME_CHANGE: ("氏名変更", "name change"),
    ChangeReason.EX_OFFICIO_CORRECTION: ("職権修正", "ex-officio correction"),
    ChangeReason.CODE_CHANGE: ("住民票コード変更", "resident-code change"),
    ChangeReason.MOVE_OUT: ("転出", "move-out"),
    ChangeReason.DEATH: ("死亡", "death"),
    ChangeReason.EX_OFFICIO_DELETION: ("職権消除", "ex-officio deletion"),
}


@dataclass(frozen=True, slots=True)
class IdentityInfo:
    """The five identity items of one resident (change information travels beside them)."""

    resident_code: str
    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    birth_date: date
    sex: str
    address: str

    def as_dict(self) -> dict[str, str]:
        """JSON-ready form; dates as ISO 8601."""
        return {
            "resident_code": self.resident_code,
            "family_name": self.family_name,
            "given_name": self.given_name,
            "family_name_kana": self.family_name_kana,
            "given_name_kana": self.given_name_kana,
            "birth_date": self.birth_date.isoformat(),
            "sex": self.sex,
            "address": self.address,
        }


@dataclass(frozen=True, slots=True)
class IdentityNotice:
    """One identity notice (本人確認情報の通知): the items now, and how they changed."""

    municipality_code: str
    current: IdentityInfo
    reason: ChangeReason
    changed_on: date
    before: IdentityInfo | None

    @property
    def deleted(self) -> bool:
        """A deleted record is sent with its last values and this flag set."""
        return self.reason.deletes_record

    def as_body(self) -> dict[str, Any]:
        """The notice body as it is written to the outbox; nothing beyond the six items."""
        before: dict[str, str] | None = None
        if self.before is not None:
            # Only the items that changed are "values before"; unchanged ones add nothing.
            now = self.current.as_dict()
            before = {k: v for k, v in self.before.as_dict().items() if now[k] != v}
        return {
            "municipality_code": self.municipality_code,
            "identity": self.current.as_dict(),
            "change": {
                "reason": self.reason.value,
                "reason_label": self.reason.label_ja,
                "date": self.changed_on.isoformat(),
                "before": before,
                "deleted": self.deleted,
            },
        }


def identity_changed(before: IdentityInfo, after: IdentityInfo) -> bool:
    """Whether any of the identity items differ (only then is a notice due for an update)."""
    return before != after
