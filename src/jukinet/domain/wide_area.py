"""Wide-area copies (住民票の写しの広域交付, domain.md §4.3): pure rules, no I/O.

A resident asks *any* municipality for a copy of their own (or their household's) current
record, showing their resident card (PIN on the card) or a photo ID the clerk records. The
issuing municipality asks the home municipality through the tiers; the home municipality
answers only for living residents still registered, never with the domicile, and with the
relationship and resident code only when asked. The fee is the issuing municipality's.

Refusals travel as a code in the home municipality's signed answer; both ends build the same
bilingual error from :func:`refusal`, so the clerk sees the home municipality's reason.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, Final

from jukinet.domain.certificates import CertificateKind, Issuer
from jukinet.domain.errors import Conflict, DomainError, ValidationError
from jukinet.domain.wareki import format_wareki

#: The affair every node records for a wide-area copy's request (access log ``affair_code``).
AFFAIR: Final = "広域交付"
#: The statute the affair rests on (shown with the affair in a resident's disclosure).
STATUTE: Final = "住民基本台帳法第12条の4"
#: The relay purpose name on the network.
PURPOSE: Final = "wide_area_copy"


class Identification(StrEnum):
    """How the resident proved who they are at the counter."""

    #: The resident card, its PIN entered on the card at the counter's PIN pad.
    CARD = "card"
    #: A photo ID (運転免許証, passport, …) whose details the clerk records.
    PHOTO_ID = "photo_id"


@dataclass(frozen=True, slots=True)
class PhotoId:
    """What the clerk recorded from the photo ID (compared with the home register)."""

    name: str
    birth_date: date
    address: str


def fold_name(text: str) -> str:
    """A name compared as written: NFC, no spaces (full- or half-width)."""
    return "".join(ch for ch in unicodedata.normalize("NFC", text) if not ch.isspace())


def fold_address(text: str) -> str:
    """An address compared loosely: NFKC, no spaces, hyphen-like marks unified."""
    folded = unicodedata.normalize("NFKC", text)
    for dash in ("－", "‐", "ー", "−", "―", "—"):
        folded = folded.replace(dash, "-")
    return "".join(ch for ch in folded if not ch.isspace())


def photo_id_matches(recorded: PhotoId, *, name: str, birth_date: date, address: str) -> bool:
    """Whether the photo ID's name, birth date and address are the register's."""
    return (
        fold_name(recorded.name) == fold_name(name)
        and recorded.birth_date == birth_date
        and fold_address(recorded.address) == fold_address(address)
    )


_REFUSALS: Final[dict[str, tuple[str, str]]] = {
    "JUKI-WIDE-010": (
        "住所地の市区町村に、この方の住民票（現に記録されているもの）はありません。"
        "転出・死亡などで消除された方の写しは広域交付できません。",
        "The home municipality holds no current record for this person: no wide-area copy "
        "for someone who moved out or died.",
    ),
    "JUKI-WIDE-011": (
        "本人確認書類の記載（氏名・生年月日・住所）が住所地の住民票と一致しません。",
        "The photo ID's name, birth date or address does not match the home register.",
    ),
    "JUKI-WIDE-012": (
        "住民基本台帳カードを住所地の市区町村で確認できませんでした（一時停止・無効・"
        "署名不一致のいずれか）。",
        "The home municipality could not confirm the resident card (suspended, invalid or "
        "its signature does not match).",
    ),
    "JUKI-WIDE-013": (
        "要求の形式が不正なため、住所地の市区町村が応答を拒否しました。",
        "The home municipality refused a malformed request.",
    ),
}


def refusal(code: str) -> DomainError:
    """The error of a home municipality's refusal ``code`` (untrusted codes are malformed)."""
    texts = _REFUSALS.get(code)
    if texts is None:
        return Conflict(
            "JUKI-WIDE-014",
            ja="住所地の市区町村の応答を解釈できません。何も印刷しません。",
            en="The home municipality's answer could not be understood; nothing is printed.",
        )
    ja, en = texts
    return Conflict(code, ja=ja, en=en)


def refusal_codes() -> frozenset[str]:
    """Every refusal code a home municipality may answer with."""
    return frozenset(_REFUSALS)


def home_is_here() -> ValidationError:
    """JUKI-WIDE-001: the home municipality is this one (issue an ordinary copy instead)."""
    return ValidationError(
        "JUKI-WIDE-001",
        ja="住所地がこの市区町村です。通常の住民票の写しを交付してください。",
        en="The home municipality is this one: issue an ordinary copy.",
        field="home_municipality_code",
    )


#: What a home municipality's answer may print of each person (never the domicile).
PERSON_KEYS: Final = frozenset(
    {
        "name",
        "name_kana",
        "birth_date",
        "sex",
        "became_resident_on",
        "address_since",
        "previous_address",
        "relationship",
        "resident_code",
    }
)


def _text(value: object) -> str:
    if not isinstance(value, str) or len(value) > 200:
        raise ValueError("not a short text")
    return value


def read_copy(
    answer: object, *, relationship: bool, resident_code: bool
) -> tuple[str, str, list[dict[str, str]]]:
    """The address, household head and persons of a home municipality's ``copy`` answer.

    Raises ``ValueError`` for anything else: an unknown item, a domicile, or a relationship or
    resident code that was not asked for (a home municipality may not print more than asked).
    """
    if not isinstance(answer, dict) or set(answer) != {"address", "household_head", "persons"}:
        raise ValueError("malformed copy")
    persons = answer["persons"]
    if not isinstance(persons, list) or not 0 < len(persons) <= 50:
        raise ValueError("malformed persons")
    allowed = set(PERSON_KEYS)
    if not relationship:
        allowed.discard("relationship")
    if not resident_code:
        allowed.discard("resident_code")
    read: list[dict[str, str]] = []
    for person in persons:
        if not isinstance(person, dict) or not set(person) <= allowed or "name" not in person:
            raise ValueError("a person with items not allowed")
        read.append({str(k): _text(v) for k, v in person.items()})
    return _text(answer["address"]), _text(answer["household_head"]), read


def wide_area_content(
    *,
    address: str,
    household_head: str,
    persons: list[dict[str, str]],
    issuer: Issuer,
    home_name: str,
) -> dict[str, Any]:
    """What a wide-area copy prints: the home answer's part, and the issuing town's own."""
    return {
        "title": CertificateKind.RESIDENT_COPY.title_ja,
        "kind": CertificateKind.RESIDENT_COPY.value,
        "serial": issuer.serial,
        "address": address,
        "household_head": household_head,
        "persons": persons,
        "statement": "この写しは、住民票の原本と相違ないことを証明する。",
        "wide_area": f"広域交付（住所地 {home_name}）",
        "issued_on": format_wareki(issuer.issued_on),
        "issuer": f"{issuer.municipality_name}長\u3000{issuer.mayor}",
        "municipality_code": issuer.municipality_code,
        "fee_yen": issuer.fee_yen,
    }
