"""Every role lands on a page it may open, and the header links only pages that open (issue 17,
item 7): checked against the route rules for each role at each kind of node."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from jukinet.domain.errors import PermissionDenied
from jukinet.domain.operators import Actor, Role
from jukinet.web.route_rules import ROUTE_RULES, Access
from jukinet.web.ui.navigation import MUNICIPAL_PAGES, landing_page, may_open

NODE_ROLES = ("municipality", "prefecture", "national")
BASE = Path(__file__).resolve().parents[3] / "src/jukinet/web/templates/base.html"


def _actor(role: Role) -> Actor:
    return Actor(operator_id=1, username="someone", role=role)


def _opens(actor: Actor, path: str) -> bool:
    rule = ROUTE_RULES[("GET", path)]
    if isinstance(rule, Access):
        return True
    try:
        actor.require(rule)
    except PermissionDenied:
        return False
    return True


@pytest.mark.parametrize("node_role", NODE_ROLES)
@pytest.mark.parametrize("role", list(Role))
def test_every_role_lands_on_a_page_its_rule_lets_it_open(role: Role, node_role: str) -> None:
    actor = _actor(role)
    landing = landing_page(actor, node_role)
    assert _opens(actor, landing), (role, node_role, landing)
    assert node_role == "municipality" or landing not in MUNICIPAL_PAGES


def test_a_clerk_at_the_centre_or_a_prefecture_lands_on_disclosure() -> None:
    for node_role in ("prefecture", "national"):
        assert landing_page(_actor(Role.CLERK), node_role) == "/disclosure"
    assert landing_page(_actor(Role.CLERK), "municipality") == "/"


@pytest.mark.parametrize("role", list(Role))
def test_each_header_link_opens_for_the_operator_it_is_shown_to(role: Role) -> None:
    actor = _actor(role)
    links = re.findall(r'may\("([^"]+)"\)', BASE.read_text(encoding="utf-8"))
    assert "/network" in links
    assert "/security/alerts" in links
    for node_role in NODE_ROLES:
        for path in links:
            if may_open(actor, node_role, path):
                assert _opens(actor, path), (role, node_role, path)
    # Searching needs READ_RESIDENTS even though "/" itself is open to anyone signed in.
    assert may_open(_actor(Role.SECURITY_OFFICER), "municipality", "/") is False
