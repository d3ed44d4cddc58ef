"""An operator's card on the command line: a PKCS#11 token whose P-256 key signs challenges.

SoftHSM2 in tests, the demo and CI; a real smart card through its PKCS#11 module in production.
The token is selected by its label, which is the card's serial in the card register. SoftHSM has
no ``CKM_ECDSA_SHA256``: the digest is taken here and signed with ``CKM_ECDSA`` (raw r‖s).
"""

from __future__ import annotations

import hashlib
from typing import Any

from jukinet.domain.errors import AuthenticationFailed
from jukinet.network.hsm import DEFAULT_MODULE

CARD_KEY_LABEL = "operator-card"


class TokenOperatorCard:
    """The operator card in a PKCS#11 token, opened with the card's PIN."""

    def __init__(self, *, serial: str, pin: str, module: str = DEFAULT_MODULE) -> None:
        # Imported here: SOFTHSM2_CONF must be set before the module is loaded.
        import pkcs11
        from pkcs11.exceptions import NoSuchToken, PinIncorrect, PinLenRange, TokenNotPresent

        self.serial = serial
        try:
            token = pkcs11.lib(module).get_token(token_label=serial)
            self._session: Any = token.open(user_pin=pin, rw=True)
        except (PinIncorrect, PinLenRange):
            raise AuthenticationFailed(
                "JUKI-AUTH-034",
                ja="カードのPINが正しくありません。",
                en="The card's PIN is wrong.",
            ) from None
        except (TokenNotPresent, NoSuchToken):
            raise AuthenticationFailed(
                "JUKI-AUTH-035",
                ja=f"カード {serial} が見つかりません。カードを差し込んでください。",
                en=f"Card {serial} was not found: insert the card.",
            ) from None

    def __enter__(self) -> TokenOperatorCard:
        return self

    def __exit__(self, *_: object) -> None:
        self._session.close()

    def generate(self) -> None:
        """Create the card's key pair inside the token (at issue, once)."""
        from pkcs11 import Attribute, KeyType
        from pkcs11.util.ec import encode_named_curve_parameters

        params = self._session.create_domain_parameters(
            KeyType.EC,
            {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")},
            local=True,
        )
        params.generate_keypair(store=True, label=CARD_KEY_LABEL)

    def public_key_der(self) -> bytes:
        """The card's public key (SubjectPublicKeyInfo, DER) for the card register."""
        from pkcs11 import KeyType, ObjectClass
        from pkcs11.util.ec import encode_ec_public_key

        key = self._session.get_key(
            object_class=ObjectClass.PUBLIC_KEY, key_type=KeyType.EC, label=CARD_KEY_LABEL
        )
        return bytes(encode_ec_public_key(key))

    def sign(self, message: bytes) -> bytes:
        """ECDSA P-256 over SHA-256 of ``message``, as raw r‖s."""
        from pkcs11 import KeyType, Mechanism, ObjectClass

        key = self._session.get_key(
            object_class=ObjectClass.PRIVATE_KEY, key_type=KeyType.EC, label=CARD_KEY_LABEL
        )
        return bytes(key.sign(hashlib.sha256(message).digest(), mechanism=Mechanism.ECDSA))
