"""Recipients: the bodies that may be registered to receive identity information.

A :class:`Recipient` carries the two rules that tie it to the appended tables: the table rule
(:meth:`Recipient.may_use`, checked when a grant is recorded) and the scope rule
(:meth:`Recipient.may_receive_from`, checked per query). Pure — no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from jukinet.domain.affairs.catalogue import PREFECTURES, RecipientType, StatutoryAffair
from jukinet.domain.affairs.errors import InvalidRecipient
from jukinet.domain.municipality import validate_municipality_code

__all__ = ["Recipient"]

_RECIPIENT_ID_RE: Final = re.compile(r"[a-z][a-z0-9-]*:[a-z0-9][a-z0-9._-]*")
_RECIPIENT_ID_MAX: Final = 64
_BODY_MAX: Final = 200


@dataclass(frozen=True, slots=True)
class Recipient:
    """A body that may be registered to receive identity information for some affairs.

    ``id`` is a stable lower-case handle such as ``agency:soumu-onkyu`` or ``pref:13``.
    A national body has no prefecture; a prefectural or municipal organ has its 2-digit
    prefecture code (JIS X 0401), and a municipal organ may also carry its 6-digit
    municipality code, which must lie in that prefecture. ``body`` is the body as the Act names
    it (``総務省``, ``国家公務員共済組合連合会``): a table 1 affair is granted only to a
    recipient whose body the affair's row names (:meth:`is_named_by`).
    """

    id: str
    name: str
    kind: RecipientType
    prefecture_code: str | None = None
    municipality_code: str | None = None
    body: str | None = None

    def __post_init__(self) -> None:
        if (
            not isinstance(self.id, str)
            or len(self.id) > _RECIPIENT_ID_MAX
            or _RECIPIENT_ID_RE.fullmatch(self.id) is None
        ):
            raise InvalidRecipient(
                "id",
                ja="受領者IDは「agency:soumu-onkyu」のような英小文字の識別子です（64文字以内）。",
                en="a recipient id is a lower-case handle like agency:soumu-onkyu (≤ 64 chars).",
            )
        if not isinstance(self.name, str) or not self.name.strip():
            raise InvalidRecipient("name", ja="名称が空です。", en="the name is empty.")
        try:
            object.__setattr__(self, "kind", RecipientType(self.kind))
        except ValueError:
            raise InvalidRecipient(
                "kind",
                ja="種別は national_body / prefecture / municipal_organ のいずれかです。",
                en="the kind is national_body, prefecture or municipal_organ.",
            ) from None
        if self.body is not None and (
            not isinstance(self.body, str) or not self.body.strip() or len(self.body) > _BODY_MAX
        ):
            raise InvalidRecipient(
                "body",
                ja=f"法律上の機関名は1文字以上{_BODY_MAX}文字以内です。",
                en=f"the body as the Act names it is 1 to {_BODY_MAX} characters.",
            )
        if self.kind is RecipientType.NATIONAL_BODY:
            if self.prefecture_code is not None or self.municipality_code is not None:
                raise InvalidRecipient(
                    "prefecture_code",
                    ja="国の機関等に都道府県・市町村コードはありません。",
                    en="a national body has no prefecture or municipality code.",
                )
            return
        if self.prefecture_code not in PREFECTURES:
            raise InvalidRecipient(
                "prefecture_code",
                ja="都道府県コードは01から47の2桁です。",
                en="a prefecture code is two digits, 01 to 47.",
            )
        if self.municipality_code is None:
            return
        if self.kind is RecipientType.PREFECTURE:
            raise InvalidRecipient(
                "municipality_code",
                ja="都道府県の執行機関に市町村コードはありません。",
                en="a prefectural organ has no municipality code.",
            )
        code = validate_municipality_code(self.municipality_code)
        if code[:2] != self.prefecture_code:
            raise InvalidRecipient(
                "municipality_code",
                ja="市町村コードが都道府県コードと一致しません。",
                en="the municipality code is not in the recipient's prefecture.",
            )
        object.__setattr__(self, "municipality_code", code)

    def may_use(self, affair: StatutoryAffair) -> bool:
        """The table rule: may a recipient of this type ever be granted ``affair``?

        Table 1 is for national bodies (and the corporations listed there), tables 2 and 4 for
        municipal organs, tables 3 and 5 for prefectural organs. A table 3/5 row naming one
        governor (福島県知事, 沖縄県知事) is further limited to that prefecture. Finer wording
        (指定都市の長, 広島市又は長崎市の長, 政令で定める市の長) is not checked: that reading is
        left to the official who grants.
        """
        if self.kind is not affair.recipient_kind.recipient_type:
            return False
        named = affair.named_prefecture_code
        return named is None or named == self.prefecture_code

    def is_named_by(self, affair: StatutoryAffair) -> bool:
        """The body rule: does ``affair``'s row name this recipient's body?

        Table 1 rows name national bodies one by one (恩給法 → 総務省), so a grant of a table 1
        affair needs the recipient's ``body`` among :attr:`StatutoryAffair.bodies`. Rows of
        tables 2 to 5 name the governor or mayor, which the recipient's kind already fixes.
        """
        if affair.table != 1:
            return True
        return self.body is not None and self.body in affair.bodies

    def may_receive_from(self, affair: StatutoryAffair, provider_prefecture_code: str) -> bool:
        """The scope rule: may ``affair`` be answered with prefecture ``provider``'s data?

        Tables 2 and 5 cover the recipient's own prefecture, tables 3 and 4 only other
        prefectures; table 1 any prefecture.
        """
        same = affair.recipient_kind.same_prefecture
        if same is None:
            return True
        return (provider_prefecture_code == self.prefecture_code) is same
