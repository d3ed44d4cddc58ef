"""HTTPS with mutual TLS between nodes: the server side and the peer certificate.

uvicorn does not hand the client certificate to the application, so a small protocol subclass
puts it into the ASGI scope (``scope["extensions"]["tls"]["client_cert_der"]``); the inbox then
checks that the envelopes' sender is the node the TLS peer certificate names.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Generator, Mapping
from typing import Any

import uvicorn

# httptools comes with uvicorn[standard], a declared dependency.
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

TLS_EXTENSION = "tls"

#: How long a stopping node waits for open connections and requests to finish. A peer's or a
#: browser's idle keep-alive TLS connection otherwise holds the server until whoever stops the
#: node gives up and kills it (15 s in ``Cluster.stop``), skipping the orderly stop.
GRACEFUL_SHUTDOWN_SECONDS = 3


class PeerCertificateProtocol(HttpToolsProtocol):
    """An HTTP protocol that exposes the TLS client certificate to the application."""

    # Same narrowing of BaseProtocol.connection_made (Transport, not BaseTransport) that
    # uvicorn's own HttpToolsProtocol makes; TLS connections always give a Transport.
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Remember the peer certificate of this connection."""
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        self._peer_der = ssl_object.getpeercert(binary_form=True) if ssl_object else None

    def on_message_begin(self) -> None:
        """Add the certificate to each request's scope."""
        super().on_message_begin()
        self.scope["extensions"] = {TLS_EXTENSION: {"client_cert_der": self._peer_der}}


def peer_certificate(scope: Mapping[str, Any]) -> bytes | None:
    """The DER client certificate of the request, if the connection had one."""
    tls = scope.get("extensions", {}).get(TLS_EXTENSION, {})
    der = tls.get("client_cert_der")
    return der if isinstance(der, bytes) else None


class SharedSignalServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to its caller.

    uvicorn captures SIGINT/SIGTERM per server; a node runs two servers in one process and stops
    both from its own handler.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        """No signal capture: the node runner owns the signals."""
        yield


def make_server(
    app: Any, *, host: str, port: int, ssl_context: ssl.SSLContext, log_level: str = "warning"
) -> SharedSignalServer:
    """A uvicorn server for ``app`` that requires network client certificates."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http=PeerCertificateProtocol,
        log_level=log_level,
        lifespan="on",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        # Our own context: CERT_REQUIRED, the network CA only, CRL checked in the handshake.
        ssl_context_factory=lambda _config, _default: ssl_context,
    )
    return SharedSignalServer(config)
