"""Crop detection's pure rules: parsing cropdetect, the black threshold, sample times, and the per-edge decision."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from drapto.core.crop import (
    MAX_SAMPLES,
    MIN_SAMPLE_SPACING,
    CropCandidate,
    CropDecision,
    black_threshold,
    crop_filter_size,
    cropdetect_limit_arg,
    decide_crop,
    is_hdr_transfer,
    parse_cropdetect,
    sample_count,
    sample_times,
)

W, H = 1920, 1080


def line(crop: str, t: float = 0.0) -> str:
    w, h, x, y = (int(v) for v in crop.split(":"))
    return (
        f"[Parsed_cropdetect_0 @ 0x55d0c8a4b2c0] x1:{x} x2:{x + w - 1} y1:{y} y2:{y + h - 1} w:{w} h:{h} "
        f"x:{x} y:{y} pts:{int(t * 1000)} t:{t:.6f} limit:0.062745 crop={crop}"
    )


# --- parse_cropdetect ---------------------------------------------------------------------------------


def test_parse_takes_the_most_frequent():
    stderr = "\n".join(
        ["Input #0, matroska,webm, from 'film.mkv':", line("1920:1072:0:4")]
        + [line("1920:800:0:140", t) for t in range(5)]
        + [line("1920:1080:0:0")] * 2
        + ["frame=   10 fps=0.0 q=-0.0 Lsize=N/A time=00:00:00.41 bitrate=N/A speed=4.1x"]
    )
    assert parse_cropdetect(stderr) == "1920:800:0:140"


def test_parse_breaks_ties_by_smallest_string():
    stderr = "\n".join([line("1920:800:0:140"), line("1920:1036:0:22")] * 3)
    assert parse_cropdetect(stderr) == "1920:1036:0:22"
    assert parse_cropdetect("\n".join([line("1920:1036:0:22"), line("1920:800:0:140")] * 3)) == "1920:1036:0:22"


def test_parse_without_crop_lines_is_none():
    assert parse_cropdetect("") is None
    assert parse_cropdetect("[Parsed_cropdetect_0 @ 0x1] limit:0.062745\nframe=1 fps=0.0") is None


def test_parse_keeps_negative_values_for_decide_to_discard():
    assert parse_cropdetect("[Parsed_cropdetect_0 @ 0x1] crop=-1920:-1080:1920:1080") == "-1920:-1080:1920:1080"


# --- thresholds ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "transfer, hdr",
    [
        ("PQ", True),
        ("pq", True),
        ("HLG", True),
        ("SMPTE ST 2084", True),
        ("ARIB STD-B67", True),
        ("smpte2084", True),
        ("arib-std-b67", True),
        ("HLG / BT.2020 (10-bit)", True),
        ("BT.709", False),
        ("BT.601 NTSC", False),
        ("sRGB/sYCC", False),
        ("", False),
        (None, False),
    ],
)
def test_hdr_transfers(transfer, hdr):
    assert is_hdr_transfer(transfer) is hdr


@pytest.mark.parametrize(
    "bit_depth, transfer, threshold, limit",
    [
        (8, "BT.709", 16, "0.0627451"),
        (None, None, 16, "0.0627451"),
        (10, "BT.709", 64, "0.0627451"),  # 10-bit video black
        (8, "PQ", 25, "0.0977517"),
        (10, "PQ", 100, "0.0977517"),  # what drapto's `limit=100` meant on a 10-bit HDR decode
        (10, "HLG", 100, "0.0977517"),
        (12, "SMPTE ST 2084", 400, "0.0977517"),
    ],
)
def test_black_threshold_and_limit(bit_depth, transfer, threshold, limit):
    assert black_threshold(bit_depth, transfer) == threshold
    assert cropdetect_limit_arg(transfer) == limit


@pytest.mark.parametrize("bit_depth", [None, 8, 10, 12])
@pytest.mark.parametrize("transfer", ["BT.709", "PQ", "HLG", None])
def test_limit_is_the_threshold_at_any_depth(bit_depth, transfer):
    """cropdetect scales a limit below 1 by the decoded depth's maximum, so this is what it will apply."""
    fraction = float(cropdetect_limit_arg(transfer))
    assert 0 < fraction < 0.1  # never near picture: ffmpeg's own default is 24/255
    depth = bit_depth or 8
    assert round(fraction * ((1 << depth) - 1)) == black_threshold(bit_depth, transfer)


def test_hdr_threshold_is_above_hdr_black():
    """10-bit limited-range black is 64 for SDR and PQ/HLG alike; HDR gets headroom above it."""
    assert black_threshold(10, "BT.709") == 64 < black_threshold(10, "PQ")


@pytest.mark.parametrize("duration, count", [(1.0, 1), (2.0, 1), (6.0, 3), (60.0, 22), (400.0, 141), (7200.0, 141)])
def test_sample_count_spaces_short_films_2s_apart(duration, count):
    assert sample_count(duration) == count


# --- sample_times -------------------------------------------------------------------------------------


def test_sample_times_default_is_every_half_percent_from_15_to_85():
    times = sample_times(1000.0)
    assert len(times) == 141
    assert times[0] == 150.0 and times[-1] == 850.0
    assert times[1] == 155.0 and times[70] == 500.0
    assert all(b - a == pytest.approx(5.0) for a, b in zip(times, times[1:]))


def test_sample_times_rounds_to_centiseconds():
    times = sample_times(7265.123)
    assert times[0] == 1089.77 and times[-1] == 6175.35
    assert all(t == round(t, 2) for t in times)


def test_sample_times_edge_cases():
    assert sample_times(100.0, count=1) == [50.0]
    assert sample_times(100.0, count=2) == [15.0, 85.0]
    assert sample_times(100.0, count=3, start=0.0, end=1.0) == [0.0, 50.0, 100.0]
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            sample_times(bad)
    with pytest.raises(ValueError):
        sample_times(100.0, count=0)


@given(st.floats(min_value=0.01, max_value=1e6), st.integers(min_value=2, max_value=300))
def test_sample_times_are_sorted_and_within_the_span(duration, count):
    times = sample_times(duration, count)
    assert len(times) == count
    assert times == sorted(times)
    # both ends are hit, to the 2-decimal rounding (float halves may round either way)
    assert abs(times[0] - duration * 0.15) <= 0.005 + 1e-9 and abs(times[-1] - duration * 0.85) <= 0.005 + 1e-9


# --- crop_filter_size ---------------------------------------------------------------------------------


def test_crop_filter_size():
    assert crop_filter_size("1920:800:0:140") == (1920, 800)
    assert crop_filter_size("crop=1440:1080:240:0") == (1440, 1080)
    with pytest.raises(ValueError):
        crop_filter_size("1920:800")


# --- decide_crop: drapto's vectors --------------------------------------------------------------------


def test_letterbox():
    d = decide_crop(W, H, ["1920:800:0:140"] * 141)
    assert d == CropDecision(
        crop="1920:800:0:140",
        reason="black bars detected",
        candidates=(CropCandidate(crop="1920:800:0:140", count=141),),
        samples=141,
    )


JITTER = {
    "1920:1044:0:18": 104,
    "1920:1046:0:16": 16,
    "1920:1042:0:20": 9,
    "1920:1042:0:18": 7,
    "298:146:984:308": 1,
    "1920:1036:0:22": 1,
    "1920:1040:0:18": 1,
    "1918:1042:2:16": 1,
    "1920:1038:0:22": 1,
}


def test_jitter_takes_the_least_aggressive_edge_from_each_candidate():
    # top min 16 (1920:1046:0:16, 1918:1042:2:16), bottom min 18 (1920:1044:0:18, 1920:1046:0:16, 1920:1042:0:20),
    # left/right min 0 (every 1920-wide crop); the tiny 298:146:984:308 loses every edge, so it changes nothing.
    samples = [c for c, n in JITTER.items() for _ in range(n)]
    assert len(samples) == 141
    d = decide_crop(W, H, samples)
    assert d.crop == "1920:1046:0:16"
    assert d.reason == "black bars detected"
    assert d.samples == 141
    assert [(c.crop, c.count) for c in d.candidates] == [
        ("1920:1044:0:18", 104),
        ("1920:1046:0:16", 16),
        ("1920:1042:0:20", 9),
        ("1920:1042:0:18", 7),
        ("1918:1042:2:16", 1),
        ("1920:1036:0:22", 1),
        ("1920:1038:0:22", 1),
        ("1920:1040:0:18", 1),
        ("298:146:984:308", 1),
    ]


def test_mixed_aspect_ratios_do_not_crop():
    d = decide_crop(W, H, ["1920:800:0:140"] * 100 + ["1920:1080:0:0"] * 41)
    assert d.crop is None
    assert d.reason == "multiple aspect ratios detected, not cropping"
    assert [(c.crop, c.count) for c in d.candidates] == [("1920:800:0:140", 100), ("1920:1080:0:0", 41)]


def test_full_frame_does_not_crop():
    d = decide_crop(W, H, ["1920:1080:0:0"] * 141)
    assert (d.crop, d.reason, d.samples) == (None, "no black bars", 141)


def test_pillarbox():
    assert decide_crop(W, H, ["1440:1080:240:0"] * 141).crop == "1440:1080:240:0"


# --- decide_crop: edges of the rule -------------------------------------------------------------------


def test_no_samples():
    assert decide_crop(W, H, []) == CropDecision(crop=None, reason="no samples", candidates=(), samples=0)
    d = decide_crop(W, H, [None, None])
    assert (d.crop, d.reason, d.candidates, d.samples) == (None, "no samples", (), 2)


def test_none_samples_are_ignored_but_counted():
    d = decide_crop(W, H, ["1920:800:0:140", None, "1920:800:0:140", None])
    assert (d.crop, d.samples) == ("1920:800:0:140", 4)
    assert d.candidates == (CropCandidate(crop="1920:800:0:140", count=2),)


def test_out_of_bounds_candidates_are_discarded():
    d = decide_crop(W, H, ["1920:800:0:140", "1920:1200:0:0", "0:1080:0:0", "-1920:-1080:1920:1080", "garbage"])
    assert d.crop == "1920:800:0:140"
    assert len(d.candidates) == 5  # still reported, just not used
    d = decide_crop(W, H, ["1920:1200:0:0", "garbage"])
    assert (d.crop, d.reason) == (None, "no usable crop candidates")


def test_entirely_black_samples_say_so():
    d = decide_crop(256, 144, ["-254:-142:256:144"] * 4)  # what cropdetect prints for an all-black frame
    assert (d.crop, d.reason, d.samples) == (None, "every sample was entirely black", 4)


def test_odd_margins_round_down_to_even():
    assert decide_crop(W, H, ["1920:802:0:139"]).crop == "1920:804:0:138"  # top 139→138, bottom 139→138
    assert decide_crop(W, H, ["1917:1080:1:0"]).crop == "1918:1080:0:0"  # left 1→0, right 2 stays


def test_same_effective_crop_is_not_multiple_aspect_ratios():
    d = decide_crop(W, H, ["1920:1080:0:0", "1918:1080:1:0"])  # both round to the full frame
    assert (d.crop, d.reason) == (None, "no black bars")


def test_odd_frame_size_does_not_crop():
    d = decide_crop(1919, 1080, ["1919:800:0:140"])
    assert d.crop is None and "odd" in d.reason


def test_decision_is_frozen_and_serialisable():
    d = decide_crop(W, H, ["1920:800:0:140"])
    with pytest.raises(AttributeError):
        d.crop = None  # type: ignore[misc]
    assert msgspec.json.decode(msgspec.json.encode(d), type=CropDecision) == d


# --- decide_crop: properties --------------------------------------------------------------------------

even_frames = st.tuples(st.integers(1, 2048).map(lambda n: n * 2), st.integers(1, 1152).map(lambda n: n * 2))


@st.composite
def crop_in(draw, width: int, height: int) -> str:
    """Any in-frame crop (odd margins allowed), drawn as margins so it always fits."""
    left = draw(st.integers(0, width - 1))
    right = draw(st.integers(0, width - 1 - left))
    top = draw(st.integers(0, height - 1))
    bottom = draw(st.integers(0, height - 1 - top))
    return f"{width - left - right}:{height - top - bottom}:{left}:{top}"


def margins(crop: str, width: int, height: int) -> tuple[int, int, int, int]:
    w, h, x, y = (int(v) for v in crop.split(":"))
    return y, height - y - h, x, width - x - w


@st.composite
def scenario(draw):
    width, height = draw(even_frames)
    crops = draw(st.lists(st.one_of(st.none(), crop_in(width, height)), max_size=30))
    return width, height, crops


@given(scenario())
def test_decision_fits_is_even_and_never_cuts_more_than_any_candidate(case):
    width, height, crops = case
    d = decide_crop(width, height, crops)
    assert d.samples == len(crops)
    assert sum(c.count for c in d.candidates) == sum(c is not None for c in crops)
    if d.crop is None:
        return
    w, h = crop_filter_size(d.crop)
    top, bottom, left, right = margins(d.crop, width, height)
    assert w > 0 and h > 0 and w % 2 == 0 and h % 2 == 0
    assert min(top, bottom, left, right) >= 0
    assert all(m % 2 == 0 for m in (top, bottom, left, right))
    assert (w, h) != (width, height)
    for c in crops:
        if c is not None:
            assert all(mine <= theirs for mine, theirs in zip((top, bottom, left, right), margins(c, width, height)))


@given(st.data())
def test_identical_even_samples_give_that_sample(data):
    width, height = data.draw(even_frames)
    crop = data.draw(crop_in(width, height).filter(lambda c: all(m % 2 == 0 for m in margins(c, width, height))))
    n = data.draw(st.integers(1, 141))
    d = decide_crop(width, height, [crop] * n)
    if crop == f"{width}:{height}:0:0":
        assert (d.crop, d.reason) == (None, "no black bars")
    else:
        assert (d.crop, d.reason) == (crop, "black bars detected")
    assert d.candidates == (CropCandidate(crop=crop, count=n),)


@given(st.lists(st.sampled_from(["1920:800:0:140", "1920:1036:0:22", "1440:1080:240:0", "1920:1080:0:0"]), max_size=40))
def test_parse_mode_matches_counting(crops):
    stderr = "\n".join(line(c) for c in crops)
    got = parse_cropdetect(stderr)
    if not crops:
        assert got is None
    else:
        best = max(crops.count(c) for c in crops)
        assert got == min(c for c in crops if crops.count(c) == best)


@given(st.floats(min_value=0.01, max_value=1e6), st.floats(min_value=0.0, max_value=1e5))
def test_sample_count_grows_with_duration_and_keeps_samples_apart(duration, extra):
    count = sample_count(duration)
    assert 1 <= count <= MAX_SAMPLES
    assert sample_count(duration + extra) >= count
    times = sample_times(duration, count)
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert all(gap >= MIN_SAMPLE_SPACING - 0.02 for gap in gaps)  # 2-decimal rounding of the times
