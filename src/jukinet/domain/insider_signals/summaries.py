"""Wording shared by the signals' summaries: actor kinds and numbers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

_ACTOR_KIND_LABELS: Final[Mapping[str, tuple[str, str]]] = {
    "operator": ("操作者", "operator"),
    "recipient": ("受領者", "recipient"),
    "agency": ("機関", "agency"),
}


def _num(value: float) -> str:
    """A number for a summary: whole numbers without decimals, others with up to two."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _kind_labels(actor_kind: str) -> tuple[str, str]:
    return _ACTOR_KIND_LABELS.get(actor_kind, (actor_kind, actor_kind))
