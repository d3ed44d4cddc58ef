"""Card photos (写真付き住基カード): the resident's photo as a private file named by an opaque
reference, kept in the register as ``photo_ref`` (never in the chip).

The photo is checked (JPEG or PNG, at most :data:`MAX_PHOTO_BYTES`) before anything is written;
it is written (0600, in a 0700 folder, :mod:`jukinet.storage.private_files`) just before the
application, and removed again if the application is refused, so a refusal leaves no file.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Final

from jukinet.domain.errors import DomainError, ValidationError
from jukinet.domain.operators import Actor, Permission
from jukinet.domain.resident_card import CardForm
from jukinet.services.context import ServiceContext
from jukinet.services.resident_card import counter
from jukinet.services.resident_card.counter import CardView
from jukinet.services.resident_card.inputs import CardApplication
from jukinet.storage.private_files import write_private

#: The largest photo accepted (a passport-style photo is a few tens of KB).
MAX_PHOTO_BYTES: Final = 512 * 1024
_SIGNATURES: Final = {b"\xff\xd8\xff": "jpg", b"\x89PNG\r\n\x1a\n": "png"}
_REF: Final = re.compile(r"^[0-9a-f]{32}\.(jpg|png)$")


def photo_kind(data: bytes, *, field: str = "photo") -> str:
    """``jpg`` or ``png`` for a photo the counter accepts; a field error otherwise."""
    if len(data) > MAX_PHOTO_BYTES:
        raise ValidationError(
            "JUKI-CARD-030",
            ja=f"写真のファイルが大きすぎます（{MAX_PHOTO_BYTES // 1024}KBまで）。",
            en=f"The photo is too large (at most {MAX_PHOTO_BYTES // 1024} KB).",
            field=field,
        )
    for signature, kind in _SIGNATURES.items():
        if data.startswith(signature):
            return kind
    raise ValidationError(
        "JUKI-CARD-031",
        ja="写真は JPEG または PNG の画像ファイルにしてください。",
        en="The photo must be a JPEG or PNG image.",
        field=field,
    )


def photo_path(node: ServiceContext, photo_ref: str) -> Path:
    """The file of a stored photo (a reference that is not one of ours names no file)."""
    if not _REF.match(photo_ref):
        raise ValidationError(
            "JUKI-CARD-032",
            ja="写真の参照が正しくありません。",
            en="The photo reference is malformed.",
            field="photo_ref",
        )
    return node.settings.card_photo_folder / photo_ref


def apply_with_photo(
    node: ServiceContext,
    *,
    actor: Actor,
    resident_code: str,
    form: CardForm,
    photo: bytes | None,
) -> CardView:
    """交付申請 with the photo as uploaded: the photo is kept only if the application is.

    A name-only card keeps no photo (one sent with it is ignored); a photo ID card without one
    is refused by the application itself.
    """
    actor.require(Permission.ISSUE_RESIDENT_CARDS)
    stored: Path | None = None
    photo_ref: str | None = None
    if form is CardForm.PHOTO_ID and photo:
        photo_ref = f"{secrets.token_hex(16)}.{photo_kind(photo)}"
        stored = photo_path(node, photo_ref)
    try:
        if stored is not None:
            write_private(stored, photo or b"")
        application = CardApplication(resident_code, form, photo_ref)
        return counter.apply_for_card(node, actor=actor, application=application)
    except BaseException as error:
        if stored is not None:
            stored.unlink(missing_ok=True)
        if isinstance(error, DomainError) and error.field == "photo_ref":
            # The adapters call the upload ``photo``.
            raise ValidationError(
                error.code, ja=error.message_ja, en=error.message_en, field="photo"
            ) from None
        raise
