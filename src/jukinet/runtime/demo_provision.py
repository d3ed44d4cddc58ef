"""The demo's agencies: recipients registered at the centre and the prefectures, their client
certificates, and a few queries — allowed, refused, by four items and a batch — so that the
access log, the disclosure and the transparency page have something to show."""

from __future__ import annotations

import datetime as dt
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import pkcs12

from jukinet.data.affairs import SEED_RECIPIENTS
from jukinet.network.pki import FileCaSigner
from jukinet.runtime.cluster import Cluster
from jukinet.services import agency_console, recipients
from jukinet.storage.registry import RegistryCache

Say = Callable[[str], None]

#: The nodes that answer agencies: the centre (all tables) and the prefectures (tables 2–5).
ANSWERING_NODES = ("national:jlis", "prefecture:13", "prefecture:14")
PENSION_AGENCY = "agency:soumu-onkyu"
PENSION_AFFAIR = "T1-16"
RADIO_AFFAIR = "T1-26"


def register_recipients(cluster: Cluster, *, now: dt.datetime | None = None) -> list[str]:
    """Register the seed recipients with their affairs at every answering node and issue each
    recipient a client certificate; returns the recipients' ids."""
    for name in ANSWERING_NODES:
        if name not in cluster.nodes:
            continue
        node = cluster.handle(name)
        try:
            recipients.seed(node)
        finally:
            node.engine.dispose()
    signer = FileCaSigner.load(cluster.folder / "pki" / "ca.key")
    issued = []
    for seed in SEED_RECIPIENTS:
        cluster.pki.issue_client(signer, seed.recipient.id, now=now or dt.datetime.now(dt.UTC))
        issued.append(seed.recipient.id)
    return issued


#: The agency console's demo officers: (login, recipient, name) at the centre.
CONSOLE_OFFICERS = (
    ("onkyu", PENSION_AGENCY, "恩給 担当"),
    ("denpa", "agency:soumu-denpa", "電波 担当"),
)
#: The file a browser imports as the agency terminal's certificate (PKCS#12).
BROWSER_CERTIFICATE = "agency.p12"


def add_console_officers(cluster: Cluster, passwords: dict[str, str]) -> None:
    """Give the demo's pension and radio agencies an officer for the console at the centre
    (password in ``passwords`` under the login) and write each agency's client certificate as
    a PKCS#12 file, protected by the same password, for importing into a browser."""
    node = cluster.handle("national:jlis")
    try:
        for login, principal, name in CONSOLE_OFFICERS:
            agency_console.add_officer(
                node,
                RegistryCache(),
                recipient_id=principal,
                login=login,
                display_name=name,
                password=passwords[login],
            )
            creds = cluster.pki.node(principal)
            key = serialization.load_pem_private_key(creds.tls_key.read_bytes(), None)
            if not isinstance(key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
                continue  # the network CA issues EC or Ed25519 keys
            bundle = pkcs12.serialize_key_and_certificates(
                principal.encode(),
                key,
                x509.load_pem_x509_certificate(creds.tls_cert.read_bytes()),
                None,
                serialization.BestAvailableEncryption(passwords[login].encode()),
            )
            target = creds.folder / BROWSER_CERTIFICATE
            target.write_bytes(bundle)
            target.chmod(0o600)
    finally:
        node.engine.dispose()


def agency_client(cluster: Cluster, principal: str) -> httpx.Client:
    """An HTTPS client presenting ``principal``'s certificate and trusting the network CA."""
    creds = cluster.pki.node(principal)
    context = ssl.create_default_context(cafile=str(cluster.pki.ca_cert_path))
    context.load_cert_chain(str(creds.tls_cert), str(creds.tls_key))
    return httpx.Client(verify=context, timeout=60)


@dataclass
class AgencyRun:
    """What the demo's agency did, for the summary."""

    looked_up: list[str] = field(default_factory=list)
    refused: str | None = None
    candidates: int = 0
    batch_job: str | None = None
    batch_rows: int = 0
    batch_found: int = 0


def network_url(cluster: Cluster, name: str) -> str:
    """A node's mutual-TLS URL."""
    return f"https://127.0.0.1:{cluster.nodes[name].config.network_port}"


def _wait_for_job(client: httpx.Client, url: str, job_id: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = client.get(f"{url}/provision/v1/batches/{job_id}").json()
        if job["status"] in ("done", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.2)


def run_agency_queries(
    cluster: Cluster, codes: list[str], *, say: Say = print, batch_size: int = 200
) -> AgencyRun:
    """The pension agency confirms some residents, tries an affair it does not hold (refused and
    recorded), searches by the four items, and checks a batch of codes."""
    run = AgencyRun()
    url = network_url(cluster, "national:jlis")
    with agency_client(cluster, PENSION_AGENCY) as client:
        lookup = client.post(
            f"{url}/provision/v1/residents/lookup",
            json={
                "affair_code": PENSION_AFFAIR,
                "officer": "恩給 担当（デモ）",
                "case_number": "DEMO-0001",
                "resident_codes": codes[:3],
            },
        )
        lookup.raise_for_status()
        answers = lookup.json()["results"]
        run.looked_up = [a["resident_code"] for a in answers if a["outcome"] == "found"]
        say(f"恩給照会 (T1-16): {len(run.looked_up)} 件提供 / provided")
        refused = client.post(
            f"{url}/provision/v1/residents/lookup",
            json={
                "affair_code": RADIO_AFFAIR,
                "officer": "恩給 担当（デモ）",
                "resident_codes": codes[:1],
            },
        )
        run.refused = refused.json()["errors"][0]["code"] if refused.status_code == 403 else None
        say(f"権限外の事務 (T1-26) → {refused.status_code} {run.refused} (記録済み / recorded)")
        if answers and answers[0]["record"]:
            record = answers[0]["record"]
            search = client.post(
                f"{url}/provision/v1/residents/search",
                json={
                    "affair_code": PENSION_AFFAIR,
                    "officer": "恩給 担当（デモ）",
                    "name_kana": record["name"]["family_kana"] + record["name"]["given_kana"],
                    "birth_date": record["birth_date"],
                },
            )
            search.raise_for_status()
            run.candidates = len(search.json()["candidates"])
            say(f"基本4情報による照会 / four-items search: {run.candidates} 候補 / candidates")
        body = "resident_code,ref\n" + "".join(
            f"{code},demo-{n}\n" for n, code in enumerate(codes[:batch_size], start=1)
        )
        submitted = client.post(
            f"{url}/provision/v1/batches",
            params={"affair_code": PENSION_AFFAIR, "officer": "恩給 担当（デモ）", "kind": "code"},
            content=body.encode(),
        )
        submitted.raise_for_status()
        job = _wait_for_job(client, url, submitted.json()["job_id"], timeout=120)
        run.batch_job = job["job_id"]
        run.batch_rows = job["processed_rows"]
        run.batch_found = job["found_rows"]
        say(
            f"一括照会 / batch {job['job_id'][:8]}…: {job['status']}, "
            f"{job['found_rows']}/{job['total_rows']} 件"
        )
    return run


def client_folder(cluster: Cluster, principal: str) -> Path:
    """Where a recipient's client certificate and key live in the demo."""
    return cluster.pki.node(principal).folder
