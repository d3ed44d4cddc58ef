"""HTTPS with mutual TLS between nodes: the server side and the peer certificate.

uvicorn does not hand the client certificate to the application, so a small protocol subclass
puts it into the ASGI scope (``scope["extensions"]["tls"]["client_cert_der"]``); the inbox then
checks that the envelopes' sender is the node the TLS peer certificate names.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

try:  # httptools is faster; h11 is the pure-Python fallback
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _BaseProtocol
except ImportError:  # pragma: no cover - depends on the installation
    _BaseProtocol = H11Protocol  # type: ignore[misc,assignment]

TLS_EXTENSION = "tls"


class PeerCertificateProtocol(_BaseProtocol):
    """An HTTP protocol that exposes the TLS client certificate to the application."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Remember the peer certificate of this connection."""
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        self._peer_der = ssl_object.getpeercert(binary_form=True) if ssl_object else None

    def on_message_begin(self) -> None:
        """Add the certificate to each request's scope."""
        super().on_message_begin()
        self.scope["extensions"] = {TLS_EXTENSION: {"client_cert_der": self._peer_der}}


def peer_certificate(scope: dict[str, Any]) -> bytes | None:
    """The DER client certificate of the request, if the connection had one."""
    tls = scope.get("extensions", {}).get(TLS_EXTENSION, {})
    der = tls.get("client_cert_der")
    return der if isinstance(der, bytes) else None


def make_server(
    app: Any, *, host: str, port: int, ssl_context: ssl.SSLContext, log_level: str = "warning"
) -> uvicorn.Server:
    """A uvicorn server for ``app`` that requires network client certificates."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http=PeerCertificateProtocol,
        log_level=log_level,
        lifespan="on",
        # Our own context: CERT_REQUIRED, the network CA only, CRL checked in the handshake.
        ssl_context_factory=lambda _config, _default: ssl_context,
    )
    return uvicorn.Server(config)
