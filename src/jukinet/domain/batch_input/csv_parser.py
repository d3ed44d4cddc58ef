"""CSV batch files: the header, records read one at a time, and quoting problems."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from jukinet.domain.batch_input.errors import (
    _duplicate_column,
    _empty_file,
    _header_bad_quoting,
    _header_missing,
    _header_too_long,
    _missing_column,
    _row_bad_quoting,
    _row_too_long,
    _too_many_rows,
    _unknown_column,
    _unnamed_column,
    _wrong_field_count,
)
from jukinet.domain.batch_input.lines import _is_blank, _strip_line_end
from jukinet.domain.batch_input.model import (
    COLUMNS,
    MAX_LINE_CHARS,
    BatchKind,
    ParsedRow,
    RowError,
)
from jukinet.domain.batch_input.rows import _build_row
from jukinet.domain.errors import ValidationError


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
