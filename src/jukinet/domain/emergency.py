"""Threat levels and emergency disconnects (domain.md §6): the runbook as rules, no I/O.

**Threat levels** (緊急時対応計画): 0 normal; 1 blocked attempt or known fault — watch harder
(insider-signal thresholds tightened); 2 attack stopped, unexplained fault, short outage —
respond now and tell the prefecture and the centre (a signed incident notice); 3 intrusion near
protected data — agency provision suspended except affairs marked urgent, personal-data pages
read-only; 4 compromise — everything disconnected. The security council led by the chief officer
decides; the software records its decision (who chaired, when, why, the minutes' reference).

**Emergency disconnects** (緊急切断) are scoped — one link, one node (all its links), one agency,
one affair, or everything — and take **two** operators' cards: one proposes, the other
countersigns, and they must be a security officer (セキュリティ責任者) and a supervisor acting as
the chief officer's delegate (管理職, 統括責任者の代理), each signed in with their own card within
:data:`CARD_FRESHNESS`. A cut expires by itself after its duration unless renewed the same way.

**Clock skew.** A local cut is judged by the clock of the node that decided it only (both ends of
a cut link are enforced there: it neither sends nor accepts), so skew cannot touch it. An order
that travels (a quarantine from the centre) carries the issuer's ``expires_at``; a receiver holds
it until that instant plus :data:`SKEW_MARGIN` (5 minutes) by its own clock: a receiving clock up
to 5 minutes ahead cannot end the order early, one behind holds it at most 5 minutes longer
(fail closed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import IntEnum, StrEnum
from typing import Final

from jukinet.domain.errors import (
    Conflict,
    DomainError,
    FieldErrors,
    PermissionDenied,
    ValidationError,
)
from jukinet.domain.operators import Actor, Role

#: A card counts as presented for an emergency step only this long after its sign-in.
CARD_FRESHNESS: Final = timedelta(minutes=10)
#: Tolerated clock difference between nodes (orders that travel are held this much longer).
SKEW_MARGIN: Final = timedelta(minutes=5)
#: A proposal not countersigned within this time lapses.
PROPOSAL_LIFETIME: Final = timedelta(minutes=30)
MIN_DURATION: Final = timedelta(seconds=30)
MAX_DURATION: Final = timedelta(hours=72)
TEXT_MAX: Final = 400
#: The two roles whose cards together decide a disconnect.
EMERGENCY_ROLES: Final = frozenset({Role.SECURITY_OFFICER, Role.SUPERVISOR})


class ThreatLevel(IntEnum):
    """0 normal … 4 compromise."""

    NORMAL = 0
    WATCH = 1
    RESPOND = 2
    INTRUSION = 3
    COMPROMISE = 4

    @property
    def label_ja(self) -> str:
        """The level as the pages name it."""
        return _LEVEL_JA[self]


_LEVEL_JA: Final = {
    ThreatLevel.NORMAL: "平常",
    ThreatLevel.WATCH: "レベル1（監視強化）",
    ThreatLevel.RESPOND: "レベル2（即時対応・通報）",
    ThreatLevel.INTRUSION: "レベル3（侵入の恐れ・提供停止）",
    ThreatLevel.COMPROMISE: "レベル4（侵害・全切断）",
}

#: At level 1 and above the insider-signal thresholds are divided by this.
TIGHTENING_FACTOR: Final = 2


def tightens_signals(level: int) -> bool:
    """Level 1 and above: watch harder."""
    return level >= ThreatLevel.WATCH


def notifies_upstream(previous: int, new: int) -> bool:
    """Crossing into level 2 or above sends an incident notice (and so does any raise above 2)."""
    return new >= ThreatLevel.RESPOND and new > previous


def read_only(level: int) -> bool:
    """Level 3 and above: personal-data pages refuse writes (reads go on, logged)."""
    return level >= ThreatLevel.INTRUSION


def suspends_provision(level: int) -> bool:
    """Level 3 and above: agencies get only the affairs marked urgent."""
    return level >= ThreatLevel.INTRUSION


def disconnects_everything(level: int) -> bool:
    """Level 4: every link cut until the level is lowered."""
    return level >= ThreatLevel.COMPROMISE


class Scope(StrEnum):
    """What a disconnect cuts."""

    LINK = "link"
    NODE = "node"
    AGENCY = "agency"
    AFFAIR = "affair"
    ALL = "all"


class Action(StrEnum):
    """What a proposal asks for."""

    ACTIVATE = "activate"
    RENEW = "renew"
    END = "end"


def _text(value: str, field_name: str, code: str, what_ja: str, what_en: str) -> str:
    text = value.strip()
    if not text or len(text) > TEXT_MAX or not text.isprintable():
        raise ValidationError(
            code,
            ja=f"{what_ja}を{TEXT_MAX}文字以内で入力してください。",
            en=f"Give the {what_en} in 1 to {TEXT_MAX} characters.",
            field=field_name,
        )
    return text


# --- threat levels ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LevelDecision:
    """The security council's decision on the level (page, API and CLI alike)."""

    level: int
    reason: str
    #: Who chaired the council (the chief officer or their delegate).
    decided_by: str
    #: When the council decided.
    decided_at: datetime
    #: The minutes' reference (議事録番号).
    minutes_ref: str
    #: ``node`` (this node) or ``network`` (the centre's level for every node).
    scope: str = "node"


@dataclass(frozen=True, slots=True)
class CheckedLevel:
    """A decision that passed the checks."""

    level: ThreatLevel
    reason: str
    decided_by: str
    decided_at: datetime
    minutes_ref: str
    network_wide: bool


def check_level_decision(
    decision: LevelDecision, *, current: int, now: datetime, at_centre: bool
) -> CheckedLevel:
    """Every field checked at once (:class:`FieldErrors`); an unchanged level is a conflict."""
    errors: list[DomainError] = []
    level: ThreatLevel | None = None
    try:
        level = ThreatLevel(int(decision.level))
    except ValueError:
        errors.append(
            ValidationError(
                "JUKI-EMG-001",
                ja="脅威レベルは0（平常）から4までです。",
                en="The threat level is 0 (normal) to 4.",
                field="level",
            )
        )
    texts: dict[str, str] = {}
    for name, value, code, ja, en in (
        ("reason", decision.reason, "JUKI-EMG-002", "理由", "reason"),
        ("decided_by", decision.decided_by, "JUKI-EMG-003", "決定者（委員長）", "council's chair"),
        ("minutes_ref", decision.minutes_ref, "JUKI-EMG-004", "議事録番号", "minutes' reference"),
    ):
        try:
            texts[name] = _text(value, name, code, ja, en)
        except ValidationError as error:
            errors.append(error)
    if decision.decided_at.tzinfo is None or decision.decided_at > now + SKEW_MARGIN:
        errors.append(
            ValidationError(
                "JUKI-EMG-005",
                ja="決定日時が未来か、時差の指定がありません。",
                en="The decision time is in the future or has no time zone.",
                field="decided_at",
            )
        )
    if decision.scope not in ("node", "network"):
        errors.append(
            ValidationError(
                "JUKI-EMG-006",
                ja="範囲は node（このノード）か network（全国）です。",
                en="The scope is node or network.",
                field="scope",
            )
        )
    elif decision.scope == "network" and not at_centre:
        errors.append(
            PermissionDenied(
                "JUKI-EMG-007",
                ja="全国の脅威レベルを決められるのは全国センターだけです。",
                en="Only the national centre decides the network-wide level.",
            )
        )
    if errors:
        raise FieldErrors(errors)
    assert level is not None
    if level == current and decision.scope == "node":
        raise Conflict(
            "JUKI-EMG-008",
            ja="既にその脅威レベルです。",
            en=f"The level is already {int(level)}.",
            field="level",
        )
    return CheckedLevel(
        level=level,
        reason=texts["reason"],
        decided_by=texts["decided_by"],
        decided_at=decision.decided_at,
        minutes_ref=texts["minutes_ref"],
        network_wide=decision.scope == "network",
    )


# --- disconnects ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DisconnectProposal:
    """A proposal to cut, renew or end (page, API and CLI alike).

    ``activate`` names ``scope``, ``target`` (empty for ``all``), ``reason`` and
    ``duration_minutes``; ``renew`` names ``disconnect_id`` and ``duration_minutes``; ``end``
    names ``disconnect_id`` and ``reason``.
    """

    action: str
    reason: str
    scope: str = ""
    target: str = ""
    duration_minutes: float = 60
    disconnect_id: int | None = None


@dataclass(frozen=True, slots=True)
class CheckedProposal:
    """A proposal that passed the checks (target existence is the service's)."""

    action: Action
    reason: str
    scope: Scope | None
    target: str
    duration: timedelta
    disconnect_id: int | None


def check_proposal(proposal: DisconnectProposal) -> CheckedProposal:
    """Every field checked at once (:class:`FieldErrors`)."""
    errors: list[DomainError] = []
    action: Action | None = None
    scope: Scope | None = None
    try:
        action = Action(proposal.action)
    except ValueError:
        errors.append(
            ValidationError(
                "JUKI-EMG-010",
                ja="操作は activate・renew・end のいずれかです。",
                en="The action is activate, renew or end.",
                field="action",
            )
        )
    reason = ""
    try:
        reason = _text(proposal.reason, "reason", "JUKI-EMG-002", "理由", "reason")
    except ValidationError as error:
        errors.append(error)
    duration = timedelta(minutes=proposal.duration_minutes)
    if action in (Action.ACTIVATE, Action.RENEW) and not MIN_DURATION <= duration <= MAX_DURATION:
        errors.append(
            ValidationError(
                "JUKI-EMG-011",
                ja="切断の期間は30秒から72時間までです。",
                en="A disconnect lasts 30 seconds to 72 hours.",
                field="duration_minutes",
            )
        )
    target = proposal.target.strip()
    if action is Action.ACTIVATE:
        try:
            scope = Scope(proposal.scope)
        except ValueError:
            errors.append(
                ValidationError(
                    "JUKI-EMG-012",
                    ja="範囲は link・node・agency・affair・all のいずれかです。",
                    en="The scope is link, node, agency, affair or all.",
                    field="scope",
                )
            )
        if scope is not None and scope is not Scope.ALL and not (0 < len(target) <= 80):
            errors.append(
                ValidationError(
                    "JUKI-EMG-013",
                    ja="切断する対象（ノード・機関・事務）を指定してください。",
                    en="Name what to cut (a node, an agency or an affair).",
                    field="target",
                )
            )
        if scope is Scope.ALL:
            target = ""
    elif action is not None and proposal.disconnect_id is None:
        errors.append(
            ValidationError(
                "JUKI-EMG-014",
                ja="延長・終了する切断の番号を指定してください。",
                en="Name the disconnect to renew or end.",
                field="disconnect_id",
            )
        )
    if errors:
        raise FieldErrors(errors)
    assert action is not None
    return CheckedProposal(action, reason, scope, target, duration, proposal.disconnect_id)


def check_card_holder(actor: Actor, *, session_started: datetime | None, now: datetime) -> None:
    """The actor may take part in a two-card decision: right role, own card, presented lately."""
    if actor.role not in EMERGENCY_ROLES:
        raise PermissionDenied(
            "JUKI-EMG-020",
            ja="緊急切断に加われるのはセキュリティ責任者と管理職（統括責任者の代理）だけです。",
            en="Only a security officer and a supervisor (the chief officer's delegate) take "
            "part in an emergency disconnect.",
        )
    if actor.card_serial is None or session_started is None:
        raise PermissionDenied(
            "JUKI-EMG-021",
            ja="緊急切断には本人の操作者カードでのサインインが必要です。",
            en="An emergency disconnect needs your own operator card: sign in with it.",
        )
    if now - session_started > CARD_FRESHNESS:
        raise PermissionDenied(
            "JUKI-EMG-022",
            ja="カードの提示から10分を過ぎています。カードでサインインし直してください。",
            en="Your card was presented more than 10 minutes ago (expired for this step): "
            "sign in with it again.",
        )


def check_countersigner(proposer: str, proposer_role: Role, countersigner: Actor) -> None:
    """The second card is another person's, in the other role."""
    if countersigner.username == proposer:
        raise PermissionDenied(
            "JUKI-EMG-023",
            ja="提案者本人は副署できません。もう一人の操作者のカードが必要です。",
            en="The proposer cannot countersign: a second operator's card is needed.",
        )
    if countersigner.role == proposer_role:
        raise PermissionDenied(
            "JUKI-EMG-024",
            ja="セキュリティ責任者と管理職（統括責任者の代理）が一人ずつ必要です。",
            en="One security officer and one supervisor (the chief officer's delegate) are "
            "needed; both cards are of the same role.",
        )


def proposal_lapsed(proposed_at: datetime, now: datetime) -> bool:
    """A proposal not countersigned in time lapses."""
    return now - proposed_at > PROPOSAL_LIFETIME


def travelling_expiry(issuer_expires_at: datetime) -> datetime:
    """How long a receiver holds an order that travelled: the issuer's instant plus margin."""
    return issuer_expires_at + SKEW_MARGIN


# --- the state in force -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cut:
    """One disconnect in force (or once in force: its ``expires_at`` says until when)."""

    id: int
    scope: Scope
    target: str
    reason: str
    expires_at: datetime | None
    ended: bool = False
    #: ``local`` (decided here by two cards) or the node that ordered it (the centre).
    source: str = "local"

    @property
    def local(self) -> bool:
        """Decided here (not an order from another node)."""
        return self.source == "local"

    def in_force(self, now: datetime) -> bool:
        """Not ended and not expired."""
        return not self.ended and (self.expires_at is None or now < self.expires_at)

    def seconds_left(self, now: datetime) -> int:
        """Whole seconds until it expires (at least 1; an hour when open-ended)."""
        if self.expires_at is None:
            return 3600
        return max(1, int((self.expires_at - now).total_seconds() + 0.999))


@dataclass(frozen=True)
class EmergencyState:
    """What is in force at a node: its level (own and network-wide) and its cuts."""

    here: str = ""
    level: int = 0
    network_level: int = 0
    cuts: tuple[Cut, ...] = ()
    urgent_affairs: frozenset[str] = field(default_factory=frozenset)

    @property
    def effective_level(self) -> int:
        """The higher of this node's level and the network-wide one."""
        return max(self.level, self.network_level)

    def _level_cut(self) -> Cut | None:
        if disconnects_everything(self.effective_level):
            return Cut(0, Scope.ALL, "", "threat level 4", None)
        return None

    def link_cut(self, peer: str, now: datetime, *, inbound: bool = False) -> Cut | None:
        """The cut that stops traffic to ``peer`` (or, ``inbound``, from it), if any.

        A cut decided here stops both directions. A quarantine the centre ordered stops what
        the quarantined node sends, at the node itself (it sends nothing) and at every other
        node (they accept nothing from it); what is sent *to* it still arrives, so the order —
        and its lifting — reach it too.
        """
        level_cut = self._level_cut()
        if level_cut is not None:
            return level_cut
        for cut in self.cuts:
            if not cut.in_force(now):
                continue
            if cut.scope is Scope.ALL:
                return cut
            if cut.scope is Scope.LINK and cut.target == peer:
                return cut
            if cut.scope is Scope.NODE and cut.target == self.here and (cut.local or not inbound):
                return cut
            if cut.scope is Scope.NODE and cut.target == peer and (cut.local or inbound):
                return cut
        return None

    def provision_cut(self, recipient: str, affair: str, now: datetime) -> Cut | None:
        """The cut or level that stops ``recipient`` using ``affair`` here, if any."""
        level_cut = self._level_cut()
        if level_cut is not None:
            return level_cut
        for cut in self.cuts:
            if not cut.in_force(now):
                continue
            if (
                cut.scope is Scope.ALL
                or (cut.scope is Scope.AGENCY and cut.target == recipient)
                or (cut.scope is Scope.AFFAIR and cut.target == affair)
                or (cut.scope is Scope.NODE and cut.target == self.here)
            ):
                return cut
        if suspends_provision(self.effective_level) and affair not in self.urgent_affairs:
            return Cut(0, Scope.AFFAIR, affair, "threat level 3: urgent affairs only", None)
        return None

    @property
    def read_only(self) -> bool:
        """Personal-data pages refuse writes."""
        return read_only(self.effective_level)


class ServiceSuspended(DomainError):
    """Refused for an emergency (a disconnect or the threat level): try again later."""

    status = 503

    def __init__(self, reason: str, *, retry_after: int) -> None:
        super().__init__(
            "JUKI-EMG-030",
            ja=f"緊急時の措置により停止中です（{reason}）。時間をおいて再度お試しください。",
            en=f"Suspended by an emergency measure ({reason}); try again later.",
        )
        self.retry_after = retry_after


class ReadOnlyMode(DomainError):
    """Writes to personal data refused while the threat level is 3 or above."""

    status = 503

    def __init__(self, level: int) -> None:
        super().__init__(
            "JUKI-EMG-031",
            ja=f"脅威レベル{level}のため、個人情報の画面は閲覧のみです（更新はできません）。",
            en=f"Threat level {level}: personal-data pages are read-only (no changes).",
        )
        self.retry_after = 3600
