"""Errors of the signal rules: bad input, all ``JUKI-SIG-0NN`` and all ``ValueError``."""

from __future__ import annotations

from typing import ClassVar

from jukinet.domain.errors import ValidationError

__all__ = [
    "InsiderSignalError",
    "InvalidBusinessHours",
    "InvalidSignalInput",
    "InvalidThreshold",
    "NaiveTimestamp",
    "ReadsOutsideWindow",
]


class InsiderSignalError(ValidationError, ValueError):
    """Bad input to the signal rules; also a ``ValueError``. Codes are ``JUKI-SIG-0NN``."""

    CODE: ClassVar[str] = "JUKI-SIG-000"

    def __init__(self, *, ja: str, en: str, field: str | None = None) -> None:
        super().__init__(self.CODE, ja=ja, en=en, field=field)


class InvalidThreshold(InsiderSignalError):
    """``JUKI-SIG-001``: a threshold is not a positive number (or not a whole number)."""

    CODE = "JUKI-SIG-001"

    def __init__(self, field: str, *, integer: bool) -> None:
        if integer:
            ja = f"{field}: しきい値は 1 以上の整数でなければなりません。"
            en = f"{field}: the threshold must be a whole number of at least 1."
        else:
            ja = f"{field}: しきい値は正の有限の数でなければなりません。"
            en = f"{field}: the threshold must be a positive finite number."
        super().__init__(ja=ja, en=en, field=field)


class NaiveTimestamp(InsiderSignalError):
    """``JUKI-SIG-002``: a date-time has no time zone, so its Japan time is unknown."""

    CODE = "JUKI-SIG-002"

    def __init__(self, field: str) -> None:
        super().__init__(
            ja=f"{field}: 日時にはタイムゾーンが必要です（日本時間に変換できません）。",
            en=f"{field}: the date-time must carry a time zone (it cannot be converted to JST).",
            field=field,
        )


class InvalidBusinessHours(InsiderSignalError):
    """``JUKI-SIG-003``: business hours that cannot describe a working day."""

    CODE = "JUKI-SIG-003"

    def __init__(self, field: str, *, ja: str, en: str) -> None:
        super().__init__(ja=f"{field}: {ja}", en=f"{field}: {en}", field=field)


class InvalidSignalInput(InsiderSignalError):
    """``JUKI-SIG-004``: an aggregate handed in by the caller is malformed."""

    CODE = "JUKI-SIG-004"

    def __init__(self, field: str, *, ja: str, en: str) -> None:
        super().__init__(ja=f"{field}: {ja}", en=f"{field}: {en}", field=field)


class ReadsOutsideWindow(InsiderSignalError):
    """``JUKI-SIG-005``: a subject's reads do not lie within the window being judged."""

    CODE = "JUKI-SIG-005"

    def __init__(self, window_days: int) -> None:
        super().__init__(
            ja=(
                f"first_read/last_read: 参照者の集計は判定日までの {window_days} 日間"
                "（日本時間）の参照に限らなければなりません。"
            ),
            en=(
                f"first_read/last_read: the readers must be aggregated over the {window_days} "
                "days (JST) ending on the day judged."
            ),
            field="first_read",
        )
