"""Row validation: the field rules that turn one row's raw values into a row or a row error.

The CSV and JSON-lines parsers hand over a mapping of column (or key) to raw text; everything
about the values themselves — trimming, control characters, lengths, kana, sex, birth date,
resident code and which fields are required — is decided here, the same for both formats.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import date
from types import MappingProxyType
from typing import Final

from jukinet.domain.addresses import MAX_ADDRESS_LENGTH
from jukinet.domain.batch_input.errors import (
    _bad_sex,
    _control_characters,
    _field_too_long,
    _name_required,
    _not_kana,
    _replacement_character,
    _required,
)
from jukinet.domain.batch_input.model import (
    MAX_NAME_CHARS,
    MAX_REFERENCE_CHARS,
    BatchKind,
    CodeRow,
    FourItemsRow,
    ParsedRow,
    RowError,
)
from jukinet.domain.codes import validate_resident_code
from jukinet.domain.errors import ValidationError
from jukinet.domain.names import is_kana_query
from jukinet.domain.register import Sex
from jukinet.domain.wareki import parse_date

# Same choice as names.py: only ASCII and ideographic spaces are trimmed; tabs and line breaks
# are control characters and are rejected rather than silently removed.
_EDGE_SPACES: Final = " \u3000"

# Cc controls, Cf format characters (bidi overrides, zero-width joiners: two equal-looking
# values that differ), Cs lone surrogates (unencodable), Zl/Zp line and paragraph separators.
# Private-use and unassigned code points stay allowed, as in names.py: newer CJK extensions
# must not be refused because our Unicode database is older than the character.
_CONTROL_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def _is_variation_selector(ch: str) -> bool:
    cp = ord(ch)
    return 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF


def _has_control(value: str) -> bool:
    # str.isprintable() is False for every forbidden category, so a printable value needs no
    # per-character look-up; that is almost every value, and batches run to millions of rows.
    # The ideographic space (Zs) is not "printable" but is common between family and given
    # name, so it is replaced first to keep those values on the fast path.
    if value.replace("\u3000", " ").isprintable():
        return False
    return any(unicodedata.category(ch) in _CONTROL_CATEGORIES for ch in value)


def _length(value: str) -> int:
    # Variation selectors refine a glyph (葛 + U+E0100); they are not a character of the name.
    return sum(1 for ch in value if not _is_variation_selector(ch))


def _optional_text(raw: str | None, field: str, max_chars: int) -> str | None:
    """The trimmed value, ``None`` when empty; raises ``ValidationError`` on a broken rule."""
    if raw is None:
        return None
    value = raw.strip(_EDGE_SPACES)
    if not value:
        return None
    if "\ufffd" in value:
        raise _replacement_character(field)
    if _has_control(value):
        raise _control_characters(field)
    # len() is an upper bound of _length(); only a long value needs the exact count.
    if len(value) > max_chars and _length(value) > max_chars:
        raise _field_too_long(field, max_chars)
    return value


# NFKC first, so full-width １/２ and ｍａｌｅ are accepted like their ASCII forms. 1 and 2 are
# the JIS X 5301 codes (0 unknown and 9 not applicable are not sexes the register records).
_SEXES: Final[Mapping[str, Sex]] = MappingProxyType(
    {
        "male": Sex.MALE,
        "female": Sex.FEMALE,
        "男": Sex.MALE,
        "女": Sex.FEMALE,
        "男性": Sex.MALE,
        "女性": Sex.FEMALE,
        "1": Sex.MALE,
        "2": Sex.FEMALE,
    }
)


def _optional_sex(raw: str | None) -> Sex | None:
    if raw is None:
        return None
    key = unicodedata.normalize("NFKC", raw).strip().casefold()
    if not key:
        return None
    sex = _SEXES.get(key)
    if sex is None:
        raise _bad_sex()
    return sex


def _optional_birth_date(raw: str | None) -> date | None:
    if raw is None or not raw.strip(_EDGE_SPACES):
        return None
    # parse_date takes ISO (1975-01-02), slashes (1975/01/02), 1975年1月2日 and 和暦
    # (昭和50年1月2日, S50.01.02), and raises JUKI-DATE-00x naming the field only.
    return parse_date(raw, field="birth_date")


def _optional_reference(raw: str | None) -> str | None:
    return _optional_text(raw, "ref", MAX_REFERENCE_CHARS)


def _lenient_reference(raw: object) -> str | None:
    """The row's ``ref`` if it is valid, else ``None``: used to label a row's error."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    if not isinstance(raw, str):
        return None
    try:
        return _optional_reference(raw)
    except ValidationError:
        return None


def _code_row(values: Mapping[str, str | None], row_number: int, ref: str | None) -> CodeRow:
    raw = values.get("resident_code")
    if raw is None or not raw.strip():
        raise _required("resident_code")
    code = validate_resident_code(raw, field="resident_code")
    return CodeRow(row_number=row_number, resident_code=code, reference=ref)


def _four_items_row(
    values: Mapping[str, str | None], row_number: int, ref: str | None
) -> FourItemsRow:
    name = _optional_text(values.get("name"), "name", MAX_NAME_CHARS)
    name_kana = _optional_text(values.get("name_kana"), "name_kana", MAX_NAME_CHARS)
    # Agencies often have only a reading and put it in the name column; searching it as a
    # kanji name would find nothing, searching it as a reading finds the person.
    if name is not None and name_kana is None and is_kana_query(name):
        name, name_kana = None, name
    if name_kana is not None and not is_kana_query(name_kana):
        raise _not_kana()
    birth_date = _optional_birth_date(values.get("birth_date"))
    sex = _optional_sex(values.get("sex"))
    address = _optional_text(values.get("address"), "address", MAX_ADDRESS_LENGTH)
    # Presence is checked after format, so a row with a mistyped name is told about the
    # mistake rather than that the name is missing.
    if name is None and name_kana is None:
        raise _name_required()
    if birth_date is None:
        raise _required("birth_date")
    return FourItemsRow(
        row_number=row_number,
        name=name,
        name_kana=name_kana,
        birth_date=birth_date,
        sex=sex,
        address=address,
        reference=ref,
    )


def _build_row(values: Mapping[str, str | None], row_number: int, kind: BatchKind) -> ParsedRow:
    """Validate one row's values (column or key → raw text) into a row or a row error."""
    try:
        reference = _optional_reference(values.get("ref"))
    except ValidationError as exc:
        return RowError.from_error(row_number, exc)
    try:
        if kind is BatchKind.BY_CODE:
            return _code_row(values, row_number, reference)
        return _four_items_row(values, row_number, reference)
    except ValidationError as exc:
        return RowError.from_error(row_number, exc, reference=reference)
