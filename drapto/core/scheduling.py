"""Which chunk to start first. Pure.

A chunk's work grows with its frames and with how hard its picture is to encode; the source's encoder
already said the second for free (its bits per pixel, from the scene scan). Starting the chunks expected
to cost most first leaves the short, easy ones to fill the workers at the end, instead of one long grain
chunk running alone while the other workers idle.
"""

from __future__ import annotations

import math

from drapto.core.units import ChunkUnit


def expected_cost(unit: ChunkUnit) -> float:
    """Frames × the square root of the source's bits per pixel (frames alone when the scan has no packet
    sizes): an encoder's time grows with a picture's difficulty far less than the bits do (a grain scene
    spends ~50× the bits of a still one, and takes a few times as long to encode)."""
    rate = unit.features.bits_per_pixel if unit.features is not None else 1.0
    return float(unit.chunk.frames * math.sqrt(max(rate, 1e-6)))
