"""Batch lookup files from agencies: a streaming parser for CSV and JSON-lines uploads.

Agencies listed in the Act's appended tables may check residents in bulk (domain.md §4.4; the
pension service replaced about 36 million paper proofs of life a year this way). A batch asks
either by resident code (:attr:`BatchKind.BY_CODE`) or by the four basic items
(:attr:`BatchKind.BY_FOUR_ITEMS`: name or kana reading, birth date, sex, address, partial address
allowed). Files run to millions of rows, so :func:`parse_batch` reads them as a stream of text
lines and yields one :class:`CodeRow`, :class:`FourItemsRow` or :class:`RowError` at a time. A
malformed row becomes a ``RowError`` and never stops the rest; only problems of the file as a
whole (no header, unknown column, wrong encoding, too many rows) raise :class:`BatchFileError`.

Row numbers are 1-based over *data* rows: the CSV header and blank lines (in CSV, records whose
every field is empty or spaces) are not counted, so row 1 is the first row that asks something.
An agency that needs to match results to its own records should use the ``ref`` column, which
every row and every row error carries back.

Messages never contain the offending value (names, codes and dates are personal data): they name
the field and the rule. Error codes of this module, all ``JUKI-BAT-0NN``:

====  ==================================================================================
001   file is empty (no header, or no line that is not blank)
002   file is not valid UTF-8
003   file starts with the marker of another encoding (UTF-16/32, or mis-decoded text)
004   first line is not a header for this kind of batch (no known column)
005   unknown column in the header
006   duplicate column in the header
007   a column the batch needs is missing from the header
008   a header column has no name
009   header line too long
010   header line has broken CSV quoting
011   more rows than allowed (:class:`BatchTooLarge`)
020   row too long (more than :data:`MAX_LINE_CHARS` characters)
021   row has broken CSV quoting
022   row has a different number of fields than the header
023   JSON line is not valid JSON
024   JSON line is not an object
025   JSON object has an unknown key
026   JSON value has the wrong type
027   JSON object has a duplicate key
028   a required field is empty (``resident_code``; ``birth_date`` in a four-items batch)
029   a four-items row has neither ``name`` nor ``name_kana``
030   a text field contains control characters
031   a text field is too long
032   ``name_kana`` is not kana
033   ``sex`` is not one of the accepted forms
034   a text field contains U+FFFD (the file was decoded with the wrong encoding)
====  ==================================================================================

Rules owned by other modules keep their own codes: a bad resident code is reported with
``JUKI-CODE-001``/``002`` (:func:`~jukinet.domain.codes.validate_resident_code`) and a bad birth
date with ``JUKI-DATE-001``..``004`` (:func:`~jukinet.domain.wareki.parse_date`).
"""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from jukinet.domain.codes import validate_resident_code
from jukinet.domain.errors import ValidationError
from jukinet.domain.names import is_kana_query
from jukinet.domain.register import MAX_ADDRESS_LENGTH, Sex
from jukinet.domain.wareki import parse_date

__all__ = [
    "COLUMNS",
    "MAX_LINE_CHARS",
    "MAX_NAME_CHARS",
    "MAX_REFERENCE_CHARS",
    "MAX_ROWS",
    "BatchFileError",
    "BatchFormat",
    "BatchKind",
    "BatchTooLarge",
    "CodeRow",
    "FourItemsRow",
    "ParsedRow",
    "RowError",
    "decode_lines",
    "detect_format",
    "parse_batch",
]

#: Rows one batch may hold; the row after the last allowed one raises :class:`BatchTooLarge`.
MAX_ROWS: Final = 10_000_000
#: Characters one row may have (without its line ending); longer rows become a ``RowError``.
MAX_LINE_CHARS: Final = 4_096
#: Longest ``name`` or ``name_kana`` accepted (variation selectors do not count).
MAX_NAME_CHARS: Final = 60
#: Longest ``ref`` accepted; the agency's own row id, echoed back with every result.
MAX_REFERENCE_CHARS: Final = 100


class BatchKind(StrEnum):
    """What the rows of a batch look residents up by."""

    BY_CODE = "code"
    BY_FOUR_ITEMS = "four_items"


class BatchFormat(StrEnum):
    """How a batch file is written."""

    CSV = "csv"
    JSONL = "jsonl"


#: The columns (CSV) or keys (JSON lines) each kind of batch accepts, in canonical order.
COLUMNS: Final[Mapping[BatchKind, tuple[str, ...]]] = MappingProxyType(
    {
        BatchKind.BY_CODE: ("resident_code", "ref"),
        BatchKind.BY_FOUR_ITEMS: ("name", "name_kana", "birth_date", "sex", "address", "ref"),
    }
)


# ---------------------------------------------------------------------------------------------
# Results and errors
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CodeRow:
    """One lookup by resident code; ``resident_code`` is normalised to 11 ASCII digits."""

    row_number: int
    resident_code: str
    reference: str | None


@dataclass(frozen=True, slots=True)
class FourItemsRow:
    """One lookup by the four basic items.

    ``name`` and ``name_kana`` are kept as written (outer spaces trimmed); folding for search is
    the searcher's job. At least one of them and ``birth_date`` are always present. ``sex`` is a
    :class:`~jukinet.domain.register.Sex` member (a ``str`` equal to ``"male"``/``"female"``).
    """

    row_number: int
    name: str | None
    name_kana: str | None
    birth_date: date | None
    sex: str | None
    address: str | None
    reference: str | None


@dataclass(frozen=True, slots=True)
class RowError:
    """Why one row could not be parsed. Never contains the row's values, only the rule."""

    row_number: int
    code: str
    message_ja: str
    message_en: str
    field: str | None
    reference: str | None

    @classmethod
    def from_error(
        cls, row_number: int, error: ValidationError, *, reference: str | None = None
    ) -> RowError:
        """The row error for ``error`` raised while parsing row ``row_number``."""
        return cls(
            row_number=row_number,
            code=error.code,
            message_ja=error.message_ja,
            message_en=error.message_en,
            field=error.field,
            reference=reference,
        )

    def message(self, lang: str) -> str:
        """The message in ``lang`` (``ja`` or ``en``); Japanese is the default."""
        return self.message_en if lang == "en" else self.message_ja


ParsedRow = CodeRow | FourItemsRow | RowError


class BatchFileError(ValidationError):
    """The file as a whole cannot be read as a batch (codes ``JUKI-BAT-001``..``011``)."""


class BatchTooLarge(BatchFileError):
    """The file has more rows than one batch may hold (``JUKI-BAT-011``).

    Raised when the first row beyond the limit is reached, so the rows before it have already
    been yielded: a caller that must treat the batch as all-or-nothing has to undo them.
    """

    status = 413


# Japanese labels for field names in messages; the English messages use the identifiers.
_LABELS_JA: Final[Mapping[str, str]] = MappingProxyType(
    {
        "resident_code": "住民票コード",
        "name": "氏名",
        "name_kana": "氏名（フリガナ）",
        "birth_date": "生年月日",
        "sex": "性別",
        "address": "住所",
        "ref": "参照番号（ref）",
    }
)


def _label(field: str) -> str:
    return _LABELS_JA.get(field, field)


def _columns_text(kind: BatchKind) -> str:
    return ", ".join(COLUMNS[kind])


# A header cell or JSON key is echoed in a message only when it looks like an identifier. If
# the agency forgot the header, the "column names" are a resident's data; a name, code or date
# never matches this (digits cannot lead, kanji and spaces are outside it).
_SAFE_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}", re.ASCII)


def _is_safe_name(name: str) -> bool:
    return _SAFE_NAME.fullmatch(name) is not None


# ---------------------------------------------------------------------------------------------
# File-level errors
# ---------------------------------------------------------------------------------------------


def _empty_file() -> BatchFileError:
    return BatchFileError(
        "JUKI-BAT-001",
        ja="ファイルが空です（見出し行もデータ行もありません）。",
        en="The file is empty (no header and no data).",
    )


def _not_utf8(line_number: int) -> BatchFileError:
    # The physical line number is not personal data and tells the agency where to look.
    return BatchFileError(
        "JUKI-BAT-002",
        ja=f"ファイルがUTF-8ではありません（{line_number}行目付近）。UTF-8で保存してください。",
        en=f"The file is not valid UTF-8 (near line {line_number}); save it as UTF-8.",
    )


def _foreign_encoding() -> BatchFileError:
    return BatchFileError(
        "JUKI-BAT-003",
        ja="ファイルの先頭がUTF-8以外の文字コード（UTF-16など）を示しています。"
        "UTF-8で保存してください。",
        en="The file starts with the marker of another encoding (such as UTF-16) or was "
        "decoded with the wrong one; save it as UTF-8.",
    )


def _header_missing(kind: BatchKind) -> BatchFileError:
    columns = _columns_text(kind)
    return BatchFileError(
        "JUKI-BAT-004",
        ja=f"1行目が見出し行ではありません。見出し行には次の列名を記載してください：{columns}",
        en=f"The first line is not a header for this batch; it must name columns from: {columns}.",
    )


def _unknown_column(position: int, name: str, kind: BatchKind) -> BatchFileError:
    columns = _columns_text(kind)
    if _is_safe_name(name):
        return BatchFileError(
            "JUKI-BAT-005",
            ja=f"{position}列目の列名「{name}」は使用できません。使用できる列名：{columns}",
            en=f"Column {position} ('{name}') is not a known column; allowed: {columns}.",
            field=name,
        )
    return BatchFileError(
        "JUKI-BAT-005",
        ja=f"{position}列目の列名は使用できません。使用できる列名：{columns}",
        en=f"Column {position} is not a known column; allowed: {columns}.",
    )


def _duplicate_column(position: int, name: str) -> BatchFileError:
    # Only called for known column names, so echoing the name is safe.
    return BatchFileError(
        "JUKI-BAT-006",
        ja=f"{position}列目の列名「{name}」が重複しています。",
        en=f"Column {position} ('{name}') appears more than once.",
        field=name,
    )


def _missing_column(ja_rule: str, en_rule: str, field: str) -> BatchFileError:
    return BatchFileError(
        "JUKI-BAT-007",
        ja=f"見出し行に必要な列がありません：{ja_rule}",
        en=f"The header lacks a required column: {en_rule}.",
        field=field,
    )


def _unnamed_column(position: int) -> BatchFileError:
    return BatchFileError(
        "JUKI-BAT-008",
        ja=f"見出し行の{position}列目に列名がありません。",
        en=f"Column {position} of the header has no name.",
    )


def _header_too_long() -> BatchFileError:
    return BatchFileError(
        "JUKI-BAT-009",
        ja=f"見出し行が長すぎます（{MAX_LINE_CHARS}文字以内）。",
        en=f"The header line is longer than {MAX_LINE_CHARS} characters.",
    )


def _header_bad_quoting() -> BatchFileError:
    return BatchFileError(
        "JUKI-BAT-010",
        ja='見出し行のCSVの引用符（"）の使い方が正しくありません。',
        en='The header line has broken CSV quoting (").',
    )


def _too_many_rows(max_rows: int) -> BatchTooLarge:
    return BatchTooLarge(
        "JUKI-BAT-011",
        ja=f"1回の一括照会は{max_rows:,}行までです。ファイルを分割してください。",
        en=f"A batch may hold at most {max_rows:,} rows; split the file.",
    )


# ---------------------------------------------------------------------------------------------
# Row-level errors (raised internally as ValidationError, yielded as RowError)
# ---------------------------------------------------------------------------------------------


def _row_too_long() -> ValidationError:
    return ValidationError(
        "JUKI-BAT-020",
        ja=f"行が長すぎます（{MAX_LINE_CHARS}文字以内）。",
        en=f"The row is longer than {MAX_LINE_CHARS} characters.",
    )


def _row_bad_quoting() -> ValidationError:
    return ValidationError(
        "JUKI-BAT-021",
        ja='CSVの引用符（"）の使い方が正しくありません。',
        en='The row has broken CSV quoting (").',
    )


def _wrong_field_count(expected: int) -> ValidationError:
    return ValidationError(
        "JUKI-BAT-022",
        ja=f"項目数が見出し行と一致しません（{expected}項目必要です）。",
        en=f"The row does not have the header's {expected} fields.",
    )


def _not_json() -> ValidationError:
    return ValidationError(
        "JUKI-BAT-023",
        ja="JSONとして読み取れない行です。",
        en="The line is not valid JSON.",
    )


def _not_object() -> ValidationError:
    return ValidationError(
        "JUKI-BAT-024",
        ja="各行はJSONオブジェクト（{...}）でなければなりません。",
        en="Each line must be a JSON object ({...}).",
    )


def _unknown_key(key: str, kind: BatchKind) -> ValidationError:
    columns = _columns_text(kind)
    if _is_safe_name(key):
        return ValidationError(
            "JUKI-BAT-025",
            ja=f"キー「{key}」は使用できません。使用できるキー：{columns}",
            en=f"Key '{key}' is not allowed; allowed: {columns}.",
            field=key,
        )
    return ValidationError(
        "JUKI-BAT-025",
        ja=f"使用できないキーがあります。使用できるキー：{columns}",
        en=f"The object has a key that is not allowed; allowed: {columns}.",
    )


def _wrong_type(field: str) -> ValidationError:
    if field == "ref":
        ja_rule, en_rule = "文字列、整数またはnull", "a string, an integer or null"
    else:
        ja_rule, en_rule = "文字列またはnull", "a string or null"
    return ValidationError(
        "JUKI-BAT-026",
        ja=f"{_label(field)}の値は{ja_rule}でなければなりません。",
        en=f"{field} must be {en_rule}.",
        field=field,
    )


def _duplicate_key() -> ValidationError:
    return ValidationError(
        "JUKI-BAT-027",
        ja="同じキーが2回以上あります。",
        en="The object has the same key more than once.",
    )


def _required(field: str) -> ValidationError:
    return ValidationError(
        "JUKI-BAT-028",
        ja=f"{_label(field)}を入力してください。",
        en=f"{field} is required.",
        field=field,
    )


def _name_required() -> ValidationError:
    return ValidationError(
        "JUKI-BAT-029",
        ja="氏名または氏名（フリガナ）のどちらかを入力してください。",
        en="name or name_kana is required.",
        field="name",
    )


def _control_characters(field: str) -> ValidationError:
    return ValidationError(
        "JUKI-BAT-030",
        ja=f"{_label(field)}に制御文字（改行・タブなど）が含まれています。",
        en=f"{field} contains control characters (line breaks, tabs and the like).",
        field=field,
    )


def _field_too_long(field: str, max_chars: int) -> ValidationError:
    return ValidationError(
        "JUKI-BAT-031",
        ja=f"{_label(field)}は{max_chars}文字以内で入力してください。",
        en=f"{field} must be at most {max_chars} characters.",
        field=field,
    )


def _not_kana() -> ValidationError:
    return ValidationError(
        "JUKI-BAT-032",
        ja="氏名（フリガナ）はカナ（カタカナまたはひらがな）で入力してください。",
        en="name_kana must be written in kana (katakana or hiragana).",
        field="name_kana",
    )


def _bad_sex() -> ValidationError:
    return ValidationError(
        "JUKI-BAT-033",
        ja="性別は male／female／男／女／1（男）／2（女）のいずれかで入力してください。",
        en="sex must be one of male, female, 男, 女, 1 (male) or 2 (female).",
        field="sex",
    )


def _replacement_character(field: str) -> ValidationError:
    return ValidationError(
        "JUKI-BAT-034",
        ja=f"{_label(field)}に読み取れない文字（U+FFFD）があります。"
        "ファイルの文字コードを確認してください。",
        en=f"{field} contains U+FFFD: the file was decoded with the wrong encoding.",
        field=field,
    )


# ---------------------------------------------------------------------------------------------
# Field rules
# ---------------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------------
# Lines
# ---------------------------------------------------------------------------------------------

# What an encoding marker of another encoding looks like once decoded: a byte-swapped BOM
# (UTF-16 read with the wrong byte order), and the UTF-16 (FF FE / FE FF) and UTF-8 (EF BB BF)
# BOMs read as Latin-1 or cp1252.
_FOREIGN_MARKERS: Final = ("\ufffe", "\u00ff\u00fe", "\u00fe\u00ff", "\u00ef\u00bb\u00bf")


def _strip_line_end(line: str) -> str:
    return line.rstrip("\r\n")


def _first_line(line: str) -> str:
    """The first line without its UTF-8 BOM; ``BatchFileError`` if it shows a wrong encoding."""
    if line.startswith("\ufeff"):
        line = line[1:]
    # NUL bytes are what UTF-16 text looks like when read one byte at a time; U+FFFD is what a
    # decoder left for bytes it could not read. Either on the first line means the whole file
    # was read with the wrong encoding, which no row-by-row error would explain as well.
    if line.startswith(_FOREIGN_MARKERS) or "\x00" in line or "\ufffd" in line:
        raise _foreign_encoding()
    return line


def _checked_lines(lines: Iterable[str]) -> Iterator[str]:
    """The source lines, with the first line checked and decoding failures made file errors."""
    iterator = iter(lines)
    count = 0
    while True:
        try:
            line = next(iterator)
        except StopIteration:
            return
        except UnicodeDecodeError:
            # A text file opened as UTF-8 raises this mid-stream; the exception's own text
            # quotes bytes of the file, so it is not chained into ours.
            raise _not_utf8(count + 1) from None
        if not isinstance(line, str):
            raise TypeError("parse_batch expects text lines; decode bytes with decode_lines()")
        count += 1
        yield _first_line(line) if count == 1 else line


# UTF-8 needs at most four bytes a character, so a line of more bytes than this has more than
# MAX_LINE_CHARS characters and can be reported as too long without being decoded or kept.
_MAX_LINE_BYTES: Final = 4 * (MAX_LINE_CHARS + 1)
# What decode_lines yields in place of a line too long to keep: any string longer than
# MAX_LINE_CHARS makes parse_batch report the row as too long, which is all it needs to do.
_OVERLONG_LINE: Final = "\ufffc" * (MAX_LINE_CHARS + 1) + "\n"


def decode_lines(chunks: Iterable[bytes]) -> Iterator[str]:
    """Split a stream of UTF-8 byte chunks into text lines for :func:`parse_batch`.

    Lines keep their ending (``\\n`` or ``\\r\\n``), as the csv module wants. Memory stays
    bounded whatever the input: a line longer than :data:`MAX_LINE_CHARS` characters is not
    kept but replaced by a stand-in that ``parse_batch`` reports as a too-long row. (A text
    file's own line iterator would read such a line whole, however large.) Splitting on the
    byte ``\\n`` is safe because in UTF-8 that byte never occurs inside a multi-byte character.

    Raises :class:`BatchFileError` ``JUKI-BAT-002`` on the first line that is not valid UTF-8:
    the encoding is a property of the whole file (a Shift_JIS export would otherwise produce
    one error per row).
    """
    pending = bytearray()
    skipping = False  # inside a too-long line whose stand-in was already yielded
    line_number = 0
    for chunk in chunks:
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            if end < 0:
                if not skipping:
                    pending += chunk[start:]
                    if len(pending) > _MAX_LINE_BYTES:
                        line_number += 1
                        pending.clear()
                        skipping = True
                        yield _OVERLONG_LINE
                break
            if skipping:
                skipping = False
            else:
                pending += chunk[start : end + 1]
                line_number += 1
                yield _decode(pending, line_number)
                pending.clear()
            start = end + 1
    if pending and not skipping:
        yield _decode(pending, line_number + 1)


def _decode(data: bytearray, line_number: int) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise _not_utf8(line_number) from None


def detect_format(first_line: str) -> BatchFormat:
    """JSON lines if ``first_line`` starts with ``{`` (after a BOM and spaces), else CSV.

    A CSV header cannot start with ``{`` (it names columns), so the test needs no more.
    """
    start = first_line.lstrip("\ufeff \t\u3000")
    return BatchFormat.JSONL if start.startswith("{") else BatchFormat.CSV


def _is_blank(text: str) -> bool:
    return not text.strip()


# ---------------------------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------------------------


class _RecordTooLong(Exception):
    """Raised through csv.reader to abandon a record longer than MAX_LINE_CHARS."""


class _CsvFeed:
    """The line iterator csv.reader reads from, counting the characters of the current record.

    csv.reader pulls exactly the lines of one record per ``next()`` (it never reads ahead), so
    the count since :meth:`start_record` is that record's size. Counting here rather than on
    the parsed fields means an unterminated quote cannot make the reader gather the rest of a
    multi-gigabyte file into one field: it is cut off after MAX_LINE_CHARS characters.
    """

    __slots__ = ("_lines", "_record_chars")

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines
        self._record_chars = 0

    def __iter__(self) -> _CsvFeed:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self._record_chars += len(_strip_line_end(line))
        if self._record_chars > MAX_LINE_CHARS:
            raise _RecordTooLong
        return line

    def start_record(self) -> None:
        """Begin counting a new record."""
        self._record_chars = 0


def _csv_reader(feed: _CsvFeed) -> Iterator[list[str]]:
    # strict: a stray quote ("a"b) is an error the agency should fix, not a value to guess at.
    return csv.reader(feed, dialect="excel", strict=True)


def _is_blank_record(cells: list[str]) -> bool:
    # Spreadsheets export rows of empty cells (",,,,") after the data; they ask nothing.
    return all(_is_blank(cell) for cell in cells)


def _header_name(cell: str) -> str:
    return cell.strip().casefold()


def _read_header(cells: list[str], kind: BatchKind) -> tuple[str, ...]:
    """The header's column names, or ``BatchFileError`` if they do not fit ``kind``."""
    allowed = COLUMNS[kind]
    names = tuple(_header_name(cell) for cell in cells)
    # No known column at all means the line is not a header (the agency left it out, or the
    # file is for the other kind); saying so beats naming the "unknown column", which would
    # be a resident's data.
    if not any(name in allowed for name in names):
        raise _header_missing(kind)
    seen: set[str] = set()
    for position, name in enumerate(names, start=1):
        if not name:
            raise _unnamed_column(position)
        if name not in allowed:
            raise _unknown_column(position, name, kind)
        if name in seen:
            raise _duplicate_column(position, name)
        seen.add(name)
    # Every row would fail without these, so the file is refused before its first row.
    if kind is BatchKind.BY_CODE:
        if "resident_code" not in seen:
            raise _missing_column("resident_code", "resident_code", "resident_code")
    else:
        if "birth_date" not in seen:
            raise _missing_column("birth_date", "birth_date", "birth_date")
        if "name" not in seen and "name_kana" not in seen:
            raise _missing_column("name または name_kana", "name or name_kana", "name")
    return names


def _parse_csv(lines: Iterator[str], kind: BatchKind, max_rows: int) -> Iterator[ParsedRow]:
    feed = _CsvFeed(lines)
    reader = _csv_reader(feed)

    columns: tuple[str, ...] | None = None
    while columns is None:
        feed.start_record()
        try:
            cells = next(reader)
        except StopIteration:
            raise _empty_file() from None
        except _RecordTooLong:
            raise _header_too_long() from None
        except csv.Error:
            raise _header_bad_quoting() from None
        if not _is_blank_record(cells):  # blank lines before the header are tolerated
            columns = _read_header(cells, kind)

    row_number = 0
    while True:
        feed.start_record()
        problem: ValidationError | None = None
        cells = []
        try:
            cells = next(reader)
        except StopIteration:
            return
        except _RecordTooLong:
            problem = _row_too_long()
        except csv.Error:
            problem = _row_bad_quoting()
        if problem is not None:
            # The reader may be stopped mid-record; a fresh one over the same feed resumes at
            # the next line, so one broken row costs only that row.
            reader = _csv_reader(feed)
        elif _is_blank_record(cells):
            continue
        row_number += 1
        if row_number > max_rows:
            raise _too_many_rows(max_rows)
        if problem is not None:
            yield RowError.from_error(row_number, problem)
        elif len(cells) != len(columns):
            # A missing or extra comma shifts every later field into the wrong column; guessing
            # would risk looking up the wrong person.
            yield RowError.from_error(row_number, _wrong_field_count(len(columns)))
        else:
            yield _build_row(dict(zip(columns, cells, strict=True)), row_number, kind)


# ---------------------------------------------------------------------------------------------
# JSON lines
# ---------------------------------------------------------------------------------------------


class _DuplicateKey(Exception):
    """Raised through json.loads when an object repeats a key."""


def _reject_duplicate_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    # json.loads would silently keep the last value; which of two birth dates was meant is not
    # ours to guess.
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise _DuplicateKey
    return obj


def _json_row(text: str, row_number: int, kind: BatchKind) -> ParsedRow:
    try:
        obj: object = json.loads(text, object_pairs_hook=_reject_duplicate_keys)
    except _DuplicateKey:
        return RowError.from_error(row_number, _duplicate_key())
    except (ValueError, RecursionError):
        # RecursionError: a line of 4,000 "[" nests deeper than the decoder's stack allows.
        return RowError.from_error(row_number, _not_json())
    if not isinstance(obj, dict):
        return RowError.from_error(row_number, _not_object())

    reference = _lenient_reference(obj.get("ref"))
    allowed = COLUMNS[kind]
    values: dict[str, str | None] = {}
    for key, value in obj.items():
        if key not in allowed:
            return RowError.from_error(row_number, _unknown_key(key, kind), reference=reference)
        # Agencies' own row ids are often integers; bool is an int subclass but not an id.
        if key == "ref" and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        # Numbers are refused elsewhere on purpose: a resident code as a JSON number has lost
        # its leading zeros, and a date as a number is ambiguous.
        if value is not None and not isinstance(value, str):
            return RowError.from_error(row_number, _wrong_type(key), reference=reference)
        values[key] = value
    return _build_row(values, row_number, kind)


def _parse_jsonl(lines: Iterator[str], kind: BatchKind, max_rows: int) -> Iterator[ParsedRow]:
    row_number = 0
    for line in lines:
        text = _strip_line_end(line)
        if _is_blank(text):
            continue
        row_number += 1
        if row_number > max_rows:
            raise _too_many_rows(max_rows)
        if len(text) > MAX_LINE_CHARS:
            yield RowError.from_error(row_number, _row_too_long())
        else:
            yield _json_row(text, row_number, kind)
    if row_number == 0:
        raise _empty_file()


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------


def parse_batch(
    lines: Iterable[str],
    *,
    kind: BatchKind,
    fmt: BatchFormat,
    max_rows: int = MAX_ROWS,
) -> Iterator[ParsedRow]:
    """Parse a batch file lazily, one row (or one row error) at a time.

    ``lines`` is any iterable of text lines, with or without line endings: an open text file
    (``newline=""`` for CSV, as the csv module asks), :func:`decode_lines` over an upload, or
    a list in tests. It is read one line at a time, never as a whole; nothing is read until
    the first row is asked for.

    CSV: the first non-blank line is the header (case and surrounding spaces ignored). JSON
    lines: every non-blank line is one object with the same keys. Blank lines are skipped and
    not counted; ``row_number`` is 1-based over the remaining data rows. A UTF-8 BOM is ignored.

    Yields :class:`CodeRow` or :class:`FourItemsRow` per valid row and :class:`RowError` per
    invalid one. Raises :class:`BatchFileError` for problems of the whole file (codes 001-010,
    raised when reached) and :class:`BatchTooLarge` when row ``max_rows + 1`` is reached, after
    the first ``max_rows`` rows have been yielded. ``TypeError``/``ValueError`` for arguments
    that are a programming error (raised at once, not when iterating).
    """
    # A str is itself an iterable of one-character "lines"; silently parsing that would be
    # a baffling failure far from its cause.
    if isinstance(lines, str | bytes | bytearray):
        raise TypeError("parse_batch expects an iterable of lines, not a single string")
    kind = BatchKind(kind)
    fmt = BatchFormat(fmt)
    if max_rows < 0:
        raise ValueError("max_rows must not be negative")
    source = _checked_lines(lines)
    if fmt is BatchFormat.CSV:
        return _parse_csv(source, kind, max_rows)
    return _parse_jsonl(source, kind, max_rows)
