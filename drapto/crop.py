"""Black-bar crop detection, the pure half: where to sample, what `limit` to give cropdetect, how to read
its output, and how to turn many per-sample answers into one crop.

A separate step runs ffmpeg; everything here is plain data in, plain data out, so the rules are testable.
"""

from __future__ import annotations

import re
from collections import Counter

import msgspec

# cropdetect prints `crop=W:H:X:Y`; signs allowed so a bogus negative value is seen (and then discarded).
_CROP_RE = re.compile(r"(?<![\w-])crop=(-?\d+):(-?\d+):(-?\d+):(-?\d+)")

# Black thresholds on the 8-bit scale: SDR video black is code 16; PQ/HLG black sits higher in code values
# (drapto's latest version used 100 for HDR).
SDR_BLACK_8BIT = 16
HDR_BLACK_8BIT = 100

# Transfer names meaning HDR, normalised (lowercase, no spaces/dots/dashes/underscores): MediaInfo says "PQ"
# and "HLG" (sometimes "SMPTE ST 2084" / "ARIB STD-B67"); ffprobe says "smpte2084" / "arib-std-b67".
_HDR_TRANSFERS = frozenset({"pq", "hlg", "smptest2084", "smpte2084", "aribstdb67"})


class CropCandidate(msgspec.Struct, frozen=True, kw_only=True):
    crop: str  # "W:H:X:Y" as one sample reported it
    count: int  # how many samples reported it


class CropDecision(msgspec.Struct, frozen=True, kw_only=True):
    crop: str | None  # "W:H:X:Y" for ffmpeg's crop filter, or None to keep the full frame
    reason: str
    candidates: tuple[CropCandidate, ...]  # most frequent first, then by string
    samples: int  # every sample given, including those that reported nothing


def parse_cropdetect(stderr: str) -> str | None:
    """The most frequent `W:H:X:Y` in one sample's cropdetect output (ties: smallest string), or None.

    cropdetect prints a line per frame and its first frames can still be settling, so the mode is the
    sample's answer rather than the last line.
    """
    counts = Counter(":".join(m.groups()) for m in _CROP_RE.finditer(stderr))
    if not counts:
        return None
    return min(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]


def is_hdr_transfer(transfer: str | None) -> bool:
    """True for PQ or HLG, in MediaInfo's or ffprobe's spelling (also "PQ / SMPTE ST 2084"-style lists)."""
    if not transfer:
        return False
    parts = (re.sub(r"[\s._-]", "", p).lower() for p in transfer.split("/"))
    return any(p in _HDR_TRANSFERS for p in parts)


def black_threshold(bit_depth: int | None, transfer: str | None) -> int:
    """The black threshold as an int in the SOURCE's own code values at `bit_depth` (None means 8).

    16 (SDR) or 100 (HDR) on the 8-bit scale, scaled by 2**(bit_depth-8) the way video levels scale, so
    10-bit SDR gives 64 (10-bit video black) and 10-bit HDR gives 400. For ffmpeg use
    `cropdetect_limit_arg`, which turns this into a bit-depth-independent fraction.
    """
    level = HDR_BLACK_8BIT if is_hdr_transfer(transfer) else SDR_BLACK_8BIT
    return level << max((bit_depth or 8) - 8, 0)


def cropdetect_limit_arg(bit_depth: int | None, transfer: str | None) -> str:
    """The value for cropdetect's `limit=` option: a fraction (< 1) of the maximum pixel value.

    cropdetect multiplies a limit below 1 by (2**depth - 1) of the frames it actually receives, but uses a
    limit of 1 or more as raw code values, unscaled: `limit=16` on a 10-bit decode sits far below 10-bit
    black (64), so nothing would count as black. The fraction is right whatever depth ffmpeg decodes to.
    """
    depth = max(bit_depth or 8, 8)
    return f"{black_threshold(depth, transfer) / ((1 << depth) - 1):.6g}"


def sample_times(duration: float, count: int = 141, start: float = 0.15, end: float = 0.85) -> list[float]:
    """`count` evenly spread times in seconds from `start` to `end` of `duration`, both ends included.

    The defaults skip intros and credits (which often have other framing); 141 points is every 0.5%.
    A single point is the middle of the span.
    """
    if not duration > 0 or duration == float("inf"):
        raise ValueError(f"duration must be positive and finite, got {duration!r}")
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count!r}")
    if count == 1:
        return [round(duration * (start + end) / 2, 2)]
    n = count - 1
    # weighted form hits `start` and `end` exactly, with no accumulated float step error
    return [round(duration * (start * (n - i) + end * i) / n, 2) for i in range(count)]


def crop_filter_size(crop: str) -> tuple[int, int]:
    """(width, height) of a `W:H:X:Y` crop: the frame size the encoder will see."""
    w, h, _, _ = _parse(crop)
    return w, h


def _parse(crop: str) -> tuple[int, int, int, int]:
    parts = crop.removeprefix("crop=").split(":")
    if len(parts) != 4:
        raise ValueError(f"not a W:H:X:Y crop: {crop!r}")
    w, h, x, y = (int(p) for p in parts)
    return w, h, x, y


def _margins(crop: str, width: int, height: int) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) rounded down to even, or None if malformed or out of the frame."""
    try:
        w, h, x, y = _parse(crop)
    except ValueError:
        return None
    margins = (y, height - y - h, x, width - x - w)
    if w <= 0 or h <= 0 or min(margins) < 0:
        return None
    return tuple(m - m % 2 for m in margins)  # type: ignore[return-value]


def decide_crop(width: int, height: int, sample_crops: list[str | None]) -> CropDecision:
    """One crop for the whole film: per edge, the least aggressive margin any sample saw.

    Each sample only proves that its own margins are black, so the per-edge minimum never cuts picture
    that any sample showed; films that change aspect ratio therefore end up uncropped. Margins round
    down to even so 4:2:0 chroma stays aligned and the result has even dimensions.
    """
    counts = Counter(c for c in sample_crops if c is not None)
    candidates = tuple(
        CropCandidate(crop=c, count=n) for c, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    )

    def decision(crop: str | None, reason: str) -> CropDecision:
        return CropDecision(crop=crop, reason=reason, candidates=candidates, samples=len(sample_crops))

    if not candidates:
        return decision(None, "no samples")
    valid = {m for c in candidates if (m := _margins(c.crop, width, height)) is not None}
    if not valid:
        return decision(None, "no usable crop candidates")
    top, bottom, left, right = (min(edge) for edge in zip(*valid))
    w, h = width - left - right, height - top - bottom
    if (w, h) == (width, height):
        # distinct rounded margins, so two spellings of the same even crop are not "multiple"
        return decision(None, "multiple aspect ratios detected, not cropping" if len(valid) > 1 else "no black bars")
    if w <= 0 or h <= 0 or w % 2 or h % 2:  # only an odd-sized frame gets here
        return decision(None, f"crop {w}:{h}:{left}:{top} has odd dimensions, not cropping")
    return decision(f"{w}:{h}:{left}:{top}", "black bars detected")
