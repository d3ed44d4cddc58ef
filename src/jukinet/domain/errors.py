"""Domain exceptions with stable codes and messages in Japanese and English.

The web and CLI layers translate these into HTTP responses and exit codes; the domain never
formats them for a particular interface. Messages must never contain personal data: they name
the field and the rule, not the value that broke it.
"""

from __future__ import annotations

from collections.abc import Sequence


class DomainError(Exception):
    """A rule of the register was broken; carries a stable code and bilingual messages."""

    #: HTTP status the web layer answers with.
    status: int = 422

    def __init__(self, code: str, *, ja: str, en: str, field: str | None = None) -> None:
        super().__init__(f"{code}: {en}")
        self.code = code
        self.message_ja = ja
        self.message_en = en
        self.field = field

    def message(self, lang: str) -> str:
        """The message in ``lang`` (``ja`` or ``en``); Japanese is the default."""
        return self.message_en if lang == "en" else self.message_ja

    def as_dict(self) -> dict[str, str | None]:
        """The error as the JSON body the API returns."""
        return {
            "code": self.code,
            "field": self.field,
            "message_ja": self.message_ja,
            "message_en": self.message_en,
        }

    def details(self) -> list[dict[str, str | None]]:
        """Every error this one stands for, as :meth:`as_dict` bodies (one, unless aggregated)."""
        return [self.as_dict()]

    def each(self) -> list[DomainError]:
        """Every error this one stands for (itself, unless aggregated)."""
        return [self]


class ValidationError(DomainError):
    """Input that breaks a rule: wrong format, impossible date, missing item."""

    status = 422


class NotFound(DomainError):
    """The thing named does not exist (or the caller may not know that it does)."""

    status = 404


class Conflict(DomainError):
    """The request contradicts the register's current state (stale version, duplicate)."""

    status = 409


class PermissionDenied(DomainError):
    """The actor is known but may not do this."""

    status = 403


class AuthenticationFailed(DomainError):
    """The actor could not be identified."""

    status = 401


class FieldErrors(ValidationError):
    """Several inputs broke rules at once: all of them, so every adapter can show each one
    next to its field (``persons[1].given_name``) in a single answer."""

    def __init__(self, errors: Sequence[DomainError]) -> None:
        if not errors:
            msg = "FieldErrors needs at least one error"
            raise ValueError(msg)
        first = errors[0]
        super().__init__(first.code, ja=first.message_ja, en=first.message_en, field=first.field)
        self.errors = list(errors)
        # The worst status wins: a conflict among validation errors is still a conflict.
        self.status = max(error.status for error in errors)

    def details(self) -> list[dict[str, str | None]]:
        """Each error's body, in input order."""
        return [error.as_dict() for error in self.errors]

    def each(self) -> list[DomainError]:
        """Each error, in input order."""
        return list(self.errors)
