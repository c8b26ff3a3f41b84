"""Out of reach from below: the scouts, what later chunks start from, the one warning. Pure."""

from __future__ import annotations

from drapto.core import reach
from drapto.core.search import SearchSettings
from drapto.core.units import ChunkResult, TryRecord

SEARCH = SearchSettings(target=93.0)


def result(index: int, crf: float, vmaf: float, tries: tuple[tuple[float, float], ...] = ()) -> ChunkResult:
    records = tuple(TryRecord(key="k", crf=c, vmaf=v, frames_scored=10, bytes=1, seconds=1.0) for c, v in tries)
    return ChunkResult(
        index=index, start=index * 10, end=index * 10 + 10, start_time=0.0, end_time=1.0, crf=crf, predicted_vmaf=None,
        vmaf=vmaf, in_band=SEARCH.in_band(vmaf), bytes=1, seconds=1.0, tries=records or ((TryRecord(
            key="k", crf=crf, vmaf=vmaf, frames_scored=10, bytes=1, seconds=1.0)),),
    )  # fmt: skip


def test_most_scouts_below_the_band_settle_at_their_median_knee():
    scouts = [result(0, 20, 90.6), result(1, 22.5, 91.0), result(2, 34, 93.5)]
    assert reach.settle_crf(scouts, SEARCH) == 21.25
    assert reach.settle_crf([result(0, 20, 90.6), result(1, 34, 93.5), result(2, 30, 94.0)], SEARCH) is None


def test_the_warning_gives_the_evidence_and_what_to_change():
    results = [result(0, 20, 90.6, ((30, 88.9), (20, 90.6), (10, 90.9))), result(1, 34, 93.5), result(2, 25, 89.0)]
    warning = reach.out_of_reach_warning(results, SEARCH, "at 1920x1080")
    assert warning.startswith("VMAF 93 is out of reach for 2 of 3 chunks: their best VMAF measured 89.0-90.9")
    assert "CRF 20-25" in warning and "--target-vmaf" in warning and "--vmaf-scale none" in warning
    assert reach.out_of_reach_warning([result(1, 34, 93.5)], SEARCH, "") is None
