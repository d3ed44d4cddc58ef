"""The demo gives the pension and radio agencies a console officer at the centre, and each agency
a PKCS#12 file of its client certificate for a browser, protected by the officer's password; after
the password, the officer's first sign-in enrols the browser's key as their card (demo only)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import pkcs12

from jukinet.runtime.demo import build_demo
from jukinet.runtime.demo_provision import BROWSER_CERTIFICATE, CONSOLE_OFFICERS
from jukinet.services import agency_console, agency_officer_cards
from tests.support.cards import SoftAuthenticator


def test_the_demo_has_console_officers_and_browser_certificates(tmp_path: Path) -> None:
    demo = build_demo(tmp_path / "demo", residents=10, seed=1, say=lambda _m: None)
    centre = demo.cluster.handle("national:jlis")
    try:
        for login, principal, _name in CONSOLE_OFFICERS:
            password = demo.passwords[login]
            secret = agency_console.sign_in(
                centre, recipient_id=principal, login=login, password=password
            )
            # Half open until the card answers; the demo enrols the browser's own key.
            with pytest.raises(agency_console.CardPending):
                agency_console.resolve(centre, secret, recipient_id=principal)
            key = SoftAuthenticator()
            origin = "https://localhost:8443"
            challenge_id, options = agency_officer_cards.demo_enrolment_options(
                centre, secret, recipient_id=principal
            )
            agency_officer_cards.finish_demo_enrolment(
                centre,
                secret,
                recipient_id=principal,
                challenge_id=challenge_id,
                credential=key.attestation(json.loads(options), origin),
                page_origin=origin,
            )
            officer = agency_console.resolve(centre, secret, recipient_id=principal)
            assert officer.login == login
            bundle = (demo.cluster.pki.node(principal).folder / BROWSER_CERTIFICATE).read_bytes()
            key, cert, _extra = pkcs12.load_key_and_certificates(bundle, password.encode())
            assert key is not None
            assert cert is not None
            assert principal in cert.subject.rfc4514_string()
    finally:
        centre.engine.dispose()
