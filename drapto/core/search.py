"""The per-chunk CRF search: which CRF to try next, and which try to keep. Pure.

Every try is a real final encode of the whole chunk, scored in the encode's own process, so the kept
chunk always has a measured VMAF. The search aims at the middle of the accepted band
(target −1 … target +2) and moves by the measured slope of VMAF against CRF: between the two tries
that bracket the aim when it has them, else from the nearest try with the slope of the two nearest, else
with a prior slope. CRFs are quarter steps within [crf_min, crf_max].
"""

from __future__ import annotations

import msgspec

# VMAF lost per CRF step when nothing is measured yet. Measured slopes near the band run from about 0.3 (clean,
# flat) to 1.3–1.8 (grain's cliff); a wrong prior costs most on the steep chunks, whose band is only 2–3 CRF
# wide, while a flat chunk's band is 7–10 CRF wide and forgives a short step. So the prior sits at the
# middle of that range (the relative error |true/prior − 1| is then smallest at both ends), not at the
# typical clean slope. Replayed offline on measured curves (benchmarks/search_replay.py), averaged over
# start CRFs 34–40: film.py's work 1.89× the kept encodes against 1.95× at 0.6, chunked.py's 1.77× against
# 1.82× (about 3 %; from CRF 38 alone the film read 1.56× against 1.97×, a lucky lump), every chunk in band;
# 0.9 and 1.0 were no better. Near 100 VMAF saturates and barely moves with CRF.
PRIOR_SLOPE = 0.75
SATURATED_VMAF = 98.0
SATURATED_SLOPE = 0.15
SLOPE_LIMITS = (SATURATED_SLOPE, 4.0)
# The furthest one step may go on an assumed slope (nothing measured yet): far enough to cross most of the
# range in two steps, short enough not to leap off a cliff (grain scored 99.7 at CRF 38 and 59 at 55).
MAX_ASSUMED_STEP = 8.0
# A first probe within this many VMAF of the aim needs no second probe: with the prior slope off by half
# either way, the first full encode still lands within the band's 1.5 on either side of the aim. On
# benchmarks/chunked.py, 3 (not 1) saved 3 of 15 probes and a full re-encode: 2.06x the plain encode's wall
# time instead of 2.41x, the same chunks in band. One probe per chunk at most was worse (3.42x: 14 full
# encodes for 8 chunks, one chunk needed 4): a second probe costs a fifth of a full encode, a miss all of one.
PROBE_CLOSE = 3.0
MAX_PROBES = 2
# When no try reaches the band from below, the kept try is the highest CRF within this many VMAF of the best
# measured: where spending more stopped buying quality (a 144p film scored at 1080p gained 0.3 VMAF for
# a third more bytes between CRF 20 and 10), not the most expensive try.
KNEE_MARGIN = 0.5


class SearchSettings(msgspec.Struct, frozen=True, kw_only=True):
    target: float
    below: float = 1.0  # a chunk is accepted from target - below …
    above: float = 2.0  # … to target + above
    crf_min: float = 10.0
    crf_max: float = 55.0
    step: float = 0.25
    max_tries: int = 4
    film_model: bool = False  # chunks that wait for the scouts start where the film model places them
    settle_below: bool = False  # earlier chunks found the band out of reach from below: a try under it ends the search

    @property
    def aim(self) -> float:
        """The middle of the band: prediction errors either way stay inside it longest."""
        return self.target + (self.above - self.below) / 2

    def in_band(self, vmaf: float) -> bool:
        return self.target - self.below <= vmaf <= self.target + self.above


class Trial(msgspec.Struct, frozen=True, kw_only=True):
    """One try: the chunk encoded at `crf` and scored."""

    crf: float
    vmaf: float  # its reading: the worst shot's VMAF
    bytes: int = 0
    seconds: float = 0.0
    floor: float | None = None  # the lowest the reading may be on all frames (None: it is exact)
    confirmed: bool = False  # read again on all frames (core.driver.Confirm)


def snap(crf: float, settings: SearchSettings) -> float:
    """Round to the CRF step and clamp to the range."""
    stepped = round(crf / settings.step) * settings.step
    return min(max(stepped, settings.crf_min), settings.crf_max)


def slope_between(a: Trial, b: Trial) -> float | None:
    """VMAF lost per CRF step between two tries: None when they do not show VMAF falling with CRF
    (noise), and never flatter than a saturated curve, so a flat stretch makes the search jump far
    instead of crawling."""
    if a.crf == b.crf:
        return None
    slope = (a.vmaf - b.vmaf) / (b.crf - a.crf)
    if slope < 0:
        return None
    return min(max(slope, SATURATED_SLOPE), SLOPE_LIMITS[1])


def _anchor(good: list[Trial], bad: list[Trial]) -> Trial | None:
    """The try to step on from when all tries sit on one side of the aim: the one furthest along the way
    (the highest CRF when all are too good, the lowest when all are too poor)."""
    if good and not bad:
        return max(good, key=lambda t: t.crf)
    if bad and not good:
        return min(bad, key=lambda t: t.crf)
    return None


def crf_for_aim(trials: list[Trial], settings: SearchSettings, prior_slope: float = PRIOR_SLOPE) -> float:
    """Where the measured points put the aim (unrounded)."""
    aim = settings.aim
    good = [t for t in trials if t.vmaf >= aim]  # at or above the aim: CRF may rise
    bad = [t for t in trials if t.vmaf < aim]
    if good and bad:
        upper = max(good, key=lambda t: t.crf)
        lower = min(bad, key=lambda t: t.crf)
        if lower.crf > upper.crf and upper.vmaf != lower.vmaf:
            share = (upper.vmaf - aim) / (upper.vmaf - lower.vmaf)
            return upper.crf + share * (lower.crf - upper.crf)
    nearest = sorted(trials, key=lambda t: abs(t.vmaf - aim))
    slope = None
    if len(nearest) >= 2:
        slope = slope_between(*sorted(nearest[:2], key=lambda t: t.crf))
    start = _anchor(good, bad) or nearest[0]
    if slope is not None:
        return start.crf + (start.vmaf - aim) / slope
    slope = SATURATED_SLOPE if start.vmaf >= SATURATED_VMAF else prior_slope
    step = (start.vmaf - aim) / slope
    return start.crf + max(-MAX_ASSUMED_STEP, min(MAX_ASSUMED_STEP, step))


def next_probe(probes: list[Trial], settings: SearchSettings, prior_slope: float = PRIOR_SLOPE) -> float | None:
    """The CRF of the second window probe, or None when the first landed close to the aim (or both ran).
    Probes only aim the first full encode; they are never kept."""
    if not probes or len(probes) >= MAX_PROBES or abs(probes[0].vmaf - settings.aim) <= PROBE_CLOSE:
        return None
    crf = snap(crf_for_aim(probes, settings, prior_slope), settings)
    return None if crf in {p.crf for p in probes} else crf


def aim_from_probes(probes: list[Trial], settings: SearchSettings) -> tuple[float, float]:
    """(the first full encode's CRF, the slope the rest of the search starts from)."""
    slope = None
    if len(probes) >= 2:
        slope = slope_between(*sorted(probes[:2], key=lambda t: t.crf))
    if slope is None:
        slope = SATURATED_SLOPE if probes[0].vmaf >= SATURATED_VMAF else PRIOR_SLOPE
    return snap(crf_for_aim(probes, settings, slope), settings), slope


def next_crf(trials: list[Trial], settings: SearchSettings, prior_slope: float = PRIOR_SLOPE) -> float | None:
    """The next CRF to try, or None when the search is over (a try is in band, tries are used up, or
    no untried CRF can do better)."""
    if not trials or any(settings.in_band(t.vmaf) for t in trials) or len(trials) >= settings.max_tries:
        return None
    if settings.settle_below and all(t.vmaf < settings.target - settings.below for t in trials):
        return None
    tried = {t.crf for t in trials}
    want = snap(crf_for_aim(trials, settings, prior_slope), settings)
    too_good = [t for t in trials if t.vmaf > settings.target + settings.above]
    too_bad = [t for t in trials if t.vmaf < settings.target - settings.below]
    # never step past a try that already failed on that side
    if too_bad:
        want = min(want, min(t.crf for t in too_bad) - settings.step)
    if too_good:
        want = max(want, max(t.crf for t in too_good) + settings.step)
    want = snap(want, settings)
    if want in tried or not _within_reach(trials, want, settings):
        return None
    if too_bad and want >= min(t.crf for t in too_bad):
        return None
    if too_good and want <= max(t.crf for t in too_good):
        return None
    return want


def _within_reach(trials: list[Trial], crf: float, settings: SearchSettings) -> bool:
    """Whether the band can be reached at all in the direction of `crf`, VMAF moving at most the steepest
    plausible slope per CRF from the try furthest along: a scene at 99.9 on CRF 54 cannot reach 95 by
    CRF 55, so that try is not worth an encode."""
    steepest = SLOPE_LIMITS[1]
    above = [t for t in trials if t.crf < crf]
    below = [t for t in trials if t.crf > crf]
    if above and not below:  # going up in CRF, from the highest try
        last = max(above, key=lambda t: t.crf)
        return last.vmaf - steepest * (settings.crf_max - last.crf) <= settings.target + settings.above
    if below and not above:  # going down
        last = min(below, key=lambda t: t.crf)
        return last.vmaf + steepest * (last.crf - settings.crf_min) >= settings.target - settings.below
    return True


def knee(trials: list[Trial]) -> Trial:
    """The highest CRF scoring within `KNEE_MARGIN` of the best VMAF measured."""
    best = max(t.vmaf for t in trials)
    return max((t for t in trials if t.vmaf >= best - KNEE_MARGIN), key=lambda t: t.crf)


def choose(trials: list[Trial], settings: SearchSettings) -> Trial:
    """The try to keep: in band, the one with the highest CRF (fewest bytes); else, if some try reached the
    band's floor, the highest CRF among those (over target, never under); else (out of reach from below)
    the knee of the measured curve."""
    if not trials:
        raise ValueError("no tries to choose from")
    in_band = [t for t in trials if settings.in_band(t.vmaf)]
    if in_band:
        return max(in_band, key=lambda t: t.crf)
    over = [t for t in trials if t.vmaf > settings.target + settings.above]
    if over:
        return max(over, key=lambda t: t.crf)
    return knee(trials)


def predict_vmaf(points: list[Trial], crf: float, slope: float = PRIOR_SLOPE) -> float | None:
    """What the measured points say `crf` will score: between the two that bracket it, else along `slope`
    from the nearest one. Recorded beside the measured VMAF, to show how well the search predicts."""
    if not points:
        return None
    below = [p for p in points if p.crf <= crf]
    above = [p for p in points if p.crf >= crf]
    if below and above:
        a, b = max(below, key=lambda p: p.crf), min(above, key=lambda p: p.crf)
        if a.crf == b.crf:
            return a.vmaf
        return a.vmaf + (b.vmaf - a.vmaf) * (crf - a.crf) / (b.crf - a.crf)
    nearest = min(points, key=lambda p: abs(p.crf - crf))
    return nearest.vmaf - slope * (crf - nearest.crf)
