"""Identity-confirmation information (本人確認情報) and the notices that carry it upstream.

Exactly six items ever leave a municipality: name, date of birth, sex, address, resident code and
change information (reason, date, values before). This module is the only place that decides what
goes into a notice, so nothing else of the register can slip into it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from jukinet.domain.addresses import validate_address
from jukinet.domain.codes import validate_resident_code
from jukinet.domain.errors import ValidationError
from jukinet.domain.mj_names import check_carried
from jukinet.domain.municipality import validate_municipality_code
from jukinet.domain.names import validate_kana, validate_name
from jukinet.domain.wareki import EARLIEST_DATE


class ChangeReason(StrEnum):
    """Why identity-confirmation information changed: our own closed enumeration.

    The official numeric reason codes are not public, so jukinet defines its own. The value is a
    stable machine code (it is what travels upstream); ``label_ja``/``label_en`` are for people.
    Documented in docs/identity-notices.md — add members only, never renumber.
    """

    BIRTH = "A01"
    MOVE_IN = "A02"
    MOVE_IN_FROM_ABROAD = "A03"
    EX_OFFICIO_ENTRY = "A04"
    MOVE_WITHIN = "B01"
    NAME_CHANGE = "B02"
    EX_OFFICIO_CORRECTION = "B03"
    CODE_CHANGE = "B04"
    MOVE_OUT = "C01"
    DEATH = "C02"
    EX_OFFICIO_DELETION = "C03"

    @property
    def label_ja(self) -> str:
        """The reason as a Japanese counter clerk would name it."""
        return _LABELS[self][0]

    @property
    def label_en(self) -> str:
        """The reason in English."""
        return _LABELS[self][1]

    @property
    def deletes_record(self) -> bool:
        """Whether a notice for this reason reports the record's deletion (除票)."""
        return self.value.startswith("C")

    @property
    def creates_record(self) -> bool:
        """Whether a notice for this reason reports a new record."""
        return self.value.startswith("A")


_LABELS: dict[ChangeReason, tuple[str, str]] = {
    ChangeReason.BIRTH: ("出生", "birth"),
    ChangeReason.MOVE_IN: ("転入", "move-in"),
    ChangeReason.MOVE_IN_FROM_ABROAD: ("国外からの転入", "move-in from abroad"),
    ChangeReason.EX_OFFICIO_ENTRY: ("職権記載", "ex-officio entry"),
    ChangeReason.MOVE_WITHIN: ("転居", "move within the municipality"),
    ChangeReason.NAME_CHANGE: ("氏名変更", "name change"),
    ChangeReason.EX_OFFICIO_CORRECTION: ("職権修正", "ex-officio correction"),
    ChangeReason.CODE_CHANGE: ("住民票コード変更", "resident-code change"),
    ChangeReason.MOVE_OUT: ("転出", "move-out"),
    ChangeReason.DEATH: ("死亡", "death"),
    ChangeReason.EX_OFFICIO_DELETION: ("職権消除", "ex-officio deletion"),
}


@dataclass(frozen=True, slots=True)
class IdentityInfo:
    """The five identity items of one resident (change information travels beside them)."""

    resident_code: str
    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    birth_date: date
    sex: str
    address: str
    #: The MJ identifiers of the names' characters outside JIS X 0213 (part of the name item;
    #: :mod:`jukinet.domain.mj_names`), empty when the name has none.
    family_name_mj: str = ""
    given_name_mj: str = ""

    def as_dict(self) -> dict[str, str]:
        """JSON-ready form; dates as ISO 8601. The MJ identifiers appear only when there are
        some, so a name within JIS X 0213 travels (and is digested) exactly as before."""
        items = {
            "resident_code": self.resident_code,
            "family_name": self.family_name,
            "given_name": self.given_name,
            "family_name_kana": self.family_name_kana,
            "given_name_kana": self.given_name_kana,
            "birth_date": self.birth_date.isoformat(),
            "sex": self.sex,
            "address": self.address,
        }
        if self.family_name_mj:
            items["family_name_mj"] = self.family_name_mj
        if self.given_name_mj:
            items["given_name_mj"] = self.given_name_mj
        return items

    def all_items(self) -> dict[str, str]:
        """:meth:`as_dict` with the MJ items always present (empty when there are none)."""
        return self.as_dict() | {
            "family_name_mj": self.family_name_mj,
            "given_name_mj": self.given_name_mj,
        }


@dataclass(frozen=True, slots=True)
class IdentityNotice:
    """One identity notice (本人確認情報の通知): the items now, and how they changed."""

    municipality_code: str
    current: IdentityInfo
    reason: ChangeReason
    changed_on: date
    before: IdentityInfo | None
    #: For a move-in, the move-in notice (転入通知) the new municipality signed: the one thing
    #: that lets an upper tier hand a resident over from the municipality that held them.
    #: Opaque here; its signature is the network's business.
    handover: dict[str, Any] | None = None

    @property
    def deleted(self) -> bool:
        """A deleted record is sent with its last values and this flag set."""
        return self.reason.deletes_record

    def as_body(self) -> dict[str, Any]:
        """The notice body as it is written to the outbox; nothing beyond the six items."""
        before: dict[str, str] | None = None
        if self.before is not None:
            # Only the items that changed are "values before"; unchanged ones add nothing.
            # An MJ item absent on one side is compared (and sent) as empty text.
            now = self.current.all_items()
            before = {k: v for k, v in self.before.all_items().items() if now[k] != v}
        body: dict[str, Any] = {
            "municipality_code": self.municipality_code,
            "identity": self.current.as_dict(),
            "change": {
                "reason": self.reason.value,
                "reason_label": self.reason.label_ja,
                "date": self.changed_on.isoformat(),
                "before": before,
                "deleted": self.deleted,
            },
        }
        if self.handover is not None:
            body[HANDOVER_KEY] = self.handover
        return body


def identity_changed(before: IdentityInfo, after: IdentityInfo) -> bool:
    """Whether any of the identity items differ (only then is a notice due for an update)."""
    return before != after


NOTICE_KEYS = frozenset({"municipality_code", "identity", "change"})
#: The optional item of a move-in notice that carries the signed hand-over.
HANDOVER_KEY = "handover"
IDENTITY_KEYS = frozenset(
    {
        "resident_code",
        "family_name",
        "given_name",
        "family_name_kana",
        "given_name_kana",
        "birth_date",
        "sex",
        "address",
    }
)
#: The identity items that travel only for a name with characters outside JIS X 0213.
MJ_KEYS = frozenset({"family_name_mj", "given_name_mj"})
CHANGE_KEYS = frozenset({"reason", "reason_label", "date", "before", "deleted"})


def parse_notice_body(body: Any, *, today: date) -> IdentityNotice:
    """Validate a received notice body and rebuild the notice; upstream nodes call this.

    Raises :class:`~jukinet.domain.errors.ValidationError` naming the first fault, so the
    receiver can quarantine the notice with its reason instead of storing something corrupt
    (the March 2013 incident). Extra items are a fault too: nothing beyond the six items may
    travel.
    """

    def fault(field: str, en: str) -> ValidationError:
        return ValidationError(
            "JUKI-NET-010",
            ja=f"通知の項目「{field}」が不正です。",
            en=f"Notice item '{field}' is invalid: {en}",
            field=field,
        )

    if not isinstance(body, dict) or set(body) - {HANDOVER_KEY} != NOTICE_KEYS:
        raise fault("body", "unexpected or missing top-level items")
    handover = body.get(HANDOVER_KEY)
    if HANDOVER_KEY in body and not isinstance(handover, dict):
        raise fault(HANDOVER_KEY, "must be a signed move-in notice")
    identity, change = body["identity"], body["change"]
    if (
        not isinstance(identity, dict)
        or not IDENTITY_KEYS <= set(identity) <= IDENTITY_KEYS | MJ_KEYS
    ):
        raise fault("identity", "the identity items must be exactly the six items")
    if not isinstance(change, dict) or set(change) != CHANGE_KEYS:
        raise fault("change", "unexpected or missing change items")
    if not all(isinstance(v, str) for v in identity.values()):
        raise fault("identity", "every identity item must be text")
    municipality = validate_municipality_code(str(body["municipality_code"]))
    try:
        birth = date.fromisoformat(identity["birth_date"])
        changed_on = date.fromisoformat(str(change["date"]))
        reason = ChangeReason(change["reason"])
    except ValueError as error:
        raise fault("change", "a date or the reason code is invalid") from error
    if birth > today:
        raise fault("birth_date", "in the future")
    if birth < EARLIEST_DATE:
        # Upper tiers refuse what a municipality would (a date before 明治).
        raise fault("birth_date", "before the register's first era (1868-10-23)")
    if identity["sex"] not in {"male", "female"}:
        raise fault("sex", "must be male or female")
    try:
        address = validate_address(identity["address"])
    except ValidationError as error:
        # Upper tiers refuse what a municipality would (NUL, line breaks, markup, length).
        raise fault("address", "empty, too long, or with control characters or < >") from error
    if bool(change["deleted"]) != reason.deletes_record:
        raise fault("deleted", "does not agree with the reason")
    current = IdentityInfo(
        resident_code=validate_resident_code(identity["resident_code"]),
        family_name=validate_name(identity["family_name"], field="family_name"),
        given_name=validate_name(identity["given_name"], field="given_name"),
        family_name_kana=validate_kana(identity["family_name_kana"], field="family_name_kana"),
        given_name_kana=validate_kana(identity["given_name_kana"], field="given_name_kana"),
        birth_date=birth,
        sex=identity["sex"],
        address=address,
        family_name_mj=_carried_mj(identity, "family_name", fault),
        given_name_mj=_carried_mj(identity, "given_name", fault),
    )
    before_items = change["before"]
    before: IdentityInfo | None = None
    if before_items is not None:
        if not isinstance(before_items, dict) or not set(before_items) <= IDENTITY_KEYS | MJ_KEYS:
            raise fault("before", "unexpected items")
        merged = current.all_items() | {k: str(v) for k, v in before_items.items()}
        try:
            before = IdentityInfo(
                **(merged | {"birth_date": date.fromisoformat(merged["birth_date"])})
            )
        except ValueError as error:
            raise fault("before", "a date is invalid") from error
        for name_field in ("family_name", "given_name"):
            _carried_mj(merged, name_field, fault)
    return IdentityNotice(
        municipality_code=municipality,
        current=current,
        reason=reason,
        changed_on=changed_on,
        before=before,
        handover=handover,
    )


def _carried_mj(
    items: dict[str, Any], name_field: str, fault: Callable[[str, str], ValidationError]
) -> str:
    """The MJ identifiers carried with a name, checked against it (missing ones are a fault:
    every tier must show the glyph the municipality registered)."""
    key = f"{name_field}_mj"
    try:
        return check_carried(str(items[name_field]), str(items.get(key, "")), field=name_field)
    except ValidationError as error:
        raise fault(key, "missing, malformed or not matching the name") from error


def identity_digest(info: IdentityInfo, *, deleted: bool) -> str:
    """A stable hash of one resident's identity items, for reconciliation between tiers."""
    data = info.as_dict() | {"deleted": deleted}
    return hashlib.sha256(
        json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    ).hexdigest()


def snapshot_body(
    municipality_code: str,
    info: IdentityInfo,
    *,
    deleted: bool,
) -> dict[str, Any]:
    """The body of an identity snapshot: the current items, no change information.

    Sent for the initial load when a municipality connects, and to repair a difference that
    reconciliation found.
    """
    return {"municipality_code": municipality_code, "identity": info.as_dict(), "deleted": deleted}


def parse_snapshot_body(body: Any, *, today: date) -> tuple[IdentityInfo, str, bool]:
    """Validate a received snapshot; same rules as a notice's identity items."""
    if not isinstance(body, dict) or set(body) != {"municipality_code", "identity", "deleted"}:
        raise ValidationError(
            "JUKI-NET-010",
            ja="通知の項目「body」が不正です。",
            en="Notice item 'body' is invalid: unexpected items",
            field="body",
        )
    as_notice = {
        "municipality_code": body["municipality_code"],
        "identity": body["identity"],
        "change": {
            "reason": ChangeReason.EX_OFFICIO_CORRECTION.value,
            "reason_label": "",
            "date": today.isoformat(),
            "before": None,
            "deleted": False,
        },
    }
    notice = parse_notice_body(as_notice, today=today)
    return notice.current, notice.municipality_code, bool(body["deleted"])
