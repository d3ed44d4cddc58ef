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
the field and the rule. The error codes, all ``JUKI-BAT-0NN``, are listed in
:mod:`jukinet.domain.batch_input.errors`.

The package is split by concern:

* :mod:`~jukinet.domain.batch_input.model` — kinds, formats, columns, limits and the parsed rows;
* :mod:`~jukinet.domain.batch_input.errors` — the file-level and row-level errors;
* :mod:`~jukinet.domain.batch_input.lines` — text lines from bytes, encoding checks, the format;
* :mod:`~jukinet.domain.batch_input.rows` — the field rules that turn one row's values into a row;
* :mod:`~jukinet.domain.batch_input.csv_parser` — CSV files (header, records, quoting);
* :mod:`~jukinet.domain.batch_input.jsonl_parser` — JSON-lines files;
* :mod:`~jukinet.domain.batch_input.parser` — :func:`parse_batch`, the entry point.
"""

from jukinet.domain.batch_input.errors import BatchFileError, BatchTooLarge
from jukinet.domain.batch_input.lines import decode_lines, detect_format
from jukinet.domain.batch_input.model import (
    COLUMNS,
    MAX_LINE_CHARS,
    MAX_NAME_CHARS,
    MAX_REFERENCE_CHARS,
    MAX_ROWS,
    BatchFormat,
    BatchKind,
    CodeRow,
    FourItemsRow,
    ParsedRow,
    RowError,
)
from jukinet.domain.batch_input.parser import parse_batch

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
