"""A small real network: municipality 132292 → prefecture 13 → national centre, with mTLS."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from jukinet.network.pki import FileCaSigner, NetworkPki
from jukinet.services.context import ServiceContext
from tests.conftest import TEST_NOW
from tests.support.clock import FixedClock
from tests.support.network import free_port, make_node, make_pki, serving, wire

MUNICIPALITY = "municipality:132292"
PREFECTURE = "prefecture:13"
NATIONAL = "national:jlis"
STRANGER = "municipality:141003"


@dataclass
class Tiers:
    """Three nodes, their URLs and the PKI that made them."""

    municipality: ServiceContext
    prefecture: ServiceContext
    national: ServiceContext
    urls: dict[str, str]
    pki: NetworkPki
    signer: FileCaSigner


#: Where the operators' pages are served in tests (FastAPI's TestClient).
OPERATOR_PAGES = "http://testserver"


@pytest.fixture
def tiers(tmp_path: Path, new_database: Callable[[str], str], clock: FixedClock) -> Iterator[Tiers]:
    """Prefecture and centre serving on loopback; the municipality only sends."""
    pki, signer = make_pki(
        tmp_path / "pki", [MUNICIPALITY, PREFECTURE, NATIONAL, STRANGER, "prefecture:14"], TEST_NOW
    )
    urls = {
        PREFECTURE: f"https://127.0.0.1:{free_port()}",
        NATIONAL: f"https://127.0.0.1:{free_port()}",
    }
    municipality = make_node(
        MUNICIPALITY,
        database_url=new_database("m132292"),
        pki=pki,
        peers={PREFECTURE: urls[PREFECTURE]},
        clock=clock,
    )
    prefecture = make_node(
        PREFECTURE,
        database_url=new_database("p13"),
        pki=pki,
        peers={NATIONAL: urls[NATIONAL]},
        clock=clock,
        # The agency console's officer cards on the network port, and the operators' pages.
        webauthn_origins=[urls[PREFECTURE], OPERATOR_PAGES],
    )
    national = make_node(
        NATIONAL,
        database_url=new_database("national"),
        pki=pki,
        peers={},
        clock=clock,
        webauthn_origins=[urls[NATIONAL], OPERATOR_PAGES],
    )
    with (
        serving(prefecture, int(urls[PREFECTURE].rsplit(":", 1)[1])),
        serving(national, int(urls[NATIONAL].rsplit(":", 1)[1])),
    ):
        yield Tiers(municipality, prefecture, national, urls, pki, signer)
    for node in (municipality, prefecture, national):
        node.engine.dispose()


@pytest.fixture
def network(
    tmp_path: Path, new_database: Callable[[str], str], clock: FixedClock
) -> Iterator[Callable[..., dict[str, ServiceContext]]]:
    """Build and serve a network of the named nodes, all with mutual TLS on loopback."""
    stack = contextlib.ExitStack()
    built: list[ServiceContext] = []

    def build(*names: str, **settings: object) -> dict[str, ServiceContext]:
        pki, _signer = make_pki(tmp_path / "net-pki", list(names), TEST_NOW)
        ports = {n: free_port() for n in names}
        peers = wire(list(names), ports)
        nodes = {
            n: make_node(
                n,
                database_url=new_database(n.replace(":", "_")),
                pki=pki,
                peers=peers[n],
                clock=clock,
                **settings.get(n, {}),
            )  # type: ignore[arg-type]
            for n in names
        }
        built.extend(nodes.values())
        for name, node in nodes.items():
            stack.enter_context(serving(node, ports[name]))
        return nodes

    with stack:
        yield build
    for node in built:
        node.engine.dispose()
