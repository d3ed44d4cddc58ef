"""The errors of a batch file: file-level errors raised, row-level errors yielded as rows.

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

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from jukinet.domain.batch_input.model import COLUMNS, MAX_LINE_CHARS, BatchKind
from jukinet.domain.errors import ValidationError

__all__ = ["BatchFileError", "BatchTooLarge"]


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
