"""Schemathesis over the agencies' API: whatever a recipient sends, never a 5xx.

The network app is exercised in-process with a real agency client certificate placed in the
request's TLS scope (as the mutual-TLS server does), on both backends, with residents at the
centre and the seed recipients registered.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import schemathesis
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    negative_data_rejection,
    not_a_server_error,
    status_code_conformance,
)

from jukinet.domain.codes import random_resident_codes
from jukinet.network.transport import TLS_EXTENSION
from jukinet.runtime.bootstrap import handler_table
from jukinet.services import recipients
from jukinet.web.network_app import create_network_app
from tests.conftest import TEST_NOW
from tests.support.clock import FixedClock
from tests.support.factories import held_resident
from tests.support.network import make_node, make_pki

CHECKS = [not_a_server_error, status_code_conformance, negative_data_rejection]
Scope = MutableMapping[str, Any]
App = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Any]


def _with_client_certificate(app: Any, der: bytes) -> App:
    async def wrapped(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope = {**scope, "extensions": {TLS_EXTENSION: {"client_cert_der": der}}}
        await app(scope, receive, send)

    return wrapped


def test_provision_api_never_answers_5xx(
    tmp_path: Path, new_database: Callable[[str], str], clock: FixedClock
) -> None:
    pki, signer = make_pki(tmp_path / "pki", ["national:jlis"], TEST_NOW)
    national = make_node(
        "national:jlis", database_url=new_database("fuzz"), pki=pki, peers={}, clock=clock
    )
    try:
        held_resident(national, random_resident_codes(random.Random(4), 1)[0])
        recipients.seed(national)
        creds = pki.issue_client(signer, "agency:soumu-onkyu", now=TEST_NOW)
        der = x509.load_pem_x509_certificate(creds.tls_cert.read_bytes()).public_bytes(
            serialization.Encoding.DER
        )
        assert national.network is not None
        app = create_network_app(national, national.network, handler_table(national), openapi=True)
        schema = schemathesis.openapi.from_asgi("/openapi.json", _with_client_certificate(app, der))
        # The node-to-node endpoints (inbox, reconciliation) have their own tests; these are
        # the recipients' operations.
        operations = [
            operation
            for operation in (result.ok() for result in schema.get_all_operations())
            if operation.path.startswith(("/provision/", "/audit/"))
        ]
        paths = {operation.path for operation in operations}
        assert {
            "/provision/v1/residents/lookup",
            "/provision/v1/residents/search",
            "/provision/v1/batches",
        } <= paths

        for operation in operations:

            @given(case=operation.as_strategy())
            @settings(
                max_examples=25,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def check(case: Any) -> None:
                case.call_and_validate(checks=CHECKS)

            check()
    finally:
        national.engine.dispose()
