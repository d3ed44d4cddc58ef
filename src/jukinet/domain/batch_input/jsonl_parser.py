"""JSON-lines batch files: one JSON object per non-blank line."""

from __future__ import annotations

import json
from collections.abc import Iterator

from jukinet.domain.batch_input.errors import (
    _duplicate_key,
    _empty_file,
    _not_json,
    _not_object,
    _row_too_long,
    _too_many_rows,
    _unknown_key,
    _wrong_type,
)
from jukinet.domain.batch_input.lines import _is_blank, _strip_line_end
from jukinet.domain.batch_input.model import (
    COLUMNS,
    MAX_LINE_CHARS,
    BatchKind,
    ParsedRow,
    RowError,
)
from jukinet.domain.batch_input.rows import _build_row, _lenient_reference


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
