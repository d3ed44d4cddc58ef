"""The entry point: :func:`parse_batch` reads a batch file lazily in either format."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from jukinet.domain.batch_input.csv_parser import _parse_csv
from jukinet.domain.batch_input.jsonl_parser import _parse_jsonl
from jukinet.domain.batch_input.lines import _checked_lines
from jukinet.domain.batch_input.model import MAX_ROWS, BatchFormat, BatchKind, ParsedRow

__all__ = ["parse_batch"]


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
