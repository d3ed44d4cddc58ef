"""The affair errors, ``JUKI-AFF-001`` … ``JUKI-AFF-018`` (docs/affairs.md lists them).

Each is a :mod:`jukinet.domain.errors` class, so the API maps it to its HTTP status. Messages name
affairs and recipients (public bodies), never a resident.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from jukinet.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError

if TYPE_CHECKING:
    # Only for annotations: the catalogue and recipients raise these errors, so importing them
    # at run time would be circular.
    from jukinet.domain.affairs.catalogue import StatutoryAffair
    from jukinet.domain.affairs.recipients import Recipient

__all__ = [
    "AffairNotAuthorised",
    "AffairOutOfScope",
    "BodyNotNamed",
    "DuplicateAffairCode",
    "DuplicateGrant",
    "InvalidAffairCode",
    "InvalidItemPolicy",
    "InvalidRecipient",
    "InvalidRegistryEntry",
    "InvalidStatutoryAffair",
    "InvalidValidityPeriod",
    "NothingToRevoke",
    "OutOfOrderEntry",
    "RecipientConflict",
    "RetroactiveRevocation",
    "TableNotPermitted",
    "UnknownAffair",
    "UnknownRecipient",
]


class AffairNotAuthorised(PermissionDenied):
    """``JUKI-AFF-001``: the recipient holds no valid grant for the affair on the date asked."""

    def __init__(self, affair_code: str, recipient_id: str, on: date) -> None:
        super().__init__(
            "JUKI-AFF-001",
            ja=(
                f"業務 {affair_code} は受領者 {recipient_id} に認められていません"
                f"（基準日 {on.isoformat()}）。"
            ),
            en=(
                f"affair {affair_code} is not authorised for recipient {recipient_id} "
                f"(on {on.isoformat()})."
            ),
            field="affair_code",
        )
        self.affair_code = affair_code
        self.recipient_id = recipient_id
        self.on = on


class UnknownAffair(NotFound):
    """``JUKI-AFF-002``: a well-formed affair code that names no row of the appended tables."""

    def __init__(self, affair_code: str) -> None:
        super().__init__(
            "JUKI-AFF-002",
            ja=f"affair_code: 業務 {affair_code} は別表にありません。",
            en=f"affair_code: affair {affair_code} is not in the appended tables.",
            field="affair_code",
        )
        self.affair_code = affair_code


class InvalidAffairCode(ValidationError):
    """``JUKI-AFF-003``: not of the form ``T<table 1-5>-<row>`` (e.g. ``T1-16``, ``T1-1-2``)."""

    def __init__(self) -> None:
        super().__init__(
            "JUKI-AFF-003",
            ja="affair_code: 業務コードは「T表番号-項番号」（例 T1-16, T1-1-2）の形式です。",
            en="affair_code: an affair code has the form T<table>-<row> (e.g. T1-16, T1-1-2).",
            field="affair_code",
        )


class UnknownRecipient(NotFound):
    """``JUKI-AFF-004``: no recipient is registered under this id."""

    def __init__(self, recipient_id: str) -> None:
        super().__init__(
            "JUKI-AFF-004",
            ja=f"recipient_id: 受領者 {recipient_id} は登録されていません。",
            en=f"recipient_id: recipient {recipient_id} is not registered.",
            field="recipient_id",
        )
        self.recipient_id = recipient_id


class TableNotPermitted(ValidationError):
    """``JUKI-AFF-005``: the affair's table is not for this kind of recipient (grant refused)."""

    def __init__(self, affair: StatutoryAffair, recipient: Recipient) -> None:
        super().__init__(
            "JUKI-AFF-005",
            ja=(
                f"affair_code: 業務 {affair.code}（{affair.citation_ja}）は"
                f"{affair.recipient_kind.label_ja}のための業務であり、"
                f"受領者 {recipient.id}（{recipient.kind.label_ja}）には認められません。"
            ),
            en=(
                f"affair_code: affair {affair.code} ({affair.citation_en}) is for a "
                f"{affair.recipient_kind.label_en}; recipient {recipient.id} is a "
                f"{recipient.kind.label_en}."
            ),
            field="affair_code",
        )
        self.affair_code = affair.code
        self.recipient_id = recipient.id


class BodyNotNamed(ValidationError):
    """``JUKI-AFF-017``: a table 1 row names other bodies than the recipient (grant refused)."""

    def __init__(self, affair: StatutoryAffair, recipient: Recipient) -> None:
        named = "、".join(affair.bodies)
        body = recipient.body or "（未登録 / not registered）"
        super().__init__(
            "JUKI-AFF-017",
            ja=(
                f"affair_code: 業務 {affair.code}（{affair.citation_ja}）を受けられるのは"
                f"{named}です。受領者 {recipient.id} の機関は{body}です。"
            ),
            en=(
                f"affair_code: affair {affair.code} ({affair.citation_en}) is for {named}; "
                f"recipient {recipient.id} is {body}."
            ),
            field="affair_code",
        )
        self.affair_code = affair.code
        self.recipient_id = recipient.id


class DuplicateGrant(Conflict):
    """``JUKI-AFF-018``: the recipient already holds the affair on some of the days granted."""

    def __init__(self, affair_code: str, recipient_id: str, held_from: date) -> None:
        super().__init__(
            "JUKI-AFF-018",
            ja=(
                f"valid_from: 受領者 {recipient_id} は業務 {affair_code} を{held_from}から既に"
                "認められています。期間を変えるには取り消してから認めてください。"
            ),
            en=(
                f"valid_from: recipient {recipient_id} already holds affair {affair_code} from "
                f"{held_from}; revoke it first to change the period."
            ),
            field="valid_from",
        )
        self.affair_code = affair_code
        self.recipient_id = recipient_id


class AffairOutOfScope(PermissionDenied):
    """``JUKI-AFF-006``: the recipient holds the affair, but not towards this prefecture's data.

    Tables 2 and 5 cover the recipient's own prefecture, tables 3 and 4 the others.
    """

    def __init__(self, affair: StatutoryAffair, recipient_id: str, provider: str) -> None:
        super().__init__(
            "JUKI-AFF-006",
            ja=(
                f"業務 {affair.code} は{affair.recipient_kind.label_ja}の業務のため、受領者 "
                f"{recipient_id} は都道府県 {provider} からこの業務の提供を受けられません。"
            ),
            en=(
                f"affair {affair.code} is for a {affair.recipient_kind.label_en}; recipient "
                f"{recipient_id} may not receive it from prefecture {provider}."
            ),
            field="affair_code",
        )
        self.affair_code = affair.code
        self.recipient_id = recipient_id
        self.provider_prefecture_code = provider


class InvalidValidityPeriod(ValidationError):
    """``JUKI-AFF-007``: a grant's ``valid_until`` is not after its ``valid_from``."""

    def __init__(self) -> None:
        super().__init__(
            "JUKI-AFF-007",
            ja="valid_until: 有効期間の終了日は開始日より後でなければなりません。",
            en="valid_until: the end of the validity period must be after its start.",
            field="valid_until",
        )


class NothingToRevoke(Conflict):
    """``JUKI-AFF-008``: the recipient holds the affair on no day from the revocation date on."""

    def __init__(self, affair_code: str, recipient_id: str, effective_from: date) -> None:
        super().__init__(
            "JUKI-AFF-008",
            ja=(
                f"affair_code: 受領者 {recipient_id} の業務 {affair_code} には "
                f"{effective_from.isoformat()} 以降に取り消す利用権限がありません。"
            ),
            en=(
                f"affair_code: recipient {recipient_id} holds affair {affair_code} on no day "
                f"from {effective_from.isoformat()}; there is nothing to revoke."
            ),
            field="affair_code",
        )


class RetroactiveRevocation(ValidationError):
    """``JUKI-AFF-009``: a revocation may not take effect before the day it is recorded.

    Queries already answered under a grant stay lawful; a revocation only ends the future.
    """

    def __init__(self) -> None:
        super().__init__(
            "JUKI-AFF-009",
            ja="effective_from: 取消しは記録日（日本時間）より前に遡って効力を生じません。",
            en="effective_from: a revocation cannot take effect before the day (JST) it is "
            "recorded.",
            field="effective_from",
        )


class InvalidRecipient(ValidationError):
    """``JUKI-AFF-010``: a recipient's id, name, kind or codes break a rule."""

    def __init__(self, field_name: str, *, ja: str, en: str) -> None:
        super().__init__(
            "JUKI-AFF-010", ja=f"{field_name}: {ja}", en=f"{field_name}: {en}", field=field_name
        )


class RecipientConflict(Conflict):
    """``JUKI-AFF-011``: a different recipient is already registered under this id."""

    def __init__(self, recipient_id: str) -> None:
        super().__init__(
            "JUKI-AFF-011",
            ja=f"recipient_id: 受領者 {recipient_id} は別の内容で登録済みです。",
            en=f"recipient_id: recipient {recipient_id} is already registered differently.",
            field="recipient_id",
        )


class InvalidRegistryEntry(ValidationError):
    """``JUKI-AFF-012``: who decided, when it was recorded or why is missing or malformed."""

    def __init__(self, field_name: str, *, ja: str, en: str) -> None:
        super().__init__(
            "JUKI-AFF-012", ja=f"{field_name}: {ja}", en=f"{field_name}: {en}", field=field_name
        )


class OutOfOrderEntry(Conflict):
    """``JUKI-AFF-013``: an entry would break the log's order (sequence gap, time going back)."""

    def __init__(self, *, ja: str, en: str) -> None:
        super().__init__("JUKI-AFF-013", ja=ja, en=en, field="sequence")


class DuplicateAffairCode(Conflict):
    """``JUKI-AFF-014``: two rows of the appended tables would get the same code."""

    def __init__(self, affair_code: str) -> None:
        super().__init__(
            "JUKI-AFF-014",
            ja=f"affair_code: 業務コード {affair_code} が重複しています。",
            en=f"affair_code: affair code {affair_code} occurs twice.",
            field="affair_code",
        )
        self.affair_code = affair_code


class InvalidStatutoryAffair(ValidationError):
    """``JUKI-AFF-015``: a row of the appended tables is malformed (table, row or empty text)."""

    def __init__(self, field_name: str, *, ja: str, en: str) -> None:
        super().__init__(
            "JUKI-AFF-015", ja=f"{field_name}: {ja}", en=f"{field_name}: {en}", field=field_name
        )


class InvalidItemPolicy(ValidationError):
    """``JUKI-AFF-016``: an affair would be given no items at all."""

    def __init__(self, affair_code: str | None) -> None:
        what = "default" if affair_code is None else affair_code
        super().__init__(
            "JUKI-AFF-016",
            ja=f"items: 提供項目が空です（{what}）。",
            en=f"items: the set of items provided is empty ({what}).",
            field="items",
        )
