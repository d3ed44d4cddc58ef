"""Batch lookup files: streaming CSV / JSON-lines parsing, per-row errors, file-level errors."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jukinet.domain.batch_input import (
    COLUMNS,
    MAX_LINE_CHARS,
    MAX_NAME_CHARS,
    MAX_REFERENCE_CHARS,
    MAX_ROWS,
    BatchFileError,
    BatchFormat,
    BatchKind,
    BatchTooLarge,
    CodeRow,
    FourItemsRow,
    ParsedRow,
    RowError,
    decode_lines,
    detect_format,
    parse_batch,
)
from jukinet.domain.codes import make_resident_code
from jukinet.domain.errors import ValidationError
from jukinet.domain.register import MAX_ADDRESS_LENGTH, Sex

CODE = make_resident_code("1234567890")
OTHER_CODE = make_resident_code("0000000001")
# Same body, wrong check digit.
BAD_CHECK = CODE[:-1] + str((int(CODE[-1]) + 1) % 10)

FOUR_HEADER = "name,name_kana,birth_date,sex,address,ref\n"
CODE_HEADER = "resident_code,ref\n"

CODE_PATTERN = re.compile(r"JUKI-(BAT|CODE|DATE)-\d{3}")


def parse(
    lines: list[str],
    kind: BatchKind = BatchKind.BY_CODE,
    fmt: BatchFormat = BatchFormat.CSV,
    max_rows: int = MAX_ROWS,
) -> list[ParsedRow]:
    return list(parse_batch(lines, kind=kind, fmt=fmt, max_rows=max_rows))


def four(*rows: str) -> list[ParsedRow]:
    return parse([FOUR_HEADER, *rows], kind=BatchKind.BY_FOUR_ITEMS)


def only(rows: list[ParsedRow]) -> ParsedRow:
    assert len(rows) == 1, rows
    return rows[0]


def row_error(rows: list[ParsedRow]) -> RowError:
    row = only(rows)
    assert isinstance(row, RowError), row
    return row


def four_row(rows: list[ParsedRow]) -> FourItemsRow:
    row = only(rows)
    assert isinstance(row, FourItemsRow), row
    return row


def file_error(
    lines: list[str],
    kind: BatchKind = BatchKind.BY_CODE,
    fmt: BatchFormat = BatchFormat.CSV,
) -> BatchFileError:
    with pytest.raises(BatchFileError) as exc:
        parse(lines, kind, fmt)
    return exc.value


# --- formats and API ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first_line", "expected"),
    [
        ('{"resident_code": "1"}\n', BatchFormat.JSONL),
        ('\ufeff{"a": 1}', BatchFormat.JSONL),
        ('  \u3000{"a": 1}', BatchFormat.JSONL),
        ("resident_code,ref\n", BatchFormat.CSV),
        ("\ufeffname,birth_date", BatchFormat.CSV),
        ("", BatchFormat.CSV),
    ],
)
def test_detect_format(first_line: str, expected: BatchFormat) -> None:
    assert detect_format(first_line) is expected


def test_columns_per_kind() -> None:
    assert COLUMNS[BatchKind.BY_CODE] == ("resident_code", "ref")
    assert set(COLUMNS[BatchKind.BY_FOUR_ITEMS]) == {
        "name",
        "name_kana",
        "birth_date",
        "sex",
        "address",
        "ref",
    }


def test_errors_are_validation_errors() -> None:
    assert issubclass(BatchFileError, ValidationError)
    assert issubclass(BatchTooLarge, BatchFileError)
    assert BatchTooLarge.status == 413


def test_a_single_string_is_refused_at_once() -> None:
    with pytest.raises(TypeError):
        parse_batch(CODE_HEADER + CODE, kind=BatchKind.BY_CODE, fmt=BatchFormat.CSV)


def test_bytes_lines_are_refused() -> None:
    with pytest.raises(TypeError):
        parse([b"resident_code\n"], BatchKind.BY_CODE)  # type: ignore[list-item]


def test_bad_arguments_are_refused_before_iterating() -> None:
    with pytest.raises(ValueError, match="max_rows"):
        parse_batch([], kind=BatchKind.BY_CODE, fmt=BatchFormat.CSV, max_rows=-1)
    with pytest.raises(ValueError, match="nonsense"):
        parse_batch([], kind="nonsense", fmt=BatchFormat.CSV)  # type: ignore[arg-type]


def test_row_error_message_language() -> None:
    error = row_error(parse([CODE_HEADER, "1,\n"]))
    assert error.message("en") == error.message_en
    assert error.message("ja") == error.message_ja
    assert error.message("fr") == error.message_ja


# --- CSV, by code -------------------------------------------------------------------------------


def test_csv_code_rows() -> None:
    rows = parse([CODE_HEADER, f"{CODE},A-1\n", f"{OTHER_CODE},\n"])
    assert rows == [
        CodeRow(row_number=1, resident_code=CODE, reference="A-1"),
        CodeRow(row_number=2, resident_code=OTHER_CODE, reference=None),
    ]


def test_csv_lines_without_line_endings() -> None:
    assert parse(["resident_code", CODE]) == [CodeRow(1, CODE, None)]


def test_csv_crlf_line_endings() -> None:
    assert parse(["resident_code,ref\r\n", f"{CODE},x\r\n"]) == [CodeRow(1, CODE, "x")]


def test_ref_column_is_optional() -> None:
    assert parse(["resident_code\n", f"{CODE}\n"]) == [CodeRow(1, CODE, None)]


def test_header_is_case_insensitive_and_trimmed() -> None:
    rows = parse([" Resident_Code \u3000,\tREF \n", f"{CODE},r\n"])
    assert rows == [CodeRow(1, CODE, "r")]


def test_columns_in_any_order() -> None:
    assert parse(["ref,resident_code\n", f"r,{CODE}\n"]) == [CodeRow(1, CODE, "r")]


def test_bom_on_first_line_is_ignored() -> None:
    assert parse(["\ufeffresident_code,ref\n", f"{CODE},r\n"]) == [CodeRow(1, CODE, "r")]


def test_bom_on_a_blank_first_line_is_ignored() -> None:
    assert parse(["\ufeff\n", "\n", "resident_code\n", f"{CODE}\n"]) == [CodeRow(1, CODE, None)]


def test_full_width_and_padded_code_is_normalised() -> None:
    wide = CODE.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert parse([CODE_HEADER, f" {wide} ,r\n"]) == [CodeRow(1, CODE, "r")]


def test_code_errors_keep_the_code_modules_codes() -> None:
    rows = parse([CODE_HEADER, "1234,r1\n", f"{BAD_CHECK},r2\n"])
    assert [(r.code, r.field, r.reference) for r in rows if isinstance(r, RowError)] == [
        ("JUKI-CODE-001", "resident_code", "r1"),
        ("JUKI-CODE-002", "resident_code", "r2"),
    ]
    assert len(rows) == 2


def test_empty_code_is_required() -> None:
    error = row_error(parse([CODE_HEADER, "  ,r\n"]))
    assert (error.code, error.field, error.reference) == ("JUKI-BAT-028", "resident_code", "r")


def test_bad_row_does_not_stop_the_rest() -> None:
    rows = parse([CODE_HEADER, "bad,1\n", f"{CODE},2\n", "x,y,z\n", f"{OTHER_CODE},4\n"])
    assert [type(r).__name__ for r in rows] == ["RowError", "CodeRow", "RowError", "CodeRow"]
    assert [r.row_number for r in rows] == [1, 2, 3, 4]


# --- CSV quoting and blank lines ----------------------------------------------------------------


def test_quoted_fields() -> None:
    rows = four('"山田,太郎",,1980-01-02,,"東京都千代田区1-1,2","a ""quoted"" ref"\n')
    row = four_row(rows)
    assert row.name == "山田,太郎"
    assert row.address == "東京都千代田区1-1,2"
    assert row.reference == 'a "quoted" ref'


def test_quoted_code() -> None:
    assert parse([CODE_HEADER, f'"{CODE}","r"\n']) == [CodeRow(1, CODE, "r")]


def test_quoted_line_break_is_one_record_and_rejected() -> None:
    # The csv module joins the two physical lines into one field; a line break is a control
    # character in an address, and the next record is numbered 2, not 3.
    rows = four(',ヤマダ,1980-01-02,,"東京都\n', '千代田区",r1\n', ",ヤマダ,1980-01-02,,,r2\n")
    assert len(rows) == 2
    first, second = rows
    assert isinstance(first, RowError)
    assert (first.code, first.field, first.reference) == ("JUKI-BAT-030", "address", "r1")
    assert isinstance(second, FourItemsRow)
    assert second.row_number == 2


def test_broken_quoting_is_a_row_error_and_parsing_goes_on() -> None:
    rows = parse([CODE_HEADER, f'"{CODE}"x,r\n', f"{CODE},ok\n"])
    assert len(rows) == 2
    assert isinstance(rows[0], RowError)
    assert rows[0].code == "JUKI-BAT-021"
    assert rows[1] == CodeRow(2, CODE, "ok")


def test_unterminated_quote_at_end_of_file() -> None:
    rows = parse([CODE_HEADER, f"{CODE},ok\n", f'"{CODE},r\n'])
    assert rows[0] == CodeRow(1, CODE, "ok")
    assert isinstance(rows[1], RowError)
    assert rows[1].code == "JUKI-BAT-021"
    assert len(rows) == 2


def test_bare_carriage_return_in_unquoted_field() -> None:
    assert row_error(parse([CODE_HEADER, f"{CODE},a\rb\n"])).code == "JUKI-BAT-021"


@pytest.mark.parametrize("line", [f"{CODE}\n", f"{CODE},r,extra\n", f"{CODE},r,\n"])
def test_wrong_number_of_fields(line: str) -> None:
    error = row_error(parse([CODE_HEADER, line]))
    assert error.code == "JUKI-BAT-022"
    assert error.reference is None  # the fields may be shifted, so no ref is trusted


def test_blank_lines_are_skipped_and_not_counted() -> None:
    rows = parse([CODE_HEADER, "\n", f"{CODE},a\n", "   \n", ",\n", "\r\n", "", f"{CODE},b\n"])
    assert rows == [CodeRow(1, CODE, "a"), CodeRow(2, CODE, "b")]


def test_blank_spreadsheet_rows_are_skipped() -> None:
    rows = four(",,,,,\n", ",ヤマダ,1980-01-02,,,\n", " , ,\u3000, , , \n")
    assert [r.row_number for r in rows] == [1]


def test_header_only_file_has_no_rows() -> None:
    assert parse([CODE_HEADER]) == []


# --- CSV header errors --------------------------------------------------------------------------


@pytest.mark.parametrize("lines", [[], [""], ["\ufeff\n", "  \n", "\n"], [",,,\n"]])
def test_empty_csv_file(lines: list[str]) -> None:
    assert file_error(lines).code == "JUKI-BAT-001"


def test_missing_header_does_not_echo_the_data() -> None:
    error = file_error([f"{CODE},r\n", f"{CODE},s\n"])
    assert error.code == "JUKI-BAT-004"
    assert CODE not in error.message_en
    assert CODE not in error.message_ja
    assert "resident_code" in error.message_en  # tells the agency what the header should be


def test_header_of_the_other_kind() -> None:
    # "ref" is shared, so the line is a header and its first foreign column is named.
    error = file_error([FOUR_HEADER], BatchKind.BY_CODE)
    assert (error.code, error.field) == ("JUKI-BAT-005", "name")
    error = file_error([CODE_HEADER], BatchKind.BY_FOUR_ITEMS)
    assert (error.code, error.field) == ("JUKI-BAT-005", "resident_code")
    # Without a shared column it is not a header at all.
    assert file_error(["name,birth_date\n"], BatchKind.BY_CODE).code == "JUKI-BAT-004"


def test_unknown_column_is_named() -> None:
    error = file_error(["resident_code,Reference\n"])
    assert error.code == "JUKI-BAT-005"
    assert error.field == "reference"
    assert "reference" in error.message_en
    assert "reference" in error.message_ja
    assert "Column 2" in error.message_en


def test_unknown_column_that_looks_like_data_is_not_echoed() -> None:
    error = file_error(["name,birth_date,山田太郎\n"], BatchKind.BY_FOUR_ITEMS)
    assert error.code == "JUKI-BAT-005"
    assert error.field is None
    assert "山田太郎" not in error.message_ja
    assert "山田太郎" not in error.message_en
    assert "3" in error.message_en


def test_resident_code_column_not_allowed_in_four_items_batch() -> None:
    error = file_error(["name,birth_date,resident_code\n"], BatchKind.BY_FOUR_ITEMS)
    assert (error.code, error.field) == ("JUKI-BAT-005", "resident_code")


def test_duplicate_column() -> None:
    error = file_error(["resident_code,REF,ref\n"])
    assert (error.code, error.field) == ("JUKI-BAT-006", "ref")


@pytest.mark.parametrize(
    ("header", "kind", "field"),
    [
        ("ref\n", BatchKind.BY_CODE, "resident_code"),
        ("name,sex\n", BatchKind.BY_FOUR_ITEMS, "birth_date"),
        ("birth_date,address,ref\n", BatchKind.BY_FOUR_ITEMS, "name"),
    ],
)
def test_required_column_missing(header: str, kind: BatchKind, field: str) -> None:
    error = file_error([header], kind)
    assert (error.code, error.field) == ("JUKI-BAT-007", field)


def test_name_kana_alone_is_enough_in_the_header() -> None:
    rows = parse(["name_kana,birth_date\n", "ヤマダ,1980-01-02\n"], BatchKind.BY_FOUR_ITEMS)
    assert four_row(rows).name_kana == "ヤマダ"


@pytest.mark.parametrize("header", ["resident_code,\n", "resident_code,,ref\n", ",resident_code\n"])
def test_header_column_without_name(header: str) -> None:
    assert file_error([header]).code == "JUKI-BAT-008"


def test_header_too_long() -> None:
    assert file_error(["resident_code," + "x" * MAX_LINE_CHARS + "\n"]).code == "JUKI-BAT-009"


def test_header_with_broken_quoting() -> None:
    assert file_error(['"resident_code"x,ref\n']).code == "JUKI-BAT-010"


# --- encoding -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "first_line",
    [
        "\u00ff\u00feresident_code\n",  # UTF-16 LE BOM read as Latin-1
        "\u00fe\u00ffresident_code\n",  # UTF-16 BE BOM read as Latin-1
        "\u00ef\u00bb\u00bfresident_code\n",  # UTF-8 BOM read as Latin-1
        "\uffferesident_code\n",  # byte-swapped BOM (UTF-16 read in the wrong byte order)
        "r\x00e\x00s\x00\n",  # UTF-16 read one byte at a time
        "resident_code\ufffd\n",  # decoded with errors="replace"
    ],
)
@pytest.mark.parametrize("fmt", list(BatchFormat))
def test_foreign_encoding_marker(first_line: str, fmt: BatchFormat) -> None:
    assert file_error([first_line, f"{CODE}\n"], fmt=fmt).code == "JUKI-BAT-003"


def test_decoding_failure_in_the_source_is_a_file_error() -> None:
    def lines() -> Iterator[str]:
        yield CODE_HEADER
        yield f"{CODE},r\n"
        raise UnicodeDecodeError("utf-8", b"\x82\xa0", 0, 1, "invalid start byte")

    produced: list[ParsedRow] = []
    with pytest.raises(BatchFileError) as exc:
        produced.extend(parse_batch(lines(), kind=BatchKind.BY_CODE, fmt=BatchFormat.CSV))
    assert exc.value.code == "JUKI-BAT-002"
    assert exc.value.__cause__ is None
    assert exc.value.__suppress_context__
    assert produced == [CodeRow(1, CODE, "r")]


def test_replacement_character_in_a_later_row_is_a_row_error() -> None:
    error = row_error(four(",ヤマダ,1980-01-02,,東京都\ufffd,r\n"))
    assert (error.code, error.field) == ("JUKI-BAT-034", "address")


# --- line length --------------------------------------------------------------------------------


def test_row_too_long_is_a_row_error() -> None:
    long_ref = "x" * (MAX_LINE_CHARS - len(CODE))  # one character over with the comma
    rows = parse([CODE_HEADER, f"{CODE},{long_ref}\n", f"{CODE},ok\n"])
    assert isinstance(rows[0], RowError)
    assert rows[0].code == "JUKI-BAT-020"
    assert rows[1] == CodeRow(2, CODE, "ok")


def test_row_of_exactly_max_chars_is_not_too_long() -> None:
    # The ref is then over its own limit: a different rule, which proves the line was parsed.
    long_ref = "x" * (MAX_LINE_CHARS - len(CODE) - 1)
    error = row_error(parse([CODE_HEADER, f"{CODE},{long_ref}\r\n"]))
    assert error.code == "JUKI-BAT-031"


def test_unterminated_quote_cannot_swallow_the_file() -> None:
    # Without a cap the csv module would gather every following line into one field.
    def lines() -> Iterator[str]:
        yield CODE_HEADER
        yield f'"{CODE},r\n'
        while True:
            yield f"{CODE},filler\n"

    rows = parse_batch(lines(), kind=BatchKind.BY_CODE, fmt=BatchFormat.CSV)
    first = next(rows)
    assert isinstance(first, RowError)
    assert first.code == "JUKI-BAT-020"
    # After the cut, parsing resumes on the following lines.
    assert next(rows) == CodeRow(2, CODE, "filler")


def test_jsonl_row_too_long() -> None:
    long_line = json.dumps({"resident_code": CODE, "ref": "x" * MAX_LINE_CHARS})
    rows = parse(
        [long_line, json.dumps({"resident_code": CODE})], BatchKind.BY_CODE, BatchFormat.JSONL
    )
    assert isinstance(rows[0], RowError)
    assert rows[0].code == "JUKI-BAT-020"
    assert rows[1] == CodeRow(2, CODE, None)


# --- four items ---------------------------------------------------------------------------------


def test_four_items_full_row() -> None:
    row = four_row(four("山田　太郎,ヤマダ　タロウ,1980-01-02,male,東京都千代田区,R-9\n"))
    assert row == FourItemsRow(
        row_number=1,
        name="山田　太郎",
        name_kana="ヤマダ　タロウ",
        birth_date=date(1980, 1, 2),
        sex="male",
        address="東京都千代田区",
        reference="R-9",
    )
    assert row.sex is Sex.MALE


def test_optional_items_may_be_empty() -> None:
    row = four_row(four("山田太郎,,1980-01-02,,,\n"))
    assert (row.name_kana, row.sex, row.address, row.reference) == (None, None, None, None)


@pytest.mark.parametrize(
    "text",
    [
        "1975-01-02",
        "1975/01/02",
        "1975/1/2",
        "昭和50年1月2日",
        "S50.01.02",
        "s50/1/2",
        "１９７５－０１－０２",
    ],
)
def test_birth_date_forms(text: str) -> None:
    assert four_row(four(f"山田,,{text},,,\n")).birth_date == date(1975, 1, 2)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("1975-02-30", "JUKI-DATE-003"),
        ("1975-13-01", "JUKI-DATE-003"),
        ("yesterday", "JUKI-DATE-001"),
        ("19750102", "JUKI-DATE-001"),
        ("平成32年1月1日", "JUKI-DATE-002"),
        ("1800-01-01", "JUKI-DATE-004"),
    ],
)
def test_bad_birth_date(text: str, code: str) -> None:
    error = row_error(four(f"山田,,{text},,,r\n"))
    assert (error.code, error.field, error.reference) == (code, "birth_date", "r")
    assert text not in error.message_ja
    assert text not in error.message_en


@pytest.mark.parametrize(
    ("text", "sex"),
    [
        ("male", Sex.MALE),
        ("Male", Sex.MALE),
        ("FEMALE", Sex.FEMALE),
        ("男", Sex.MALE),
        ("女", Sex.FEMALE),
        ("1", Sex.MALE),
        ("2", Sex.FEMALE),
        ("２", Sex.FEMALE),
        (" female ", Sex.FEMALE),
    ],
)
def test_sex_forms(text: str, sex: Sex) -> None:
    assert four_row(four(f"山田,,1980-01-02,{text},,\n")).sex is sex


@pytest.mark.parametrize("text", ["0", "9", "3", "m", "other", "男女"])
def test_bad_sex(text: str) -> None:
    error = row_error(four(f"山田,,1980-01-02,{text},,\n"))
    assert (error.code, error.field) == ("JUKI-BAT-033", "sex")


def test_name_edges_are_trimmed() -> None:
    row = four_row(four("\u3000 山田　太郎 \u3000,,1980-01-02,,,\n"))
    assert row.name == "山田　太郎"


@pytest.mark.parametrize("field_index", [0, 1, 4, 5])
@pytest.mark.parametrize("bad", ["\x00", "\x07", "\u200b", "\u202e", "\u2028", "\t"])
def test_control_characters_in_text_fields(field_index: int, bad: str) -> None:
    fields = ["山田", "ヤマダ", "1980-01-02", "", "東京都", "r"]
    fields[field_index] = f"ヤ{bad}マ"
    error = row_error(four(",".join(fields) + "\n"))
    assert error.code == "JUKI-BAT-030"
    assert error.field == ["name", "name_kana", "", "", "address", "ref"][field_index]


@pytest.mark.parametrize("field", ["name", "name_kana"])
def test_name_length(field: str) -> None:
    index = 0 if field == "name" else 1
    for length, ok in ((MAX_NAME_CHARS, True), (MAX_NAME_CHARS + 1, False)):
        fields = ["", "", "1980-01-02", "", "", ""]
        fields[index] = "ヤ" * length
        row = only(four(",".join(fields) + "\n"))
        if ok:
            assert isinstance(row, FourItemsRow)
        else:
            assert isinstance(row, RowError)
            assert (row.code, row.field) == ("JUKI-BAT-031", field)


def test_variation_selectors_do_not_count_towards_length() -> None:
    name = "葛\U000e0100" * MAX_NAME_CHARS  # 120 code points, 60 characters
    assert four_row(four(f"{name},,1980-01-02,,,\n")).name == name


def test_address_rules() -> None:
    ok = four_row(four(f",ヤマダ,1980-01-02,, {'住' * MAX_ADDRESS_LENGTH}\u3000,\n"))
    assert ok.address == "住" * MAX_ADDRESS_LENGTH
    error = row_error(four(f",ヤマダ,1980-01-02,,{'住' * (MAX_ADDRESS_LENGTH + 1)},\n"))
    assert (error.code, error.field) == ("JUKI-BAT-031", "address")


def test_partial_address_is_accepted() -> None:
    assert four_row(four(",ヤマダ,1980-01-02,,東京都,\n")).address == "東京都"


def test_reference_too_long() -> None:
    error = row_error(four(f"山田,,1980-01-02,,,{'r' * (MAX_REFERENCE_CHARS + 1)}\n"))
    assert (error.code, error.field, error.reference) == ("JUKI-BAT-031", "ref", None)


@pytest.mark.parametrize("kana", ["やまだ　たろう", "ヤマダ タロウ", "ﾔﾏﾀﾞ"])
def test_kana_name_moves_to_name_kana(kana: str) -> None:
    row = four_row(four(f"{kana},,1980-01-02,,,\n"))
    assert (row.name, row.name_kana) == (None, kana)


def test_kana_name_stays_when_name_kana_given() -> None:
    row = four_row(four("やまだ,ヤマダ,1980-01-02,,,\n"))
    assert (row.name, row.name_kana) == ("やまだ", "ヤマダ")


def test_name_kana_must_be_kana() -> None:
    error = row_error(four("山田,山田,1980-01-02,,,r\n"))
    assert (error.code, error.field, error.reference) == ("JUKI-BAT-032", "name_kana", "r")


def test_a_name_is_required() -> None:
    error = row_error(four(",,1980-01-02,male,東京都,r\n"))
    assert (error.code, error.field, error.reference) == ("JUKI-BAT-029", "name", "r")


def test_a_birth_date_is_required() -> None:
    error = row_error(four("山田,ヤマダ,,male,東京都,r\n"))
    assert (error.code, error.field, error.reference) == ("JUKI-BAT-028", "birth_date", "r")


def test_format_error_wins_over_missing_item() -> None:
    # A mistyped date is reported as mistyped, not as if the name were the only problem.
    assert row_error(four(",,1980-02-31,,,\n")).code == "JUKI-DATE-003"


# --- JSON lines ---------------------------------------------------------------------------------


def jsonl(*lines: str, kind: BatchKind = BatchKind.BY_CODE) -> list[ParsedRow]:
    return parse(list(lines), kind, BatchFormat.JSONL)


def test_jsonl_code_rows() -> None:
    rows = jsonl(
        json.dumps({"resident_code": CODE, "ref": "a"}) + "\n",
        json.dumps({"resident_code": OTHER_CODE, "ref": None}) + "\r\n",
        json.dumps({"ref": 42, "resident_code": CODE}),
    )
    assert rows == [
        CodeRow(1, CODE, "a"),
        CodeRow(2, OTHER_CODE, None),
        CodeRow(3, CODE, "42"),
    ]


def test_jsonl_four_items_rows() -> None:
    line = json.dumps(
        {"name": "ヤマダ", "birth_date": "S50.01.02", "sex": "2", "address": None},
        ensure_ascii=False,
    )
    row = four_row(jsonl(line, kind=BatchKind.BY_FOUR_ITEMS))
    assert (row.name, row.name_kana, row.birth_date, row.sex, row.address) == (
        None,
        "ヤマダ",
        date(1975, 1, 2),
        Sex.FEMALE,
        None,
    )


def test_jsonl_bom_and_blank_lines() -> None:
    rows = jsonl(
        "\ufeff" + json.dumps({"resident_code": CODE}) + "\n",
        "\n",
        "   \n",
        json.dumps({"resident_code": OTHER_CODE}) + "\n",
    )
    assert rows == [CodeRow(1, CODE, None), CodeRow(2, OTHER_CODE, None)]


@pytest.mark.parametrize("lines", [[], ["\ufeff", "\n", "  ", "\u3000\r\n"]])
def test_empty_jsonl_file(lines: list[str]) -> None:
    assert file_error(lines, fmt=BatchFormat.JSONL).code == "JUKI-BAT-001"


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ("{not json}", "JUKI-BAT-023"),
        ("resident_code,ref", "JUKI-BAT-023"),
        ('{"resident_code": "1"', "JUKI-BAT-023"),
        ("[" * 2000 + "]" * 2000, "JUKI-BAT-023"),  # deeper than the decoder's stack
        ("[1, 2]", "JUKI-BAT-024"),
        ('"12345678903"', "JUKI-BAT-024"),
        ("12345678903", "JUKI-BAT-024"),
        ("null", "JUKI-BAT-024"),
        ('{"resident_code": "1", "resident_code": "2"}', "JUKI-BAT-027"),
    ],
)
def test_jsonl_structure_errors(line: str, code: str) -> None:
    rows = jsonl(line, json.dumps({"resident_code": CODE}))
    assert isinstance(rows[0], RowError)
    assert rows[0].code == code
    assert rows[1] == CodeRow(2, CODE, None)


def test_jsonl_unknown_key_is_named_when_safe() -> None:
    error = row_error(jsonl(json.dumps({"resident_code": CODE, "name": "x", "ref": "r"})))
    assert (error.code, error.field, error.reference) == ("JUKI-BAT-025", "name", "r")
    assert "name" in error.message_en


def test_jsonl_unknown_key_that_looks_like_data_is_not_echoed() -> None:
    line = json.dumps({"resident_code": CODE, "山田太郎": "1980-01-02"}, ensure_ascii=False)
    error = row_error(jsonl(line))
    assert (error.code, error.field) == ("JUKI-BAT-025", None)
    assert "山田太郎" not in error.message_ja + error.message_en


@pytest.mark.parametrize(
    ("obj", "field"),
    [
        ({"resident_code": 12345678903}, "resident_code"),
        ({"resident_code": [CODE]}, "resident_code"),
        ({"resident_code": {"v": CODE}}, "resident_code"),
        ({"resident_code": CODE, "ref": True}, "ref"),
        ({"resident_code": CODE, "ref": 1.5}, "ref"),
        ({"resident_code": CODE, "ref": ["a"]}, "ref"),
    ],
)
def test_jsonl_wrong_types(obj: dict[str, object], field: str) -> None:
    error = row_error(jsonl(json.dumps(obj)))
    assert (error.code, error.field) == ("JUKI-BAT-026", field)


@pytest.mark.parametrize(
    ("obj", "field"),
    [
        ({"name": 1, "birth_date": "1980-01-02"}, "name"),
        ({"name": "山田", "birth_date": 19800102}, "birth_date"),
        ({"name": "山田", "birth_date": "1980-01-02", "sex": 1}, "sex"),
        ({"name": "山田", "birth_date": "1980-01-02", "address": False}, "address"),
    ],
)
def test_jsonl_four_items_wrong_types(obj: dict[str, object], field: str) -> None:
    error = row_error(jsonl(json.dumps(obj), kind=BatchKind.BY_FOUR_ITEMS))
    assert (error.code, error.field) == ("JUKI-BAT-026", field)


def test_jsonl_wrong_type_error_keeps_a_valid_reference() -> None:
    error = row_error(jsonl(json.dumps({"resident_code": 1, "ref": 7})))
    assert error.reference == "7"


def test_jsonl_missing_code_key() -> None:
    error = row_error(jsonl(json.dumps({"ref": "r"})))
    assert (error.code, error.field, error.reference) == ("JUKI-BAT-028", "resident_code", "r")


def test_jsonl_control_character_from_escape() -> None:
    line = json.dumps({"name": "山\u0000田", "birth_date": "1980-01-02"})
    error = row_error(jsonl(line, kind=BatchKind.BY_FOUR_ITEMS))
    assert (error.code, error.field) == ("JUKI-BAT-030", "name")


def test_jsonl_lone_surrogate_is_rejected() -> None:
    line = '{"name": "\\ud800", "birth_date": "1980-01-02"}'
    error = row_error(jsonl(line, kind=BatchKind.BY_FOUR_ITEMS))
    assert (error.code, error.field) == ("JUKI-BAT-030", "name")


# --- row limit ----------------------------------------------------------------------------------


def test_max_rows_reached_exactly_is_fine() -> None:
    rows = parse([CODE_HEADER, f"{CODE},1\n", "\n", f"{CODE},2\n", "\n"], max_rows=2)
    assert len(rows) == 2


@pytest.mark.parametrize("fmt", list(BatchFormat))
def test_too_many_rows_raises_after_the_allowed_ones(fmt: BatchFormat) -> None:
    if fmt is BatchFormat.CSV:
        lines = [CODE_HEADER, f"{CODE},1\n", "bad,2\n", f"{CODE},3\n"]
    else:
        lines = [json.dumps({"resident_code": c}) for c in (CODE, "bad", CODE)]
    produced: list[ParsedRow] = []
    with pytest.raises(BatchTooLarge) as exc:
        produced.extend(parse_batch(lines, kind=BatchKind.BY_CODE, fmt=fmt, max_rows=2))
    assert exc.value.code == "JUKI-BAT-011"
    assert [r.row_number for r in produced] == [1, 2]  # errors count as rows too


def test_max_rows_default() -> None:
    assert MAX_ROWS == 10_000_000


# --- laziness -----------------------------------------------------------------------------------


class SourceExhausted(Exception):
    pass


@pytest.mark.parametrize("fmt", list(BatchFormat))
def test_parsing_is_lazy(fmt: BatchFormat) -> None:
    pulled: list[int] = []

    def lines() -> Iterator[str]:
        if fmt is BatchFormat.CSV:
            yield CODE_HEADER
        for i in range(3):
            pulled.append(i)
            yield (
                f"{CODE},{i}\n"
                if fmt is BatchFormat.CSV
                else json.dumps({"resident_code": CODE, "ref": str(i)})
            )
        raise SourceExhausted

    rows = parse_batch(lines(), kind=BatchKind.BY_CODE, fmt=fmt)
    assert pulled == []  # calling parse_batch reads nothing
    assert next(rows) == CodeRow(1, CODE, "0")
    assert pulled == [0]  # one row out, one line in
    assert next(rows) == CodeRow(2, CODE, "1")
    assert next(rows) == CodeRow(3, CODE, "2")
    with pytest.raises(SourceExhausted):
        next(rows)


# --- decode_lines -------------------------------------------------------------------------------


def test_decode_lines_across_chunks() -> None:
    data = "\ufeffname,birth_date\r\n山田,1980-01-02\n,\nヤマダ,S50.1.2".encode()
    # Chunks of 3 bytes split every multi-byte character somewhere.
    chunks = [data[i : i + 3] for i in range(0, len(data), 3)]
    lines = list(decode_lines(chunks))
    assert lines == ["\ufeffname,birth_date\r\n", "山田,1980-01-02\n", ",\n", "ヤマダ,S50.1.2"]
    rows = parse_batch(lines, kind=BatchKind.BY_FOUR_ITEMS, fmt=BatchFormat.CSV)
    assert [r.row_number for r in rows if isinstance(r, FourItemsRow)] == [1, 2]


def test_decode_lines_empty() -> None:
    assert list(decode_lines([])) == []
    assert list(decode_lines([b"", b""])) == []


def test_decode_lines_invalid_utf8_is_a_file_error() -> None:
    sjis = "resident_code\n山田\n".encode("shift_jis")
    with pytest.raises(BatchFileError) as exc:
        list(decode_lines([sjis]))
    assert exc.value.code == "JUKI-BAT-002"
    assert "2" in exc.value.message_en  # the physical line


def test_decode_lines_bounds_a_line_without_end() -> None:
    def chunks() -> Iterator[bytes]:
        yield CODE_HEADER.encode()
        yield f"{CODE},ok\n".encode()
        for _ in range(100):  # 100 chunks of 1 MB without a line break
            yield b"x" * 1_000_000
        yield b"tail\n" + f"{CODE},after\n".encode()

    lines = decode_lines(chunks())
    rows = list(parse_batch(lines, kind=BatchKind.BY_CODE, fmt=BatchFormat.CSV))
    assert rows[0] == CodeRow(1, CODE, "ok")
    assert isinstance(rows[1], RowError)
    assert rows[1].code == "JUKI-BAT-020"
    assert rows[2] == CodeRow(3, CODE, "after")
    assert len(rows) == 3


def test_decode_lines_stand_in_is_bounded() -> None:
    lines = list(decode_lines([b"y" * 10_000_000]))
    assert len(lines) == 1
    assert MAX_LINE_CHARS < len(lines[0]) < 2 * MAX_LINE_CHARS


def test_decode_lines_overlong_jsonl() -> None:
    data = (
        b'{"resident_code": "'
        + b"1" * 50_000
        + b'"}\n'
        + json.dumps({"resident_code": CODE}).encode()
    )
    rows = list(parse_batch(decode_lines([data]), kind=BatchKind.BY_CODE, fmt=BatchFormat.JSONL))
    assert isinstance(rows[0], RowError)
    assert rows[0].code == "JUKI-BAT-020"
    assert rows[1] == CodeRow(2, CODE, None)


# --- privacy and error codes --------------------------------------------------------------------

SECRET_NAME = "髙橋花子"
SECRET_CODE = BAD_CHECK


@pytest.mark.parametrize(
    ("kind", "fmt", "lines"),
    [
        (BatchKind.BY_CODE, BatchFormat.CSV, [CODE_HEADER, f"{SECRET_CODE},r\n"]),
        (BatchKind.BY_CODE, BatchFormat.CSV, [CODE_HEADER, f"{SECRET_CODE}\n"]),
        (BatchKind.BY_CODE, BatchFormat.CSV, [CODE_HEADER, f'"{SECRET_CODE}"x,r\n']),
        (BatchKind.BY_CODE, BatchFormat.JSONL, [json.dumps({"resident_code": SECRET_CODE})]),
        (BatchKind.BY_CODE, BatchFormat.JSONL, [f'{{"resident_code": {SECRET_CODE}}}']),
        (BatchKind.BY_CODE, BatchFormat.JSONL, [f'["{SECRET_CODE}"]']),
        (BatchKind.BY_CODE, BatchFormat.JSONL, [f'{{"{SECRET_CODE}": 1}}']),
        (
            BatchKind.BY_FOUR_ITEMS,
            BatchFormat.CSV,
            [FOUR_HEADER, f"{SECRET_NAME}\x01,,1980-01-02,,,\n"],
        ),
        (
            BatchKind.BY_FOUR_ITEMS,
            BatchFormat.CSV,
            [FOUR_HEADER, f"{SECRET_NAME * 20},,1980-01-02,,,\n"],
        ),
        (
            BatchKind.BY_FOUR_ITEMS,
            BatchFormat.CSV,
            [FOUR_HEADER, f",{SECRET_NAME},1980-01-02,,,\n"],
        ),
        (BatchKind.BY_FOUR_ITEMS, BatchFormat.CSV, [FOUR_HEADER, f"{SECRET_NAME},,,,,\n"]),
        (
            BatchKind.BY_FOUR_ITEMS,
            BatchFormat.CSV,
            [FOUR_HEADER, f"{SECRET_NAME},,1980-01-02,{SECRET_NAME},,\n"],
        ),
        (
            BatchKind.BY_FOUR_ITEMS,
            BatchFormat.CSV,
            [FOUR_HEADER, f",,1980-01-02,,{SECRET_NAME}\x7f,\n"],
        ),
    ],
)
def test_messages_never_contain_the_value(
    kind: BatchKind, fmt: BatchFormat, lines: list[str]
) -> None:
    error = row_error(parse(lines, kind, fmt))
    for secret in (SECRET_NAME, SECRET_CODE, SECRET_CODE[:10]):
        assert secret not in error.message_ja
        assert secret not in error.message_en


def test_every_row_error_is_bilingual_with_a_stable_code() -> None:
    lines = [
        FOUR_HEADER,
        "山田\x00,,1980-01-02,,,\n",
        "山田,山田,1980-01-02,,,\n",
        "山田,,1980-02-30,,,\n",
        "山田,,1980-01-02,x,,\n",
        "山田,,,,,\n",
        ",,1980-01-02,,,\n",
        "a,b\n",
        '"a"b,,,,,\n',
    ]
    rows = parse(lines, BatchKind.BY_FOUR_ITEMS)
    assert all(isinstance(r, RowError) for r in rows)
    codes = [r.code for r in rows if isinstance(r, RowError)]
    assert len(set(codes)) == len(codes)  # each rule its own code
    for row in rows:
        assert isinstance(row, RowError)
        assert CODE_PATTERN.fullmatch(row.code)
        assert row.message_ja
        assert row.message_en
        assert row.message_ja != row.message_en


# --- properties ---------------------------------------------------------------------------------

HEADERS = [
    CODE_HEADER,
    "resident_code\n",
    FOUR_HEADER,
    "name_kana,birth_date\n",
    "\ufeffname,birth_date,sex\n",
]


@settings(max_examples=300, deadline=None)
@given(
    head=st.one_of(st.sampled_from(HEADERS), st.text(max_size=40)),
    body=st.lists(
        st.one_of(
            st.text(max_size=80),
            st.text(alphabet=st.sampled_from(',"\n\r {}[]:0123456789ヤ山-/ '), max_size=80),
            st.just(f"{CODE},r\n"),
            st.just(json.dumps({"resident_code": CODE})),
        ),
        max_size=20,
    ),
    kind=st.sampled_from(list(BatchKind)),
    fmt=st.sampled_from(list(BatchFormat)),
    max_rows=st.integers(min_value=0, max_value=25),
)
def test_arbitrary_lines_never_raise_anything_but_file_errors(
    head: str, body: list[str], kind: BatchKind, fmt: BatchFormat, max_rows: int
) -> None:
    rows: list[ParsedRow] = []
    failure: BatchFileError | None = None
    try:
        rows.extend(parse_batch([head, *body], kind=kind, fmt=fmt, max_rows=max_rows))
    except BatchFileError as exc:  # BatchTooLarge included; anything else fails the test
        failure = exc
    if failure is not None:
        assert failure.code.startswith("JUKI-BAT-0")
    assert [row.row_number for row in rows] == list(range(1, len(rows) + 1))
    assert len(rows) <= max_rows
    for row in rows:
        assert isinstance(row, CodeRow | FourItemsRow | RowError)
        if isinstance(row, RowError):
            assert CODE_PATTERN.fullmatch(row.code)


@settings(max_examples=100, deadline=None)
@given(
    bodies=st.lists(st.text(alphabet="0123456789", min_size=10, max_size=10), max_size=30),
    fmt=st.sampled_from(list(BatchFormat)),
)
def test_valid_code_files_round_trip(bodies: list[str], fmt: BatchFormat) -> None:
    codes = [make_resident_code(body) for body in bodies]
    if fmt is BatchFormat.CSV:
        lines = [CODE_HEADER, *(f"{code},{i}\n" for i, code in enumerate(codes))]
    else:
        lines = [json.dumps({"resident_code": code, "ref": i}) for i, code in enumerate(codes)]
    if not codes and fmt is BatchFormat.JSONL:
        return  # an empty JSON-lines file is a file error, tested above
    rows = list(parse_batch(lines, kind=BatchKind.BY_CODE, fmt=fmt))
    assert rows == [CodeRow(i + 1, code, str(i)) for i, code in enumerate(codes)]
