"""The agency console (機関照会画面): officers, their sessions, and what the console lists.

Who is at the screen is established twice, as for the counter's operators:

1. the **organisation**: the request arrives on the node's mutual-TLS port with the recipient's
   client certificate (checked against the network CA and CRL in the handshake and again by
   :func:`jukinet.web.provision_api.principal`) — the certificate is installed on the agency's
   terminals, never typed in;
2. the **officer**: an account of that recipient at this node, with the officer's own password
   (argon2id) and then the officer's own card, a FIDO2 security key through WebAuthn
   (:mod:`jukinet.services.agency_officer_cards`), as for the counter's operators. A session
   is bound to the recipient whose certificate opened it: the same cookie
   presented with another organisation's certificate ends the session and is refused.

Every resident an officer sees comes through :mod:`jukinet.services.provision` (the audit
gateway): the console adds no read of personal data of its own. Its lists (query history,
monthly statistics) come from the access log's entries about the recipient, without the
residents' codes.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import orjson
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select

from jukinet.domain.access_log import ActorKind
from jukinet.domain.clock import aware_utc
from jukinet.domain.errors import AuthenticationFailed, Conflict, NotFound, ValidationError
from jukinet.domain.names import validate_name
from jukinet.domain.operators import validate_password, validate_username
from jukinet.services import batch
from jukinet.services.context import ServiceContext
from jukinet.services.operators import password_hasher
from jukinet.services.transparency.dialect import jst_month
from jukinet.storage.agency_tables import AgencyOfficerRow, AgencySessionRow
from jukinet.storage.registry import RegistryCache
from jukinet.storage.tables import AccessLogRow, BatchChunkRow, BatchJobRow

#: A session unused for this long ends (the officer signs in again).
IDLE_LIMIT: Final = timedelta(minutes=30)
#: Entries the history page lists (newest first).
HISTORY_LIMIT: Final = 200
#: Months the statistics cover.
STATISTICS_MONTHS: Final = 12
_DUMMY: dict[tuple[int, int], str] = {}


class SignInRefused(AuthenticationFailed):
    """Wrong login or password, or a disabled account (one answer for all)."""

    def __init__(self) -> None:
        super().__init__(
            "JUKI-AGC-001",
            ja="職員IDまたはパスワードが違うか、アカウントが使えません。",
            en="The officer ID or password is wrong, or the account cannot be used.",
        )


class NotSignedIn(AuthenticationFailed):
    """No session, or it ended (idle, signed out, account disabled)."""

    def __init__(self) -> None:
        super().__init__(
            "JUKI-AGC-002",
            ja="サインインしてください。",
            en="Sign in first.",
        )


class CardPending(NotSignedIn):
    """The password was right; the officer's card has not answered yet."""


class OtherOrganisation(AuthenticationFailed):
    """A session opened with one organisation's certificate, presented with another's."""

    def __init__(self) -> None:
        super().__init__(
            "JUKI-AGC-003",
            ja="この端末の証明書はサインインした機関のものではありません。セッションを終了しました。",
            en="This terminal's certificate is not the signed-in organisation's; the session "
            "has ended.",
        )


class UnknownRecipient(NotFound):
    """An officer added for a recipient this node does not know."""

    def __init__(self, recipient_id: str) -> None:
        super().__init__(
            "JUKI-AGC-004",
            ja=f"受領者 {recipient_id} はこのノードに登録されていません。",
            en=f"Recipient {recipient_id} is not registered at this node.",
            field="recipient_id",
        )


class OfficerExists(Conflict):
    """The login is taken at this recipient."""

    def __init__(self) -> None:
        super().__init__(
            "JUKI-AGC-005",
            ja="この職員IDは既に登録されています。",
            en="This officer ID is already registered.",
            field="login",
        )


@dataclass(frozen=True, slots=True)
class Officer:
    """A signed-in officer: who, for which organisation, and the session's form token."""

    officer_id: int
    recipient_id: str
    login: str
    display_name: str
    csrf_token: str

    @property
    def query_name(self) -> str:
        """How the access log names the officer: display name and login."""
        return f"{self.display_name} ({self.login})"[:80]


def hash_secret(secret: str) -> bytes:
    """What the node keeps of a session's secret (SHA-256)."""
    return hashlib.sha256(secret.encode()).digest()


_hash = hash_secret


def add_officer(
    node: ServiceContext,
    cache: RegistryCache,
    *,
    recipient_id: str,
    login: str,
    display_name: str,
    password: str,
) -> int:
    """Register an officer of ``recipient_id`` (run by the node's administrator on the server)."""
    name = validate_username(login)
    display = validate_name(display_name, field="display_name", max_length=60)
    secret = validate_password(password)
    with node.uow() as uow:
        if recipient_id not in cache.get(uow.session).recipients:
            raise UnknownRecipient(recipient_id)
        taken = uow.session.scalar(
            select(AgencyOfficerRow.id).where(
                AgencyOfficerRow.recipient_id == recipient_id, AgencyOfficerRow.login == name
            )
        )
        if taken is not None:
            raise OfficerExists()
        row = AgencyOfficerRow(
            recipient_id=recipient_id,
            login=name,
            display_name=display,
            password_hash=password_hasher(node).hash(secret),
            active=True,
            created_at=node.now(),
            failed_signins=0,
        )
        uow.session.add(row)
        uow.session.flush()
        officer_id = row.id
        uow.commit()
    return officer_id


def sign_in(node: ServiceContext, *, recipient_id: str, login: str, password: str) -> str:
    """The session secret for the cookie, if ``login`` is an active officer of the recipient
    named by the certificate and the password is right; :class:`SignInRefused` otherwise
    (verified against a dummy hash when nobody has the login, so timing tells nothing)."""
    hasher = password_hasher(node)
    key = (hasher.time_cost, hasher.memory_cost)
    if key not in _DUMMY:
        _DUMMY[key] = hasher.hash("jukinet-agency-dummy")
    with node.uow() as uow:
        row = uow.session.scalar(
            select(AgencyOfficerRow).where(
                AgencyOfficerRow.recipient_id == recipient_id,
                AgencyOfficerRow.login == login[:40],
            )
        )
        ok: bool
        try:
            ok = hasher.verify(row.password_hash if row else _DUMMY[key], password[:256])
        except (VerificationError, InvalidHashError):
            ok = False
        if row is not None and not ok and row.locked_at is None:
            # Counted (and committed) even though the answer is a refusal: guessing must end.
            row.failed_signins += 1
            if row.failed_signins >= node.settings.signin_lockout_after:
                row.locked_at = node.now()
            uow.commit()
        if row is None or not ok or not row.active or row.locked_at is not None:
            raise SignInRefused()
        row.failed_signins = 0
        secret = secrets.token_urlsafe(32)
        now = node.now()
        uow.session.add(
            AgencySessionRow(
                secret_hash=_hash(secret),
                officer_id=row.id,
                recipient_id=recipient_id,
                csrf_token=secrets.token_urlsafe(32),
                created_at=now,
                last_seen_at=now,
            )
        )
        uow.commit()
    return secret


def resolve(node: ServiceContext, secret: str | None, *, recipient_id: str) -> Officer:
    """The officer of a session, checked against the certificate's recipient; refreshes it."""
    if not secret:
        raise NotSignedIn()
    now = node.now()
    with node.uow() as uow:
        session = uow.session.get(AgencySessionRow, _hash(secret))
        if session is None:
            raise NotSignedIn()
        officer = uow.session.get(AgencyOfficerRow, session.officer_id)
        if session.recipient_id != recipient_id:
            uow.session.delete(session)
            uow.commit()
            raise OtherOrganisation()
        if session.card_verified_at is None:
            raise CardPending()
        if (
            officer is None
            or not officer.active
            or now - aware_utc(session.last_seen_at) > IDLE_LIMIT
        ):
            uow.session.delete(session)
            uow.commit()
            raise NotSignedIn()
        # Written at most once a minute: the progress bar polls every second.
        refresh = now - aware_utc(session.last_seen_at) > timedelta(minutes=1)
        if refresh:
            session.last_seen_at = now
        found = Officer(
            officer_id=officer.id,
            recipient_id=recipient_id,
            login=officer.login,
            display_name=officer.display_name,
            csrf_token=session.csrf_token,
        )
        if refresh:
            uow.commit()
    return found


def unlock_officer(node: ServiceContext, *, recipient_id: str, login: str) -> bool:
    """Unlock an officer locked by wrong passwords; ``False`` if there is no such officer."""
    with node.uow() as uow:
        row = uow.session.scalar(
            select(AgencyOfficerRow).where(
                AgencyOfficerRow.recipient_id == recipient_id, AgencyOfficerRow.login == login
            )
        )
        if row is None:
            return False
        row.failed_signins, row.locked_at = 0, None
        uow.commit()
    return True


def sign_out(node: ServiceContext, secret: str | None) -> None:
    """End the session (nothing happens for an unknown secret)."""
    if not secret:
        return
    with node.uow() as uow:
        uow.session.execute(
            delete(AgencySessionRow).where(AgencySessionRow.secret_hash == _hash(secret))
        )
        uow.commit()


# --------------------------------------------------------------------------------------------
# The organisation's own history and statistics (no resident's code is shown)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One access-log entry about the recipient, without the resident."""

    recorded_at: datetime
    action: str
    channel: str
    affair_code: str | None
    officer: str | None
    case_number: str | None
    job_id: str | None
    reason: str | None


def history(
    node: ServiceContext, *, recipient_id: str, limit: int = HISTORY_LIMIT
) -> list[HistoryEntry]:
    """The newest entries the node recorded for the recipient's queries (its own actions)."""
    with node.read_session() as session:
        rows = session.execute(
            select(
                AccessLogRow.recorded_at,
                AccessLogRow.action,
                AccessLogRow.channel,
                AccessLogRow.affair_code,
                AccessLogRow.officer,
                AccessLogRow.case_number,
                AccessLogRow.job_id,
                AccessLogRow.reason,
            )
            .where(
                AccessLogRow.actor == recipient_id,
                AccessLogRow.actor_kind == ActorKind.RECIPIENT.value,
            )
            .order_by(AccessLogRow.position.desc())
            .limit(limit)
        ).all()
    return [
        HistoryEntry(
            recorded_at=aware_utc(row.recorded_at),
            action=row.action or "",
            channel=row.channel or "",
            affair_code=row.affair_code,
            officer=row.officer,
            case_number=row.case_number,
            job_id=row.job_id,
            reason=row.reason,
        )
        for row in rows
        if row.recorded_at is not None
    ]


@dataclass(frozen=True, slots=True)
class MonthlyCount:
    """Entries of one month, affair and action."""

    month: str
    affair_code: str | None
    action: str
    count: int


def monthly_statistics(
    node: ServiceContext, *, recipient_id: str, months: int = STATISTICS_MONTHS
) -> list[MonthlyCount]:
    """The recipient's entries counted by month (JST), affair and action, newest month first."""
    if not 1 <= months <= 120:
        raise ValidationError(
            "JUKI-AGC-006",
            ja="月数は1〜120です。",
            en="Months must be 1 to 120.",
            field="months",
        )
    since = node.now() - timedelta(days=31 * months)
    month = jst_month(AccessLogRow.recorded_at)
    with node.read_session() as session:
        rows = session.execute(
            select(month, AccessLogRow.affair_code, AccessLogRow.action, func.count())
            .where(
                AccessLogRow.actor == recipient_id,
                AccessLogRow.actor_kind == ActorKind.RECIPIENT.value,
                AccessLogRow.recorded_at >= since,
            )
            .group_by(month, AccessLogRow.affair_code, AccessLogRow.action)
        ).all()
    counts = [
        MonthlyCount(month=m, affair_code=code, action=action or "", count=int(n))
        for m, code, action, n in rows
    ]
    return sorted(counts, key=lambda c: (c.month, c.affair_code or "", c.action), reverse=True)


def recent_jobs(
    node: ServiceContext, *, recipient_id: str, affair_code: str, limit: int = 10
) -> list[batch.JobStatus]:
    """The recipient's newest batch jobs for one affair (uploads still arriving left out)."""
    with node.read_session() as session:
        ids = session.scalars(
            select(BatchJobRow.id)
            .where(
                BatchJobRow.recipient_id == recipient_id,
                BatchJobRow.affair_code == affair_code,
                BatchJobRow.status != batch.RECEIVING,
            )
            .order_by(BatchJobRow.created_at.desc())
            .limit(limit)
        ).all()
    found = []
    for job_id in ids:
        try:
            found.append(batch.status(node, recipient_id=recipient_id, job_id=job_id))
        except batch.JobNotFound:  # discarded meanwhile
            continue
    return found


def error_lines(
    node: ServiceContext, *, recipient_id: str, job_id: str
) -> Iterator[dict[str, Any]]:
    """A finished job's per-row errors (row number, the agency's reference, the error).

    Error lines hold no resident's data (a row in error provided nothing), so reading them is not
    an access; the job must be the recipient's own and finished.
    """
    job = batch.status(node, recipient_id=recipient_id, job_id=job_id)
    if job.status not in ("done", "failed"):
        raise batch.JobNotFinished()
    with node.read_session() as session:
        chunks = session.scalar(select(BatchJobRow.chunks).where(BatchJobRow.id == job.job_id))
    for chunk in range(chunks or 0):
        with node.read_session() as session:
            stored = session.get(BatchChunkRow, (job.job_id, chunk))
            block = stored.results if stored is not None else None
        if block is None:
            return
        for raw in block.splitlines():
            if raw:
                line = orjson.loads(raw)
                if line.get("status") == "error":
                    yield line
