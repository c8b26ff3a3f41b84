"""Black-bar crop detection, the pure half: where to sample, what `limit` to give cropdetect, how to read
its output, and how to turn many per-sample answers into one crop.

A separate step runs ffmpeg; everything here is plain data in, plain data out, so the rules are testable.
"""

from __future__ import annotations

import re
from collections import Counter

import msgspec

from drapto.core.hdr import hdr_transfer
from drapto.core.picture import Fields
from drapto.errors import InputError

# cropdetect prints `crop=W:H:X:Y`; signs allowed so a bogus negative value is seen (and then discarded).
_CROP_RE = re.compile(r"(?<![\w-])crop=(-?\d+):(-?\d+):(-?\d+):(-?\d+)")

# Black thresholds as fractions of the decoded frame's maximum value, which is how cropdetect reads a
# `limit` below 1. SDR: 16/255, 8-bit video black, the limit every drapto used. HDR: drapto passed
# `limit=100` to cropdetect, which applies a limit of 1 or more unscaled, to the 10-bit decode of a PQ/HLG
# source, so the working threshold was 100 of 1023 (about 25/255, near ffmpeg's own default of 24/255).
# Read as 100/255 instead, it would be about 25 nits in PQ and count dim picture as bars.
SDR_BLACK_LIMIT = 16 / 255
HDR_BLACK_LIMIT = 100 / 1023

# Sampling: every 0.5 % from 15 % to 85 % of the running time (141 points, drapto's latest sampler), but
# never closer than 2 s, so a one-minute clip costs 22 short decodes rather than 141 overlapping ones.
MAX_SAMPLES = 141
MIN_SAMPLE_SPACING = 2.0
SAMPLE_FRAMES = 10
SAMPLE_START, SAMPLE_END = 0.15, 0.85


class CropCandidate(msgspec.Struct, frozen=True, kw_only=True):
    crop: str  # "W:H:X:Y" as one sample reported it
    count: int  # how many samples reported it


class CropDecision(msgspec.Struct, frozen=True, kw_only=True):
    crop: str | None  # "W:H:X:Y" for ffmpeg's crop filter, or None to keep the full frame
    reason: str
    candidates: tuple[CropCandidate, ...]  # most frequent first, then by string
    samples: int  # every sample given, including those that reported nothing


class CropSample(msgspec.Struct, frozen=True, kw_only=True):
    time: float  # where the sample was asked for, in seconds (ffmpeg starts at the keyframe before it)
    crop: str | None  # its most frequent answer, None if cropdetect printed nothing


class CropAnalysis(msgspec.Struct, frozen=True, kw_only=True):
    """What crop.json holds: the setting, the raw samples and the decision taken from them, and what the
    same samples' idet said of the fields (the decision on interlacing)."""

    setting: str  # "auto", "none" or "W:H:X:Y"
    limit: str | None  # cropdetect's limit, when samples were taken
    samples: tuple[CropSample, ...]
    decision: CropDecision
    fields: Fields | None = None  # None: not judged (a crop.json from before interlace detection)


_SETTING_RE = re.compile(r"(\d+):(\d+):(\d+):(\d+)")


def crop_summary(crop: str | None, reason: str, samples: int) -> str:
    """ "1920:800:0:140 (black bars detected, 141 samples)" or "none (no black bars, 1 sample)"."""
    counted = f", {samples} sample{'s' if samples != 1 else ''}" if samples else ""
    return f"{crop or 'none'} ({reason}{counted})"


def check_crop_setting(value: str) -> str:
    """`auto`, `none` or `W:H:X:Y` (a leading `crop=` is accepted), normalised; InputError otherwise."""
    setting = value.strip().lower().removeprefix("crop=")
    if setting in ("auto", "none") or _SETTING_RE.fullmatch(setting):
        return setting
    raise InputError(f"crop must be auto, none or W:H:X:Y (e.g. 1920:800:0:140), got {value!r}")


def fixed_decision(setting: str, width: int, height: int) -> CropDecision:
    """The decision when the user chose (`none` or an explicit crop): checked against the frame, no samples."""
    if setting == "none":
        return CropDecision(crop=None, reason="cropping disabled by the crop setting", candidates=(), samples=0)
    w, h, x, y = _parse(setting)
    if w <= 0 or h <= 0 or x + w > width or y + h > height:
        raise InputError(f"crop {setting} does not fit the {width}x{height} frame")
    if any(v % 2 for v in (w, h, x, y)):
        raise InputError(f"crop {setting} must use even numbers (4:2:0 chroma is sampled in pairs)")
    reason = "no crop: the crop setting is the full frame" if (w, h) == (width, height) else "set by the crop setting"
    return CropDecision(crop=None if (w, h) == (width, height) else setting, reason=reason, candidates=(), samples=0)


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
    """True for PQ or HLG: the same rule `hdr.classify` uses, so the threshold and the HDR class agree."""
    return hdr_transfer(transfer) is not None


def _black_limit(transfer: str | None) -> float:
    return HDR_BLACK_LIMIT if is_hdr_transfer(transfer) else SDR_BLACK_LIMIT


def black_threshold(bit_depth: int | None, transfer: str | None) -> int:
    """The black threshold in the source's own code values at `bit_depth` (None means 8): 16/64/256 for
    8/10/12-bit SDR, 25/100/400 for 8/10/12-bit HDR. For reading, logs and tests; ffmpeg gets the
    depth-independent fraction from `cropdetect_limit_arg`."""
    depth = max(bit_depth or 8, 8)
    return round(_black_limit(transfer) * ((1 << depth) - 1))


def cropdetect_limit_arg(transfer: str | None) -> str:
    """The value for cropdetect's `limit=`: a fraction (< 1) of the maximum pixel value.

    cropdetect multiplies a limit below 1 by (2**depth - 1) of the frames it actually receives, but uses a
    limit of 1 or more as raw code values, unscaled: `limit=16` on a 10-bit decode sits far below 10-bit
    black (64), so nothing would count as black. A fraction is right whatever depth ffmpeg decodes to.
    """
    return f"{_black_limit(transfer):.6g}"


def sample_count(duration: float) -> int:
    """How many samples a film of `duration` seconds gets: MAX_SAMPLES, fewer for short films."""
    span = duration * (SAMPLE_END - SAMPLE_START)
    return max(1, min(MAX_SAMPLES, int(span // MIN_SAMPLE_SPACING) + 1))


def sample_times(
    duration: float, count: int = MAX_SAMPLES, start: float = SAMPLE_START, end: float = SAMPLE_END
) -> list[float]:
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


def _all_black(crop: str) -> bool:
    """cropdetect's answer for a frame with nothing above the limit: x1 > x2, so negative width/height."""
    try:
        w, h, _, _ = _parse(crop)
    except ValueError:
        return False
    return w <= 0 or h <= 0


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
        if all(_all_black(c.crop) for c in candidates):
            return decision(None, "every sample was entirely black")
        return decision(None, "no usable crop candidates")
    top, bottom, left, right = (min(edge) for edge in zip(*valid, strict=True))
    w, h = width - left - right, height - top - bottom
    if (w, h) == (width, height):
        # distinct rounded margins, so two spellings of the same even crop are not "multiple"
        return decision(None, "multiple aspect ratios detected, not cropping" if len(valid) > 1 else "no black bars")
    if w <= 0 or h <= 0 or w % 2 or h % 2:  # only an odd-sized frame gets here
        return decision(None, f"crop {w}:{h}:{left}:{top} has odd dimensions, not cropping")
    return decision(f"{w}:{h}:{left}:{top}", "black bars detected")
