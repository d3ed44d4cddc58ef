"""広域交付 through the counter page and the JSON API of a Yokohama node, asking Nishitokyo over
the real relay (both databases). Every refusal answers 4xx with its code and prints nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from jukinet.domain.operators import Role
from jukinet.services.context import ServiceContext
from jukinet.storage.certificate_tables import IssuedCertificateRow
from jukinet.web.app import create_app
from tests.integration.network.test_wide_area import ADDRESS, _household
from tests.support.cards import csrf_of
from tests.support.factories import api_headers, make_actor, sign_in_page

FONT = Path("/usr/share/fonts/truetype/ipamj/ipamjm.ttf")
pytestmark = pytest.mark.skipif(not FONT.exists(), reason="IPAmj Mincho is not installed")

NODES = ("municipality:132292", "prefecture:13", "national:jlis", "prefecture:14")
YOKOHAMA = "municipality:141003"
PHOTO = {
    "identification": "photo_id",
    "home_municipality_code": "132292",
    "id_document": "drivers_licence",
    "name": "髙橋 太郎",
    "birth_date": "1980-04-01",
    "address": ADDRESS,
}


def _issued(node: ServiceContext) -> int:
    with node.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(IssuedCertificateRow)) or 0)


def test_counter_page_and_api(network: Callable[..., dict[str, ServiceContext]]) -> None:
    nodes = network(*NODES, YOKOHAMA)
    _household(nodes["municipality:132292"])
    yokohama = nodes[YOKOHAMA]
    make_actor(yokohama, Role.CLERK, username="clerk1")
    with TestClient(create_app(yokohama)) as client:
        assert sign_in_page(client, "clerk1").status_code == 303
        page = client.get("/certificates/wide-area")
        assert page.status_code == 200
        assert "広域交付" in page.text
        token = csrf_of(page.text)

        # A photo ID without its name: refused next to the field, nothing asked or printed.
        empty = client.post(
            "/certificates/wide-area", data={"csrf_token": token, **PHOTO, "name": ""}
        )
        assert empty.status_code == 422
        assert "JUKI-WIDE-004" in empty.text or "氏名" in empty.text
        mismatch = client.post(
            "/certificates/wide-area",
            data={"csrf_token": token, **PHOTO, "birth_date": "1981-04-01"},
        )
        assert mismatch.status_code == 409
        assert "一致しません" in mismatch.text
        assert _issued(yokohama) == 0

        issued = client.post(
            "/certificates/wide-area",
            data={"csrf_token": token, **PHOTO, "household": "1", "with_relationship": "1"},
        )
        assert issued.status_code == 200, issued.text[:2000]
        assert issued.headers["content-type"] == "application/pdf"
        assert _issued(yokohama) == 1
        # The public check at Yokohama: genuine, and honest that only the home town knows
        # whether the record changed since.
        form = client.get("/certificates/verify")
        checked = client.post(
            "/certificates/verify",
            data={"csrf_token": csrf_of(form.text)},
            files={"file": ("copy.pdf", issued.content, "application/pdf")},
        )
        assert checked.status_code == 200
        assert 'data-genuine="yes"' in checked.text
        assert 'data-current="unknown"' in checked.text
        assert "住所地の市区町村" in checked.text

        headers = api_headers(client, "clerk1")
        api = client.post("/api/v1/certificates/wide-area", json=PHOTO, headers=headers)
        assert api.status_code == 200, api.text
        assert api.headers["x-certificate-serial"].startswith("141003-")
        assert api.content.startswith(b"%PDF")
        domicile = client.post(
            "/api/v1/certificates/wide-area",
            json=PHOTO | {"items": {"domicile": True}},
            headers=headers,
        )
        assert domicile.status_code == 422
        assert "JUKI-WIDE-002" in domicile.text
        osaka = client.post(
            "/api/v1/certificates/wide-area",
            json=PHOTO | {"home_municipality_code": "271004"},
            headers=headers,
        )
        assert osaka.status_code == 409
        assert "JUKI-RELAY-002" in osaka.text
        assert _issued(yokohama) == 2
