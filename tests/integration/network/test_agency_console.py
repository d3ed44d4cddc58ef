"""The agency console on the centre's mutual-TLS port (both databases).

The organisation is the client certificate of the terminal; the officer signs in with an
account of that organisation, its password and then the officer's own card (a FIDO2 security
key in software, answering the WebAuthn challenge as a browser would post it); a missing, wrong
or lost card is refused. Only granted affairs are offered; a refused affair is explained
with its statute and recorded; another organisation's certificate cannot use the session;
malformed uploads are per-row errors or a clear 4xx that stores nothing.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy import func, select

from jukinet.domain.errors import Conflict
from jukinet.domain.operators import Actor, Role
from jukinet.services import agency_console, agency_officer_cards, batch, recipients
from jukinet.services.context import ServiceContext
from jukinet.storage.registry import RegistryCache
from jukinet.storage.tables import AccessLogRow, Base
from tests.conftest import TEST_NOW
from tests.integration.network.conftest import MUNICIPALITY, NATIONAL, PREFECTURE, Tiers
from tests.support.cards import SoftAuthenticator
from tests.support.factories import make_actor, move_in_household, person, with_pool
from tests.support.network import drain

PENSION_AGENCY, RADIO_AGENCY = "agency:soumu-onkyu", "agency:soumu-denpa"
PENSION, RADIO = "T1-16", "T1-26"
PASSWORD = "officer-password-long"  # a throw-away test account
#: Who lends the officers' cards (the service checks the role).
CARD_ADMINISTRATOR = Actor(operator_id=0, username="card.admin", role=Role.CARD_ADMINISTRATOR)
HTML = {"Accept": "text/html"}


def lend(node: ServiceContext, recipient_id: str, login: str, serial: str) -> SoftAuthenticator:
    """Lend the officer a new card (a software security key) at ``node``."""
    card = SoftAuthenticator(serial=serial)
    agency_officer_cards.lend_card(
        node,
        actor=CARD_ADMINISTRATOR,
        recipient_id=recipient_id,
        login=login,
        serial=serial,
        credential_id=card.credential_id,
        public_key_der=card.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
    )
    return card


def answer_card(
    client: httpx.Client, card: SoftAuthenticator, *, user_verified: bool = True
) -> httpx.Response:
    """What the browser does on /agency/card: the key signs the page's challenge."""
    page = client.get("/agency/card")
    assert page.status_code == 200, page.text
    found = re.search(
        r'<script type="application/json" id="card-options">(.*?)</script>', page.text
    )
    challenge = re.search(r'name="challenge_id" value="([^"]+)"', page.text)
    assert found, page.text
    assert challenge, page.text
    options = json.loads(html.unescape(found.group(1)))
    origin = str(client.base_url).rstrip("/")
    return client.post(
        "/agency/card",
        data={
            "challenge_id": challenge.group(1),
            "credential": card.assertion(options, origin, user_verified=user_verified),
        },
    )


@dataclass
class Console:
    tiers: Tiers
    resident: str
    cards: dict[str, SoftAuthenticator]

    @property
    def centre(self) -> ServiceContext:
        return self.tiers.national

    def client(self, principal: str, url: str | None = None) -> httpx.Client:
        creds = self.tiers.pki.node(principal)
        context = ssl.create_default_context(cafile=str(self.tiers.pki.ca_cert_path))
        context.load_cert_chain(str(creds.tls_cert), str(creds.tls_key))
        return httpx.Client(
            verify=context, timeout=60, base_url=url or self.tiers.urls[NATIONAL], headers=HTML
        )

    @contextmanager
    def signed_in(
        self, principal: str, login: str, *, url: str | None = None
    ) -> Iterator[httpx.Client]:
        with self.client(principal, url) as client:
            answer = client.post("/agency/login", data={"login": login, "password": PASSWORD})
            assert answer.status_code == 303, answer.text
            assert answer.headers["location"] == "/agency/card"
            carded = answer_card(client, self.cards[login])
            assert carded.status_code == 303, carded.text
            assert carded.headers["location"] == "/agency"
            yield client


@pytest.fixture
def console(tiers: Tiers) -> Iterator[Console]:
    municipality = tiers.municipality
    with_pool(municipality)
    clerk = make_actor(municipality, Role.SUPERVISOR, username="clerk")
    resident = move_in_household(municipality, clerk, person()).records[0].record.resident_code
    drain({MUNICIPALITY: municipality, PREFECTURE: tiers.prefecture, NATIONAL: tiers.national})
    recipients.seed(tiers.national)
    cache = RegistryCache()
    cards = {}
    for principal, login in ((PENSION_AGENCY, "pension.officer"), (RADIO_AGENCY, "radio.officer")):
        tiers.pki.issue_client(tiers.signer, principal, now=TEST_NOW)
        agency_console.add_officer(
            tiers.national,
            cache,
            recipient_id=principal,
            login=login,
            display_name="照会 担当",
            password=PASSWORD,
        )
        cards[login] = lend(tiers.national, principal, login, f"OC-{login[:3].upper()}-1")
    return Console(tiers, resident, cards)


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "no form token on the page"
    return found.group(1)


def _every_table(node: ServiceContext) -> dict[str, int]:
    with node.read_session() as session:
        return {
            table.name: int(session.scalar(select(func.count()).select_from(table)) or 0)
            for table in Base.metadata.sorted_tables
        }


def test_without_signing_in_the_console_sends_the_officer_to_sign_in(console: Console) -> None:
    with console.client(PENSION_AGENCY) as client:
        answer = client.get("/agency")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/agency/login"
        page = client.get("/agency/login")
        assert page.status_code == 200
        assert PENSION_AGENCY in page.text
        wrong = client.post(
            "/agency/login", data={"login": "pension.officer", "password": "x" * 14}
        )
        assert wrong.status_code == 401
        assert "JUKI-AGC-001" in wrong.text


def test_an_officer_of_another_organisation_cannot_sign_in_here(console: Console) -> None:
    # The radio officer's account belongs to the radio agency: with the pension agency's
    # certificate on the terminal it does not exist.
    with console.client(PENSION_AGENCY) as client:
        answer = client.post("/agency/login", data={"login": "radio.officer", "password": PASSWORD})
        assert answer.status_code == 401


def test_only_granted_affairs_are_offered(console: Console) -> None:
    with console.signed_in(RADIO_AGENCY, "radio.officer") as client:
        home = client.get("/agency")
        assert home.status_code == 200
        options = re.findall(r'<option value="(T[0-9-]+)"', home.text)
        assert options == [RADIO]
    with console.signed_in(PENSION_AGENCY, "pension.officer") as client:
        options = re.findall(r'<option value="(T[0-9-]+)"', client.get("/agency").text)
        assert PENSION in options
        assert RADIO not in options


def test_a_refused_affair_is_explained_with_its_statute_and_recorded(console: Console) -> None:
    with console.signed_in(RADIO_AGENCY, "radio.officer") as client:
        answer = client.get(f"/agency/affairs/{PENSION}")
    assert answer.status_code == 403
    assert "JUKI-AFF-001" in answer.text
    assert "別表第一の十六の項" in answer.text  # the Act's row of the pension affair
    assert "恩給法" in answer.text
    with console.centre.read_session() as session:
        refused = session.scalars(
            select(AccessLogRow).where(
                AccessLogRow.actor == RADIO_AGENCY, AccessLogRow.action == "refused"
            )
        ).all()
    assert [(r.affair_code, r.subject) for r in refused] == [(PENSION, None)]
    assert refused[0].officer == "照会 担当 (radio.officer)"


def test_another_organisations_certificate_ends_the_session(console: Console) -> None:
    with console.signed_in(PENSION_AGENCY, "pension.officer") as pension:
        cookie = pension.cookies.get("jukinet_agency")
        assert cookie
        with console.client(RADIO_AGENCY) as radio:
            radio.cookies.set("jukinet_agency", cookie)
            answer = radio.get("/agency")
            assert answer.status_code == 401
            assert "JUKI-AGC-003" in answer.text
        # The session is gone for its own organisation too.
        assert pension.get("/agency").status_code == 303


def test_lookup_shows_the_resident_and_logs_the_officer(console: Console) -> None:
    with console.signed_in(PENSION_AGENCY, "pension.officer") as client:
        page = client.get(f"/agency/affairs/{PENSION}")
        assert page.status_code == 200
        answer = client.post(
            f"/agency/affairs/{PENSION}/lookup",
            data={"codes": console.resident, "csrf_token": _csrf(page.text), "case_number": "C-1"},
        )
        assert answer.status_code == 200, answer.text
        assert console.resident in answer.text
        forged = client.post(f"/agency/affairs/{PENSION}/lookup", data={"codes": console.resident})
        assert forged.status_code == 403
    with console.centre.read_session() as session:
        reads = session.scalars(
            select(AccessLogRow).where(
                AccessLogRow.actor == PENSION_AGENCY, AccessLogRow.subject == console.resident
            )
        ).all()
    assert [(r.action, r.officer, r.case_number) for r in reads] == [
        ("read", "照会 担当 (pension.officer)", "C-1")
    ]


def _upload(client: httpx.Client, body: bytes, **fields: str) -> httpx.Response:
    page = client.get(f"/agency/affairs/{PENSION}")
    data = {"csrf_token": _csrf(page.text), "kind": "code", "format": "csv", **fields}
    return client.post(
        f"/agency/affairs/{PENSION}/batches",
        data=data,
        files={"file": ("rows.csv", body, "text/csv")},
    )


def test_a_batch_with_broken_lines_gives_per_row_errors(console: Console) -> None:
    body = (
        f'resident_code,ref\n{console.resident},ok-1\n12345,short\n"unclosed,quote\n\n'
    ).encode()
    with console.signed_in(PENSION_AGENCY, "pension.officer") as client:
        answer = _upload(client, body)
        assert answer.status_code == 303, answer.text
        job_id = answer.headers["location"].rsplit("/", 1)[1]
        while batch.run_pending(console.centre, RegistryCache()):
            pass
        progress = client.get(f"/agency/batches/{job_id}")
        assert 'data-status="done"' in progress.text
        errors = client.get(f"/agency/batches/{job_id}/errors.csv")
        assert errors.status_code == 200
        rows = list(csv.reader(io.StringIO(errors.content.decode("utf-8-sig"))))
        assert rows[0] == ["row", "ref", "code", "field", "message_ja", "message_en"]
        assert len(rows) >= 2
        assert all(r[2].startswith("JUKI-") for r in rows[1:])
        results = client.get(f"/agency/batches/{job_id}/results.csv")
        assert results.status_code == 200
        assert console.resident in results.text


def test_an_upload_not_in_utf8_is_a_clear_4xx_that_stores_nothing(console: Console) -> None:
    with console.signed_in(PENSION_AGENCY, "pension.officer") as client:
        before = _every_table(console.centre)
        answer = _upload(client, b"resident_code,ref\n" + "あ,い\n".encode("shift_jis"))
        assert answer.status_code == 422
        assert "JUKI-BAT-002" in answer.text
        no_file = _upload(client, b"")
        assert no_file.status_code == 422
        # Only the officer's session row moved (its last use), nothing else.
        assert _every_table(console.centre) == before


def test_an_upload_declared_over_the_limit_is_refused_before_it_is_read(console: Console) -> None:
    with console.signed_in(PENSION_AGENCY, "pension.officer") as client:
        cookie = client.cookies.get("jukinet_agency")
    before = _every_table(console.centre)
    creds = console.tiers.pki.node(PENSION_AGENCY)
    context = ssl.create_default_context(cafile=str(console.tiers.pki.ca_cert_path))
    context.load_cert_chain(str(creds.tls_cert), str(creds.tls_key))
    url = httpx.URL(console.tiers.urls[NATIONAL])
    head = (
        f"POST /agency/affairs/{PENSION}/batches HTTP/1.1\r\nHost: {url.host}\r\n"
        "Accept: text/html\r\nContent-Type: multipart/form-data; boundary=b\r\n"
        f"Cookie: jukinet_agency={cookie}\r\nContent-Length: {2**40}\r\n\r\n--b\r\n"
    )
    # Only the header and a few bytes are sent: the answer must come without the rest.
    with (
        socket.create_connection((url.host, url.port), timeout=30) as raw,
        context.wrap_socket(raw, server_hostname=url.host) as tls,
    ):
        tls.sendall(head.encode())
        answer = b""
        while b"JUKI-PRV-012" not in answer and (part := tls.recv(65536)):
            answer += part
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"JUKI-PRV-012" in answer
    assert _every_table(console.centre) == before


def test_history_and_monthly_statistics_show_only_the_organisations_own(console: Console) -> None:
    with console.signed_in(RADIO_AGENCY, "radio.officer") as radio:
        radio.get(f"/agency/affairs/{PENSION}")  # refused, recorded
    with console.signed_in(PENSION_AGENCY, "pension.officer") as client:
        page = client.get(f"/agency/affairs/{PENSION}")
        client.post(
            f"/agency/affairs/{PENSION}/lookup",
            data={"codes": console.resident, "csrf_token": _csrf(page.text)},
        )
        history = client.get("/agency/history")
    assert history.status_code == 200
    assert "pension.officer" in history.text
    assert "radio.officer" not in history.text
    assert console.resident not in history.text  # residents' codes are not listed


def test_a_prefecture_offers_only_its_own_tables(console: Console) -> None:
    prefecture = console.tiers.prefecture
    recipients.seed(prefecture)
    console.tiers.pki.issue_client(console.tiers.signer, "pref:13", now=TEST_NOW)
    for principal, login in ((PENSION_AGENCY, "pension.officer"), ("pref:13", "ryoken.officer")):
        agency_console.add_officer(
            prefecture,
            RegistryCache(),
            recipient_id=principal,
            login=login,
            display_name="照会 担当",
            password=PASSWORD,
        )
        console.cards[login] = lend(prefecture, principal, login, f"OC-P-{login[:3].upper()}")
    url = console.tiers.urls[PREFECTURE]
    with console.signed_in(PENSION_AGENCY, "pension.officer", url=url) as client:
        # Table 1 is the centre's: the pension affair is not offered here.
        assert 'data-testid="no-affairs"' in client.get("/agency").text
        refused = client.get(f"/agency/affairs/{PENSION}")
        assert refused.status_code == 403
        assert "JUKI-PRV-001" in refused.text
    with console.signed_in("pref:13", "ryoken.officer", url=url) as client:
        options = re.findall(r'<option value="(T[0-9-]+)"', client.get("/agency").text)
        assert options
        assert all(code.startswith("T5-") for code in options)


def test_four_items_search_lists_candidates_with_how_they_matched(console: Console) -> None:
    with console.signed_in(PENSION_AGENCY, "pension.officer") as client:
        page = client.get(f"/agency/affairs/{PENSION}")
        answer = client.post(
            f"/agency/affairs/{PENSION}/search",
            data={
                "csrf_token": _csrf(page.text),
                "name_kana": "ヤマダタロウ",
                "birth_date": "1980-04-01",
            },
        )
        assert answer.status_code == 200, answer.text
        assert answer.text.count('data-testid="candidate"') == 1
        assert console.resident in answer.text
        assert 'data-testid="match"' in answer.text
        bad = client.post(
            f"/agency/affairs/{PENSION}/search",
            data={"csrf_token": _csrf(page.text), "name_kana": "ヤマダ", "birth_date": "80/4/1"},
        )
        assert bad.status_code == 422
        assert "JUKI-AGC-012" in bad.text


def test_the_console_in_english(console: Console) -> None:
    with console.signed_in(PENSION_AGENCY, "pension.officer") as client:
        switched = client.get("/agency/lang/en")
        assert switched.status_code == 303
        html = client.get("/agency").text
    assert '<html lang="en">' in html
    assert "Choose the affair" in html


def test_a_node_certificate_is_not_an_organisation(console: Console) -> None:
    with console.client(MUNICIPALITY) as client:
        assert client.get("/agency/login").status_code == 403
        answer = client.post("/agency/login", data={"login": "x", "password": PASSWORD})
        assert answer.status_code == 403
        assert "JUKI-PRV-010" in answer.text


def test_wrong_passwords_lock_the_officer_until_unlocked(console: Console) -> None:
    limit = console.centre.settings.signin_lockout_after
    with console.client(PENSION_AGENCY) as client:
        for _ in range(limit):
            wrong = client.post(
                "/agency/login", data={"login": "pension.officer", "password": "w" * 20}
            )
            assert wrong.status_code == 401
        right = client.post(
            "/agency/login", data={"login": "pension.officer", "password": PASSWORD}
        )
        assert right.status_code == 401  # locked: the right password no longer opens it
        assert agency_console.unlock_officer(
            console.centre, recipient_id=PENSION_AGENCY, login="pension.officer"
        )
        again = client.post(
            "/agency/login", data={"login": "pension.officer", "password": PASSWORD}
        )
        assert again.status_code == 303


def test_the_password_alone_does_not_open_the_console(console: Console) -> None:
    with console.client(PENSION_AGENCY) as client:
        answer = client.post(
            "/agency/login", data={"login": "pension.officer", "password": PASSWORD}
        )
        assert answer.headers["location"] == "/agency/card"
        # Half open: every page still sends the officer to sign in.
        assert client.get("/agency").headers["location"] == "/agency/login"
        assert client.get("/agency/history").headers["location"] == "/agency/login"
        page = client.get("/agency/card")
        assert "職員カード" in page.text


def test_a_wrong_or_unverified_card_is_refused_and_stores_nothing(console: Console) -> None:
    stranger = SoftAuthenticator(serial="OC-NOBODY")
    for card, verified in ((stranger, True), (console.cards["pension.officer"], False)):
        with console.client(PENSION_AGENCY) as client:
            client.post("/agency/login", data={"login": "pension.officer", "password": PASSWORD})
            before = _every_table(console.centre)
            refused = answer_card(client, card, user_verified=verified)
            assert refused.status_code == 401
            assert "JUKI-AGC-021" in refused.text
            assert "職員カードを確認できませんでした" in refused.text
            after = _every_table(console.centre)
            # The half-open session ends; besides the card page's one-time challenge (now
            # used), nothing else changes.
            assert after["agency_sessions"] == before["agency_sessions"] - 1
            assert after["signin_challenges"] == before["signin_challenges"] + 1
            kept = {"agency_sessions", "signin_challenges"}
            assert {k: v for k, v in after.items() if k not in kept} == {
                k: v for k, v in before.items() if k not in kept
            }
            assert client.get("/agency").headers["location"] == "/agency/login"
    # The officer's own card still opens it afterwards.
    with console.signed_in(PENSION_AGENCY, "pension.officer") as client:
        assert client.get("/agency").status_code == 200


def test_an_officer_without_a_card_is_told_to_ask_for_one(console: Console) -> None:
    agency_console.add_officer(
        console.centre,
        RegistryCache(),
        recipient_id=PENSION_AGENCY,
        login="new.officer",
        display_name="新任 担当",
        password=PASSWORD,
    )
    with console.client(PENSION_AGENCY) as client:
        client.post("/agency/login", data={"login": "new.officer", "password": PASSWORD})
        page = client.get("/agency/card")
        assert page.status_code == 401
        assert "JUKI-AGC-022" in page.text
        english = client.get("/agency/card", headers={"Accept-Language": "en"})
        assert english.status_code in (401, 303)


def test_a_lost_card_is_revoked_and_ends_the_officers_session(console: Console) -> None:
    card = console.cards["pension.officer"]
    with console.signed_in(PENSION_AGENCY, "pension.officer") as client:
        assert client.get("/agency").status_code == 200
        agency_officer_cards.report_lost(
            console.centre, actor=CARD_ADMINISTRATOR, serial=card.serial, note="電車内"
        )
        assert client.get("/agency").headers["location"] == "/agency/login"
        client.post("/agency/login", data={"login": "pension.officer", "password": PASSWORD})
        refused = client.get("/agency/card")
        assert refused.status_code == 401  # no card lent any more
        assert "JUKI-AGC-022" in refused.text
    # A replacement card opens it again; the lost one cannot be reported twice.
    console.cards["pension.officer"] = lend(
        console.centre, PENSION_AGENCY, "pension.officer", "OC-PEN-2"
    )
    with console.signed_in(PENSION_AGENCY, "pension.officer") as client:
        assert client.get("/agency").status_code == 200
    with pytest.raises(Conflict):
        agency_officer_cards.report_lost(
            console.centre, actor=CARD_ADMINISTRATOR, serial=card.serial
        )
