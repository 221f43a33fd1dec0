"""The QR code a certificate carries (its verification URL), as an image fpdf2 can place.

Drawn straight from segno's module matrix: the same pixels as segno's PNG, without encoding a PNG
for fpdf2 to decode again (``tests/unit/documents/test_pdf_fast_paths.py`` compares the bytes).
"""

from __future__ import annotations

import segno
from PIL import Image


def qr_image(url: str) -> Image.Image:
    """The QR code of ``url`` as a 1-bit image: 8 pixels a module and a 4-module quiet zone.

    The same pixels as segno's PNG at ``scale=8, border=4`` (so the same PDF bytes), drawn
    straight from the module matrix instead of encoding a PNG for fpdf2 to decode again.
    """
    qr = segno.make(url, error="m", micro=False)  # Micro QR: many phones can't read it
    border, scale = 4, 8
    side = qr.symbol_size(scale=1, border=border)[0]
    light = b"\xff" * border
    modules = b"".join(
        light + bytes(0 if dark else 255 for dark in row) + light for row in qr.matrix_iter(scale=1, border=0)
    )
    pixels = light * side + modules + light * side
    small = Image.frombytes("L", (side, side), pixels)
    big = small.resize((side * scale, side * scale), Image.Resampling.NEAREST)
    return big.convert("1", dither=Image.Dither.NONE)
