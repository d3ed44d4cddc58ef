"""The MJ character table (MJ文字図形名 of characters outside JIS X 0213), as shipped.

An adapter over ``mj_glyphs.tsv.gz`` (built by ``scripts/build_mj_table.py`` from the IPAmj
Mincho font, whose glyph names are the MJ identifiers); read once through
:mod:`importlib.resources`, never from the network or the font at run time. The rules are
:mod:`jukinet.domain.mj_names`.
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
from collections.abc import Mapping
from importlib import resources
from types import MappingProxyType
from typing import Final

from jukinet.domain.errors import DomainError, FieldErrors
from jukinet.domain.identity import IdentityInfo
from jukinet.domain.mj_names import format_identifiers, mj_identifiers
from jukinet.domain.names import PersonName

__all__ = ["identified", "identity_identified", "mj_table", "name_identifiers"]

_TABLE_NAME: Final = "mj_glyphs.tsv.gz"


@functools.cache
def mj_table() -> Mapping[str, str]:
    """Unit (a character, or base + variation selector) → MJ identifier."""
    packed = resources.files("jukinet.data").joinpath(_TABLE_NAME).read_bytes()
    table: dict[str, str] = {}
    for line in gzip.decompress(packed).decode("utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        points, identifier = line.split("\t")
        table["".join(chr(int(p, 16)) for p in points.split("+"))] = identifier
    return MappingProxyType(table)


@functools.lru_cache(maxsize=1 << 14)
def name_identifiers(text: str, *, field: str) -> str:
    """The identifiers of one written name, in their one-text form (``JUKI-NAME-021`` if a
    character has none)."""
    return format_identifiers(mj_identifiers(text, mj_table(), field=field))


def identified(name: PersonName) -> PersonName:
    """``name`` with the MJ identifiers of its family and given names filled in.

    Raises ``JUKI-NAME-021`` (one part) or :class:`FieldErrors` (both) naming the characters
    that have no MJ identifier.
    """
    parts: dict[str, str] = {}
    errors: list[DomainError] = []
    for attribute, text, field in (
        ("family_mj", name.family, "family_name"),
        ("given_mj", name.given, "given_name"),
    ):
        try:
            parts[attribute] = name_identifiers(text, field=field)
        except DomainError as error:
            errors.append(error)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise FieldErrors(errors)
    return dataclasses.replace(name, **parts)


def identity_identified(info: IdentityInfo) -> IdentityInfo:
    """``info`` with its names' MJ identifiers, computed where the record did not carry them."""
    family = info.family_name_mj or name_identifiers(info.family_name, field="family_name")
    given = info.given_name_mj or name_identifiers(info.given_name, field="given_name")
    if (family, given) == (info.family_name_mj, info.given_name_mj):
        return info
    return dataclasses.replace(info, family_name_mj=family, given_name_mj=given)
