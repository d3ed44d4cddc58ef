"""Checking that a PDF draws a character with the font's own glyph (not a substitute, not
missing): find the character on the page (``pdftotext -bbox``), cut it out of the page rendered
to PNG (``pdftoppm``), and compare it with the glyph drawn straight from the font file.

Both pictures are trimmed to their ink and scaled to one size, so position and point size do
not matter; what is compared is the shape. 𠮷 against 吉 differs in a few percent of the
pixels, a missing glyph (a blank or a box) in far more.
"""

from __future__ import annotations

import html
import re
import subprocess
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

SIZE = 48
DPI = 600
_WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
)


def _normalised(image: Image.Image) -> Image.Image:
    grey = ImageOps.invert(image.convert("L"))  # ink is bright
    box = grey.point(lambda v: 255 if v > 96 else 0).getbbox()
    if box is None:
        return Image.new("1", (SIZE, SIZE), 0)
    return grey.crop(box).resize((SIZE, SIZE)).point(lambda v: 255 if v > 96 else 0).convert("1")


def font_glyph(char: str, font: Path) -> Image.Image:
    """``char`` drawn from the font file itself, normalised."""
    face = ImageFont.truetype(str(font), 200)
    canvas = Image.new("L", (300, 300), 255)
    ImageDraw.Draw(canvas).text((20, 20), char, font=face, fill=0)
    return _normalised(canvas)


def pdf_glyph(pdf: Path, char: str) -> Image.Image:
    """The first ``char`` printed on page 1 of ``pdf`` (full-width text), normalised."""
    boxes = subprocess.run(
        ["pdftotext", "-bbox", "-f", "1", "-l", "1", str(pdf), "-"],
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8")
    for match in _WORD.finditer(boxes):
        word = html.unescape(match.group(5))
        if char in word:
            x0, y0, x1, y1 = (float(match.group(i)) for i in range(1, 5))
            break
    else:
        raise AssertionError(f"U+{ord(char):04X} is not in the PDF's text")
    prefix = pdf.with_suffix("")
    subprocess.run(
        [
            "pdftoppm",
            "-f",
            "1",
            "-l",
            "1",
            "-r",
            str(DPI),
            "-png",
            "-singlefile",
            str(pdf),
            str(prefix),
        ],
        check=True,
    )
    page = Image.open(prefix.with_suffix(".png"))
    scale = DPI / 72
    width = (x1 - x0) / len(word)  # full-width characters are equally wide
    left = x0 + width * word.index(char)
    crop = page.crop(
        (int(left * scale), int(y0 * scale), int((left + width) * scale), int(y1 * scale))
    )
    return _normalised(crop)


def difference(a: Image.Image, b: Image.Image) -> float:
    """Share of the pixels that differ between two normalised glyphs (0: the same shape)."""
    pixels_a, pixels_b = a.tobytes(), b.tobytes()
    bits = sum(bin(x ^ y).count("1") for x, y in zip(pixels_a, pixels_b, strict=True))
    return bits / (SIZE * SIZE)
