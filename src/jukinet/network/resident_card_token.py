"""The resident card's chip (住基カード) as a PKCS#11 token: the card writer and the card reader.

SoftHSM2 in tests, the demo and CI, one token per card, its label the card's serial; a real card
through its PKCS#11 module in production. The chip holds two P-256 key pairs — one to
authenticate the card, one for signatures (公的個人認証) with its certificate — and the resident
code, and nothing else personal (domain.md §5).

SoftHSM never locks a PIN, so the chip's own counter of wrong PINs is a public data object the
reader keeps: three wrong PINs in a row and the reader refuses to try a fourth, whatever the
register says (the register keeps its own count as well). A PIN reset opens the token as its
security officer, whose PIN only the issuing municipality can derive (:func:`so_pin_for`).
"""

from __future__ import annotations

import hashlib
import hmac
import subprocess
from pathlib import Path
from typing import Any, Final

from jukinet.domain.errors import AuthenticationFailed, Conflict
from jukinet.domain.resident_card import MAX_PIN_TRIES
from jukinet.network.hsm import DEFAULT_MODULE, TOKEN_LOCK, find_token

AUTH_KEY_LABEL: Final = "card-auth"
SIGN_KEY_LABEL: Final = "card-sign"
SIGN_CERT_LABEL: Final = "card-sign-certificate"
CODE_LABEL: Final = "resident-code"
TRIES_LABEL: Final = "pin-tries-left"
SOFTHSM_UTIL: Final = "/usr/bin/softhsm2-util"


def so_pin_for(secret_key: str, serial: str) -> str:
    """The card's security-officer PIN, derived from the issuing node's secret key.

    Only the issuing municipality can reset a PIN (in person, with ID); nothing is stored.
    """
    digest = hmac.new(secret_key.encode(), f"card-so-pin:{serial}".encode(), hashlib.sha256)
    return digest.hexdigest()[:24]


def _wrong_pin(tries_left: int) -> AuthenticationFailed:
    if tries_left <= 0:
        return _locked()
    return AuthenticationFailed(
        "JUKI-CARD-030",
        ja=f"暗証番号が違います。あと{tries_left}回間違えるとカードがロックされます。",
        en=f"Wrong PIN: {tries_left} more wrong PIN(s) will lock the card.",
    )


def _locked() -> AuthenticationFailed:
    return AuthenticationFailed(
        "JUKI-CARD-014",
        ja="暗証番号の誤りが3回続いたため、カードはロックされています。"
        "窓口で本人確認のうえ暗証番号を再設定してください。",
        en="The card is locked after three wrong PINs; the PIN is reset in person at the counter.",
    )


def _missing(serial: str) -> AuthenticationFailed:
    return AuthenticationFailed(
        "JUKI-CARD-031",
        ja=f"カード {serial} を読み取れません。カードを置き直してください。",
        en=f"Card {serial} cannot be read: place the card on the reader again.",
    )


def _token(serial: str, module: str) -> Any:
    from pkcs11.exceptions import NoSuchToken

    try:
        return find_token(serial, module=module)
    except NoSuchToken:
        raise _missing(serial) from None


def _data_object(session: Any, label: str) -> Any | None:
    from pkcs11 import Attribute, ObjectClass

    found = list(session.get_objects({Attribute.CLASS: ObjectClass.DATA, Attribute.LABEL: label}))
    return found[0] if found else None


def _read_data(session: Any, label: str) -> bytes | None:
    from pkcs11 import Attribute

    found = _data_object(session, label)
    return None if found is None else bytes(found[Attribute.VALUE])


def _write_data(session: Any, label: str, value: bytes, *, private: bool) -> None:
    from pkcs11 import Attribute, ObjectClass

    existing = _data_object(session, label)
    if existing is not None:
        existing.destroy()
    session.create_object(
        {
            Attribute.CLASS: ObjectClass.DATA,
            Attribute.LABEL: label,
            Attribute.TOKEN: True,
            Attribute.PRIVATE: private,
            Attribute.MODIFIABLE: True,
            Attribute.VALUE: value,
        }
    )


def tries_left(serial: str, *, module: str = DEFAULT_MODULE) -> int:
    """How many wrong PINs the chip still allows (read without the PIN)."""
    with TOKEN_LOCK, _token(serial, module).open(rw=False) as session:
        raw = _read_data(session, TRIES_LABEL)
    return MAX_PIN_TRIES if raw is None else int(raw.decode() or "0")


def _set_tries(serial: str, module: str, value: int) -> None:
    with TOKEN_LOCK, _token(serial, module).open(rw=True) as session:
        _write_data(session, TRIES_LABEL, str(value).encode(), private=False)


class ResidentCardToken:
    """An open card: the PIN was right. Use as a context manager."""

    def __init__(self, session: Any, serial: str) -> None:
        self._session = session
        self.serial = serial

    @classmethod
    def open(cls, serial: str, pin: str, *, module: str = DEFAULT_MODULE) -> ResidentCardToken:
        """Open the card with the resident's PIN, counting a wrong one on the chip.

        Raises :class:`AuthenticationFailed` with JUKI-CARD-030 (wrong PIN, tries left) or
        JUKI-CARD-014 (locked: the reader no longer even tries).
        """
        from pkcs11.exceptions import PinIncorrect, PinLenRange

        TOKEN_LOCK.acquire()
        try:
            token = _token(serial, module)
            left = tries_left(serial, module=module)
            if left <= 0:
                raise _locked()
            try:
                session = token.open(user_pin=pin, rw=True)
            except (PinIncorrect, PinLenRange):
                _set_tries(serial, module, left - 1)
                raise _wrong_pin(left - 1) from None
            if left != MAX_PIN_TRIES:
                _write_data(session, TRIES_LABEL, str(MAX_PIN_TRIES).encode(), private=False)
        except BaseException:
            TOKEN_LOCK.release()
            raise
        # The lock is held until the card is closed (see hsm.TOKEN_LOCK).
        return cls(session, serial)

    def __enter__(self) -> ResidentCardToken:
        return self

    def __exit__(self, *_: object) -> None:
        try:
            self._session.close()
        finally:
            TOKEN_LOCK.release()

    def resident_code(self) -> str:
        """The resident code written in the chip at issue."""
        raw = _read_data(self._session, CODE_LABEL)
        if raw is None:
            raise _missing(self.serial)
        return raw.decode("ascii")

    def _private_key(self, label: str) -> Any:
        from pkcs11 import KeyType, ObjectClass

        return self._session.get_key(
            object_class=ObjectClass.PRIVATE_KEY, key_type=KeyType.EC, label=label
        )

    def _public_key_der(self, label: str) -> bytes:
        from pkcs11 import KeyType, ObjectClass
        from pkcs11.util.ec import encode_ec_public_key

        key = self._session.get_key(
            object_class=ObjectClass.PUBLIC_KEY, key_type=KeyType.EC, label=label
        )
        return bytes(encode_ec_public_key(key))

    def auth_public_key_der(self) -> bytes:
        """The authentication key's public half (SubjectPublicKeyInfo, DER)."""
        return self._public_key_der(AUTH_KEY_LABEL)

    def sign_public_key_der(self) -> bytes:
        """The signature key's public half (SubjectPublicKeyInfo, DER)."""
        return self._public_key_der(SIGN_KEY_LABEL)

    def _sign(self, label: str, message: bytes) -> bytes:
        from pkcs11 import Mechanism

        digest = hashlib.sha256(message).digest()
        return bytes(self._private_key(label).sign(digest, mechanism=Mechanism.ECDSA))

    def authenticate(self, challenge: bytes) -> bytes:
        """Sign a terminal's challenge with the authentication key (ECDSA P-256, raw r‖s)."""
        return self._sign(AUTH_KEY_LABEL, challenge)

    def sign(self, message: bytes) -> bytes:
        """Sign ``message`` with the signature key (公的個人認証; ECDSA P-256, raw r‖s)."""
        return self._sign(SIGN_KEY_LABEL, message)

    def store_certificate(self, der: bytes) -> None:
        """Write the signature certificate into the chip (replacing an earlier one)."""
        _write_data(self._session, SIGN_CERT_LABEL, der, private=False)

    def certificate_der(self) -> bytes | None:
        """The signature certificate in the chip, if one was issued."""
        return _read_data(self._session, SIGN_CERT_LABEL)

    def change_pin(self, old_pin: str, new_pin: str) -> None:
        """The resident changes their own PIN (knowing the old one)."""
        self._session.set_pin(old_pin, new_pin)


def _generate_pair(session: Any, label: str) -> None:
    from pkcs11 import Attribute, KeyType
    from pkcs11.util.ec import encode_named_curve_parameters

    params = session.create_domain_parameters(
        KeyType.EC,
        {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")},
        local=True,
    )
    params.generate_keypair(store=True, label=label)


def write_new_card(
    serial: str,
    *,
    pin: str,
    so_pin: str,
    resident_code: str,
    module: str = DEFAULT_MODULE,
    softhsm_util: str = SOFTHSM_UTIL,
) -> tuple[bytes, bytes]:
    """The card writer: a blank card becomes ``serial``, with its keys and the resident code.

    Returns the public halves of the authentication and signature keys (DER). A card with this
    serial already in the reader is refused (a serial is never written twice).
    """
    with TOKEN_LOCK:
        return _write_new_card(
            serial,
            pin=pin,
            so_pin=so_pin,
            resident_code=resident_code,
            module=module,
            softhsm_util=softhsm_util,
        )


def _write_new_card(
    serial: str, *, pin: str, so_pin: str, resident_code: str, module: str, softhsm_util: str
) -> tuple[bytes, bytes]:
    from pkcs11.exceptions import NoSuchToken

    try:
        find_token(serial, module=module)
    except NoSuchToken:
        pass
    else:
        raise Conflict(
            "JUKI-CARD-032",
            ja=f"カード {serial} は既に書き込まれています。",
            en=f"Card {serial} has already been written.",
            field="serial",
        )
    if not Path(softhsm_util).exists():
        raise Conflict(
            "JUKI-CARD-033",
            ja="カードライター（SoftHSM2）が見つかりません。",
            en="The card writer (SoftHSM2's softhsm2-util) is not installed.",
        )
    subprocess.run(  # noqa: S603 - fixed program, our own arguments
        [
            softhsm_util,
            "--init-token",
            "--free",
            "--label",
            serial,
            "--pin",
            pin,
            "--so-pin",
            so_pin,
        ],
        check=True,
        capture_output=True,
    )
    # A fresh module handle sees the new token's slot.
    with _token(serial, module).open(user_pin=pin, rw=True) as session:
        _generate_pair(session, AUTH_KEY_LABEL)
        _generate_pair(session, SIGN_KEY_LABEL)
        _write_data(session, CODE_LABEL, resident_code.encode("ascii"), private=True)
        _write_data(session, TRIES_LABEL, str(MAX_PIN_TRIES).encode(), private=False)
        card = ResidentCardToken(session, serial)
        return card.auth_public_key_der(), card.sign_public_key_der()


def reset_pin(serial: str, *, so_pin: str, new_pin: str, module: str = DEFAULT_MODULE) -> None:
    """The issuing municipality resets the PIN (in person, with ID); the chip's count restarts."""
    with TOKEN_LOCK:
        with _token(serial, module).open(so_pin=so_pin, rw=True) as session:
            session.init_pin(new_pin)
        _set_tries(serial, module, MAX_PIN_TRIES)
