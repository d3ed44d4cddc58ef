"""The demo gives the pension and radio agencies a console officer at the centre, and each agency
a PKCS#12 file of its client certificate for a browser, protected by the officer's password."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.serialization import pkcs12

from jukinet.runtime.demo import build_demo
from jukinet.runtime.demo_provision import BROWSER_CERTIFICATE, CONSOLE_OFFICERS
from jukinet.services import agency_console


def test_the_demo_has_console_officers_and_browser_certificates(tmp_path: Path) -> None:
    demo = build_demo(tmp_path / "demo", residents=10, seed=1, say=lambda _m: None)
    centre = demo.cluster.handle("national:jlis")
    try:
        for login, principal, _name in CONSOLE_OFFICERS:
            password = demo.passwords[login]
            assert agency_console.sign_in(
                centre, recipient_id=principal, login=login, password=password
            )
            bundle = (demo.cluster.pki.node(principal).folder / BROWSER_CERTIFICATE).read_bytes()
            key, cert, _extra = pkcs12.load_key_and_certificates(bundle, password.encode())
            assert key is not None
            assert cert is not None
            assert principal in cert.subject.rfc4514_string()
    finally:
        centre.engine.dispose()
