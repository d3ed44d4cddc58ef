"""Certificates from the register (住民票の写し and its kin): what may be printed, and how the
printed content is fixed so that a signature over it proves a copy genuine (domain.md §4).

Pure rules, no I/O. A certificate is one of three kinds; the resident chooses the optional items,
and the rules of the Act decide which are printed: the relationship to the household head, the
resident code and the domicile appear only when asked for. A 除票の写し is only of a removed
record, a 住民票の写し only of a registered one. The printed content is a plain dictionary whose
canonical JSON is what the node signs; the PDF shows exactly that content and nothing more.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, Final

from jukinet.domain.errors import Conflict, ValidationError
from jukinet.domain.mj_names import parse_identifiers
from jukinet.domain.register import RecordStatus, ResidentRecord
from jukinet.domain.wareki import format_wareki

#: What a node signs: this label, a NUL, then the canonical JSON of the printed content.
SIGNING_LABEL: Final = b"jukinet-certificate-v1\x00"
#: The standard fee per certificate, in yen (a municipality sets its own by ordinance).
DEFAULT_FEE_YEN: Final = 300
#: A certificate serial: the municipality's code, the year and six digits (``132292-2026-000001``).
_SERIAL = re.compile(r"([0-9]{6})-([0-9]{4})-([0-9]{6})")


class CertificateKind(StrEnum):
    """The three certificates of the register."""

    #: 住民票の写し — a copy of the current record (one person or the household).
    RESIDENT_COPY = "resident_copy"
    #: 除票の写し — a copy of a removed record (moved out, died, deleted).
    REMOVED_COPY = "removed_copy"
    #: 住民票記載事項証明書 — a statement of chosen items (name, birth date, sex, address).
    ITEMS_STATEMENT = "items_statement"

    @property
    def title_ja(self) -> str:
        """The certificate's printed title."""
        return _TITLES[self.value]


_TITLES = {
    "resident_copy": "住民票の写し",
    "removed_copy": "除票の写し",
    "items_statement": "住民票記載事項証明書",
}


@dataclass(frozen=True, slots=True)
class OptionalItems:
    """The items printed only when the resident asks for them."""

    relationship: bool = False
    resident_code: bool = False
    domicile: bool = False


@dataclass(frozen=True, slots=True)
class Issuer:
    """Who issues: the municipality, its mayor, the serial, the day and the fee."""

    municipality_code: str
    municipality_name: str
    mayor: str
    serial: str
    issued_on: date
    fee_yen: int


def validate_serial(value: str, *, field: str = "serial") -> str:
    """A certificate serial is ``MMMMMM-YYYY-NNNNNN``."""
    if not _SERIAL.fullmatch(value):
        raise ValidationError(
            "JUKI-CERT-001",
            ja="証明書番号は「市区町村コード6桁-西暦4桁-数字6桁」の形式です。",
            en="A certificate serial is the municipality's code, the year and six digits.",
            field=field,
        )
    return value


def serial_for(municipality_code: str, year: int, number: int) -> str:
    """The ``number``-th certificate a municipality issues in ``year``."""
    return f"{municipality_code}-{year:04d}-{number:06d}"


def check_records(kind: CertificateKind, records: Sequence[ResidentRecord]) -> None:
    """Refuse a certificate the records cannot support (e.g. a copy of someone removed)."""
    if not records:
        raise ValidationError(
            "JUKI-CERT-002",
            ja="証明する人を1人以上選んでください。",
            en="Choose at least one person.",
            field="resident_codes",
        )
    if kind is CertificateKind.REMOVED_COPY:
        if any(r.status is not RecordStatus.REMOVED for r in records):
            raise Conflict(
                "JUKI-CERT-003",
                ja="除票の写しは、転出・死亡などで消除された方についてのみ交付できます。",
                en="A copy of a removed record is issued only for a removed record.",
                field="kind",
            )
    elif any(not r.is_active for r in records):
        raise Conflict(
            "JUKI-CERT-004",
            ja="消除された方（除票）の住民票の写しは交付できません。除票の写しを選んでください。",
            en="A removed record has no current copy: ask for a copy of the removed record.",
            field="kind",
        )


def _person(record: ResidentRecord, kind: CertificateKind, items: OptionalItems) -> dict[str, Any]:
    name = record.name
    person: dict[str, Any] = {
        "name": f"{name.family}\u3000{name.given}",
        "name_kana": f"{name.family_kana}\u3000{name.given_kana}",
        "birth_date": format_wareki(record.birth_date),
        "sex": record.sex.label_ja,
    }
    glyphs = [
        *parse_identifiers(name.family_mj, field="family_name"),
        *parse_identifiers(name.given_mj, field="given_name"),
    ]
    if glyphs:
        # As municipal certificates note their 外字: each character outside JIS X 0213 with the
        # MJ identifier of the glyph registered, so any reader can tell which glyph is meant.
        person["name_mj"] = "、".join(f"{unit} {identifier}" for unit, identifier in glyphs)
    if kind is CertificateKind.ITEMS_STATEMENT:
        person["address"] = record.address
        return person
    person["became_resident_on"] = format_wareki(record.became_resident_on)
    person["address_since"] = format_wareki(record.address_since)
    if record.previous_address:
        person["previous_address"] = record.previous_address
    if items.relationship:
        person["relationship"] = record.relationship.label_ja
    if items.resident_code:
        person["resident_code"] = record.resident_code
    if items.domicile:
        person["domicile"] = record.domicile or ""
        person["domicile_head"] = record.domicile_head or ""
    if record.status is RecordStatus.REMOVED:
        person["removed_on"] = format_wareki(record.removed_on) if record.removed_on else ""
        person["removal_reason"] = record.removal_reason.label_ja if record.removal_reason else ""
        if record.destination:
            person["destination"] = record.destination
    return person


def printed_content(
    kind: CertificateKind,
    records: Sequence[ResidentRecord],
    items: OptionalItems,
    issuer: Issuer,
) -> dict[str, Any]:
    """Everything the certificate prints, in print order; the signature covers exactly this."""
    check_records(kind, records)
    head = records[0]
    return {
        "title": kind.title_ja,
        "kind": kind.value,
        "serial": issuer.serial,
        "address": head.address,
        "household_head": _household_head(records),
        "persons": [_person(r, kind, items) for r in records],
        "statement": "この写しは、住民票の原本と相違ないことを証明する。"
        if kind is not CertificateKind.ITEMS_STATEMENT
        else "上記の事項は、住民票に記載されていることを証明する。",
        "issued_on": format_wareki(issuer.issued_on),
        "issuer": f"{issuer.municipality_name}長\u3000{issuer.mayor}",
        "municipality_code": issuer.municipality_code,
        "fee_yen": issuer.fee_yen,
    }


def _household_head(records: Sequence[ResidentRecord]) -> str:
    heads = [r for r in records if r.is_head]
    if not heads:
        return ""
    name = heads[0].name
    return f"{name.family}\u3000{name.given}"


def canonical_bytes(content: dict[str, Any]) -> bytes:
    """The exact bytes a node signs for ``content`` (sorted keys, no spaces, UTF-8)."""
    return SIGNING_LABEL + json.dumps(
        content, ensure_ascii=False, sort_keys=True, separators=(",", ":")
    ).encode("utf-8")


def unprintable(
    text: str, covered: frozenset[int], sequences: frozenset[tuple[int, int]]
) -> list[str]:
    """The characters of ``text`` a font cannot draw exactly, in order of appearance.

    ``covered`` holds the font's code points; ``sequences`` its (base, variation selector) pairs.
    A base followed by an ideographic variation selector must be drawn as that exact variant:
    a font that has the base but not the sequence would print a substitute glyph.
    """
    missing: list[str] = []
    chars = list(text)
    for index, char in enumerate(chars):
        point = ord(char)
        if _is_selector(point):
            continue
        following = ord(chars[index + 1]) if index + 1 < len(chars) else None
        if following is not None and _is_selector(following):
            # An ideographic variation sequence names one exact glyph: the font must have it.
            # A standardised variant (U+FE00–FE0F) may fall back to its base character.
            exact = (point, following) in sequences
            fallback = following < 0xE0100 and point in covered
            if not (exact or fallback):
                missing.append(char + chars[index + 1])
            continue
        if point not in covered and not char.isspace():
            missing.append(char)
    return list(dict.fromkeys(missing))


def _is_selector(point: int) -> bool:
    return 0xFE00 <= point <= 0xFE0F or 0xE0100 <= point <= 0xE01EF


def refuse_unprintable(missing: Sequence[str]) -> None:
    """Refuse a certificate with characters the font cannot draw, naming each one."""
    if not missing:
        return
    named = "、".join(f"「{c}」(U+{'+'.join(f'{ord(p):04X}' for p in c)})" for c in missing)
    raise Conflict(
        "JUKI-CERT-010",
        ja=f"証明書の書体で印字できない文字があります: {named}。代替字形では印字しません。",
        en=f"The certificate font cannot print these characters exactly: {named}; "
        "no substitute glyph is printed.",
        field="name",
    )
