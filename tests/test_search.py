"""The per-chunk CRF search on synthetic CRF → VMAF curves: pure, property-tested."""

from __future__ import annotations

import math

import msgspec
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from drapto.core.search import KNEE_MARGIN, SearchSettings, Trial, choose, next_crf, snap

SETTINGS = SearchSettings(target=93.0, crf_min=10.0, crf_max=55.0, max_tries=4)


def simulate(curve, search: SearchSettings, start: float) -> tuple[list[Trial], Trial]:
    trials: list[Trial] = []
    crf: float | None = snap(start, search)
    while crf is not None:
        assert crf not in {t.crf for t in trials}, "a CRF is never tried twice"
        assert search.crf_min <= crf <= search.crf_max
        assert crf * 4 == int(crf * 4), "quarter steps"
        trials.append(Trial(crf=crf, vmaf=curve(crf)))
        crf = next_crf(trials, search)
    assert len(trials) <= search.max_tries
    return trials, choose(trials, search)


starts = st.floats(10, 55)
slopes = st.floats(0.15, 1.5)
bends = st.floats(-0.01, 0.01)  # VMAF per CRF², both ways


def out_of_reach_above(last: Trial) -> bool:
    """Not even the steepest plausible slope (4 per CRF) brings `last` into the band by crf_max."""
    return last.vmaf - 4 * (SETTINGS.crf_max - last.crf) > SETTINGS.target + SETTINGS.above


def out_of_reach_below(last: Trial) -> bool:
    return last.vmaf + 4 * (last.crf - SETTINGS.crf_min) < SETTINGS.target - SETTINGS.below


def band_reachable(curve, search: SearchSettings) -> bool:
    """Some quarter step in range lands in the band (and comfortably: 0.5 inside it)."""
    steps = [search.crf_min + i * search.step for i in range(int((search.crf_max - search.crf_min) / search.step) + 1)]
    return any(search.target - search.below + 0.5 <= curve(c) <= search.target + search.above - 0.5 for c in steps)


@settings(max_examples=400, deadline=None)
@given(starts, slopes, bends, st.floats(20, 50))
def test_monotone_curves_end_in_band(start, slope, bend, crf_at_target):
    def curve(crf: float) -> float:
        x = crf - crf_at_target
        return 93.5 - slope * x - bend * x * abs(x)

    # falling everywhere by at least 0.1 VMAF per CRF: the flattest stretch measured (near 100) fell 0.15
    assume(all(curve(c) - curve(c + 0.25) >= 0.025 for c in (10 + i / 4 for i in range(180))))
    assume(curve(SETTINGS.crf_min) <= 100)  # VMAF never exceeds 100
    assume(band_reachable(curve, SETTINGS))
    trials, kept = simulate(curve, SETTINGS, start)
    assert SETTINGS.in_band(kept.vmaf), trials


@settings(max_examples=300, deadline=None)
@given(starts, st.floats(0.3, 1.5), st.floats(20, 50), st.integers(0, 10_000))
def test_noisy_curves_end_in_band_or_say_why(start, slope, crf_at_target, seed):
    def curve(crf: float) -> float:
        noise = 0.25 * math.sin(seed + crf * 7.3)  # deterministic wobble of ±0.25
        return 93.5 - slope * (crf - crf_at_target) + noise

    assume(band_reachable(curve, SETTINGS))
    trials, kept = simulate(curve, SETTINGS, start)
    assert SETTINGS.in_band(kept.vmaf), trials


@settings(deadline=None)  # a loaded CI machine once took longer than hypothesis's 200 ms for one example
@given(starts, st.floats(95.5, 99.9))
def test_a_flat_curve_above_the_band_keeps_the_highest_crf(start, level):
    trials, kept = simulate(lambda crf: level, SETTINGS, start)
    assert kept.crf == max(t.crf for t in trials)
    assert kept.crf == SETTINGS.crf_max or len(trials) == SETTINGS.max_tries or out_of_reach_above(kept)


@given(starts, st.floats(0.1, 1.0), st.floats(60, 91.5))
def test_unreachable_from_below_keeps_the_knee(start, slope, best):
    curve = lambda crf: best - slope * (crf - SETTINGS.crf_min)  # noqa: E731 (below the band everywhere)
    trials, kept = simulate(curve, SETTINGS, start)
    top = max(t.vmaf for t in trials)
    assert kept.vmaf >= top - KNEE_MARGIN
    assert kept.crf == max(t.crf for t in trials if t.vmaf >= top - KNEE_MARGIN)
    assert not SETTINGS.in_band(kept.vmaf)
    lowest = min(trials, key=lambda t: t.crf)
    assert lowest.crf == SETTINGS.crf_min or len(trials) == SETTINGS.max_tries or out_of_reach_below(lowest)


@settings(max_examples=300, deadline=None)
@given(starts, st.floats(85, 91.9), st.floats(0.5, 1.5), st.floats(0.03, 0.3), st.floats(10, 40))
def test_a_curve_that_flattens_below_the_band_keeps_a_cheaper_try_near_its_best(start, ceiling, scale, rate, knee_at):
    """Small pictures scored at 1080p: VMAF rises as CRF falls, then flattens under the band. The kept try is
    never more than KNEE_MARGIN below the best measured, and never a lower CRF than it needs to be."""

    def curve(crf: float) -> float:
        return ceiling - scale * math.exp(rate * (crf - knee_at))  # saturates at `ceiling` as CRF falls

    assume(curve(SETTINGS.crf_max) > 40)
    trials, kept = simulate(curve, SETTINGS, start)
    top = max(trials, key=lambda t: t.vmaf)
    assert kept.vmaf >= top.vmaf - KNEE_MARGIN
    assert kept.crf >= top.crf  # never the more expensive try when a cheaper one is within the margin
    assert all(t.crf <= kept.crf or t.vmaf < top.vmaf - KNEE_MARGIN for t in trials)


def test_the_knee_not_the_most_expensive_try():
    # 144p scored at 1080p: 88.9 at CRF 30, 90.6 at 20, 90.9 at 10 (the range's floor)
    trials = [Trial(crf=30, vmaf=88.9), Trial(crf=20, vmaf=90.6), Trial(crf=10, vmaf=90.9)]
    assert choose(trials, SETTINGS).crf == 20


@given(starts, st.floats(70, 91.9))
def test_settled_search_stops_at_the_first_try_under_the_band(start, level):
    settled = msgspec.structs.replace(SETTINGS, settle_below=True)
    trials, kept = simulate(lambda crf: level, settled, start)
    assert len(trials) == 1 and kept == trials[0]


def test_settled_search_still_climbs_from_over_the_band():
    settled = msgspec.structs.replace(SETTINGS, settle_below=True)
    assert next_crf([Trial(crf=20, vmaf=97.5)], settled) is not None


@given(starts, st.floats(0.1, 1.0), st.floats(95.5, 100))
def test_unreachable_from_above_keeps_the_cheapest_try(start, slope, worst):
    curve = lambda crf: worst + slope * (SETTINGS.crf_max - crf)  # noqa: E731 (above the band everywhere)
    trials, kept = simulate(curve, SETTINGS, start)
    assert kept.crf == max(t.crf for t in trials)
    assert kept.crf == SETTINGS.crf_max or len(trials) == SETTINGS.max_tries or out_of_reach_above(kept)


def test_a_try_that_cannot_reach_the_band_by_the_range_end_is_not_made():
    # 99.86 at CRF 54 (a saturated scene): even 4 VMAF per CRF leaves CRF 55 above 95
    assert next_crf([Trial(crf=38, vmaf=99.6), Trial(crf=54, vmaf=99.86)], SETTINGS) is None
    assert next_crf([Trial(crf=38, vmaf=99.6), Trial(crf=53, vmaf=99.86)], SETTINGS) == 55.0


def test_a_try_in_band_ends_the_search_at_once():
    assert next_crf([Trial(crf=30, vmaf=93.4)], SETTINGS) is None
    assert choose([Trial(crf=30, vmaf=96.0), Trial(crf=34, vmaf=93.4), Trial(crf=36, vmaf=91.0)], SETTINGS).crf == 34


def test_bracketing_tries_interpolate():
    # 96.5 at 30 and 90.5 at 40: the aim 93.5 lies halfway
    assert next_crf([Trial(crf=30, vmaf=96.5), Trial(crf=40, vmaf=90.5)], SETTINGS) == 35.0


@pytest.mark.parametrize(("crf", "expected"), [(34.1, 34.0), (34.2, 34.25), (3, 10.0), (70, 55.0)])
def test_snap_rounds_to_quarter_steps_within_range(crf, expected):
    assert snap(crf, SETTINGS) == expected


def probe_then_search(
    curve, window_bias: float, search: SearchSettings, start: float
) -> tuple[list[Trial], list[Trial], Trial]:
    """Probes on a window that reads `window_bias` off the chunk, then full encodes, as chunkwork runs them."""
    from drapto.core.search import MAX_PROBES, aim_from_probes, next_probe

    probes: list[Trial] = []
    crf: float | None = snap(start, search)
    while crf is not None:
        probes.append(Trial(crf=crf, vmaf=curve(crf) + window_bias))
        crf = next_probe(probes, search)
    assert len(probes) <= MAX_PROBES
    crf, slope = aim_from_probes(probes, search)
    trials: list[Trial] = []
    while crf is not None:
        trials.append(Trial(crf=crf, vmaf=curve(crf)))
        crf = next_crf(trials, search, slope)
    assert len(trials) <= search.max_tries
    return probes, trials, choose(trials, search)


@settings(max_examples=400, deadline=None)
@given(starts, slopes, bends, st.floats(20, 50), st.floats(-0.6, 0.3))
def test_probes_aim_the_first_full_encode(start, slope, bend, crf_at_target, bias):
    def curve(crf: float) -> float:
        x = crf - crf_at_target
        return 93.5 - slope * x - bend * x * abs(x)

    assume(all(curve(c) > curve(c + 0.25) for c in (10 + i / 4 for i in range(180))))
    assume(band_reachable(curve, SETTINGS))
    probes, trials, kept = probe_then_search(curve, bias, SETTINGS, start)
    assert SETTINGS.in_band(kept.vmaf), (probes, trials)


def test_two_probes_on_a_straight_curve_put_the_first_full_encode_in_band():
    curve = lambda crf: 93.5 - 0.9 * (crf - 27)  # noqa: E731 (steep: fine detail)
    probes, trials, kept = probe_then_search(curve, -0.4, SETTINGS, 38)
    assert len(probes) == 2 and len(trials) == 1 and SETTINGS.in_band(kept.vmaf)


def test_a_saturated_probe_jumps_far_but_not_off_a_cliff():
    from drapto.core.search import MAX_ASSUMED_STEP, next_probe

    # 99.9 at CRF 38: near 100 VMAF hardly moves, so the step is long, but on an assumed slope it is
    # capped (grain sat at 99.7 at CRF 38 and fell to 59 at 55)
    assert next_probe([Trial(crf=38, vmaf=99.9)], SETTINGS) == 38 + MAX_ASSUMED_STEP
    # a measured slope is followed as far as it says
    assert next_crf([Trial(crf=30, vmaf=99.9), Trial(crf=38, vmaf=99.5)], SETTINGS) == 55.0


def test_a_flat_curve_just_above_the_band_jumps_instead_of_crawling():
    # all-black HDR footage: 97.43 at every CRF, target 95 (band 94-97)
    hdr = SearchSettings(target=95.0, crf_min=10.0, crf_max=55.0, max_tries=4)
    trials, kept = simulate(lambda crf: 97.43, hdr, 34.75)
    assert [t.crf for t in trials] == [34.75, 37.25, 50.0, 55.0] and kept.crf == 55.0


def test_predict_vmaf_interpolates_between_and_extrapolates_beyond():
    from drapto.core.search import predict_vmaf

    points = [Trial(crf=30, vmaf=96.0), Trial(crf=40, vmaf=91.0)]
    assert predict_vmaf(points, 34) == pytest.approx(94.0)
    assert predict_vmaf(points, 44, slope=0.5) == pytest.approx(89.0)
    assert predict_vmaf([], 30) is None
