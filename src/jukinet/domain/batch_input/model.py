"""What a batch is and what parsing it yields: kinds, formats, columns, limits and rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from jukinet.domain.errors import ValidationError

__all__ = [
    "COLUMNS",
    "MAX_LINE_CHARS",
    "MAX_NAME_CHARS",
    "MAX_REFERENCE_CHARS",
    "MAX_ROWS",
    "BatchFormat",
    "BatchKind",
    "CodeRow",
    "FourItemsRow",
    "ParsedRow",
    "RowError",
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
# Results
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
