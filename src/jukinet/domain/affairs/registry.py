"""The affair registry: who may use which affair, from when — an append-only log.

:class:`AffairRegistry` records grants and revocations as :class:`RegistryEntry` and answers
:meth:`AffairRegistry.authorise`, the check a gateway runs **before** any personal data is read.
Pure — no I/O, no clock: the current date/time always comes from the caller; storing the log is
:mod:`jukinet.storage.registry`'s business.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from jukinet.domain.affairs.catalogue import (
    IdentityItem,
    ItemPolicy,
    StatutoryAffair,
    parse_affair_code,
)
from jukinet.domain.affairs.errors import (
    AffairNotAuthorised,
    AffairOutOfScope,
    BodyNotNamed,
    DuplicateGrant,
    InvalidAffairCode,
    InvalidRegistryEntry,
    InvalidValidityPeriod,
    NothingToRevoke,
    OutOfOrderEntry,
    RecipientConflict,
    RetroactiveRevocation,
    TableNotPermitted,
    UnknownAffair,
    UnknownRecipient,
)
from jukinet.domain.affairs.recipients import Recipient
from jukinet.domain.clock import JST

__all__ = [
    "AffairRegistry",
    "Authorisation",
    "EntryKind",
    "RegistryEntry",
    "ValidityPeriod",
]

#: Japan has no daylight saving time: a fixed +09:00 offset gives the Japanese calendar date.

# Upper bounds for the free text of an entry: who decided, and why.
_ACTOR_MAX: Final = 100
_REASON_MAX: Final = 500


class EntryKind(StrEnum):
    """What a registry entry records."""

    GRANT = "grant"
    REVOKE = "revoke"


@dataclass(frozen=True, slots=True)
class ValidityPeriod:
    """Days ``start`` (inclusive) to ``end`` (exclusive); ``end`` ``None`` means open-ended."""

    start: date
    end: date | None

    def contains(self, day: date) -> bool:
        """Whether ``day`` lies in the period."""
        return self.start <= day and (self.end is None or day < self.end)


@dataclass(frozen=True, slots=True)
class RegistryEntry:
    """One append-only entry of the affair registry; never edited once written.

    A ``GRANT`` makes ``affair_code`` usable by ``recipient_id`` on the days
    ``[valid_from, valid_until)`` (``valid_until`` ``None``: until revoked). A ``REVOKE`` ends
    every grant of that pair from ``valid_from`` on (its ``valid_until`` is always ``None``).
    Later entries prevail over earlier ones for the days they speak about. ``decided_by`` is the
    official who granted or revoked; ``recorded_at`` is when the entry was written (aware).
    ``decision`` names the document that decided (決裁文書番号) and ``legal_basis`` the Act's
    row the grant rests on, fixed when it is recorded (entries written before they were kept
    have ``None``).
    """

    sequence: int
    kind: EntryKind
    recipient_id: str
    affair_code: str
    valid_from: date
    valid_until: date | None
    decided_by: str
    recorded_at: datetime
    reason: str | None = None
    decision: str | None = None
    legal_basis: str | None = None

    @property
    def period(self) -> ValidityPeriod:
        """The days the entry speaks about."""
        return ValidityPeriod(self.valid_from, self.valid_until)


@dataclass(frozen=True, slots=True)
class Authorisation:
    """The outcome of a successful :meth:`AffairRegistry.authorise`: go ahead, with these items."""

    recipient: Recipient
    affair: StatutoryAffair
    on: date
    items: frozenset[IdentityItem]

    @property
    def ordered_items(self) -> tuple[IdentityItem, ...]:
        """``items`` in the canonical order of :class:`IdentityItem`."""
        return tuple(item for item in IdentityItem if item in self.items)


# Periods as half-open ordinal intervals, sorted, disjoint and never touching.
_Spans = list[tuple[int, int]]
_OPEN: Final = date.max.toordinal() + 1


def _span_add(spans: _Spans, start: int, end: int) -> _Spans:
    result: _Spans = []
    for s, e in spans:
        if e < start or s > end:
            result.append((s, e))
        else:
            start, end = min(s, start), max(e, end)
    result.append((start, end))
    result.sort()
    return result


def _span_cut(spans: _Spans, cut: int) -> _Spans:
    return [(s, min(e, cut)) for s, e in spans if s < cut]


def _apply(spans: _Spans, entry: RegistryEntry) -> _Spans:
    start = entry.valid_from.toordinal()
    if entry.kind is EntryKind.REVOKE:
        return _span_cut(spans, start)
    end = _OPEN if entry.valid_until is None else entry.valid_until.toordinal()
    return _span_add(spans, start, end)


def _contains(spans: _Spans, day: int) -> bool:
    index = bisect.bisect_right(spans, (day, _OPEN + 1)) - 1
    return index >= 0 and spans[index][0] <= day < spans[index][1]


def _to_periods(spans: _Spans) -> tuple[ValidityPeriod, ...]:
    return tuple(
        ValidityPeriod(date.fromordinal(s), None if e == _OPEN else date.fromordinal(e))
        for s, e in spans
    )


def _check_text(value: object, field_name: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise InvalidRegistryEntry(
            field_name,
            ja=f"1文字以上{limit}文字以内で入力してください。",
            en=f"must be 1 to {limit} characters.",
        )
    return value


def _names_its_body(known: Recipient, again: Recipient) -> bool:
    """Whether ``again`` is ``known`` with its statutory body named where none was."""
    return known.body is None and replace(known, body=again.body) == again


class AffairRegistry:
    """Who may use which affair, from when: an append-only, replayable log of decisions.

    Grants and revocations are appended as :class:`RegistryEntry` with a contiguous sequence
    number starting at 1; no entry is ever changed or removed, so the registry as it stood after
    any entry can be replayed (``as_of_sequence``). Revocation is a new entry that ends
    validity; it cannot reach back before the day it is recorded, so queries answered under a
    grant stay lawful. ``recorded_at`` never goes backwards.

    Build an empty registry over the affair catalogue, or rebuild a stored one by passing its
    ``recipients`` and ``entries`` (they are replayed and checked like new ones).
    """

    def __init__(
        self,
        affairs: Mapping[str, StatutoryAffair],
        *,
        recipients: Iterable[Recipient] = (),
        entries: Iterable[RegistryEntry] = (),
        items: ItemPolicy | None = None,
    ) -> None:
        self._affairs = affairs
        self._items = items if items is not None else ItemPolicy()
        self._items.check_codes(affairs)
        self._recipients: dict[str, Recipient] = {}
        self._entries: list[RegistryEntry] = []
        self._spans: dict[tuple[str, str], _Spans] = {}
        for recipient in recipients:
            self.register_recipient(recipient)
        for entry in entries:
            self._replay(entry)

    # -- look-ups ------------------------------------------------------------------------------

    @property
    def items(self) -> ItemPolicy:
        """The item policy applied by :meth:`authorise`."""
        return self._items

    @property
    def recipients(self) -> Mapping[str, Recipient]:
        """The registered recipients by id (read-only view)."""
        return MappingProxyType(self._recipients)

    @property
    def entries(self) -> tuple[RegistryEntry, ...]:
        """Every entry, in sequence order."""
        return tuple(self._entries)

    def affair(self, code: str) -> StatutoryAffair:
        """The affair ``code`` (raises :class:`InvalidAffairCode` / :class:`UnknownAffair`)."""
        canonical = parse_affair_code(code)
        found = self._affairs.get(canonical)
        if found is None:
            raise UnknownAffair(canonical)
        return found

    def recipient(self, recipient_id: str) -> Recipient:
        """The recipient ``recipient_id`` (raises :class:`UnknownRecipient`)."""
        found = self._recipients.get(recipient_id)
        if found is None:
            raise UnknownRecipient(recipient_id)
        return found

    # -- changes -------------------------------------------------------------------------------

    def register_recipient(self, recipient: Recipient) -> Recipient:
        """Register ``recipient``; registering the very same recipient again changes nothing.

        A different recipient under an id already taken is refused (:class:`RecipientConflict`):
        ids are referred to by the log and must keep meaning the same body. The one change
        allowed is naming the statutory ``body`` of a recipient registered before bodies were
        kept (it adds what the id always meant; it changes nothing the log refers to).
        """
        known = self._recipients.get(recipient.id)
        if known is not None and known != recipient and not _names_its_body(known, recipient):
            raise RecipientConflict(recipient.id)
        self._recipients[recipient.id] = recipient
        return recipient

    def grant(
        self,
        recipient_id: str,
        affair_code: str,
        *,
        valid_from: date,
        valid_until: date | None = None,
        granted_by: str,
        recorded_at: datetime,
        reason: str | None = None,
        decision: str | None = None,
    ) -> RegistryEntry:
        """Let ``recipient_id`` use ``affair_code`` on ``[valid_from, valid_until)``.

        Refused when the affair's table is not for this kind of recipient
        (:class:`TableNotPermitted`), when a table 1 row names another body
        (:class:`BodyNotNamed`), when the recipient already holds the affair on any of those days
        (:class:`DuplicateGrant`), when ``valid_until`` is not after ``valid_from``
        (:class:`InvalidValidityPeriod`), and for unknown recipients/affairs. A grant may start
        in the past (to record a registry kept elsewhere before); later entries prevail. The
        entry records the Act's row as its legal basis.
        """
        affair = self.affair(affair_code)
        entry = RegistryEntry(
            sequence=len(self._entries) + 1,
            kind=EntryKind.GRANT,
            recipient_id=recipient_id,
            affair_code=affair_code,
            valid_from=valid_from,
            valid_until=valid_until,
            decided_by=granted_by,
            recorded_at=recorded_at,
            reason=reason,
            decision=decision,
            legal_basis=affair.legal_basis,
        )
        checked = self._checked(entry)
        recipient = self.recipient(checked.recipient_id)
        if not recipient.is_named_by(affair):
            raise BodyNotNamed(affair, recipient)
        held = self._first_held_day(recipient.id, affair.code, valid_from, valid_until)
        if held is not None:
            raise DuplicateGrant(affair.code, recipient.id, held)
        return self._store(checked)

    def _first_held_day(
        self, recipient_id: str, affair_code: str, start: date, end: date | None
    ) -> date | None:
        """The first day in ``[start, end)`` on which the pair is already granted, if any."""
        low, high = start.toordinal(), _OPEN if end is None else end.toordinal()
        for span_start, span_end in self._spans.get((recipient_id, affair_code), []):
            if span_start < high and low < span_end:
                return date.fromordinal(max(span_start, low))
        return None

    def revoke(
        self,
        recipient_id: str,
        affair_code: str,
        *,
        effective_from: date,
        revoked_by: str,
        recorded_at: datetime,
        reason: str | None = None,
        decision: str | None = None,
    ) -> RegistryEntry:
        """End ``recipient_id``'s use of ``affair_code`` from ``effective_from`` (inclusive) on.

        Refused when it would take effect before the Japanese date of ``recorded_at``
        (:class:`RetroactiveRevocation`) and when the recipient holds the affair on no day
        from ``effective_from`` on (:class:`NothingToRevoke`).
        """
        entry = RegistryEntry(
            sequence=len(self._entries) + 1,
            kind=EntryKind.REVOKE,
            recipient_id=recipient_id,
            affair_code=affair_code,
            valid_from=effective_from,
            valid_until=None,
            decided_by=revoked_by,
            recorded_at=recorded_at,
            reason=reason,
            decision=decision,
        )
        return self._append(entry)

    def _replay(self, entry: RegistryEntry) -> None:
        if entry.sequence != len(self._entries) + 1:
            raise OutOfOrderEntry(
                ja=f"sequence: 登録簿の記録番号が連続していません（{entry.sequence}）。",
                en=f"sequence: registry entries must be numbered without gaps ({entry.sequence}).",
            )
        self._append(entry)

    def _append(self, entry: RegistryEntry) -> RegistryEntry:
        return self._store(self._checked(entry))

    def _store(self, entry: RegistryEntry) -> RegistryEntry:
        key = (entry.recipient_id, entry.affair_code)
        self._spans[key] = _apply(self._spans.get(key, []), entry)
        self._entries.append(entry)
        return entry

    def _checked(self, entry: RegistryEntry) -> RegistryEntry:
        recipient = self.recipient(entry.recipient_id)
        affair = self.affair(entry.affair_code)
        decided_by = _check_text(entry.decided_by, "decided_by", _ACTOR_MAX)
        reason = None if entry.reason is None else _check_text(entry.reason, "reason", _REASON_MAX)
        decision = (
            None if entry.decision is None else _check_text(entry.decision, "decision", _ACTOR_MAX)
        )
        recorded_at = entry.recorded_at
        if not isinstance(recorded_at, datetime) or recorded_at.utcoffset() is None:
            raise InvalidRegistryEntry(
                "recorded_at",
                ja="記録日時はタイムゾーン付きでなければなりません。",
                en="the recording time must carry a time zone.",
            )
        if self._entries and recorded_at < self._entries[-1].recorded_at:
            raise OutOfOrderEntry(
                ja="recorded_at: 記録日時が直前の記録より前です。",
                en="recorded_at: an entry cannot be recorded before the previous one.",
            )
        if entry.kind is EntryKind.GRANT:
            if not recipient.may_use(affair):
                raise TableNotPermitted(affair, recipient)
            if entry.valid_until is not None and entry.valid_until <= entry.valid_from:
                raise InvalidValidityPeriod()
        else:
            if entry.valid_until is not None:
                raise InvalidRegistryEntry(
                    "valid_until",
                    ja="取消しに終了日はありません。",
                    en="a revocation has no end date.",
                )
            if entry.valid_from < recorded_at.astimezone(JST).date():
                raise RetroactiveRevocation()
            spans = self._spans.get((recipient.id, affair.code), [])
            if not spans or spans[-1][1] <= entry.valid_from.toordinal():
                raise NothingToRevoke(affair.code, recipient.id, entry.valid_from)
        return RegistryEntry(
            sequence=entry.sequence,
            kind=EntryKind(entry.kind),
            recipient_id=recipient.id,
            affair_code=affair.code,
            valid_from=entry.valid_from,
            valid_until=entry.valid_until,
            decided_by=decided_by,
            recorded_at=recorded_at,
            reason=reason,
            decision=decision,
            legal_basis=entry.legal_basis,
        )

    # -- questions -----------------------------------------------------------------------------

    def _spans_for(self, recipient_id: str, affair_code: str, as_of_sequence: int | None) -> _Spans:
        if as_of_sequence is None:
            return self._spans.get((recipient_id, affair_code), [])
        spans: _Spans = []
        for entry in self._entries[: max(as_of_sequence, 0)]:
            if entry.recipient_id == recipient_id and entry.affair_code == affair_code:
                spans = _apply(spans, entry)
        return spans

    def is_authorised(
        self,
        recipient_id: str,
        affair_code: str,
        on: date,
        *,
        as_of_sequence: int | None = None,
    ) -> bool:
        """Whether ``recipient_id`` may use ``affair_code`` on day ``on``.

        Never raises: an unknown recipient or a malformed/unknown code is simply not
        authorised. ``as_of_sequence`` answers as the registry stood after that entry.
        """
        try:
            code = parse_affair_code(affair_code)
        except InvalidAffairCode:
            return False
        return _contains(self._spans_for(recipient_id, code, as_of_sequence), on.toordinal())

    def authorise(
        self,
        recipient_id: str,
        affair_code: str,
        *,
        on: date,
        provider_prefecture_code: str | None = None,
    ) -> Authorisation:
        """The purpose check: run it **before** any personal data is read.

        Returns the :class:`Authorisation` with the items the affair may be given, or raises:
        :class:`InvalidAffairCode` / :class:`UnknownAffair` for a bad code,
        :class:`UnknownRecipient`, :class:`AffairNotAuthorised` (``JUKI-AFF-001``, naming the
        affair) when no grant covers ``on``, and :class:`AffairOutOfScope` when
        ``provider_prefecture_code`` — the prefecture whose residents' data would be provided,
        known to the answering node before it reads anything — is outside the table's scope.
        Pass ``None`` where the answering node does not act for one prefecture.
        """
        affair = self.affair(affair_code)
        recipient = self.recipient(recipient_id)
        if not _contains(self._spans.get((recipient.id, affair.code), []), on.toordinal()):
            raise AffairNotAuthorised(affair.code, recipient.id, on)
        if provider_prefecture_code is not None and not recipient.may_receive_from(
            affair, provider_prefecture_code
        ):
            raise AffairOutOfScope(affair, recipient.id, provider_prefecture_code)
        return Authorisation(
            recipient=recipient, affair=affair, on=on, items=self._items.items_for(affair.code)
        )

    def history(self, recipient_id: str) -> tuple[RegistryEntry, ...]:
        """Every grant and revocation concerning ``recipient_id``, oldest first.

        Each entry says what (affair), from when to when, who decided and when it was recorded.
        Raises :class:`UnknownRecipient` for an id never registered.
        """
        self.recipient(recipient_id)
        return tuple(entry for entry in self._entries if entry.recipient_id == recipient_id)

    def periods(
        self, recipient_id: str, affair_code: str, *, as_of_sequence: int | None = None
    ) -> tuple[ValidityPeriod, ...]:
        """The days on which ``recipient_id`` may use ``affair_code``, as merged periods."""
        code = parse_affair_code(affair_code)
        return _to_periods(self._spans_for(recipient_id, code, as_of_sequence))

    def affairs_for(self, recipient_id: str, on: date) -> tuple[StatutoryAffair, ...]:
        """The affairs ``recipient_id`` may use on ``on``, in statutory order."""
        day = on.toordinal()
        found = [
            self._affairs[code]
            for (rid, code), spans in self._spans.items()
            if rid == recipient_id and _contains(spans, day)
        ]
        return tuple(sorted(found, key=lambda affair: affair.sort_key))

    def holders(self, affair_code: str, on: date) -> tuple[str, ...]:
        """The ids of the recipients that may use ``affair_code`` on ``on``, sorted."""
        code = parse_affair_code(affair_code)
        day = on.toordinal()
        return tuple(
            sorted(
                rid
                for (rid, held), spans in self._spans.items()
                if held == code and _contains(spans, day)
            )
        )
