"""Which signer of the network CA a PKI folder holds, if any: a PKCS#11 token or ``ca.key``.

Only the CA's own folder holds one; a node's copy of the PKI has the CA certificate and the CRL
but no key. The node that finds a signer here is the one that republishes the CRL.
"""

from __future__ import annotations

import json

from jukinet.network.hsm import Pkcs11CaSigner
from jukinet.network.pki import CaSigner, FileCaSigner, NetworkPki

#: Names the token holding the CA key (written by ``jukinet pki init --pkcs11-token``).
TOKEN_FILE = "ca.pkcs11.json"  # noqa: S105 - a file name
CA_KEY_FILE = "ca.key"


class CaSignerUnavailable(Exception):
    """The folder names a PKCS#11 token for the CA key, but no PIN was given to open it."""


def ca_signer_of(pki: NetworkPki, *, pin: str | None) -> CaSigner | None:
    """The CA signer in ``pki``'s folder: the token it names, else ``ca.key``, else ``None``.

    Raises :class:`CaSignerUnavailable` when the folder names a token and ``pin`` is empty.
    """
    token = pki.folder / TOKEN_FILE
    if token.exists():
        if not pin:
            raise CaSignerUnavailable(TOKEN_FILE)
        settings = json.loads(token.read_text(encoding="utf-8"))
        return Pkcs11CaSigner(
            token_label=settings["token_label"],
            pin=pin,
            key_label=settings["key_label"],
            module=settings["module"],
        )
    key = pki.folder / CA_KEY_FILE
    return FileCaSigner.load(key) if key.exists() else None
