"""The signature certificate on the resident card (公的個人認証, JPKI): its rules, no I/O.

A prefectural certification authority issues, for the signature key on a resident's card, a
certificate valid for three years whose subject is the resident's four basic items — name,
birth date, sex, address — and never the resident code (the private-sector ban: anybody may
read a certificate). It is revoked as soon as an identity notice reports a new name, birth date,
sex or address, or the record's deletion (domain.md §5); a resident-code change ends the card it
sits on (§5), so it revokes the certificate too.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Final

from jukinet.domain.clock import JST
from jukinet.domain.errors import Conflict, ValidationError

#: How long a signature certificate is valid (domain.md §5).
VALIDITY_YEARS: Final = 3
#: Certificates start a little in the past, so a relying party whose clock lags accepts them.
BACKDATE: Final = timedelta(minutes=5)
#: How long a CRL and an OCSP answer may be relied on before asking again.
CRL_VALIDITY: Final = timedelta(hours=24)
OCSP_VALIDITY: Final = timedelta(hours=1)

#: OIDs of the subject's birth date and sex (RFC 3739 personal data attributes, put into the
#: subject name itself so that every relying party sees the four items in one place).
DATE_OF_BIRTH_OID: Final = "1.3.6.1.5.5.7.9.1"
GENDER_OID: Final = "1.3.6.1.5.5.7.9.3"
#: RFC 3739's gender letters.
GENDER_LETTERS: Final = {"male": "M", "female": "F"}


class CertificateStatus(StrEnum):
    """What the prefecture answers of a certificate it issued."""

    GOOD = "good"
    REVOKED = "revoked"


class RevocationReason(StrEnum):
    """Why a signature certificate was revoked; ``crl_reason`` is its RFC 5280 reason name."""

    NAME_CHANGED = "name_changed"
    BIRTH_DATE_CHANGED = "birth_date_changed"
    SEX_CHANGED = "sex_changed"
    ADDRESS_CHANGED = "address_changed"
    RECORD_DELETED = "record_deleted"
    CODE_CHANGED = "code_changed"
    #: The resident opted out of upstream notification: the prefecture can no longer keep the
    #: certificate true, so it ends.
    WITHDRAWN = "withdrawn"
    #: A new certificate was issued for the same card.
    SUPERSEDED = "superseded"
    #: The card was reported lost or stolen: its key may be in someone else's hands.
    CARD_SUSPENDED = "card_suspended"
    #: The card itself ended (returned, expired, death, emigration, a move without continuation).
    CARD_ENDED = "card_ended"

    @property
    def crl_reason(self) -> str:
        """The RFC 5280 CRLReason (``cryptography``'s ``ReasonFlags`` member name)."""
        if self in _SUBJECT_REASONS:
            # The subject no longer describes the holder (RFC 5280 §5.3.1).
            return "affiliation_changed"
        if self is RevocationReason.SUPERSEDED:
            return "superseded"
        if self is RevocationReason.CARD_SUSPENDED:
            return "key_compromise"
        return "cessation_of_operation"

    @property
    def label_ja(self) -> str:
        """The reason in Japanese."""
        return _LABELS_JA[self]


_SUBJECT_REASONS: Final = frozenset(
    {
        RevocationReason.NAME_CHANGED,
        RevocationReason.BIRTH_DATE_CHANGED,
        RevocationReason.SEX_CHANGED,
        RevocationReason.ADDRESS_CHANGED,
    }
)
_LABELS_JA: Final = {
    RevocationReason.NAME_CHANGED: "氏名の変更",
    RevocationReason.BIRTH_DATE_CHANGED: "生年月日の変更",
    RevocationReason.SEX_CHANGED: "性別の変更",
    RevocationReason.ADDRESS_CHANGED: "住所の変更",
    RevocationReason.RECORD_DELETED: "住民票の消除",
    RevocationReason.CODE_CHANGED: "住民票コードの変更（カードの廃止）",
    RevocationReason.WITHDRAWN: "本人確認情報の通知の停止",
    RevocationReason.SUPERSEDED: "新しい証明書の発行",
    RevocationReason.CARD_SUSPENDED: "カードの紛失等による一時停止",
    RevocationReason.CARD_ENDED: "カードの廃止",
}


@dataclass(frozen=True, slots=True)
class SubjectItems:
    """The four basic items (基本4情報) a certificate names: never the resident code."""

    family_name: str
    given_name: str
    birth_date: date
    sex: str
    address: str

    @property
    def name(self) -> str:
        """The name as written on the register: family name, a space, given name."""
        return f"{self.family_name} {self.given_name}"

    def canonical(self) -> bytes:
        """The items' canonical bytes (what :func:`subject_digest` hashes)."""
        return json.dumps(
            {
                "name": [self.family_name, self.given_name],
                "birth_date": self.birth_date.isoformat(),
                "sex": self.sex,
                "address": self.address,
            },
            ensure_ascii=False,
            sort_keys=True,
            separators=(",", ":"),
        ).encode("utf-8")


def subject_digest(items: SubjectItems) -> str:
    """SHA-256 (hex) of the four items: lets the register compare subjects without keeping them."""
    return hashlib.sha256(items.canonical()).hexdigest()


def subject_attributes(items: SubjectItems) -> tuple[tuple[str, str], ...]:
    """The subject name's attributes as (OID, value), in order: country, the name (also as
    surname and given name), the address, the birth date and the sex (RFC 3739 letters).

    Nothing else goes in: in particular not the resident code (domain.md §3).
    """
    return (
        ("2.5.4.6", "JP"),
        ("2.5.4.3", items.name),
        ("2.5.4.4", items.family_name),
        ("2.5.4.42", items.given_name),
        ("2.5.4.9", items.address),
        (DATE_OF_BIRTH_OID, items.birth_date.isoformat()),
        (GENDER_OID, GENDER_LETTERS[items.sex]),
    )


def validity(now: datetime, *, card_expires_on: date | None = None) -> tuple[datetime, datetime]:
    """(not before, not after) of a certificate issued at ``now``: three years, back-dated.

    Ends the day before the same date three years on (29 February ends on 28 February), and
    never after the card it sits on (the end of ``card_expires_on``, Japan time).
    """
    start = now - BACKDATE
    try:
        anniversary = now.replace(year=now.year + VALIDITY_YEARS)
    except ValueError:  # 29 February
        anniversary = now.replace(year=now.year + VALIDITY_YEARS, day=28)
    end = anniversary - timedelta(days=1)
    if card_expires_on is not None:
        card_end = datetime.combine(card_expires_on, time(23, 59, 59), tzinfo=JST)
        end = min(end, card_end)
    return start, end


def revocation_reason(
    held: SubjectItems | None,
    reported: SubjectItems,
    *,
    deleted: bool,
    code_changed: bool,
) -> RevocationReason | None:
    """Whether (and why) a notice revokes the certificates of the resident it is about.

    ``held`` is what the prefecture held before the notice (``None``: nothing), ``reported``
    what the notice reports. A deletion and a code change always revoke; otherwise the first of
    name, birth date, sex and address that changed does; anything else (the kana reading, a
    notice that repeats the held items) does not.
    """
    if deleted:
        return RevocationReason.RECORD_DELETED
    if code_changed:
        return RevocationReason.CODE_CHANGED
    if held is None:
        return None
    if (held.family_name, held.given_name) != (reported.family_name, reported.given_name):
        return RevocationReason.NAME_CHANGED
    if held.birth_date != reported.birth_date:
        return RevocationReason.BIRTH_DATE_CHANGED
    if held.sex != reported.sex:
        return RevocationReason.SEX_CHANGED
    if held.address != reported.address:
        return RevocationReason.ADDRESS_CHANGED
    return None


# --- refusals ---------------------------------------------------------------------------------


def items_differ() -> Conflict:
    """The four items sent do not match what the prefecture holds for the resident."""
    return Conflict(
        "JUKI-JPKI-010",
        ja="基本4情報が都道府県の保存する本人確認情報と一致しません。証明書は発行できません。",
        en="The four basic items do not match the prefecture's identity information: "
        "no certificate is issued.",
    )


def not_your_resident() -> Conflict:
    """The requesting municipality does not hold the resident at this prefecture."""
    return Conflict(
        "JUKI-JPKI-011",
        ja="この市区町村の住民ではありません。証明書は発行できません。",
        en="The resident is not registered with the requesting municipality: no certificate.",
    )


def card_not_usable() -> Conflict:
    """The card is not valid (suspended, invalid, or not issued)."""
    return Conflict(
        "JUKI-JPKI-012",
        ja="有効なカードでないため、署名用証明書を発行できません。",
        en="The card is not valid: no signature certificate is issued for it.",
        field="serial",
    )


def key_mismatch() -> Conflict:
    """The chip's signature key is not the one the register recorded at issue."""
    return Conflict(
        "JUKI-JPKI-013",
        ja="カードの署名用鍵が交付時の記録と一致しません。",
        en="The card's signature key differs from the one recorded when it was issued.",
        field="serial",
    )


def not_your_card() -> Conflict:
    """A municipality asked for a certificate on a card another municipality issued."""
    return Conflict(
        "JUKI-JPKI-014",
        ja="他の市区町村が交付したカードには署名用証明書を発行できません。",
        en="A certificate is issued only on a card the requesting municipality issued.",
        field="serial",
    )


def malformed(what: str) -> ValidationError:
    """A request or bundle that cannot be read (names the part, never a value)."""
    return ValidationError(
        "JUKI-JPKI-001",
        ja=f"{what} の形式が正しくありません。",
        en=f"{what} is malformed.",
        field=what,
    )
