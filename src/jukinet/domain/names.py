"""Personal names: validation of what is stored, and folded keys for what is searched.

Names are stored exactly as written (domain.md §7): non-BMP ideographs such as 𠮷 and
Ideographic Variation Sequences (葛 + U+E0100) survive untouched, because the written form is
part of the legal record. Searching is done on *folded* keys instead, so that a clerk typing
高橋 finds 髙橋 and one typing 渡辺 finds 渡邊 and 渡邉. Folding only ever widens a candidate
list; it never decides that two records are the same person.

Messages name the field and the rule, never the value: names are personal data.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

import jaconv
import joyokanji
from ja_cvu_normalizer.ja_cvu_normalizer import JaCvuNormalizer

from jukinet.domain.errors import DomainError, FieldErrors, ValidationError

__all__ = [
    "PersonName",
    "is_kana_query",
    "kana_search_key",
    "name_search_key",
    "validate_kana",
    "validate_name",
]

# Only these two are trimmed: they are what a form or a pasted value realistically carries at
# the ends. Anything else (tabs, newlines) is a control character and gets rejected instead.
_EDGE_SPACES = " \u3000"
_IDEOGRAPHIC_SPACE = "\u3000"

# Field labels for the Japanese messages; unknown fields fall back to their identifier.
_LABELS_JA: Mapping[str, str] = {
    "family_name": "氏",
    "given_name": "名",
    "family_name_kana": "氏（フリガナ）",
    "given_name_kana": "名（フリガナ）",
}


def _label(field: str) -> str:
    return _LABELS_JA.get(field, field)


def _is_variation_selector(ch: str) -> bool:
    cp = ord(ch)
    return 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF


# ---------------------------------------------------------------------------------------------
# Written names
# ---------------------------------------------------------------------------------------------

# Characters that have no business in a name but do in markup, SQL, CSV or shell; rejecting
# them is cheaper than proving every later consumer escapes correctly. Apostrophe, hyphen, dot
# and comma stay allowed: romanised names of foreign residents use them (O'Brien, Smith-Jones).
_FORBIDDEN_IN_NAME = frozenset('<>{}[]"();\\`|^$%#@*+=~!?&_/:')

# Cc: controls (tab, newline, NUL); Cf: format characters (bidi overrides, zero-width joiners)
# that make two identical-looking names differ; Cs: lone surrogates, which cannot be encoded;
# Zl/Zp: line and paragraph separators. Unassigned (Cn) and private-use (Co) code points are
# deliberately allowed: Python's Unicode database lags the newest CJK extensions, and a name
# must never become unstorable because our runtime is older than the character.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
# So: pictographs, emoji, dingbats and regional-indicator flags (no name is spelt with ★ or 😀);
# Me: enclosing marks such as the keycap; and the emoji skin-tone modifiers, which are Sk.
_SYMBOL_CATEGORIES = frozenset({"So", "Me"})
_EMOJI_MODIFIERS = range(0x1F3FB, 0x1F400)


def _name_char_ok(ch: str) -> bool:
    if _is_variation_selector(ch):
        return True
    category = unicodedata.category(ch)
    if category in _FORBIDDEN_CATEGORIES or category in _SYMBOL_CATEGORIES:
        return False
    if ord(ch) in _EMOJI_MODIFIERS:
        return False
    # Checked on the compatibility form so that full-width and enclosed lookalikes (＜, ＂, １,
    # ①) are caught too. Nd covers ASCII and full-width digits alike: a digit in a name is a
    # typing error, not a spelling.
    return not any(
        c in _FORBIDDEN_IN_NAME or unicodedata.category(c) == "Nd"
        for c in unicodedata.normalize("NFKC", ch)
    )


def validate_name(value: str, *, field: str, max_length: int = 30) -> str:
    """Validate a written (usually kanji) name and return it exactly as written.

    Only leading and trailing ASCII and ideographic spaces are removed; the characters
    themselves, including non-BMP ideographs and variation selectors, are kept byte for byte.

    Raises ``ValidationError``: ``JUKI-NAME-001`` empty, ``JUKI-NAME-003`` control characters,
    digits or markup characters, ``JUKI-NAME-002`` more than ``max_length`` characters
    (variation selectors do not count: they refine the glyph, they are not a character).
    """
    name = value.strip(_EDGE_SPACES)
    label = _label(field)
    if not name:
        raise ValidationError(
            "JUKI-NAME-001",
            ja=f"{label}を入力してください。",
            en=f"{field} is required.",
            field=field,
        )
    if not all(_name_char_ok(ch) for ch in name):
        raise ValidationError(
            "JUKI-NAME-003",
            ja=f"{label}に使用できない文字（制御文字・数字・記号）が含まれています。",
            en=f"{field} contains characters not allowed in a name "
            "(control characters, digits or symbols).",
            field=field,
        )
    length = sum(1 for ch in name if not _is_variation_selector(ch))
    if length > max_length:
        raise ValidationError(
            "JUKI-NAME-002",
            ja=f"{label}は{max_length}文字以内で入力してください。",
            en=f"{field} must be at most {max_length} characters.",
            field=field,
        )
    return name


# ---------------------------------------------------------------------------------------------
# Katakana readings
# ---------------------------------------------------------------------------------------------


def _is_hiragana(ch: str) -> bool:
    # ぁ-ゖ plus the hiragana iteration marks ゝゞ and the ligature ゟ.
    return "\u3041" <= ch <= "\u3096" or "\u309d" <= ch <= "\u309f"


def _is_halfwidth_katakana(ch: str) -> bool:
    # ･ through ﾟ: half-width katakana with their voicing marks and middle dot.
    return "\uff65" <= ch <= "\uff9f"


def _is_reading_char(ch: str) -> bool:
    # ァ-ヶ (which includes ヴ), the prolonged sound mark ー and the iteration marks ヽヾ.
    return "\u30a1" <= ch <= "\u30f6" or ch in "ーヽヾ"


def validate_kana(value: str, *, field: str, max_length: int = 60) -> str:
    """Validate a full-width katakana reading and return it with outer spaces trimmed.

    Allowed: ァ-ヶ, ヴ, ー, ヽ, ヾ, and a single full-width space between words.

    Raises ``ValidationError``: ``JUKI-NAME-011`` empty, ``JUKI-NAME-012`` hiragana,
    ``JUKI-NAME-013`` half-width katakana, ``JUKI-NAME-014`` any other character (including
    ASCII or doubled spaces), ``JUKI-NAME-015`` longer than ``max_length``.
    """
    reading = value.strip(_EDGE_SPACES)
    label = _label(field)
    if not reading:
        raise ValidationError(
            "JUKI-NAME-011",
            ja=f"{label}を入力してください。",
            en=f"{field} is required.",
            field=field,
        )
    # The specific mistakes come first so the clerk is told what to fix, not merely that
    # something is wrong.
    if any(_is_hiragana(ch) for ch in reading):
        raise ValidationError(
            "JUKI-NAME-012",
            ja=f"{label}にひらがなは使用できません。全角カタカナで入力してください。",
            en=f"{field} must not contain hiragana; use full-width katakana.",
            field=field,
        )
    if any(_is_halfwidth_katakana(ch) for ch in reading):
        raise ValidationError(
            "JUKI-NAME-013",
            ja=f"{label}に半角カタカナは使用できません。全角カタカナで入力してください。",
            en=f"{field} must not contain half-width katakana; use full-width katakana.",
            field=field,
        )
    words = reading.split(_IDEOGRAPHIC_SPACE)
    # An empty word means two spaces in a row (the ends were trimmed above).
    if not all(word and all(_is_reading_char(ch) for ch in word) for word in words):
        raise ValidationError(
            "JUKI-NAME-014",
            ja=f"{label}は全角カタカナで入力してください（語の区切りは全角スペース1つ）。",
            en=f"{field} must be full-width katakana, with a single full-width space "
            "between words.",
            field=field,
        )
    if len(reading) > max_length:
        raise ValidationError(
            "JUKI-NAME-015",
            ja=f"{label}は{max_length}文字以内で入力してください。",
            en=f"{field} must be at most {max_length} characters.",
            field=field,
        )
    return reading


# ---------------------------------------------------------------------------------------------
# The name as a value
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonName:
    """A resident's name as registered: written form and katakana reading, family and given."""

    family: str
    given: str
    family_kana: str
    given_kana: str
    #: MJ identifiers of the characters outside JIS X 0213 (:mod:`jukinet.domain.mj_names`),
    #: in their one-text form; empty when there are none.
    family_mj: str = ""
    given_mj: str = ""

    @classmethod
    def create(cls, *, family: str, given: str, family_kana: str, given_kana: str) -> PersonName:
        """Validate all four parts and build the name.

        Every part is checked: one broken part raises its ``ValidationError``, several raise a
        :class:`~jukinet.domain.errors.FieldErrors` with each, so a form can mark them all.
        """
        checks = (
            (validate_name, family, "family_name"),
            (validate_name, given, "given_name"),
            (validate_kana, family_kana, "family_name_kana"),
            (validate_kana, given_kana, "given_name_kana"),
        )
        parts: list[str] = []
        errors: list[DomainError] = []
        for validate, value, field in checks:
            try:
                parts.append(validate(value, field=field))
            except ValidationError as error:
                errors.append(error)
        if len(errors) == 1:
            raise errors[0]
        if errors:
            raise FieldErrors(errors)
        return cls(family=parts[0], given=parts[1], family_kana=parts[2], given_kana=parts[3])

    @property
    def full(self) -> str:
        """Family and given name separated by a full-width space (山田　太郎)."""
        return f"{self.family}{_IDEOGRAPHIC_SPACE}{self.given}"

    @property
    def full_kana(self) -> str:
        """The reading, family first, separated by a full-width space (ヤマダ　タロウ)."""
        return f"{self.family_kana}{_IDEOGRAPHIC_SPACE}{self.given_kana}"


# ---------------------------------------------------------------------------------------------
# Search keys
# ---------------------------------------------------------------------------------------------

# Variants that joyokanji leaves alone (邉, 濵, 嵜, 𥔎 …) or that we want folded even if a future
# joyokanji drops them. Every pair is a recognised 異体字 relation; related but distinct
# characters (斎/斉, 崎/埼) are deliberately NOT joined.
_OUR_VARIANTS: Mapping[str, str] = {
    "邉": "辺",
    "邊": "辺",
    "濵": "浜",
    "濱": "浜",
    "﨑": "崎",
    "嵜": "崎",
    "\U0002550e": "崎",  # 𥔎, the "立崎"
    "齋": "斎",
    "齊": "斉",
    "德": "徳",
    "惠": "恵",
    "髙": "高",
    "\U00020bb7": "吉",  # 𠮷, the "つちよし"
    "廣": "広",
    "國": "国",
    "澤": "沢",
    "櫻": "桜",
    "嶋": "島",
    "冨": "富",
    "渕": "淵",
    "舘": "館",
    "桒": "桑",
    "槇": "槙",
    "篭": "籠",
}

# Zero-width characters are not whitespace to str.isspace() but make equal-looking queries
# differ; a search key has no use for them.
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"


def _cvu_table() -> dict[str, str]:
    table: dict[str, str] = JaCvuNormalizer().mapping_table
    # The upstream table has ~28 rows whose key is a lone high surrogate (its non-BMP source
    # characters were mangled into UTF-16 halves). They can never match valid text, and we do
    # not want to turn stray surrogates into real kanji, so they are dropped.
    return {k: v for k, v in table.items() if not 0xD800 <= ord(k) <= 0xDFFF}


def _remove_spaces_and_selectors(text: str) -> str:
    return "".join(
        ch for ch in text if not (ch.isspace() or _is_variation_selector(ch) or ch in _ZERO_WIDTH)
    )


@functools.cache
def _name_key_table() -> dict[int, str | None]:
    """One ``str.translate`` table equivalent to the whole per-character pipeline.

    The documented pipeline is NFKC → drop selectors → joyokanji → our table → ja-cvu. Doing
    that per query costs ~1,700 ``str.replace`` calls in ja-cvu alone, so instead we compute,
    once, where every affected character ends up and keep only the result. Each character is
    pushed through the pipeline *until it stops changing*: ja-cvu sometimes emits a character
    joyokanji would fold further (⿑ → 齊 → 斉), and a key must be a fixed point or
    ``key(key(x)) != key(x)`` and a stored key would not match a re-keyed query.
    """
    cvu = _cvu_table()

    def step(text: str) -> str:
        text = unicodedata.normalize("NFKC", text)
        text = _remove_spaces_and_selectors(text)
        text = joyokanji.convert(text, variants=True)
        text = "".join(_OUR_VARIANTS.get(ch, ch) for ch in text)
        return "".join(cvu.get(ch, ch) for ch in text)

    # Seed with every character any stage might touch. joyokanji exposes no public table, so
    # its mappings are discovered by converting the whole code space once (one C-level
    # translate over ~1.1M characters; surrogates skipped as they cannot occur in valid text).
    candidates: set[str] = set(_OUR_VARIANTS) | set(cvu)
    every = "".join(chr(cp) for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF)
    converted = joyokanji.convert(every, variants=True)
    candidates.update(a for a, b in zip(every, converted, strict=True) if a != b)

    table: dict[int, str | None] = {}
    for ch in candidates:
        image = ch
        for _ in range(8):  # chains are at most two or three links long in practice
            following = step(image)
            if following == image:
                break
            image = following
        if image != ch:
            table[ord(ch)] = image
    # Deletions last, so they win over any mapping seeded above.
    for cp in (*range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0)):
        table[cp] = None
    # Every code point str.isspace() accepts lies at or below U+3000 (ideographic space).
    for cp in range(0x3001):
        ch = chr(cp)
        if ch.isspace() or ch in _ZERO_WIDTH:
            table[cp] = None
    return table


def name_search_key(text: str) -> str:
    """Fold a written name into the key used for kanji search.

    NFKC, variation selectors removed, old and variant forms folded to their modern form
    (joyokanji, our table of name variants, ja-cvu-normalizer), all whitespace removed. So
    髙橋/高橋, 渡邊/渡邉/渡辺, 山﨑/山崎 and 齋藤/斎藤 share a key, while 山崎/山埼 do not. The
    result is idempotent: ``name_search_key(name_search_key(x)) == name_search_key(x)``.
    """
    table = _name_key_table()
    key = unicodedata.normalize("NFKC", text).translate(table)
    # Joining mapped characters can, in rare combining-mark contexts, produce a string that
    # NFKC would still change; go round again until it is stable (normally zero extra passes).
    for _ in range(4):
        if unicodedata.is_normalized("NFKC", key):
            break
        key = unicodedata.normalize("NFKC", key).translate(table)
    return key


# Small kana are folded to ordinary size: readings are typed inconsistently (キャ vs キヤ in old
# registers, which could not print small kana), and the key must not care.
_SMALL_TO_ORDINARY: dict[int, int] = str.maketrans(
    "ァィゥェォッャュョヮヵヶㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿ",
    "アイウエオツヤユヨワカケクシストヌハヒフヘホムラリルレロ",
)


def kana_search_key(text: str) -> str:
    """Fold a kana reading into the key used for reading search.

    NFKC (half-width to full-width katakana), hiragana to katakana, small kana to ordinary
    size, whitespace removed: 'やまだ', 'ヤマダ' and 'ﾔﾏﾀﾞ' all give 'ヤマダ'.
    """
    key = text
    # Removing a space can leave a combining mark next to a new base character ('A´' is NFKC
    # 'A' + space + U+0301), which NFKC would then compose; repeat until stable so the key is
    # idempotent. Real readings take exactly one pass.
    for _ in range(4):
        folded: str = jaconv.hira2kata(unicodedata.normalize("NFKC", key))
        folded = folded.translate(_SMALL_TO_ORDINARY)
        key = "".join(ch for ch in folded if not (ch.isspace() or ch in _ZERO_WIDTH))
        if unicodedata.is_normalized("NFKC", key):
            break
    return key


def _is_query_kana(ch: str) -> bool:
    return (
        "\u3041" <= ch <= "\u309f"  # hiragana, including voicing marks and ゝゞ
        or "\u30a1" <= ch <= "\u30fa"  # katakana ァ-ヺ
        or "\u30fc" <= ch <= "\u30ff"  # ー ヽ ヾ ヿ
        or "\u31f0" <= ch <= "\u31ff"  # small katakana extension (Ainu)
        or "\uff66" <= ch <= "\uff9f"  # half-width katakana, ｰ, ﾞ, ﾟ
    )


def is_kana_query(text: str) -> bool:
    """True if ``text`` is made only of kana (hiragana, katakana, half-width katakana, ー) and
    spaces, with at least one kana: search then uses ``kana_search_key``, else
    ``name_search_key``."""
    has_kana = False
    for ch in text:
        if _is_query_kana(ch):
            has_kana = True
        elif not ch.isspace():
            return False
    return has_kana
