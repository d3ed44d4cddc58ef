"""Reconciliation between the tiers (突合): is what upstream holds what the municipality sent?

domain.md §4.5. A municipality compares the identity-confirmation information it expects its
prefecture and the national centre to hold with what they actually hold, without shipping the
data set: both sides summarise their records as digests, then only the differing parts are
opened, and even then only resident codes and record hashes travel, never personal data.

- **Record hash**: :func:`~jukinet.domain.identity.identity_digest` of the six items and the
  deleted flag.
- **Bucket**: the first three digits of the resident code (1,000 buckets; codes are random, so
  they spread evenly). A bucket's digest is SHA-256 over its sorted ``code:hash`` lines; empty
  buckets are omitted.
- **Expected set** (municipality): every record on its register, current or 除票, except residents
  who opted out of upstream notification — those must be *absent* upstream.
- **Held set** (prefecture, centre) for municipality X: the records held under X, hashed from the
  stored items (so a row altered behind the store's back is seen, whatever its stored digest
  says), plus X's last word on people who have since moved on to another municipality (their
  current record belongs to the new municipality; X's deletion is kept in the history). Tombstones
  of codes replaced by a code change (住民票コード変更) are left out: the municipality no longer
  holds a record under the retired code.

Only neighbours talk: the municipality asks its prefecture, which asks the centre over its own
mutual-TLS link and passes the centre's signed answer through untouched, so the municipality
checks both signatures. Repairs are ordinary outbox messages — a snapshot for a record missing
or different upstream, a withdrawal for one held there but not expected — which the prefecture
applies and forwards to the centre like any other identity message.

The package is split by concern, one module each (the pure digests are in
:mod:`jukinet.domain.reconcile`, the HTTP conversation with the prefecture in
:mod:`jukinet.network.reconcile_client`):

* ``municipality`` — the expected set, messages still in flight, queuing the repairs;
* ``upstream`` — the held set at a prefecture or the centre;
* ``server`` — answering a question: the caller, the question, the signed answer, the centre;
* ``report`` — what a run found at each tier (:class:`ReconcileReport`);
* ``run`` — :func:`reconcile`, the municipality's run.
"""

from jukinet.domain.reconcile import ReconcileFailed, ReconcileRefused
from jukinet.services.reconcile.municipality import (
    expected_hashes,
    in_flight_codes,
    queue_repairs,
)
from jukinet.services.reconcile.report import (
    NATIONAL_TIER,
    PREFECTURE_TIER,
    ReconcileReport,
    TierReport,
)
from jukinet.services.reconcile.run import reconcile
from jukinet.services.reconcile.server import answer_buckets, answer_records
from jukinet.services.reconcile.upstream import held_hashes

__all__ = [
    "NATIONAL_TIER",
    "PREFECTURE_TIER",
    "ReconcileFailed",
    "ReconcileRefused",
    "ReconcileReport",
    "TierReport",
    "answer_buckets",
    "answer_records",
    "expected_hashes",
    "held_hashes",
    "in_flight_codes",
    "queue_repairs",
    "reconcile",
]
