"""A per-film model of where each chunk's CRF lies, learnt from the film's own scouts. Pure.

A film's shots recur (shot / reverse shot, a location returned to, the same grain throughout), so what a
few chunks measured places the rest. The scouts are chosen up front to span the film's difficulty (the
bytes the source's encoder spent per pixel, from the scene scan), they are searched as before, and every
other chunk starts from its nearest scouts in that feature: at their CRF at the aim, with their slope.
Where the nearest scouts are close and agree, the model is sure and the chunk's first full encode is its
try (no window probe); elsewhere the probes remain, aimed from the model instead of the global prior.

Deterministic by construction: a chunk's prediction uses only the scouts' results, and which chunks are
scouts is fixed by the plan, so a resumed run and an uninterrupted one choose the same CRFs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import msgspec

from drapto.core.search import PRIOR_SLOPE, SearchSettings, Trial, crf_for_aim, slope_between, snap

# Share of a film's chunks that scout (at least MIN_SCOUTS, at most all of them).
SCOUT_SHARE = 0.2
MIN_SCOUTS = 3
# Neighbours a prediction averages; how near (in log2 of bits per pixel: 0.3 is 23 % more or fewer bits)
# a scout must be to vouch for a chunk, and how far apart the vouching scouts' CRFs may be, for the model
# to be sure.
NEIGHBOURS = 2
SURE_DISTANCE = 0.3
SURE_SPREAD = 4.0
# How much a difference in mean scene-change score (scdet, 0–100) counts against one in log2 bits per pixel.
CHANGE_WEIGHT = 0.02


class Features(msgspec.Struct, frozen=True, kw_only=True):
    """What the scene scan says of a chunk before anything is encoded."""

    bits_per_pixel: float  # the source's bits per pixel per frame over the chunk
    change: float  # its mean scdet score: how much the picture moves from frame to frame


class Point(msgspec.Struct, frozen=True, kw_only=True):
    """A scout's measurement: its features, the CRF where its curve meets the aim, and its slope."""

    features: Features
    crf: float
    slope: float


class Prediction(msgspec.Struct, frozen=True, kw_only=True):
    crf: float  # the first CRF to try (snapped to the range)
    vmaf: float  # what that CRF is predicted to score (the aim, clamped to 0–100)
    slope: float  # VMAF per CRF the search starts from
    sure: bool  # near, agreeing scouts: the first full encode is the try, no window probe
    scouts: tuple[int, ...]  # the chunks (indices) it came from


def chunk_features(
    frame_bytes: Sequence[int], scores: Sequence[float], start: int, end: int, pixels: int
) -> Features | None:
    """The features of frames [start, end): None when the scan has no packet sizes (an older scan)."""
    if not frame_bytes or end <= start or pixels <= 0 or len(frame_bytes) < end:
        return None
    frames = end - start
    return Features(
        bits_per_pixel=sum(frame_bytes[start:end]) * 8 / (frames * pixels),
        change=sum(scores[start:end]) / frames if len(scores) >= end else 0.0,
    )


def distance(a: Features, b: Features) -> float:
    log_a, log_b = math.log2(max(a.bits_per_pixel, 1e-6)), math.log2(max(b.bits_per_pixel, 1e-6))
    return abs(log_a - log_b) + CHANGE_WEIGHT * abs(a.change - b.change)


def choose_scouts(features: Sequence[Features | None]) -> tuple[int, ...]:
    """Which chunks scout: spread evenly over the film's range of difficulty (the chunks sorted by bits per
    pixel, taken at even steps), so every kind of shot has a scout near it. Without features, every
    chunk scouts (nothing can be predicted). Sorted by index."""
    count = len(features)
    if count == 0 or any(f is None for f in features):
        return tuple(range(count))
    wanted = min(count, max(MIN_SCOUTS, math.ceil(count * SCOUT_SHARE)))
    order = sorted(range(count), key=lambda i: (features[i].bits_per_pixel, i))  # type: ignore[union-attr]
    if wanted == count:
        return tuple(range(count))
    picks = {order[round(k * (count - 1) / (wanted - 1))] for k in range(wanted)} if wanted > 1 else {order[count // 2]}
    return tuple(sorted(picks))


def measured_point(
    features: Features, tries: Sequence[Trial], probes: Sequence[Trial], settings: SearchSettings
) -> Point | None:
    """What a scout's tries say: the CRF where its curve meets the aim, and its slope (from two full
    encodes, else from two probes, else the prior)."""
    if not tries:
        return None
    slope = None
    for group in (tries, probes):
        if slope is None and len(group) >= 2:
            nearest = sorted(group, key=lambda t: abs(t.vmaf - settings.aim))[:2]
            slope = slope_between(*sorted(nearest, key=lambda t: t.crf))
    slope = slope or PRIOR_SLOPE
    crf = crf_for_aim(list(tries), settings, slope)
    return Point(features=features, crf=min(max(crf, settings.crf_min), settings.crf_max), slope=slope)


def predict(features: Features, points: Sequence[tuple[int, Point]], settings: SearchSettings) -> Prediction | None:
    """The chunk's start from its nearest scouts (index, point), weighted by nearness; None without any."""
    if not points:
        return None
    ranked = sorted(points, key=lambda item: (distance(features, item[1].features), item[0]))[:NEIGHBOURS]
    weights = [1.0 / (distance(features, point.features) + 0.05) for _, point in ranked]
    total = sum(weights)
    crf = sum(w * point.crf for w, (_, point) in zip(weights, ranked, strict=True)) / total
    slope = sum(w * point.slope for w, (_, point) in zip(weights, ranked, strict=True)) / total
    near = [point.crf for _, point in ranked if distance(features, point.features) <= SURE_DISTANCE]
    sure = bool(near) and max(near) - min(near) <= SURE_SPREAD
    return Prediction(
        crf=snap(crf, settings),
        vmaf=min(max(settings.aim, 0.0), 100.0),
        slope=slope,
        sure=sure,
        scouts=tuple(index for index, _ in ranked),
    )
