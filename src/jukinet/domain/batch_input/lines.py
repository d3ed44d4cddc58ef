"""Text lines of a batch file: decoding uploaded bytes, encoding checks and the file's format."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Final

from jukinet.domain.batch_input.errors import _foreign_encoding, _not_utf8
from jukinet.domain.batch_input.model import MAX_LINE_CHARS, BatchFormat

__all__ = ["decode_lines", "detect_format"]

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
