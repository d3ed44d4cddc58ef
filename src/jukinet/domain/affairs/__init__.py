"""Statutory affairs (別表第一〜第五) and the registry of who may use them, from when.

The Basic Resident Registers Act lets identity-confirmation information go only to the bodies
named in its appended tables, and only for the affair named beside them (design/domain.md §4.4,
§9 item 1). The package is pure — no I/O, no clock — and split by concern:

* :mod:`.errors` — ``JUKI-AFF-001`` … ``JUKI-AFF-016``;
* :mod:`.catalogue` — the appended tables: affairs and their codes, law names, recipient kinds and
  types, identity items and the item policy;
* :mod:`.recipients` — :class:`Recipient` and its table and scope rules;
* :mod:`.registry` — the append-only :class:`AffairRegistry` and its purpose check.

Everything public is re-exported here, so ``from jukinet.domain.affairs import X`` is the way in.
"""

from jukinet.domain.affairs.catalogue import (
    AFFAIR_TABLES,
    BASIC_ITEMS,
    DEFAULT_AFFAIR_ITEMS,
    PREFECTURES,
    IdentityItem,
    ItemPolicy,
    RecipientKind,
    RecipientType,
    StatutoryAffair,
    affair_code,
    extract_law_name,
    index_affairs,
    parse_affair_code,
)
from jukinet.domain.affairs.errors import (
    AffairNotAuthorised,
    AffairOutOfScope,
    BodyNotNamed,
    DuplicateAffairCode,
    DuplicateGrant,
    InvalidAffairCode,
    InvalidItemPolicy,
    InvalidRecipient,
    InvalidRegistryEntry,
    InvalidStatutoryAffair,
    InvalidValidityPeriod,
    NothingToRevoke,
    OutOfOrderEntry,
    RecipientConflict,
    RetroactiveRevocation,
    TableNotPermitted,
    UnknownAffair,
    UnknownRecipient,
)
from jukinet.domain.affairs.recipients import Recipient
from jukinet.domain.affairs.registry import (
    AffairRegistry,
    Authorisation,
    EntryKind,
    RegistryEntry,
    ValidityPeriod,
)

__all__ = [
    "AFFAIR_TABLES",
    "BASIC_ITEMS",
    "DEFAULT_AFFAIR_ITEMS",
    "PREFECTURES",
    "AffairNotAuthorised",
    "AffairOutOfScope",
    "AffairRegistry",
    "Authorisation",
    "BodyNotNamed",
    "DuplicateAffairCode",
    "DuplicateGrant",
    "EntryKind",
    "IdentityItem",
    "InvalidAffairCode",
    "InvalidItemPolicy",
    "InvalidRecipient",
    "InvalidRegistryEntry",
    "InvalidStatutoryAffair",
    "InvalidValidityPeriod",
    "ItemPolicy",
    "NothingToRevoke",
    "OutOfOrderEntry",
    "Recipient",
    "RecipientConflict",
    "RecipientKind",
    "RecipientType",
    "RegistryEntry",
    "RetroactiveRevocation",
    "StatutoryAffair",
    "TableNotPermitted",
    "UnknownAffair",
    "UnknownRecipient",
    "ValidityPeriod",
    "affair_code",
    "extract_law_name",
    "index_affairs",
    "parse_affair_code",
]
