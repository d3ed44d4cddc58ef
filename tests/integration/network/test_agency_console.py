"""The agency console on the centre's mutual-TLS port (both databases).

The organisation is the client certificate of the terminal; the officer signs in with an
account of that organisation. Only granted affairs are offered; a refused affair is explained
with its statute and recorded; another organisation's certificate cannot use the session;
malformed uploads are per-row errors or a clear 4xx that stores nothing.
"""

from __future__ import annotations

import csv
import io
import re
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import func, select

from jukinet.domain.operators import Role
from jukinet.services import agency_console, batch, recipients
from jukinet.services.context import ServiceContext
from jukinet.storage.registry import RegistryCache
from jukinet.storage.tables import AccessLogRow, Base
from tests.conftest import TEST_NOW
from tests.integration.network.conftest import MUNICIPALITY, NATIONAL, PREFECTURE, Tiers
from tests.support.factories import make_actor, move_in_household, person, with_pool
from tests.support.network import drain

PENSION_AGENCY, RADIO_AGENCY = "agency:soumu-onkyu", "agency:soumu-denpa"
PENSION, RADIO = "T1-16", "T1-26"
PASSWORD = "officer-password-long"  # a throw-away test account
HTML = {"Accept": "text/html"}


@dataclass
class Console:
    tiers: Tiers
    resident: str

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
    return Console(tiers, resident)


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
