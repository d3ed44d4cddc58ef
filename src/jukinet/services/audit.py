"""The access log as a node uses it: its signing key, tree heads, disclosure, retention, checks.

Entries are appended by the read gateways (``services.reading``, ``services.provision``, the
network handlers) in their own transactions; this module is what operators, auditors and
residents call: publish a signed tree head, disclose one resident's entries with inclusion
proofs, check such a disclosure offline, delete entries past the 7-year retention with a signed
receipt, and verify a whole log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.engine import make_url

from jukinet.domain.access_log import (
    RETENTION_YEARS,
    AccessEntry,
    Action,
    ActorKind,
    Channel,
    entry_from_dict,
    entry_leaf_hash,
    entry_to_dict,
    timestamp_text,
)
from jukinet.domain.audit_math import SignedTreeHead, check_inclusion, verify_consistency
from jukinet.domain.clock import JST
from jukinet.domain.codes import validate_resident_code
from jukinet.domain.errors import ValidationError
from jukinet.domain.operators import Actor, Permission
from jukinet.services.context import ServiceContext
from jukinet.storage import access_log as store
from jukinet.storage.private_files import private_file

#: Version tag of the disclosure document a resident receives.
DISCLOSURE_FORMAT: Final = "jukinet-disclosure-v1"


# --------------------------------------------------------------------------------------------
# The log's signing key
# --------------------------------------------------------------------------------------------


def _default_key_path(node: ServiceContext) -> Path:
    url = make_url(node.settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database:
        return Path(url.database + ".audit-key.pem")
    return Path("var") / f"audit-signing-key-{str(node.node_id).replace(':', '-')}.pem"


def _local_key(path: Path) -> Ed25519PrivateKey:
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            msg = f"{path} is not an Ed25519 private key"
            raise ValueError(msg)
        return key
    key = Ed25519PrivateKey.generate()
    private_file(path).write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return key


def log_signer(node: ServiceContext) -> tuple[str, Ed25519PrivateKey]:
    """``(signer name, key)`` for this node's tree heads.

    A networked node signs with its network signing key, whose certificate anyone holding the
    network CA can check; a stand-alone node uses a local key file (see ``audit_key_path``).
    """
    if node.network is not None:
        return str(node.node_id), node.network.signing_key
    path = node.settings.audit_key_path or _default_key_path(node)
    return str(node.node_id), _local_key(path)


def log_public_key(node: ServiceContext) -> Ed25519PublicKey:
    """The key that verifies this node's tree heads."""
    return log_signer(node)[1].public_key()


def signer_certificate_pem(node: ServiceContext) -> str | None:
    """The network signing certificate of this node (what a resident's checker verifies)."""
    if node.network is None:
        return None
    path = node.network.credentials.signing_cert
    return path.read_text(encoding="ascii") if path.exists() else None


# --------------------------------------------------------------------------------------------
# Tree heads
# --------------------------------------------------------------------------------------------


def publish_tree_head(node: ServiceContext) -> SignedTreeHead:
    """Sign a head over the log as it stands now (reusing the last one if nothing was added)."""
    signer, key = log_signer(node)
    with node.uow() as uow:
        head = store.sign_tree_head(uow.session, signer=signer, key=key, now=node.now())
        uow.commit()
    return head


def consistency(node: ServiceContext, old_size: int, new_size: int) -> dict[str, Any]:
    """Both signed heads and the proof that the later one only appended to the earlier one."""
    with node.uow() as uow:
        old = store.tree_head(uow.session, old_size)
        new = store.tree_head(uow.session, new_size)
        if old is None or new is None:
            raise ValidationError(
                "JUKI-LOG-010",
                ja="指定の大きさの署名付きツリーヘッドがありません。",
                en="There is no signed tree head of that size.",
                field="tree_size",
            )
        proof = store.consistency_proof(uow.session, old_size, new_size)
    return {
        "old": old.to_dict(),
        "new": new.to_dict(),
        "proof": [p.hex() for p in proof],
        "consistent": verify_consistency(
            old.tree_size, new.tree_size, old.root_hash, new.root_hash, proof
        ),
    }


# --------------------------------------------------------------------------------------------
# Disclosure (本人確認情報の提供状況の開示)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DisclosureRequest:
    """Who asks, for whom, and how (a counter request is itself recorded)."""

    resident_code: str
    channel: Channel = Channel.COUNTER
    reason: str = "本人確認情報の提供状況の開示請求"


def disclose(node: ServiceContext, *, actor: Actor, request: DisclosureRequest) -> dict[str, Any]:
    """Every retained entry about one resident, each with its inclusion proof against a signed
    tree head — a JSON document the resident can check with ``jukinet audit check-proof``.

    The disclosure is itself a read of the log about that resident, so it is recorded first and
    appears (with its own proof) in what it discloses.
    """
    actor.require(Permission.READ_RESIDENTS)
    code = validate_resident_code(request.resident_code)
    signer, key = log_signer(node)
    now = node.now()
    with node.uow() as uow:
        store.append_entries(
            uow.session,
            [
                AccessEntry(
                    recorded_at=now,
                    node=str(node.node_id),
                    action=Action.READ,
                    channel=request.channel,
                    actor_kind=ActorKind.OPERATOR,
                    actor=actor.username,
                    subject=code,
                    reason=request.reason,
                    items=("access_log",),
                    terminal=actor.terminal_id,
                )
            ],
        )
        head = store.sign_tree_head(uow.session, signer=signer, key=key, now=now)
        entries = store.entries_about(uow.session, code)
        proved = [
            {
                "entry": entry_to_dict(position, entry),
                "leaf_hash": entry_leaf_hash(position, entry).hex(),
                "proof": [
                    p.hex() for p in store.inclusion_proof(uow.session, position, head.tree_size)
                ],
            }
            for position, entry in entries
        ]
        uow.commit()
    return {
        "format": DISCLOSURE_FORMAT,
        "node": str(node.node_id),
        "resident_code": code,
        "issued_at": timestamp_text(now),
        "retention_years": RETENTION_YEARS,
        "tree_head": head.to_dict(),
        "signer_certificate": signer_certificate_pem(node),
        "signer_public_key": key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii"),
        "entries": proved,
    }


@dataclass(frozen=True, slots=True)
class ProofCheck:
    """The outcome of :func:`check_disclosure`."""

    ok: bool
    entries: int
    problems: tuple[str, ...]
    tree_size: int


def _trusted_key(
    document: dict[str, Any], ca_pem: bytes | None, public_key_pem: bytes | None
) -> Ed25519PublicKey:
    if public_key_pem is not None:
        key = serialization.load_pem_public_key(public_key_pem)
    elif ca_pem is not None:
        from jukinet.network.pki import node_of_certificate

        pem = document.get("signer_certificate")
        if not isinstance(pem, str):
            msg = "the document carries no signer certificate to check against the CA"
            raise ValueError(msg)
        cert = x509.load_pem_x509_certificate(pem.encode("ascii"))
        ca = x509.load_pem_x509_certificate(ca_pem)
        cert.verify_directly_issued_by(ca)
        if node_of_certificate(cert) != document.get("tree_head", {}).get("signer"):
            msg = "the signer certificate names another node than the tree head"
            raise ValueError(msg)
        key = cert.public_key()
    else:
        msg = "give the network CA certificate or the node's public key to check against"
        raise ValueError(msg)
    if not isinstance(key, Ed25519PublicKey):
        msg = "the signing key is not an Ed25519 key"
        raise ValueError(msg)
    return key


def check_disclosure(
    document: dict[str, Any], *, ca_pem: bytes | None = None, public_key_pem: bytes | None = None
) -> ProofCheck:
    """Check a disclosure offline: the head's signature (by a key the caller trusts — the
    network CA or the node's published public key, never the key inside the document alone),
    then every entry's leaf hash and inclusion proof against that head."""
    problems: list[str] = []
    try:
        head = SignedTreeHead.from_dict(document["tree_head"])
        key = _trusted_key(document, ca_pem, public_key_pem)
        key.verify(head.signature, head.signed_bytes())
    except (KeyError, TypeError, ValueError, InvalidSignature) as error:
        reason = "bad signature" if isinstance(error, InvalidSignature) else str(error)
        return ProofCheck(False, 0, (f"tree head: {reason}",), 0)
    items = document.get("entries")
    if not isinstance(items, list):
        return ProofCheck(False, 0, ("entries: missing",), head.tree_size)
    for number, item in enumerate(items):
        try:
            position, entry = entry_from_dict(item["entry"])
            leaf = entry_leaf_hash(position, entry)
            proof = [bytes.fromhex(p) for p in item["proof"]]
            check_inclusion(leaf, position, head.tree_size, proof, head.root_hash)
            if entry.subject != document.get("resident_code"):
                problems.append(f"entry {number}: about another resident")
        except (KeyError, TypeError, ValueError, ValidationError) as error:
            problems.append(f"entry {number}: {getattr(error, 'message_en', error)}")
    return ProofCheck(not problems, len(items), tuple(problems), head.tree_size)


# --------------------------------------------------------------------------------------------
# Retention
# --------------------------------------------------------------------------------------------


def _years_before(moment: datetime, years: int) -> datetime:
    local = moment.astimezone(JST)
    try:
        return local.replace(year=local.year - years)
    except ValueError:  # 29 February
        return local.replace(year=local.year - years, day=28)


@dataclass(frozen=True, slots=True)
class RetentionResult:
    """What :func:`apply_retention` deleted (``count`` 0: nothing was due)."""

    first: int
    end: int
    before: str
    receipt_position: int | None

    @property
    def count(self) -> int:
        """Number of entries deleted."""
        return self.end - self.first


def apply_retention(node: ServiceContext, *, years: int = RETENTION_YEARS) -> RetentionResult:
    """Delete the content of entries older than ``years``, keep their leaf hashes, and append
    a deletion receipt signed by the node — all in one transaction."""
    now = node.now()
    cutoff = _years_before(now, years)
    signer, key = log_signer(node)
    with node.uow() as uow:
        first, end = store.purgeable_end(uow.session, cutoff)
        if end <= first:
            return RetentionResult(first, first, timestamp_text(cutoff), None)
        digest = store.purge_range(uow.session, first, end, now=now)
        before = timestamp_text(cutoff)
        signature = key.sign(
            store.receipt_bytes(node=signer, first=first, end=end, before=before, digest=digest)
        )
        (position,) = store.append_entries(
            uow.session,
            [
                AccessEntry(
                    recorded_at=now,
                    node=signer,
                    action=Action.RETENTION,
                    channel=Channel.SYSTEM,
                    actor_kind=ActorKind.SYSTEM,
                    actor="retention",
                    reason=f"entries recorded before {before} deleted after {years} years",
                    detail={
                        "first": first,
                        "end": end,
                        "before": before,
                        "digest": digest.hex(),
                        "signature": signature.hex(),
                    },
                )
            ],
        )
        uow.commit()
    return RetentionResult(first, end, before, position)


# --------------------------------------------------------------------------------------------
# Whole-log verification
# --------------------------------------------------------------------------------------------


def verify(node: ServiceContext, *, chunk: int = 20_000) -> store.VerifyReport:
    """Check this node's whole log (``jukinet audit verify``)."""
    key = log_public_key(node)
    with node.uow() as uow:
        return store.verify_log(uow.session, public_key=key, chunk=chunk)
