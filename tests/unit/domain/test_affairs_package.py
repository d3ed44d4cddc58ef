"""The affairs package: split by concern, with every public name re-exported from the package."""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest

import jukinet.domain.affairs as affairs
from jukinet.domain.errors import DomainError

CONCERNS = ("errors", "catalogue", "recipients", "registry")


def _concern(name: str) -> ModuleType:
    return importlib.import_module(f"jukinet.domain.affairs.{name}")


def test_package_reexports_exactly_the_concerns_public_names() -> None:
    home: dict[str, str] = {}
    for name in CONCERNS:
        module = _concern(name)
        for public in module.__all__:
            assert public not in home, (public, home.get(public), name)  # one home per name
            home[public] = name
            assert getattr(affairs, public) is getattr(module, public), public
    assert sorted(affairs.__all__) == sorted(home)


@pytest.mark.parametrize(
    ("name", "concern"),
    [
        ("AffairNotAuthorised", "errors"),
        ("StatutoryAffair", "catalogue"),
        ("RecipientKind", "catalogue"),
        ("ItemPolicy", "catalogue"),
        ("parse_affair_code", "catalogue"),
        ("Recipient", "recipients"),
        ("AffairRegistry", "registry"),
        ("RegistryEntry", "registry"),
    ],
)
def test_names_are_defined_in_their_concern(name: str, concern: str) -> None:
    assert getattr(affairs, name).__module__ == f"jukinet.domain.affairs.{concern}"


def test_every_error_lives_in_the_errors_module() -> None:
    errors = {
        name
        for name in affairs.__all__
        if isinstance(getattr(affairs, name), type)
        and issubclass(getattr(affairs, name), DomainError)
    }
    assert errors == set(_concern("errors").__all__)
