"""Fixtures for the web layer: an app per database, and signed-in clients."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from jukinet.domain.operators import Role
from jukinet.services.context import ServiceContext
from jukinet.web.app import create_app
from tests.support.factories import api_headers, make_actor


@pytest.fixture
def client(node: ServiceContext) -> Iterator[TestClient]:
    """A test client of the node's app."""
    with TestClient(create_app(node)) as test_client:
        yield test_client


@pytest.fixture
def clerk_headers(node: ServiceContext, client: TestClient) -> dict[str, str]:
    """Bearer headers of a clerk."""
    make_actor(node, Role.CLERK, username="clerk1")
    return api_headers(client, "clerk1")


@pytest.fixture
def supervisor_headers(node: ServiceContext, client: TestClient) -> dict[str, str]:
    """Bearer headers of a supervisor."""
    make_actor(node, Role.SUPERVISOR, username="super1")
    return api_headers(client, "super1")
