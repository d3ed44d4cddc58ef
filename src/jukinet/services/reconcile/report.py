"""What a reconciliation found at each tier, and what it queued to repair it.

Reports carry resident codes and counts only, never personal data; :meth:`ReconcileReport.lines`
prints the codes only when asked (staff who need them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

#: Names of the two tiers compared.
PREFECTURE_TIER: Final = "prefecture"
NATIONAL_TIER: Final = "national"


@dataclass(frozen=True, slots=True)
class TierReport:
    """What one tier holds for the municipality, against what it should hold."""

    tier: str
    node: str
    #: Why this tier could not be compared (``None`` when it was).
    error: str | None = None
    expected: int = 0
    held: int = 0
    buckets_compared: int = 0
    buckets_differing: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    different: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        """Whether the tier was compared and holds exactly what it should."""
        return self.error is None and not (self.missing or self.different or self.extra)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (counts beside the code lists)."""
        return {
            "tier": self.tier,
            "node": self.node,
            "error": self.error,
            "expected": self.expected,
            "held": self.held,
            "buckets_compared": self.buckets_compared,
            "buckets_differing": len(self.buckets_differing),
            "differing_buckets": self.buckets_differing,
            "counts": {
                "missing": len(self.missing),
                "different": len(self.different),
                "extra": len(self.extra),
            },
            "missing": self.missing,
            "different": self.different,
            "extra": self.extra,
        }


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    """What a reconciliation found at each tier and what it queued to repair it."""

    municipality_code: str
    started_at: str
    expected: int
    prefecture: TierReport
    national: TierReport
    #: Codes re-sent as snapshots (missing or different upstream) / withdrawn (extra upstream).
    snapshots: list[str] = field(default_factory=list)
    withdrawals: list[str] = field(default_factory=list)
    #: Differing codes with messages still on their way upstream: left alone, not repaired.
    in_flight: list[str] = field(default_factory=list)
    #: Whether the repairs were queued (``False`` for a dry run).
    repaired: bool = False
    digest_seconds: float = 0.0
    elapsed_seconds: float = 0.0

    @property
    def tiers(self) -> tuple[TierReport, TierReport]:
        """The prefecture's report, then the centre's."""
        return (self.prefecture, self.national)

    @property
    def consistent(self) -> bool:
        """Whether both tiers were compared and hold exactly what they should."""
        return self.prefecture.agrees and self.national.agrees

    @property
    def repairs_queued(self) -> int:
        """How many messages were put in the outbox."""
        return len(self.snapshots) + len(self.withdrawals) if self.repaired else 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, e.g. for ``jukinet reconcile --json``."""
        return {
            "municipality_code": self.municipality_code,
            "started_at": self.started_at,
            "expected": self.expected,
            "consistent": self.consistent,
            "tiers": {t.tier: t.as_dict() for t in self.tiers},
            "repair": {
                "queued": self.repaired,
                "snapshots": self.snapshots,
                "withdrawals": self.withdrawals,
                "count": self.repairs_queued,
            },
            "in_flight": self.in_flight,
            "digest_seconds": round(self.digest_seconds, 3),
            "elapsed_seconds": round(self.elapsed_seconds, 3),
        }

    def lines(self, *, show_codes: bool = False) -> list[str]:
        """A plain-text report; resident codes only with ``show_codes`` (staff who need them)."""
        out = [
            f"Reconciliation (突合) of municipality {self.municipality_code}: "
            f"{self.expected} records expected upstream"
        ]
        for tier in self.tiers:
            if tier.error is not None:
                out.append(f"  {tier.node}: not compared: {tier.error}")
                continue
            out.append(
                f"  {tier.node}: holds {tier.held}; {tier.buckets_compared} buckets compared, "
                f"{len(tier.buckets_differing)} differing; missing {len(tier.missing)}, "
                f"different {len(tier.different)}, extra {len(tier.extra)}"
            )
            if show_codes:
                for label, codes in (
                    ("missing", tier.missing),
                    ("different", tier.different),
                    ("extra", tier.extra),
                ):
                    if codes:
                        out.append(f"    {label}: {', '.join(codes)}")
        if self.in_flight:
            out.append(f"  still on their way upstream (not repaired): {len(self.in_flight)}")
        verb = "queued" if self.repaired else "needed (dry run)"
        out.append(
            f"  repairs {verb}: {len(self.snapshots)} snapshots, "
            f"{len(self.withdrawals)} withdrawals"
        )
        out.append("  result: consistent" if self.consistent else "  result: differences found")
        return out
