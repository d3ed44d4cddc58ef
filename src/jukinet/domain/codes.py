"""The resident code (住民票コード): 10 random digits followed by one check digit.

The code is random, never derived from personal data, never reused, and follows a person across
moves (design/domain.md §3). This module is pure: it validates, builds, draws and masks codes but
never stores them; the pool of unused codes lives elsewhere.

The check-digit rule is pluggable (:class:`CheckDigitScheme`) because the official formula
(ministry notice No. 436 of 2002) is not public; :class:`Modulus11Scheme` is our assumption.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Collection, Set
from typing import Final, Protocol

from jukinet.domain.errors import ValidationError

__all__ = [
    "BODY_LENGTH",
    "CODE_LENGTH",
    "DEFAULT_SCHEME",
    "CheckDigitScheme",
    "Modulus11Scheme",
    "is_valid_resident_code",
    "make_resident_code",
    "mask_resident_code",
    "random_resident_codes",
    "validate_resident_code",
]

BODY_LENGTH: Final = 10
CODE_LENGTH: Final = BODY_LENGTH + 1
_BODY_SPACE: Final = 10**BODY_LENGTH
_VISIBLE_TAIL: Final = 4
_DIGITS: Final = frozenset("0123456789")


class CheckDigitScheme(Protocol):
    """A rule that turns a 10-digit body into its one check digit."""

    def check_digit(self, body: str) -> str:
        """The check digit (one ASCII digit) for ``body`` (exactly 10 ASCII digits)."""
        ...


def _is_ascii_digits(value: str, length: int) -> bool:
    # str.isdigit() is not enough: it is also true for "٣", "²" and other non-ASCII digits.
    return len(value) == length and _DIGITS.issuperset(value)


def _digit_sum_table(weights: tuple[int, ...]) -> list[int]:
    """Weighted digit sums of every number with ``len(weights)`` digits, indexed by the number.

    Weights are given most-significant digit first. Built by extending the table one digit at a
    time, so a 5-digit table costs about 111,000 additions instead of 500,000.
    """
    table = [0]
    for weight in weights:
        table = [partial + weight * digit for partial in table for digit in range(10)]
    return table


class Modulus11Scheme:
    """Modulus 11 with weights 2..7, the same rule My Number (個人番号) uses.

    Weights 2, 3, 4, 5, 6, 7, 2, 3, 4, 5 apply to the body digits from the rightmost leftwards;
    with ``r = Σ(digit × weight) mod 11`` the check digit is ``11 − r``, or 0 when ``r`` is 0 or 1.

    **This formula is our assumption.** The official resident-code formula is fixed by ministry
    notice No. 436 of 2002 (総務省告示第436号), which is not public in any source we reached.
    Everything else depends only on :class:`CheckDigitScheme`, so a different scheme can be
    passed in (or made the default) without touching callers.

    Known blind spots, because ``r = 0`` and ``r = 1`` both map to 0: a single-digit change or a
    transposition of adjacent body digits goes unnoticed exactly when it moves ``r`` between 0
    and 1. Every other single-digit change or adjacent body transposition is detected.
    """

    #: Weights for body positions, rightmost first.
    WEIGHTS: Final = tuple(2 + i % 6 for i in range(BODY_LENGTH))

    def __init__(self) -> None:
        # Lookup tables for the high and low five digits make bulk generation cheap: one
        # divmod and two list lookups per code instead of ten multiplications.
        self._high: list[int] | None = None
        self._low: list[int] | None = None

    @staticmethod
    def _from_remainder(remainder: int) -> str:
        return "0" if remainder <= 1 else str(11 - remainder)

    def remainder(self, body: str) -> int:
        """``Σ(digit × weight) mod 11`` for ``body``; exposed so tests can reason about it."""
        if not _is_ascii_digits(body, BODY_LENGTH):
            raise ValueError("a resident-code body is exactly 10 ASCII digits")
        total = sum(
            int(digit) * weight for digit, weight in zip(reversed(body), self.WEIGHTS, strict=True)
        )
        return total % 11

    def check_digit(self, body: str) -> str:
        """The check digit for a 10-digit ``body``; raises ``ValueError`` for anything else."""
        if not _is_ascii_digits(body, BODY_LENGTH):
            raise ValueError("a resident-code body is exactly 10 ASCII digits")
        # The table path: batch uploads check millions of codes.
        return self.check_digit_of_int(int(body))

    def check_digit_of_int(self, body: int) -> str:
        """The check digit for ``body`` given as an integer below 10**10 (the fast path)."""
        if self._high is None or self._low is None:
            half = BODY_LENGTH // 2
            # Tables want weights most-significant first; WEIGHTS is rightmost first.
            msf = tuple(reversed(self.WEIGHTS))
            self._high = _digit_sum_table(msf[:half])
            self._low = _digit_sum_table(msf[half:])
        high, low = divmod(body, 10 ** (BODY_LENGTH // 2))
        return self._from_remainder((self._high[high] + self._low[low]) % 11)


DEFAULT_SCHEME: Final[CheckDigitScheme] = Modulus11Scheme()


def make_resident_code(body: str, *, scheme: CheckDigitScheme = DEFAULT_SCHEME) -> str:
    """Append the check digit to a 10-digit ``body``.

    Bodies come from the code pool, never from users, so a malformed body is a programming error
    and raises ``ValueError`` rather than a :class:`ValidationError`.
    """
    if not _is_ascii_digits(body, BODY_LENGTH):
        raise ValueError("a resident-code body is exactly 10 ASCII digits")
    return body + scheme.check_digit(body)


def _normalise(value: str) -> str:
    # NFKC turns full-width digits (０-９), common from Japanese input methods, into ASCII ones.
    return unicodedata.normalize("NFKC", value).strip()


def validate_resident_code(
    value: str,
    *,
    field: str = "resident_code",
    scheme: CheckDigitScheme = DEFAULT_SCHEME,
) -> str:
    """Return ``value`` as a normalised 11-digit resident code, or raise :class:`ValidationError`.

    Surrounding whitespace is stripped and full-width digits are accepted. Error codes:
    ``JUKI-CODE-001`` when it is not exactly 11 digits, ``JUKI-CODE-002`` when the check digit
    is wrong. Messages name ``field`` and the rule, never the value: a resident code is personal
    data and must not end up in logs or error pages.
    """
    code = _normalise(value) if isinstance(value, str) else ""
    if not _is_ascii_digits(code, CODE_LENGTH):
        raise ValidationError(
            "JUKI-CODE-001",
            ja=f"{field}: 住民票コードは11桁の数字でなければなりません。",
            en=f"{field}: a resident code must be exactly 11 digits.",
            field=field,
        )
    if scheme.check_digit(code[:BODY_LENGTH]) != code[BODY_LENGTH]:
        raise ValidationError(
            "JUKI-CODE-002",
            ja=f"{field}: 住民票コードの検査数字が正しくありません。",
            en=f"{field}: the resident code's check digit is wrong.",
            field=field,
        )
    return code


def is_valid_resident_code(value: str, *, scheme: CheckDigitScheme = DEFAULT_SCHEME) -> bool:
    """True when :func:`validate_resident_code` would accept ``value``."""
    try:
        validate_resident_code(value, scheme=scheme)
    except ValidationError:
        return False
    return True


def random_resident_codes(
    rng: random.Random,
    count: int,
    *,
    exclude: Collection[str] = (),
    scheme: CheckDigitScheme = DEFAULT_SCHEME,
) -> list[str]:
    """``count`` distinct random resident codes, none of them in ``exclude``.

    Each code is 10 uniformly random digits plus the check digit, so distinct bodies give
    distinct codes. The result is deterministic for a seeded ``rng``. ``exclude`` is typically
    every code ever issued (codes are never reused); pass a set to avoid a copy.
    """
    if count < 0:
        raise ValueError("count must not be negative")
    excluded: Set[str] = exclude if isinstance(exclude, Set) else frozenset(exclude)
    # Only the excluded values that are real bodies shrink the space; a loose bound is enough to
    # refuse requests that could never finish.
    if count > _BODY_SPACE - len(excluded):
        raise ValueError("count exceeds the number of codes left")

    # Use the table-driven path when the scheme is ours; any other scheme gets the string API.
    fast = scheme if isinstance(scheme, Modulus11Scheme) else None
    seen: set[str] = set()
    codes: list[str] = []
    randbelow = rng.randrange
    while len(codes) < count:
        number = randbelow(_BODY_SPACE)
        body = f"{number:010d}"
        check = fast.check_digit_of_int(number) if fast is not None else scheme.check_digit(body)
        code = body + check
        if code in seen or code in excluded:
            continue
        seen.add(code)
        codes.append(code)
    return codes


def mask_resident_code(code: str) -> str:
    """The code as staff screens show it by default: ``*******`` followed by the last 4 digits.

    Anything that is not an 11-digit code is masked completely, so a mistyped value (which may
    be someone else's code with one digit off) never shows through.
    """
    normalised = _normalise(code) if isinstance(code, str) else ""
    if not _is_ascii_digits(normalised, CODE_LENGTH):
        return "*" * CODE_LENGTH
    return "*" * (CODE_LENGTH - _VISIBLE_TAIL) + normalised[-_VISIBLE_TAIL:]
