"""What the certificate font can draw: its code points and its variation sequences.

Read once per font file with fontTools (WeasyPrint's own dependency). A name is printed only if
every character — and every ideographic variation sequence, exactly — is in the font; a
substitute glyph from another font would print a different character (髙 as 高).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jukinet.domain.errors import Conflict


@lru_cache(maxsize=4)
def font_coverage(path: Path) -> tuple[frozenset[int], frozenset[tuple[int, int]]]:
    """``(code points, (base, selector) sequences)`` the font at ``path`` maps."""
    from fontTools.ttLib import TTFont

    if not path.exists():
        raise Conflict(
            "JUKI-CERT-011",
            ja=f"証明書の書体がありません（{path}）。fonts-ipamj-mincho を導入してください。",
            en=f"The certificate font is missing ({path}): install fonts-ipamj-mincho.",
        )
    font = TTFont(str(path), lazy=True)
    covered: set[int] = set()
    sequences: set[tuple[int, int]] = set()
    for table in font["cmap"].tables:
        if table.format == 14:
            for selector, entries in table.uvsDict.items():
                sequences.update((base, selector) for base, _glyph in entries)
        elif table.isUnicode():
            covered.update(table.cmap)
    font.close()
    return frozenset(covered), frozenset(sequences)
