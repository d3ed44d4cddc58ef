"""Issued certificates (住民票の写し and its kin): what each printed, its signature, the PDF's
digest, and the versions of the records it was made from (to tell a copy still current).

Shares :mod:`jukinet.storage.table_base`; :mod:`jukinet.storage.tables` imports this module so
the metadata knows the table.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from jukinet.storage.table_base import Base, BigId


class IssuedCertificateRow(Base):
    """One certificate handed over at the counter (the fee is the issuing municipality's)."""

    __tablename__ = "issued_certificates"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    serial: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    #: The resident ids and the record versions printed: {"<id>": version}.
    versions: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: Exactly what was printed (the signed content).
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    #: SHA-256 of the PDF as handed over: any edit changes it.
    pdf_digest: Mapped[str] = mapped_column(String(64), index=True)
    fee_yen: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    operator_id: Mapped[int | None] = mapped_column(BigId)
    terminal: Mapped[str | None] = mapped_column(String(40))
