"""The pure search driver (core.driver) on synthetic chunks: a falling CRF → VMAF curve and bytes that
fall by a steady share per CRF step, with and without a size ceiling. Property-tested."""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from drapto.core.driver import Driver, Keep, Probe, Try, next_action
from drapto.core.search import SearchSettings, Trial

SETTINGS = SearchSettings(target=93.0, crf_min=10.0, crf_max=55.0, max_tries=4)


def drive(driver: Driver, vmaf, size, window_bias: float = 0.0) -> tuple[list[Trial], list[Trial], Keep]:
    """Run the driver to its end against the curves, as the chunk unit runs it against real encodes."""
    probes: list[Trial] = []
    tries: list[Trial] = []
    for _ in range(40):
        action = next_action(driver, probes, tries)
        if isinstance(action, Keep):
            assert action.crf in {t.crf for t in tries}, "only a measured try is kept"
            return probes, tries, action
        assert driver.settings.crf_min <= action.crf <= driver.settings.crf_max
        assert action.crf * 4 == int(action.crf * 4), "quarter steps"
        if isinstance(action, Probe):
            assert action.crf not in {p.crf for p in probes}
            probes.append(Trial(crf=action.crf, vmaf=vmaf(action.crf) + window_bias))
        else:
            assert isinstance(action, Try)
            assert action.crf not in {t.crf for t in tries}, "a CRF is never tried twice"
            tries.append(Trial(crf=action.crf, vmaf=vmaf(action.crf), bytes=size(action.crf)))
    raise AssertionError(f"the driver did not stop: {probes} {tries}")


def curves(crf_at_target: float, slope: float, bytes_at_target: int, ratio: float):
    def vmaf(crf: float) -> float:
        return min(100.0, 93.5 - slope * (crf - crf_at_target))

    def size(crf: float) -> int:
        return max(1, round(bytes_at_target * ratio ** (crf - crf_at_target)))

    return vmaf, size


starts = st.integers(120, 180).map(lambda q: q / 4)  # start CRFs 30-45, quarter steps as the plan gives
chunks = st.tuples(
    st.floats(20, 50),  # the CRF that scores 93.5
    st.floats(0.3, 1.5),  # VMAF per CRF
    st.integers(100_000, 10_000_000),  # bytes at that CRF
    st.floats(0.8, 0.95),  # bytes kept per CRF step
)


@settings(max_examples=300, deadline=None)
@given(chunks, st.floats(0.2, 3.0), starts, st.booleans())
def test_the_kept_try_is_in_band_or_capped_and_never_over_the_ceiling(chunk, share, start, probe):
    crf_at_target, slope, at_target, ratio = chunk
    vmaf, size = curves(crf_at_target, slope, at_target, ratio)
    ceiling = round(at_target * share)
    assume(size(SETTINGS.crf_max) <= ceiling)  # the ceiling can be met at all
    assume(any(SETTINGS.in_band(vmaf(c / 4)) for c in range(40, 221)))  # the band can be reached
    driver = Driver(settings=SETTINGS, start_crf=start, probe=probe, ceiling=ceiling)
    _probes, tries, kept = drive(driver, vmaf, size)
    chosen = next(t for t in tries if t.crf == kept.crf)
    assert chosen.bytes <= ceiling, tries
    band_fits = any(SETTINGS.in_band(vmaf(c / 4)) and size(c / 4) <= ceiling for c in range(40, 221))
    if kept.capped:
        assert chosen.vmaf < SETTINGS.target - SETTINGS.below
        assert any(t.bytes > ceiling for t in tries), "capped only after a try broke the ceiling"
    else:
        assert SETTINGS.in_band(chosen.vmaf) or band_fits, tries
    if not band_fits:  # the ceiling binds: the best picture that fits, within the refinement's precision
        assert kept.capped
        lowest_fit = min(c / 4 for c in range(40, 221) if size(c / 4) <= ceiling)
        assert kept.crf - lowest_fit <= 1.0 or len(tries) >= SETTINGS.max_tries + 2, tries


@settings(max_examples=200, deadline=None)
@given(chunks, starts, st.booleans(), st.floats(-0.6, 0.3))
def test_without_a_ceiling_the_driver_is_the_search(chunk, start, probe, bias):
    """No ceiling, or one that never binds: the same tries and the same kept CRF."""
    crf_at_target, slope, at_target, ratio = chunk
    vmaf, size = curves(crf_at_target, slope, at_target, ratio)
    assume(any(SETTINGS.in_band(vmaf(c / 4)) for c in range(40, 221)))
    free = drive(Driver(settings=SETTINGS, start_crf=start, probe=probe), vmaf, size, bias)
    loose = drive(Driver(settings=SETTINGS, start_crf=start, probe=probe, ceiling=size(10) + 1), vmaf, size, bias)
    assert free == loose
    assert not free[2].capped


@settings(max_examples=100, deadline=None)
@given(chunks, st.floats(0.2, 3.0), starts, st.booleans())
def test_the_same_measurements_give_the_same_decisions(chunk, share, start, probe):
    crf_at_target, slope, at_target, ratio = chunk
    vmaf, size = curves(crf_at_target, slope, at_target, ratio)
    driver = Driver(settings=SETTINGS, start_crf=start, probe=probe, ceiling=round(at_target * share))
    assert drive(driver, vmaf, size) == drive(driver, vmaf, size)


def test_a_chunk_over_the_ceiling_in_band_climbs_to_the_first_crf_under_it():
    """In band at CRF 30 but at twice the source's bytes: the driver steps up the CRF scale by the bytes'
    measured line and keeps the lowest CRF that fits, capped."""
    vmaf, size = curves(30.0, 0.5, 2_000_000, 0.9)
    driver = Driver(settings=SETTINGS, start_crf=30.0, ceiling=1_000_000)
    _probes, tries, kept = drive(driver, vmaf, size)
    assert tries[0].crf == 30.0 and tries[0].bytes > 1_000_000
    assert kept.capped and size(kept.crf) <= 1_000_000
    assert size(kept.crf - 1.0) > 1_000_000 * 0.97 or len(tries) >= 6
