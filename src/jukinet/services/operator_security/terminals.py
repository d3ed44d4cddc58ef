"""Registered terminals (登録端末): who may even reach the sign-in page.

In ``certificate`` mode a terminal is the holder of a client certificate issued by the node's
terminal CA and registered here by a security officer; the operator port asks for it in the TLS
handshake and the app matches its SHA-256 against this register on every request. In
``loopback`` mode (dev, tests, the demo) the operator port listens on 127.0.0.1 only and the
machine itself is one terminal, named and labelled as such on every page.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import bindparam, select

from jukinet.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from jukinet.domain.operator_events import OperatorEvent
from jukinet.domain.operators import Actor, Permission
from jukinet.network.terminal_ca import TerminalAuthority
from jukinet.services.context import ServiceContext
from jukinet.services.operator_security.events import log_event
from jukinet.storage.tables import TerminalRow

LOOPBACK_TERMINAL = "loopback-demo"


def _unregistered() -> PermissionDenied:
    return PermissionDenied(
        "JUKI-TRM-001",
        ja="この端末は登録されていないか、登録が取り消されています。"
        "セキュリティ責任者に端末の登録を依頼してください。",
        en="This terminal is not registered, or its registration was revoked; ask a security "
        "officer to register it.",
    )


# Built once: the terminal is identified on every request.
_TERMINAL_BY_NAME = select(TerminalRow).where(TerminalRow.name == bindparam("name"))
_TERMINAL_BY_CERTIFICATE = select(TerminalRow).where(
    TerminalRow.cert_fingerprint == bindparam("fingerprint"), TerminalRow.kind == "mtls"
)


def identify_terminal(node: ServiceContext, client_cert_der: bytes | None) -> TerminalRow:
    """The registered, active terminal making this request; refused before any sign-in.

    Runs on every request: one read in a read-only transaction (on SQLite, no turn in the
    writer queue)."""
    with node.read_session() as session:
        if node.settings.terminal_mode == "loopback":
            row = session.scalars(_TERMINAL_BY_NAME, {"name": LOOPBACK_TERMINAL}).first()
            if row is None:
                # Not stored (a request writes nothing); a security officer who registers or
                # revokes it by name makes it a row like any other.
                return TerminalRow(
                    name=LOOPBACK_TERMINAL,
                    place="this machine (loopback)",
                    purpose="development, tests and the demo",
                    kind="loopback",
                    cert_fingerprint="",
                    status="active",
                    registered_at=node.now(),
                )
            if row.status != "active":
                raise _unregistered()
            return row
        if not client_cert_der:
            raise _unregistered()
        fingerprint = hashlib.sha256(client_cert_der).hexdigest()
        row = session.scalars(_TERMINAL_BY_CERTIFICATE, {"fingerprint": fingerprint}).first()
        if row is None or row.status != "active":
            raise _unregistered()
        return row


def console_terminal(node: ServiceContext, name: str) -> TerminalRow:
    """The server's own console, where the command line runs (registered on first use, and
    revocable like any terminal: a revoked console refuses every command)."""
    with node.uow() as uow:
        row = uow.session.scalars(select(TerminalRow).where(TerminalRow.name == name)).first()
        if row is None:
            row = TerminalRow(
                name=name,
                place="server console",
                purpose="command line",
                kind="console",
                cert_fingerprint="",
                status="active",
                registered_at=node.now(),
            )
            uow.session.add(row)
            uow.commit()
        if row.kind != "console" or row.status != "active":
            raise _unregistered()
        return row


def register_terminal(
    node: ServiceContext,
    *,
    actor: Actor,
    name: str,
    place: str,
    purpose: str,
    certificate_der: bytes,
) -> TerminalRow:
    """Register a terminal by its client certificate (security officer)."""
    actor.require(Permission.MANAGE_TERMINALS)
    label = _text(name, field="name", limit=40)
    where = _text(place, field="place", limit=80)
    why = _text(purpose, field="purpose", limit=80)
    with node.uow() as uow:
        if uow.session.scalars(select(TerminalRow).where(TerminalRow.name == label)).first():
            raise Conflict(
                "JUKI-TRM-002",
                ja="この端末名は既に使われています。",
                en="A terminal with this name is already registered.",
                field="name",
            )
        row = TerminalRow(
            name=label,
            place=where,
            purpose=why,
            kind="mtls",
            cert_fingerprint=hashlib.sha256(certificate_der).hexdigest(),
            status="active",
            registered_at=node.now(),
        )
        uow.session.add(row)
        log_event(
            node,
            uow.session,
            OperatorEvent.TERMINAL_REGISTERED,
            actor=actor.username,
            text=f"{label} ({where}; {why})",
            terminal=actor.terminal_id,
        )
        uow.commit()
        return row


def enroll_terminal(
    node: ServiceContext,
    *,
    actor: Actor,
    authority: TerminalAuthority,
    name: str,
    place: str,
    purpose: str,
    password: str,
) -> bytes:
    """Issue a terminal certificate and register it (security officer): the PKCS#12 to import.

    The file's password protects the key on its way to the terminal; it is never stored.
    """
    actor.require(Permission.MANAGE_TERMINALS)
    if len(password) < 8:
        raise ValidationError(
            "JUKI-TRM-011",
            ja="PKCS#12 ファイルのパスワードは8文字以上にしてください。",
            en="The PKCS#12 file's password must be at least 8 characters.",
            field="password",
        )
    if not authority.exists:
        raise Conflict(
            "JUKI-TRM-012",
            ja="端末用の認証局がありません。jukinet terminal init で作成してください。",
            en="There is no terminal CA yet: create it with 'jukinet terminal init'.",
        )
    issued = authority.issue_terminal(
        name=_text(name, field="name", limit=40), password=password.encode(), now=node.now()
    )
    register_terminal(
        node,
        actor=actor,
        name=name,
        place=place,
        purpose=purpose,
        certificate_der=issued.certificate_der,
    )
    return issued.pkcs12


def revoke_terminal(node: ServiceContext, *, actor: Actor, name: str, reason: str) -> None:
    """Revoke a terminal: its next request is refused (security officer)."""
    actor.require(Permission.MANAGE_TERMINALS)
    why = _text(reason, field="reason", limit=120)
    with node.uow() as uow:
        row = uow.session.scalars(select(TerminalRow).where(TerminalRow.name == name)).first()
        if row is None:
            raise NotFound(
                "JUKI-TRM-003",
                ja="その端末は登録されていません。",
                en="No such terminal.",
                field="name",
            )
        if row.status != "active":
            raise Conflict(
                "JUKI-TRM-004",
                ja="この端末の登録は既に取り消されています。",
                en="This terminal is already revoked.",
                field="name",
            )
        row.status = "revoked"
        row.revoked_at = node.now()
        log_event(
            node,
            uow.session,
            OperatorEvent.TERMINAL_REVOKED,
            actor=actor.username,
            text=f"{name}: {why}",
            terminal=actor.terminal_id,
        )
        uow.commit()


def list_terminals(node: ServiceContext, *, actor: Actor) -> list[TerminalRow]:
    """Every terminal ever registered (security officer)."""
    actor.require(Permission.MANAGE_TERMINALS)
    with node.uow() as uow:
        return list(uow.session.scalars(select(TerminalRow).order_by(TerminalRow.name)))


def _text(value: str, *, field: str, limit: int) -> str:
    text = value.strip()
    if not text or len(text) > limit:
        raise ValidationError(
            "JUKI-TRM-010",
            ja=f"{limit}文字以内で入力してください（必須）。",
            en=f"Required, at most {limit} characters.",
            field=field,
        )
    return text
