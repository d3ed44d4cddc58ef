"""Schemathesis over every HTTP API of a node, with the error format checked on every 4xx.

Three applications, each in-process over ASGI against a real migrated database on both
backends, each called the way its real clients call it:

* the operator API (``jukinet.web.app``): bearer tokens from ``POST /api/v1/auth/token`` for a
  supervisor and a security officer, and no token at all; then a stateful run in which
  schemathesis chains operations through the links its dependency analysis infers
  (a move-in's resident code fed to the lookups, the history, the ex-officio acts ...);
* the agencies' provision API (``web/provision_api.py``): a recipient's client certificate in the
  request's TLS scope, exactly as the mutual-TLS server puts it there, a node's certificate
  (not a recipient) and none;
* the node-to-node endpoints of ``web/network_app.py`` (inbox, reconciliation), whose schema
  does not describe their bodies: hypothesis sends them arbitrary JSON and envelope-shaped
  objects from a real neighbour's certificate.

Assertions: no 5xx from any input; every 4xx of the operator and provision APIs is the
project's error body (``web/errors.py::ErrorBody``: a non-empty list of ``JUKI-…`` codes with
Japanese and English messages); the node-to-node refusals are their documented
``{"error": "..."}`` and apply nothing. The figures (requests sent, answers by status) are
printed for docs/reliability/faults.md (``pytest -s`` shows them).
"""

from __future__ import annotations

import random
import re
from base64 import b64encode
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import FlakyStrategyDefinition
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from sqlalchemy import func, select

from jukinet.domain.codes import random_resident_codes
from jukinet.domain.operators import Role
from jukinet.domain.register import Relationship
from jukinet.network.pki import NetworkPki
from jukinet.network.transport import TLS_EXTENSION
from jukinet.runtime.bootstrap import handler_table
from jukinet.services import recipients
from jukinet.services.context import ServiceContext
from jukinet.storage.tables import IdentityHistoryRow, InboxRow, NetworkRejectionRow
from jukinet.web.app import create_app
from jukinet.web.errors import ErrorBody
from jukinet.web.network_app import create_network_app
from tests.conftest import TEST_NOW
from tests.support.clock import FixedClock
from tests.support.factories import (
    api_headers,
    held_resident,
    make_actor,
    move_in_household,
    person,
    with_pool,
)
from tests.support.network import make_node, make_pki

Scope = MutableMapping[str, Any]
App = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Any]
FUZZ = settings(
    max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
JUKI_CODE = re.compile(r"JUKI-[A-Z]+-\d{3}")


class Tally:
    """Answers seen, by status class, and the 4xx bodies that broke the format."""

    def __init__(self) -> None:
        self.statuses: Counter[int] = Counter()

    @property
    def requests(self) -> int:
        """Requests sent so far."""
        return sum(self.statuses.values())

    @property
    def server_errors(self) -> int:
        """Answers of 500 or more."""
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def juki_format(self) -> Callable[..., None]:
        """A schemathesis check: counts the answer; a 4xx must be the project's error body."""

        def juki_error_format(_ctx: Any, response: Any, _case: Any) -> None:
            self.statuses[response.status_code] += 1
            if 400 <= response.status_code < 500:
                assert_juki_error(response.json())

        return juki_error_format


def assert_juki_error(body: Any) -> None:
    """``body`` is an ErrorBody with at least one stable JUKI code and both languages."""
    parsed = ErrorBody.model_validate(body)
    assert parsed.errors, "an error answer names at least one error"
    for error in parsed.errors:
        assert JUKI_CODE.fullmatch(error.code), error.code
        assert error.message_ja
        assert error.message_en


def _run_operations(app: App, tally: Tally, headers_by_label: dict[str, dict[str, str]]) -> int:
    """Every operation of ``app``'s schema with each set of headers; returns operations run."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    checks = [not_a_server_error, tally.juki_format()]
    for operation in operations:
        for headers in headers_by_label.values():
            _fuzz(operation, checks, headers)
    return len(operations)


def _fuzz(operation: Any, checks: list[Any], headers: dict[str, str] | None = None) -> None:
    """Generated requests (valid and invalid) for one operation, each answer checked."""

    @given(case=operation.as_strategy())
    @FUZZ
    def check(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=checks)

    check()


def _report(label: str, tally: Tally, operations: int) -> None:
    statuses = ", ".join(f"{s}: {n}" for s, n in sorted(tally.statuses.items()))
    print(f"\n{label}: {operations} operations, {tally.requests} requests ({statuses})")


# --- The operator API -------------------------------------------------------------------------


def _token(app: FastAPI, username: str) -> dict[str, str]:
    # The password and the operator's card (a token card lent on first use).
    with TestClient(app) as client:
        return api_headers(client, username)


@pytest.fixture
def operator_app(node: ServiceContext) -> FastAPI:
    """The counter's app with a supervisor, a security officer, a resident and a code pool."""
    make_actor(node, Role.SUPERVISOR, username="fuzzsupervisor")
    make_actor(node, Role.SECURITY_OFFICER, username="fuzzsecurity")
    clerk = make_actor(node, username="fuzzclerk")
    with_pool(node, 300)
    for seed in range(5):
        move_in_household(
            node,
            clerk,
            person(rng=random.Random(seed)),
            person(
                given="花子",
                given_kana="ハナコ",
                relationship=Relationship.WIFE,
                rng=random.Random(100 + seed),
            ),
        )
    return create_app(node)


def test_operator_api_fuzzed_never_5xx_and_every_4xx_in_juki_format(
    operator_app: FastAPI,
) -> None:
    headers = {
        "supervisor": _token(operator_app, "fuzzsupervisor"),
        "security officer": _token(operator_app, "fuzzsecurity"),
        "anonymous": {},
    }
    tally = Tally()
    operations = _run_operations(operator_app, tally, headers)
    _report("operator API", tally, operations)
    assert operations >= 20
    assert tally.server_errors == 0
    # Each identity reached the code behind the door, not only the 401/403 in front of it.
    assert tally.statuses[200] + tally.statuses[201] > 0
    assert tally.statuses[401] > 0
    assert tally.statuses[422] > 0


def test_operator_api_stateful_chains_never_5xx(operator_app: FastAPI) -> None:
    token = _token(operator_app, "fuzzsupervisor")
    tally = Tally()
    checks = [not_a_server_error, tally.juki_format()]
    # Valid requests only: a chain is worth following when its first step can succeed.
    config = SchemathesisConfig.from_dict({"generation": {"mode": "positive"}})
    schema = schemathesis.openapi.from_asgi("/openapi.json", operator_app, config=config)
    base = schema.as_state_machine()
    # The schema declares no links; dependency analysis infers them from shared field names.
    transitions = schema.statistic.transitions.total
    assert transitions > 0

    # schemathesis makes the state machine class at run time, which no type checker can follow.
    class Chains(base):  # type: ignore[valid-type, misc]
        def before_call(self, case: Any) -> None:
            case.headers = {**(case.headers or {}), **token}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            case.validate_response(response, checks=checks)

    # Each scenario changes the register, so a replayed scenario may draw differently; like
    # schemathesis' own runner, start a fresh session when hypothesis notices (bounded).
    for _attempt in range(3):
        try:
            Chains.run(
                settings=settings(
                    max_examples=40,
                    stateful_step_count=6,
                    deadline=None,
                    database=None,
                    phases=[Phase.generate],
                    suppress_health_check=list(HealthCheck),
                )
            )
            break
        except FlakyStrategyDefinition:
            continue
    _report(f"operator API, stateful ({transitions} inferred links)", tally, transitions)
    assert tally.requests > 100
    assert tally.server_errors == 0


# --- The provision API and the node-to-node endpoints -----------------------------------------


def _with_client_certificate(app: Any, der: bytes | None) -> App:
    """``app`` as the mutual-TLS server presents it: the peer certificate in the TLS scope."""

    async def wrapped(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope = {**scope, "extensions": {TLS_EXTENSION: {"client_cert_der": der}}}
        await app(scope, receive, send)

    return wrapped


def _der(path: Path) -> bytes:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    return cert.public_bytes(serialization.Encoding.DER)


@pytest.fixture
def centre(
    tmp_path: Path, new_database: Callable[[str], str], clock: FixedClock
) -> Iterator[tuple[ServiceContext, NetworkPki, FastAPI, bytes]]:
    """The national centre with a resident and the seed recipients, its network app (schema
    on), and an agency's client certificate."""
    pki, signer = make_pki(tmp_path / "pki", ["national:jlis", "prefecture:13"], TEST_NOW)
    national = make_node(
        "national:jlis", database_url=new_database("fuzz"), pki=pki, peers={}, clock=clock
    )
    try:
        held_resident(national, random_resident_codes(random.Random(4), 1)[0])
        recipients.seed(national)
        agency = pki.issue_client(signer, "agency:soumu-onkyu", now=TEST_NOW)
        assert national.network is not None
        app = create_network_app(national, national.network, handler_table(national), openapi=True)
        yield national, pki, app, _der(agency.tls_cert)
    finally:
        national.engine.dispose()


def test_provision_api_fuzzed_never_5xx_and_every_4xx_in_juki_format(
    centre: tuple[ServiceContext, NetworkPki, FastAPI, bytes],
) -> None:
    _national, pki, app, agency_der = centre
    node_der = _der(pki.node("prefecture:13").tls_cert)
    tally = Tally()
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    provision_paths = {
        op.path
        for op in (r.ok() for r in schema.get_all_operations())
        if op.path.startswith(("/provision/", "/audit/"))
    }
    checks = [not_a_server_error, tally.juki_format()]
    for der in (agency_der, node_der, None):
        wrapped = schemathesis.openapi.from_asgi(
            "/openapi.json", _with_client_certificate(app, der)
        )
        for operation in (r.ok() for r in wrapped.get_all_operations()):
            if operation.path in provision_paths:
                _fuzz(operation, checks)
    _report("provision API (agency, node and no certificate)", tally, len(provision_paths))
    assert len(provision_paths) >= 5
    assert tally.server_errors == 0
    assert tally.statuses[401] > 0  # no certificate
    assert tally.statuses[403] > 0  # a node's certificate is not a recipient's


#: Arbitrary JSON, and objects shaped like the inbox's and reconciliation's requests.
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
_ENVELOPE = st.fixed_dictionaries(
    {
        "id": st.text(max_size=40),
        # Mostly the TLS peer writing to this node, so the fuzz reaches the signature check.
        "sender": st.sampled_from(["prefecture:13"] * 4 + ["prefecture:14", "national:jlis", "x"]),
        "recipient": st.sampled_from(["national:jlis"] * 4 + ["prefecture:13", ""]),
        "kind": st.sampled_from(["identity_notice", "routed", "nonsense"]),
        "sequence": st.integers(min_value=-3, max_value=2**70),
        "created_at": st.text(max_size=30),
        "body": st.dictionaries(st.text(max_size=10), _JSON, max_size=4),
        "signature": st.text(max_size=90)
        | st.binary(min_size=64, max_size=64).map(lambda raw: b64encode(raw).decode()),
    }
)
_REQUEST = st.one_of(
    _JSON,
    st.fixed_dictionaries({"envelopes": st.lists(_ENVELOPE, min_size=1, max_size=3)}),
    st.fixed_dictionaries({"envelopes": st.lists(_ENVELOPE | _JSON, max_size=3)}),
    st.fixed_dictionaries({"municipality_code": st.text(max_size=8) | _JSON, "buckets": _JSON}),
    # A tree-head publication to the witness endpoint (issue 12, item 7).
    st.fixed_dictionaries(
        {
            "witness": st.sampled_from(["national:jlis", "prefecture:13", "x"]),
            "head": _JSON,
            "from_size": st.integers(min_value=-1, max_value=2**70) | _JSON,
            "proof": st.lists(st.text(max_size=64), max_size=3) | _JSON,
        }
    ),
    # The resident portal's question to a tier (issue 15 item 1).
    st.fixed_dictionaries(
        {
            "resident_code": st.sampled_from(["12345678903", "1", ""]) | _JSON,
            "municipality_code": st.sampled_from(["132292", "141003", "13229"]) | _JSON,
            "nonce": st.text(max_size=70) | _JSON,
        }
    ),
)
_NODE_PATHS = [
    "/network/v1/inbox",
    "/network/v1/reconcile/buckets",
    "/network/v1/reconcile/records",
    "/network/v1/cards/status",
    "/network/v1/witness",
    "/network/v1/codes/block",
    "/network/v1/jpki/issue",
    "/network/v1/relay",
    "/network/v1/portal/resident",
]


def test_node_endpoints_refuse_arbitrary_json_without_5xx_or_effect(
    centre: tuple[ServiceContext, NetworkPki, FastAPI, bytes],
) -> None:
    national, pki, app, _agency_der = centre
    neighbour = _der(pki.node("prefecture:13").tls_cert)
    client = TestClient(_with_client_certificate(app, neighbour))
    paths = [
        r.ok().path
        for r in schemathesis.openapi.from_asgi("/openapi.json", app).get_all_operations()
    ]
    node_paths = [p for p in paths if p.startswith("/network/v1/") and p != "/network/v1/health"]
    assert sorted(node_paths) == sorted(_NODE_PATHS)
    statuses: Counter[int] = Counter()

    @given(path=st.sampled_from(_NODE_PATHS), payload=_REQUEST)
    @settings(
        max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def post(path: str, payload: Any) -> None:
        answer = client.post(path, json=payload)
        statuses[answer.status_code] += 1
        assert answer.status_code < 500, answer.text
        if answer.status_code >= 400:
            body = answer.json()
            # The reason, and for a witness's 409 the size it holds: nothing else.
            assert set(body) <= {"error", "held_size"}
            assert isinstance(body["error"], str)
            assert body["error"]

    post()
    for raw in (b"{", b"\xff\xfe", b"[]" * 10):
        answer = client.post("/network/v1/inbox", content=raw)
        statuses[answer.status_code] += 1
        assert answer.status_code == 400
    print(f"\nnode-to-node endpoints: {sum(statuses.values())} requests ({dict(statuses)})")
    assert statuses[200] <= statuses.total()  # reconciliation may answer a well-formed ask
    with national.session_factory() as session:
        applied = session.scalar(select(func.count()).select_from(InboxRow))
        history = session.scalar(select(func.count()).select_from(IdentityHistoryRow))
        refusals = session.scalar(select(func.count()).select_from(NetworkRejectionRow))
    # Nothing a fuzzer can send without the neighbour's signing key is applied ...
    assert applied == 0
    assert history == 1  # the seeded resident only
    # ... and refused envelopes are kept on record.
    assert (refusals or 0) > 0
