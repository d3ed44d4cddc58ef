"""The one bilingual text catalogue (jukinet.web.i18n): complete, one home per text, one voice.

Every key a template or a page's code asks for exists with a Japanese and an English text; no
key is defined twice across the area modules; and the CLI names events, insurance, sex and
続柄 exactly as the pages do.
"""

from __future__ import annotations

import ast
import re
import string
from collections import Counter
from importlib.resources import files
from pathlib import Path

import pytest

from jukinet.cli.views import EVENT_LABELS
from jukinet.domain.access_log import Action, ActorKind, Channel
from jukinet.domain.insider_signals import Severity, SignalKind
from jukinet.domain.operators import Role
from jukinet.domain.register import Insurance, Relationship, Sex
from jukinet.services.transparency.figures import BATCH_SIZE_BUCKETS
from jukinet.web.i18n import (
    INSURANCE_FIELDS,
    TEXTS,
    DuplicateTextError,
    Translator,
    bilingual,
    texts_under,
)
from jukinet.web.i18n.catalogue import AREAS, merge
from jukinet.web.ui.alerts import _SHOWN_EVIDENCE
from jukinet.web.ui.records import DIFF_ITEMS, item_label_key

SRC = Path(__file__).resolve().parents[3] / "src" / "jukinet"
TEMPLATES = Path(str(files("jukinet.web") / "templates"))
CATALOGUE = SRC / "web" / "i18n"

#: ``t("key"`` or ``t('key'`` — a literal key given to the translator.
_CALL = re.compile(r"""\bt\(\s*(["'])([^"']+)\1\s*[,)]""")
#: ``t("prefix." ~ value)`` — a key built in the template: some key must start with the prefix.
_PREFIX = re.compile(r"""\bt\(\s*(["'])([^"']+)\1\s*~""")
#: A key handed to a form macro: ``m.text("name", "field.family_name", hint_key="...")``.
_MACRO_LABEL = re.compile(r"""\bm\.\w+\(\s*"[^"]*"\s*,\s*"([^"]+)\"""")
_MACRO_KEYWORD = re.compile(r"""\b(?:label_key|hint_key)\s*=\s*"([^"]+)\"""")


def _template_texts() -> dict[Path, str]:
    return {path: path.read_text(encoding="utf-8") for path in sorted(TEMPLATES.rglob("*.html"))}


def _template_keys() -> set[tuple[str, str]]:
    """``(template, key)`` for every literal key the templates use."""
    found: set[tuple[str, str]] = set()
    for path, text in _template_texts().items():
        keys = [match[2] for match in _CALL.finditer(text)]
        keys += _MACRO_LABEL.findall(text) + _MACRO_KEYWORD.findall(text)
        found.update((path.name, key) for key in keys)
    return found


def test_the_templates_are_found_and_use_keys() -> None:
    # Guards against a regex or a path that silently finds nothing.
    templates = {name for name, _ in _template_keys()}
    assert {"base.html", "record.html", "transparency.html", "disclosure.html"} <= templates
    assert len(_template_keys()) > 300


@pytest.mark.parametrize(("template", "key"), sorted(_template_keys()))
def test_every_template_key_has_both_texts(template: str, key: str) -> None:
    assert key in TEXTS, f"{template} uses {key!r}, which the catalogue lacks"
    japanese, english = TEXTS[key]
    assert japanese.strip(), f"{key!r} has no Japanese text"
    assert english.strip(), f"{key!r} has no English text"


def test_every_key_built_in_a_template_has_texts() -> None:
    prefixes = {
        (path.name, match[2])
        for path, text in _template_texts().items()
        for match in _PREFIX.finditer(text)
    }
    assert prefixes
    missing = [(name, p) for name, p in prefixes if not any(k.startswith(p) for k in TEXTS)]
    assert missing == []


def test_the_translators_of_the_pages_are_the_one_translator() -> None:
    # Pages hand their templates ``t`` only: no second translator name, no second dictionary.
    for path, text in _template_texts().items():
        assert not re.search(r"\b(tx|dt|at)[.(]", text), path.name


def _literal_keys_in(node: ast.expr) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _literal_keys_in(node.body) + _literal_keys_in(node.orelse)
    return []


def _code_keys() -> set[tuple[str, str]]:
    """``(module, key)`` for literal keys the web pages' code passes to a translator."""
    found: set[tuple[str, str]] = set()
    for path in sorted((SRC / "web").rglob("*.py")):
        if CATALOGUE in path.parents:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Name) and func.id in {"t", "tx", "text", "self"}:
                args = node.args[:1]
            elif isinstance(func, ast.Call) and ast.unparse(func.func) == "Translator":
                args = node.args[:1]  # Translator(lang)("key")
            elif isinstance(func, ast.Name) and func.id == "forbidden":
                args = node.args[2:3]  # forbidden(request, actor, "error.csrf")
            else:
                continue
            for arg in args:
                found.update((path.name, key) for key in _literal_keys_in(arg))
    return found


def test_every_key_in_the_pages_code_has_texts() -> None:
    keys = _code_keys()
    assert ("disclosure.py", "disclosure.item.none") in keys
    missing = sorted((module, key) for module, key in keys if key not in TEXTS)
    assert missing == []


def test_every_text_has_both_languages_and_the_same_placeholders() -> None:
    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    for key, (japanese, english) in TEXTS.items():
        assert japanese.strip(), key
        assert english.strip(), key
        assert fields(japanese) == fields(english), key


# --------------------------------------------------------------------------------------------
# One home per text
# --------------------------------------------------------------------------------------------


def _area_keys(path: Path) -> list[str]:
    """The literal keys of the module's ``TEXTS`` dict, repeats included (a dict keeps one)."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.AnnAssign) and ast.unparse(node.target) == "TEXTS":
            assert isinstance(node.value, ast.Dict), path.name
            keys = []
            for key in node.value.keys:
                # Every key is a literal, so ``grep`` finds a text's one home.
                assert isinstance(key, ast.Constant), f"{path.name}: a key is not a literal"
                keys.append(key.value)
            return keys
    raise AssertionError(f"{path.name} defines no TEXTS")


def test_no_key_is_defined_twice_across_the_areas() -> None:
    modules = {name: CATALOGUE / f"{name}.py" for name in AREAS}
    keys = [key for path in modules.values() for key in _area_keys(path)]
    repeated = [key for key, count in Counter(keys).items() if count > 1]
    assert repeated == []
    assert set(keys) == set(TEXTS)
    assert sum(len(texts) for texts in AREAS.values()) == len(TEXTS)


def test_every_area_module_is_merged() -> None:
    modules = {
        path.stem
        for path in CATALOGUE.glob("*.py")
        if path.stem not in {"__init__", "catalogue", "translator"}
    }
    assert modules == set(AREAS)


def test_merging_refuses_a_key_defined_twice() -> None:
    with pytest.raises(DuplicateTextError, match=r"'record\.name'.*'a'.*'b'"):
        merge([("a", {"record.name": ("氏名", "Name")}), ("b", {"record.name": ("名", "N")})])


def test_the_catalogue_is_read_only() -> None:
    with pytest.raises(TypeError):
        # The type checker rightly refuses this write; the test shows it fails at run time too.
        TEXTS["record.name"] = ("x", "y")  # type: ignore[index]


# --------------------------------------------------------------------------------------------
# Enumerations and item lists the pages name
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "values"),
    [
        ("sex", [s.value for s in Sex]),
        ("relationship", [r.value for r in Relationship]),
        ("role", [r.value for r in Role]),
        ("channel", [c.value for c in Channel]),
        ("insurance", list(INSURANCE_FIELDS)),
        ("disclosure.action", [a.value for a in Action]),
        ("disclosure.kind", [k.value for k in ActorKind]),
        ("transparency.kind", [k.value for k in ActorKind]),
        ("transparency.bucket", [b.key for b in BATCH_SIZE_BUCKETS]),
        ("alerts.severity", [s.value for s in Severity]),
        ("alerts.kind", [k.value for k in SignalKind]),
    ],
)
def test_every_value_of_a_named_set_has_texts(prefix: str, values: list[str]) -> None:
    assert sorted(texts_under(prefix)) == sorted(values)


def test_every_evidence_item_the_alert_page_shows_has_a_label() -> None:
    shown = {key for keys in _SHOWN_EVIDENCE.values() for key in keys}
    assert shown <= set(texts_under("alerts.ev"))


def test_the_japanese_names_are_the_domains() -> None:
    ja = Translator("ja")
    assert [ja.sex(s) for s in Sex] == [s.label_ja for s in Sex]
    assert [ja.relationship(r) for r in Relationship] == [r.label_ja for r in Relationship]
    assert [ja(f"role.{r.value}") for r in Role] == [r.label_ja for r in Role]
    assert [ja(f"channel.{c.value}") for c in Channel] == [c.label_ja for c in Channel]


def test_every_compared_record_item_has_a_label() -> None:
    assert all(item_label_key(item) in TEXTS for item in DIFF_ITEMS)


def _event_kinds_written() -> set[str]:
    """Event kinds the services record (``change.event("move_in", ...)``)."""
    kinds: set[str] = set()
    for path in (SRC / "services").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "event"
                and node.args
            ):
                kinds.update(_literal_keys_in(node.args[0]))
    return kinds


def test_every_event_kind_the_register_records_has_texts() -> None:
    written = _event_kinds_written()
    assert {"move_in", "birth", "opt_out"} <= written
    assert written <= set(texts_under("event"))


# --------------------------------------------------------------------------------------------
# The CLI speaks with the pages' voice
# --------------------------------------------------------------------------------------------


def test_the_cli_event_labels_are_the_catalogues() -> None:
    events = texts_under("event")
    assert set(EVENT_LABELS) == set(events)
    for kind, (japanese, english) in events.items():
        assert EVENT_LABELS[kind] == f"{japanese} / {english}"
        assert EVENT_LABELS[kind] == bilingual(f"event.{kind}")
        assert EVENT_LABELS[kind] == (
            f"{Translator('ja').event(kind)} / {Translator('en').event(kind)}"
        )


def test_the_cli_lists_insurance_as_the_record_page_does() -> None:
    insurance = Insurance(national_pension=True, child_allowance=True)
    assert Translator("ja").insurance(insurance) == ["国民年金", "児童手当"]
    assert Translator("en").insurance(insurance) == ["National pension", "Child allowance"]


def test_the_cli_does_not_keep_its_own_labels() -> None:
    source = (SRC / "cli" / "views.py").read_text(encoding="utf-8")
    for japanese, _english in [*texts_under("event").values(), *texts_under("insurance").values()]:
        assert f'"{japanese}' not in source, japanese


def test_an_unknown_key_shows_itself_and_an_unknown_language_is_japanese() -> None:
    assert Translator("en")("no.such.key") == "no.such.key"
    assert Translator("fr").lang == "ja"
    assert Translator("en")("search.count", n=3) == "3 found"
