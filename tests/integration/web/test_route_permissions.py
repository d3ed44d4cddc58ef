"""Generated from the permission tables: every route, every role (as netbox does).

``web/route_rules.py`` names each route's permission and ``domain/operators.py`` which role
holds it. A route without a rule fails here; so does a route that lets a role through that its
rule refuses, or refuses a role its rule allows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from jukinet.domain.operators import ROLE_PERMISSIONS, Permission, Role
from jukinet.services.context import ServiceContext
from jukinet.web.app import create_app
from jukinet.web.route_rules import ROUTE_RULES, app_routes
from tests.support.cards import csrf_of
from tests.support.factories import api_headers, make_actor, sign_in_page

_PARAM = re.compile(r"\{[^}]+\}")
#: What a refused role gets: the same refusal on the API and on the pages.
REFUSED_JA = "この操作を行う権限がありません"


@pytest.fixture
def client(node: ServiceContext) -> Iterator[TestClient]:
    with TestClient(create_app(node)) as test_client:
        yield test_client


def _rules() -> list[tuple[str, str, Permission]]:
    return sorted(
        (method, path, rule)
        for (method, path), rule in ROUTE_RULES.items()
        if isinstance(rule, Permission)
    )


def test_every_route_has_exactly_one_rule(client: TestClient) -> None:
    served = {(method, path) for method, path, _ in app_routes(client.app)}
    assert served - set(ROUTE_RULES) == set(), "routes without a permission rule"
    assert set(ROUTE_RULES) - served == set(), "rules for routes that do not exist"


def test_signed_out_callers_reach_no_guarded_route(client: TestClient) -> None:
    for method, path, _ in _rules():
        answer = client.request(method, _PARAM.sub("x", path), follow_redirects=False)
        if path.startswith("/api/"):
            assert answer.status_code == 401, (method, path, answer.text)
        else:
            assert answer.status_code in (303, 403), (method, path, answer.status_code)
            if answer.status_code == 303:
                assert answer.headers["location"] == "/login", (method, path)


@pytest.mark.parametrize("role", list(Role), ids=lambda role: role.value)
def test_each_role_reaches_exactly_what_its_permissions_allow(
    node: ServiceContext, client: TestClient, role: Role
) -> None:
    username = f"r.{role.value.replace('_', '')}"[:32]
    make_actor(node, role, username=username)
    headers = api_headers(client, username)
    assert sign_in_page(client, username).status_code == 303
    token = csrf_of(client.get("/permits").text)
    held = ROLE_PERMISSIONS[role]
    wrong: list[str] = []
    for method, path, permission in _rules():
        url = _PARAM.sub("x", path)
        if path.startswith("/api/"):
            body = {} if method == "POST" else None
            answer = client.request(method, url, headers=headers, json=body)
        else:
            data = {"csrf_token": token} if method == "POST" else None
            answer = client.request(method, url, data=data, follow_redirects=False)
        assert answer.status_code < 500, (method, path, answer.text[:300])
        refused = answer.status_code == 403 and (
            "JUKI-AUTH-003" in answer.text or REFUSED_JA in answer.text
        )
        if refused == (permission in held):
            wrong.append(f"{method} {path}: {answer.status_code} ({permission.value})")
    assert wrong == []
