"""Tables of what nodes check about each other: security alerts, and witnessed tree heads.

- ``security_alerts``: a node saw something only an attacker (or a broken node) does — a
  notice whose originating municipality's signature fails at a tier it was relayed to, a log
  that no longer extends the head its witness holds. Kept for the security console.
- ``witnessed_heads`` (at a witness: a prefecture or the centre): every tree head of another
  node it checked and countersigned, the latest being what the next publication must extend.
- ``head_countersignatures`` (at the publishing node): the witnesses' countersignatures of its
  own heads, so a disclosure can show a resident a head someone else vouched for.

Kept apart from :mod:`jukinet.storage.tables` (one concept per module); ``tables`` imports it
so the shared metadata knows these tables.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from jukinet.storage.table_base import Base, BigId


class SecurityAlertRow(Base):
    """An alert for the security console: what was seen, about which node, and when."""

    __tablename__ = "security_alerts"
    __table_args__ = (Index("ix_security_alerts_raised_at", "raised_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: ``origin_signature`` (a relayed notice altered or forged), ``log_rewritten`` …
    kind: Mapped[str] = mapped_column(String(40))
    #: The node the alert is about (the relay that handed the notice over, the publisher).
    about: Mapped[str] = mapped_column(String(60))
    reason: Mapped[str] = mapped_column(String(400))
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WitnessedHeadRow(Base):
    """A tree head of another node that this node (its witness) checked and countersigned."""

    __tablename__ = "witnessed_heads"

    node: Mapped[str] = mapped_column(String(60), primary_key=True)
    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    #: The head as the node signed it (``SignedTreeHead.to_dict``).
    head: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: This node's countersignature (``{"document": …, "signature": …}``).
    countersignature: Mapped[dict[str, Any]] = mapped_column(JSON)
    witnessed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class HeadCountersignatureRow(Base):
    """A witness's countersignature of one of this node's own tree heads."""

    __tablename__ = "head_countersignatures"

    witness: Mapped[str] = mapped_column(String(60), primary_key=True)
    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    countersignature: Mapped[dict[str, Any]] = mapped_column(JSON)
    witnessed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
