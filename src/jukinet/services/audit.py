"""The access log as a node uses it: its signing key, tree heads, disclosure, retention, checks.

Entries are appended by the read gateways (``services.reading``, ``services.provision``, the
network handlers) in their own transactions; this module is what operators, auditors and
residents call: publish a signed tree head, disclose one resident's entries with inclusion
proofs, check such a disclosure offline, delete entries past the 7-year retention with a signed
receipt, and verify a whole log.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from jukinet.config import DEFAULT_DATA_DIR, SettingsError
from jukinet.domain.access_log import (
    RETENTION_YEARS,
    AccessEntry,
    Action,
    ActorKind,
    Channel,
    entry_bytes,
    entry_from_dict,
    entry_leaf_hash,
    entry_to_dict,
    timestamp_text,
)
from jukinet.domain.audit_math import (
    SignedTreeHead,
    check_inclusion,
    leaf_hash,
    verify_consistency,
)
from jukinet.domain.clock import JST
from jukinet.domain.codes import validate_resident_code
from jukinet.domain.errors import NotFound, ValidationError
from jukinet.domain.operators import Actor, Permission
from jukinet.services.context import ServiceContext
from jukinet.services.witness_check import check_countersignature
from jukinet.storage import access_log as store
from jukinet.storage import access_log_check as check
from jukinet.storage.private_files import private_file, write_private

#: Version tag of the disclosure document a resident receives.
DISCLOSURE_FORMAT: Final = "jukinet-disclosure-v1"


# --------------------------------------------------------------------------------------------
# The log's signing key
# --------------------------------------------------------------------------------------------

_KEY_SETTING: Final = "JUKINET_AUDIT_KEY_PATH"


def log_key_path(node: ServiceContext) -> Path:
    """Where a stand-alone node's audit key lives (``audit_key_path``, else ``var/keys/…``)."""
    if node.settings.audit_key_path is not None:
        return node.settings.audit_key_path
    name = str(node.node_id).replace(":", "-")
    return DEFAULT_DATA_DIR / "keys" / f"audit-signing-key-{name}.pem"


def _database_folder(node: ServiceContext) -> Path | None:
    url = make_url(node.settings.database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).resolve().parent


def _refuse_beside_database(node: ServiceContext, path: Path) -> None:
    """The key must not sit with the database: whoever copies or edits the one must not get
    the other for free (a folder of its own can have its own owner, mount and backup)."""
    folder = _database_folder(node)
    if folder is not None and path.resolve().parent == folder:
        raise SettingsError.one(
            _KEY_SETTING,
            ja=f"アクセスログの署名鍵 {path} がデータベースと同じフォルダにあります。"
            f"別のフォルダを {_KEY_SETTING} に指定してください。",
            en=f"the access log's signing key {path} is in the database's folder: set "
            f"{_KEY_SETTING} to a file in a folder of its own",
        )


def _missing_key(node: ServiceContext, path: Path) -> SettingsError:
    hint_ja = hint_en = ""
    url = make_url(node.settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database:
        old = Path(url.database + ".audit-key.pem")  # where jukinet kept it before
        if old.exists():
            hint_ja = f"（以前の版の鍵 {old} があれば、別のフォルダへ移して指定できます）"
            hint_en = f" (an earlier version kept it at {old}: move it to a folder of its own)"
    return SettingsError.one(
        _KEY_SETTING,
        ja=f"アクセスログの署名鍵 {path} がありません。jukinet audit init-key で一度だけ作成して"
        f"ください（データベースとは別のフォルダ）。鍵を自動で作り直すことはしません{hint_ja}。",
        en=f"the access log's signing key {path} does not exist: create it once with "
        f"'jukinet audit init-key' (in a folder apart from the database); a node never makes "
        f"one up on its own{hint_en}",
    )


def _local_key(node: ServiceContext) -> Ed25519PrivateKey:
    path = log_key_path(node)
    _refuse_beside_database(node, path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        # Never generated here: a new key would sign a fresh history over a cut log.
        raise _missing_key(node, path) from None
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        msg = f"{path} is not an Ed25519 private key"
        raise ValueError(msg)
    return key


def create_log_key(node: ServiceContext, *, replace: bool = False) -> Path:
    """Create a stand-alone node's audit key (``jukinet audit init-key``), mode 0600 in a 0700
    folder apart from the database; an existing key is kept unless ``replace``."""
    if node.network is not None:
        raise SettingsError.one(
            "pki_dir",
            ja="このノードはアクセスログにネットワーク署名鍵（PKI フォルダ）で署名します。",
            en="this node signs its access log with its network signing key (its PKI folder)",
        )
    path = log_key_path(node)
    _refuse_beside_database(node, path)
    if path.exists() and not replace:
        raise SettingsError.one(
            _KEY_SETTING,
            ja=f"アクセスログの署名鍵 {path} はすでにあります。上書きしません。",
            en=f"the access log's signing key {path} already exists; it is not overwritten",
        )
    key = Ed25519PrivateKey.generate()
    write_private(
        path,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    head_record_path(node).unlink(missing_ok=True)  # a new key starts a new record
    return path


def log_signer(node: ServiceContext) -> tuple[str, Ed25519PrivateKey]:
    """``(signer name, key)`` for this node's tree heads.

    A networked node signs with its network signing key, whose certificate anyone holding the
    network CA can check; a stand-alone node with the key ``jukinet audit init-key`` created
    (:class:`SettingsError` if it is missing — never generated on the fly).
    """
    if node.network is not None:
        return str(node.node_id), node.network.signing_key
    return str(node.node_id), _local_key(node)


def require_log_key(node: ServiceContext) -> None:
    """Refuse to start (:class:`SettingsError`) a node that could not sign its log."""
    log_signer(node)


def log_public_key(node: ServiceContext) -> Ed25519PublicKey:
    """The key that verifies this node's tree heads."""
    return log_signer(node)[1].public_key()


def public_key_pem(node: ServiceContext) -> str:
    """The log's public key as PEM (what ``jukinet audit check-proof --public-key`` takes)."""
    return (
        log_public_key(node)
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def key_fingerprint(public_key_pem: str) -> str:
    """SHA-256 over the key's DER SubjectPublicKeyInfo, as colon-separated hex pairs."""
    key = serialization.load_pem_public_key(public_key_pem.encode("ascii"))
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    digest = hashlib.sha256(der).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


@dataclass(frozen=True, slots=True)
class PublishedKey:
    """What a node publishes so that anyone can check its signed tree heads and disclosures."""

    signer: str
    public_key_pem: str
    fingerprint: str


def published_key(node: ServiceContext) -> PublishedKey | None:
    """This node's log-signing public key (``None`` on a node that has no signing key yet)."""
    try:
        pem = public_key_pem(node)
    except (SettingsError, OSError, ValueError):
        return None
    return PublishedKey(
        signer=str(node.node_id), public_key_pem=pem, fingerprint=key_fingerprint(pem)
    )


def require_published_key(node: ServiceContext) -> PublishedKey:
    """:func:`published_key`, or :class:`NotFound` (JUKI-AUDIT-020) when there is none yet."""
    key = published_key(node)
    if key is None:
        raise NotFound(
            "JUKI-AUDIT-020",
            ja="このノードにはアクセスログの署名鍵がまだありません。",
            en="This node has no access-log signing key yet.",
        )
    return key


def signer_certificate_pem(node: ServiceContext) -> str | None:
    """The network signing certificate of this node (what a resident's checker verifies)."""
    if node.network is None:
        return None
    path = node.network.credentials.signing_cert
    return path.read_text(encoding="ascii") if path.exists() else None


# --------------------------------------------------------------------------------------------
# Tree heads, and the record of the latest one kept outside the database
# --------------------------------------------------------------------------------------------


class HeadRecordUnreadable(RuntimeError):
    """The record of the latest published head exists but is not a tree head."""


def head_record_path(node: ServiceContext) -> Path:
    """Where the node keeps its latest signed head, beside its key and apart from the database:
    the proof of how many heads it published, which someone who can only edit the database
    cannot roll back."""
    if node.network is not None:
        return node.network.credentials.folder / "latest-tree-head.json"
    return log_key_path(node).with_suffix(".latest-head.json")


def published_head(node: ServiceContext) -> SignedTreeHead | None:
    """The latest head this node recorded publishing (``None`` before its first)."""
    path = head_record_path(node)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        return SignedTreeHead.from_dict(json.loads(text))
    except (ValueError, TypeError) as error:  # a MerkleError is a ValueError
        msg = f"{path} is not a signed tree head"
        raise HeadRecordUnreadable(msg) from error


def _remember(node: ServiceContext, head: SignedTreeHead) -> None:
    """Record ``head`` as the latest published, after its transaction committed — never
    moving the record back (two signers may finish in either order)."""
    if head.sequence is None:
        return
    path = head_record_path(node)
    with private_file(path.with_suffix(".lock")).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            current = published_head(node)
        except HeadRecordUnreadable:
            current = None
        if current is not None and (current.sequence or 0) >= head.sequence:
            return
        temporary = path.with_suffix(".tmp")
        write_private(temporary, json.dumps(head.to_dict(), indent=1).encode("utf-8"))
        temporary.replace(path)


def _sign(node: ServiceContext, session: Session, *, now: datetime) -> SignedTreeHead:
    signer, key = log_signer(node)
    return store.sign_tree_head(
        session, signer=signer, key=key, now=now, published=published_head(node)
    )


def publish_tree_head(node: ServiceContext) -> SignedTreeHead:
    """Sign a head over the log as it stands now (reusing the last one if nothing was added).

    Called on the node's schedule (``tree_head_publisher``), by ``jukinet audit head``, and
    within disclosures and retention — never per request of a reader.
    """
    with node.uow() as uow:
        head = _sign(node, uow.session, now=node.now())
        uow.commit()
    _remember(node, head)
    return head


def latest_tree_head(node: ServiceContext) -> SignedTreeHead:
    """The latest head the node signed (what ``GET /audit/v1/tree-head`` returns); reading it
    signs nothing."""
    with node.uow() as uow:
        head = store.latest_tree_head(uow.session)
    if head is None:
        raise NotFound(
            "JUKI-LOG-011",
            ja="署名付きツリーヘッドはまだ公開されていません。",
            en="No signed tree head has been published yet.",
        )
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
    now = node.now()
    return disclose_recorded(
        node,
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
        ),
    )


def disclose_recorded(
    node: ServiceContext,
    record: AccessEntry,
    *,
    also_read: Callable[[Session], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The disclosure of ``record.subject`` after recording ``record`` (the request itself).

    The caller has checked who asks and built the entry naming them; the entry and the signed
    head are made in one transaction, with ``also_read`` (whose keys join the document): a read
    of personal data the entry already names among its items. The entries and their proofs are
    read after it commits, in a read-only session, up to the head's size: the log only grows,
    so they are what the head covers, and the log's write lock is not held while a thousand
    proofs are built.
    """
    code = validate_resident_code(record.subject or "")
    now = record.recorded_at
    with node.uow() as uow:
        store.append_entries(uow.session, [record])
        head = _sign(node, uow.session, now=now)
        extra = also_read(uow.session) if also_read is not None else {}
        uow.commit()
    _remember(node, head)
    with node.read_session() as session:
        entries = store.entries_about(session, code, below=head.tree_size)
        proofs = store.inclusion_proofs(
            session, [position for position, _ in entries], head.tree_size
        )
    proved = [
        {
            "entry": entry_to_dict(position, entry),
            "leaf_hash": entry_leaf_hash(position, entry).hex(),
            "proof": [p.hex() for p in proof],
        }
        for (position, entry), proof in zip(entries, proofs, strict=True)
    ]
    return extra | {
        "format": DISCLOSURE_FORMAT,
        "node": str(node.node_id),
        "resident_code": code,
        "issued_at": timestamp_text(now),
        "retention_years": RETENTION_YEARS,
        "tree_head": head.to_dict(),
        "signer_certificate": signer_certificate_pem(node),
        "signer_public_key": public_key_pem(node),
        "entries": proved,
    }


@dataclass(frozen=True, slots=True)
class CheckedEntry:
    """One disclosed entry as :func:`check_disclosure` read it, so a page need not read it
    again: its position, the entry, and the canonical bytes its leaf hash was computed over."""

    position: int
    entry: AccessEntry
    leaf_data: bytes


@dataclass(frozen=True, slots=True)
class ProofCheck:
    """The outcome of :func:`check_disclosure`."""

    ok: bool
    entries: int
    problems: tuple[str, ...]
    tree_size: int
    #: Witnesses whose countersignature of the head verified (checked only with the CA).
    witnesses: tuple[str, ...] = ()
    #: Each entry as read (``None``: not readable as an entry), in the document's order.
    parsed: tuple[CheckedEntry | None, ...] = ()


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
    then every entry's leaf hash and inclusion proof against that head; with the CA, also the
    countersignatures of the witnesses that vouched for that head (``witnesses``)."""
    problems: list[str] = []
    try:
        head = SignedTreeHead.from_dict(document["tree_head"])
        key = _trusted_key(document, ca_pem, public_key_pem)
        key.verify(head.signature, head.signed_bytes())
    except (KeyError, TypeError, ValueError, InvalidSignature) as error:
        reason = "bad signature" if isinstance(error, InvalidSignature) else str(error)
        return ProofCheck(False, 0, (f"tree head: {reason}",), 0)
    witnesses: list[str] = []
    countersigned = document.get("witnesses", [])
    for number, item in enumerate(countersigned if isinstance(countersigned, list) else [None]):
        if ca_pem is None:
            break  # a witness is trusted only through the network CA
        try:
            witnesses.append(check_countersignature(item, head=head, ca_pem=ca_pem))
        except ValueError as error:
            problems.append(f"witness {number}: {error}")
    items = document.get("entries")
    if not isinstance(items, list):
        return ProofCheck(False, 0, ("entries: missing",), head.tree_size)
    parsed: list[CheckedEntry | None] = []
    for number, item in enumerate(items):
        parsed.append(None)
        try:
            position, entry = entry_from_dict(item["entry"])
            data = entry_bytes(position, entry)
            parsed[-1] = CheckedEntry(position, entry, data)
            leaf = leaf_hash(data)
            proof = [bytes.fromhex(p) for p in item["proof"]]
            check_inclusion(leaf, position, head.tree_size, proof, head.root_hash)
            if entry.subject != document.get("resident_code"):
                problems.append(f"entry {number}: about another resident")
        except (KeyError, TypeError, ValueError, ValidationError) as error:
            problems.append(f"entry {number}: {getattr(error, 'message_en', error)}")
    return ProofCheck(
        not problems,
        len(items),
        tuple(problems),
        head.tree_size,
        tuple(witnesses),
        tuple(parsed),
    )


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
    a deletion receipt signed by the node, then a tree head covering the receipt — all in one
    transaction."""
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
        head = _sign(node, uow.session, now=now)
        uow.commit()
    _remember(node, head)
    return RetentionResult(first, end, before, position)


# --------------------------------------------------------------------------------------------
# Whole-log verification
# --------------------------------------------------------------------------------------------


def verify(node: ServiceContext, *, chunk: int = 20_000) -> check.VerifyReport:
    """Check this node's whole log (``jukinet audit verify``), against the heads in the
    database and the record of the latest head the node published, kept apart from it."""
    key = log_public_key(node)
    problem = None
    try:
        published = published_head(node)
    except HeadRecordUnreadable as error:
        published, problem = None, str(error)
    with node.uow() as uow:
        report = check.verify_log(uow.session, public_key=key, published=published, chunk=chunk)
        latest = store.latest_tree_head(uow.session)
    if problem is not None:
        report.flag(f"the record of the latest published head is unreadable: {problem}")
    elif published is None and latest is not None and latest.chained:
        report.flag(
            f"no record of the latest published head ({head_record_path(node)}): "
            "cannot tell whether signed heads were deleted"
        )
    return report
