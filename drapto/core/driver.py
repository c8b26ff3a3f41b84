"""The per-chunk search driver: from what a chunk has measured so far, what to measure next (a window
probe or a full try) or which try to keep. Pure.

The chunk unit (`graph/chunkwork.py`) runs what it asks for with real encodes; the offline replay
(`benchmarks/search_replay.py`) answers from measured curves. Both call `next_action` with every
measurement so far and nothing else, so the same measurements always give the same decisions, and a
change to the search shows in both at once.

The size ceiling: a chunk's kept encode may not hold more bytes than the source spent on the same
frames (times the configured share). Spending more than the source did buys fidelity to the source's own
artifacts, not a better picture. When the CRF that reaches the band would break the ceiling, the driver
keeps the lowest measured CRF under it instead (the best picture that fits), marked capped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import msgspec

from drapto.core.search import (
    PRIOR_SLOPE,
    SearchSettings,
    Trial,
    aim_from_probes,
    choose,
    next_crf,
    next_probe,
    predict_vmaf,
)

# Bytes kept per CRF step when only one try over the ceiling is measured: SVT-AV1 at preset 6 lost 6–22 %
# per CRF step between CRF 25 and 40 (../shared/reference/measurements.md: 42.6/30.5/14.3/4.2 MB at
# CRF 25/30/35/40); the flat end is the safe guess (a step that falls short costs another try, one
# that overshoots costs picture).
PRIOR_BYTES_PER_CRF = 0.93
# A capped chunk aims this far under the ceiling, so noise in the bytes-against-CRF line does not leave
# the aimed try just over it.
CEILING_AIM = 0.97
# A capped chunk stops refining when the try under the ceiling is within this many CRF of one over it.
CEILING_PRECISION = 1.0
# Full encodes a capped chunk may add beyond `max_tries` to get under the ceiling precisely.
CEILING_EXTRA_TRIES = 2


class Probe(msgspec.Struct, frozen=True, tag=True):
    """Encode and score the chunk's probe window at `crf`."""

    crf: float


class Try(msgspec.Struct, frozen=True, tag=True):
    """Encode and score the whole chunk at `crf`; `predicted` is what the measurements so far say it scores."""

    crf: float
    predicted: float | None


class Confirm(msgspec.Struct, frozen=True, tag=True):
    """Score the try at `crf` again on all its frames: its reading is in the band, but within the subset's
    error of the lower edge. The confirmed reading replaces it, and the search goes on from there."""

    crf: float


class Keep(msgspec.Struct, frozen=True, tag=True):
    """Keep the try at `crf`; `capped`: under the band because the band's CRF would break the size ceiling."""

    crf: float
    capped: bool = False


Action = Probe | Try | Confirm | Keep


class Driver(msgspec.Struct, frozen=True, kw_only=True):
    """What a chunk's search starts from."""

    settings: SearchSettings
    start_crf: float
    predicted: float | None = None  # what the start CRF is expected to score (no probe measured)
    slope: float | None = None  # the VMAF per CRF the search starts from (None: the prior)
    probe: bool = False  # the chunk has a probe window
    ceiling: int | None = None  # the most bytes its kept encode may hold (None: no ceiling)


def next_action(driver: Driver, probes: Sequence[Trial], tries: Sequence[Trial]) -> Action:
    """The next step of the chunk's search. Probes come first (one or two, aiming the first full
    encode); then full tries until one lands in the band (or the search can do no better); then, with a
    ceiling, tries up the CRF scale until the kept one fits under it. A try to be kept in the band whose
    reading may be under it on all frames is confirmed on all frames first."""
    action = _search(driver, probes, tries)
    if isinstance(action, Keep) and not action.capped:
        kept = next(t for t in tries if t.crf == action.crf)
        edge = driver.settings.target - driver.settings.below
        if kept.floor is not None and kept.vmaf >= edge > kept.floor:
            return Confirm(kept.crf)
    return action


def _search(driver: Driver, probes: Sequence[Trial], tries: Sequence[Trial]) -> Action:
    # a try its confirmation moved under the band does not count against the tries: it was a misreading
    edge = driver.settings.target - driver.settings.below
    misread = sum(1 for t in tries if t.confirmed and t.vmaf < edge)
    if misread:
        settings = driver.settings
        driver = msgspec.structs.replace(
            driver, settings=msgspec.structs.replace(settings, max_tries=settings.max_tries + misread)
        )
    settings = driver.settings
    slope = driver.slope or PRIOR_SLOPE
    if driver.probe and not tries:
        if not probes:
            return Probe(driver.start_crf)
        second = next_probe(list(probes), settings, slope)
        if second is not None:
            return Probe(second)
    if driver.probe and probes:
        first, slope = aim_from_probes(list(probes), settings)
        if not tries:
            return Try(first, _predicted(probes, first, slope))
    if not tries:
        return Try(driver.start_crf, _recorded(driver.predicted))
    wanted = next_crf(list(tries), settings, slope)
    over = [t for t in tries if driver.ceiling is not None and t.bytes > driver.ceiling]
    if wanted is not None and (not over or wanted > max(t.crf for t in over)):
        return Try(wanted, _predicted(tries, wanted, slope))
    if not over:
        return Keep(choose(list(tries), settings).crf)
    return _under_ceiling(driver, tries, over)


def _under_ceiling(driver: Driver, tries: Sequence[Trial], over: list[Trial]) -> Action:
    """Some try broke the ceiling: keep the best try under it when it reaches the band, else step up the
    CRF scale towards the ceiling (bytes against CRF as a straight line in log bytes) and keep the lowest
    CRF that fits, capped."""
    settings = driver.settings
    ceiling = driver.ceiling or 0
    fits = [t for t in tries if t.bytes <= ceiling]
    if fits:
        best = choose(fits, settings)
        if best.vmaf >= settings.target - settings.below:
            return Keep(best.crf)
    highest_over = max(over, key=lambda t: t.crf)
    above = [t for t in fits if t.crf > highest_over.crf]
    nearest_fit = min(above, key=lambda t: t.crf) if above else None
    out_of_tries = len(tries) >= settings.max_tries + CEILING_EXTRA_TRIES
    if nearest_fit is not None and (nearest_fit.crf - highest_over.crf <= CEILING_PRECISION or out_of_tries):
        return Keep(nearest_fit.crf, capped=True)
    if highest_over.crf >= settings.crf_max:  # nothing higher to try: the least bytes measured
        return Keep(highest_over.crf, capped=True)
    crf = _ceiling_crf(highest_over, nearest_fit, over, ceiling * CEILING_AIM, settings)
    tried = {t.crf for t in tries}
    while crf in tried and crf < settings.crf_max:
        crf = min(crf + settings.step, settings.crf_max)
    if nearest_fit is not None and crf >= nearest_fit.crf:
        return Keep(nearest_fit.crf, capped=True)
    return Try(crf, _predicted(tries, crf, PRIOR_SLOPE))


def _ceiling_crf(over: Trial, fit: Trial | None, all_over: list[Trial], aim: float, settings: SearchSettings) -> float:
    """The CRF where the bytes should reach `aim`, rounded up to the step and kept between the highest
    try over the ceiling and the nearest try under it."""
    other = fit or next((t for t in sorted(all_over, key=lambda t: -t.crf) if t.crf < over.crf), None)
    ratio = PRIOR_BYTES_PER_CRF
    if other is not None and other.bytes > 0 and over.bytes > 0 and other.bytes != over.bytes:
        ratio = (other.bytes / over.bytes) ** (1 / (other.crf - over.crf))
        ratio = min(max(ratio, 0.5), PRIOR_BYTES_PER_CRF)  # never a flatter line than the prior's
    steps = math.log(aim / over.bytes) / math.log(ratio) if over.bytes > aim else settings.step
    crf = math.ceil((over.crf + max(steps, settings.step)) / settings.step) * settings.step
    crf = min(crf, settings.crf_max)
    if fit is not None:
        crf = min(crf, fit.crf)
    return crf


def _predicted(points: Sequence[Trial], crf: float, slope: float) -> float | None:
    return _recorded(predict_vmaf(list(points), crf, slope))


def _recorded(value: float | None) -> float | None:
    """A predicted VMAF as recorded: within 0–100 (a straight line through two tries can pass 100)."""
    return None if value is None else round(min(max(value, 0.0), 100.0), 4)
