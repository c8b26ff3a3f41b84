"""The chunk planner and the scene scan parser: pure, property-tested."""

from __future__ import annotations

import itertools
import random
import time

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from drapto.core.chunks import forced_splits, frame_bounds, plan_chunks, scene_cuts
from drapto.core.scenes import SceneScan, parse_scan

THRESHOLD = 10.0


def scan_of(scores: list[float], rate: float = 25.0) -> SceneScan:
    times = tuple(i / rate for i in range(len(scores)))
    return SceneScan(frames=len(scores), duration=len(scores) / rate, times=times, scores=tuple(scores), keyframes=(0,))


# scdet prints its scores with three decimals (scenes.json holds e.g. 26.893), so the cuts' scores are drawn
# at that precision: two drawn 1e-14 apart (99.99999999999999 and 100.0) are a tie no sum of floats can order.
cut_scores = st.integers(10_000, 100_000).map(lambda n: n / 1000)


@st.composite
def scans(draw):
    frames = draw(st.integers(1, 3000))
    cuts = draw(st.lists(st.integers(1, max(frames - 1, 1)), max_size=40))
    scores = [draw(st.floats(0, 9.9)) if frames < 50 else 0.5 for _ in range(frames)]
    for cut in cuts:
        if cut < frames:
            scores[cut] = draw(cut_scores)
    return scan_of(scores)


bounds = st.tuples(st.floats(0.2, 8), st.floats(1, 4)).map(lambda t: (t[0], t[0] * (2 + t[1])))


@settings(max_examples=300, deadline=None)
@given(scans(), bounds)
def test_chunks_partition_the_frames_and_keep_their_bounds(scan, lengths):
    low_s, high_s = lengths
    chunks = plan_chunks(scan, min_seconds=low_s, max_seconds=high_s, threshold=THRESHOLD, probe_seconds=1.0)
    low, high = frame_bounds(scan, low_s, high_s)
    assert chunks[0].start == 0 and chunks[-1].end == scan.frames
    for a, b in zip(chunks, chunks[1:]):
        assert a.end == b.start  # no gap, no overlap
    assert [c.index for c in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        assert chunk.frames <= high
        if scan.frames >= low:
            assert chunk.frames >= low
        # a boundary is a scene cut or a forced split, nothing else
        if chunk.cut == "scene":
            assert scan.scores[chunk.start] >= THRESHOLD
        assert (chunk.cut == "start") == (chunk.start == 0)
        assert chunk.seek <= chunk.start_time
        assert chunk.stop is None or chunk.start_time < chunk.stop <= chunk.end_time
        if chunk.probe is not None:  # a probe window lies inside its chunk
            assert chunk.start <= chunk.probe.start and chunk.probe.start + chunk.probe.frames <= chunk.end


@settings(max_examples=200, deadline=None)
@given(scans(), bounds)
def test_every_cut_far_enough_from_others_becomes_a_boundary(scan, lengths):
    low_s, high_s = lengths
    low, _high = frame_bounds(scan, low_s, high_s)
    chunks = plan_chunks(scan, min_seconds=low_s, max_seconds=high_s, threshold=THRESHOLD)
    starts = {c.start for c in chunks}
    cuts = [f for f in range(1, scan.frames) if scan.scores[f] >= THRESHOLD]
    for cut in cuts:
        isolated = all(abs(cut - other) >= low for other in cuts if other != cut)
        if isolated and low <= cut <= scan.frames - low:
            assert cut in starts


def splits_needed(frames, cuts, low, high) -> int | None:
    """The forced splits a set of kept cuts leaves to make, or None when a chunk would be under `low`."""
    edges = [0, *cuts, frames]
    gaps = [b - a for a, b in zip(edges, edges[1:])]
    if cuts and min(gaps) < low:
        return None
    return sum(forced_splits(g, low, high) for g in gaps)


def plan_value(scores, cuts, threshold, low, high) -> float | None:
    """What the planner maximises: the kept cuts' scores, less the threshold per forced split."""
    splits = splits_needed(len(scores), cuts, low, high)
    return None if splits is None else sum(scores[c] for c in cuts) - threshold * splits


@st.composite
def sparse_scans(draw):
    """Up to ten candidate cuts in up to 1500 frames, so that every set of them can be tried."""
    frames = draw(st.integers(1, 1500))
    scores = [0.5] * frames
    for cut in draw(st.lists(st.integers(1, max(frames - 1, 1)), max_size=10)):
        if cut < frames:
            scores[cut] = draw(st.floats(10, 60))
    return scan_of(scores)


@settings(max_examples=300, deadline=None)
@given(sparse_scans(), bounds)
def test_the_kept_cuts_are_the_best_set_the_bounds_allow(scan, lengths):
    """Against every subset of the candidates: none keeps more cut strength for as few forced splits."""
    low, high = frame_bounds(scan, *lengths)
    kept = scene_cuts(scan.scores, THRESHOLD, low, high)
    candidates = [f for f in range(low, scan.frames - low + 1) if scan.scores[f] >= THRESHOLD]
    mine = plan_value(scan.scores, kept, THRESHOLD, low, high)
    assert mine is not None and set(kept) <= set(candidates)
    for size in range(len(candidates) + 1):
        for other in itertools.combinations(candidates, size):
            value = plan_value(scan.scores, list(other), THRESHOLD, low, high)
            assert value is None or value <= mine + 1e-9


@settings(max_examples=300, deadline=None)
@given(scans(), bounds)
def test_a_strong_cut_is_never_lost_to_a_weaker_one_just_before_it(scan, lengths):
    """When a kept cut could give way to a stronger candidate less than `min` after it (every chunk still
    at least `min`, no more forced splits), the planner has already kept the stronger one."""
    low, high = frame_bounds(scan, *lengths)
    kept = scene_cuts(scan.scores, THRESHOLD, low, high)
    candidates = [f for f in range(low, scan.frames - low + 1) if scan.scores[f] >= THRESHOLD]
    splits = splits_needed(scan.frames, kept, low, high)
    for weak in kept:
        for strong in candidates:
            if weak < strong < weak + low and scan.scores[strong] > scan.scores[weak] and strong not in kept:
                moved = splits_needed(scan.frames, sorted({*kept, strong} - {weak}), low, high)
                assert moved is None or moved > splits, (weak, strong)


def test_a_shot_change_does_not_block_the_scene_change_after_it():
    """Issue 18's clip: a shot change (16.4 at 16.4 s) 4.5 s before the scene change (21.3 at 20.9 s),
    with a 5 s minimum: the first past the minimum was 16.4, which blocked 21.3."""
    scores = [0.3] * 1000  # 40 s at 25 fps
    scores[250], scores[410], scores[522], scores[750] = 30.0, 16.4, 21.3, 25.0
    chunks = plan_chunks(scan_of(scores), min_seconds=5, max_seconds=15, threshold=8.0)
    assert [(c.start, c.cut) for c in chunks] == [(0, "start"), (250, "scene"), (522, "scene"), (750, "scene")]


def test_the_planner_is_fast_on_a_two_hour_film():
    """170,000 frames (2 h at 23.976 fps): a film's few thousand candidates, a tenth of the frames, and
    every frame a candidate (a strobe-lit film) each plan in well under the scan's own time."""
    rng = random.Random(18)
    frames = 170_000
    for share in (1 / 60, 0.1, 1.0):
        scores = tuple(8 + 40 * rng.random() if rng.random() < share else 3 * rng.random() for _ in range(frames))
        started = time.perf_counter()
        cuts = scene_cuts(scores, 8.0, 120, 360)
        assert time.perf_counter() - started < 10.0, share  # 0.03 / 0.09 / 0.85 s on the dev machine
        assert min(b - a for a, b in zip([0, *cuts], [*cuts, frames])) >= 120


def test_scene_changes_become_boundaries_and_long_scenes_split_at_their_most_scene_like_frame():
    scores = [0.3] * 800
    scores[200] = 40.0  # a scene cut
    scores[230] = 35.0  # a flash 1.2 s later: too close to the cut for a 5 s minimum
    scores[540] = 8.0  # below the threshold, but the most scene-like frame near the middle of 200-800
    chunks = plan_chunks(scan_of(scores), min_seconds=5, max_seconds=15, threshold=THRESHOLD)
    assert [(c.start, c.cut) for c in chunks] == [(0, "start"), (200, "scene"), (540, "split")]
    assert (chunks[1].seek, chunks[1].skip) == (0.0, 200)  # the only keyframe is the first frame
    assert chunks[-1].stop is None and chunks[-1].end_time == 32.0
    keyed = plan_chunks(
        msgspec.structs.replace(scan_of(scores), keyframes=(0, 190, 500)), min_seconds=5, max_seconds=15,
        threshold=THRESHOLD,
    )  # fmt: skip
    assert [(c.seek, c.skip) for c in keyed] == [(0.0, 0), (190 / 25, 10), (500 / 25, 40)]


def test_a_chunk_is_read_from_the_keyframe_before_it_unless_that_is_far():
    from drapto.core.chunks import MAX_SKIP_SECONDS, read_from

    scan = msgspec.structs.replace(scan_of([0.0] * 1200), keyframes=(0, 100, 500))
    assert read_from(scan, 0) == (0.0, 0)
    assert read_from(scan, 100) == (scan.times[100], 0)  # a keyframe: its own time, nothing to drop
    assert read_from(scan, 130) == (scan.times[100], 30)
    far = 500 + round(MAX_SKIP_SECONDS * 25) + 1
    assert read_from(scan, far) == ((scan.times[far - 1] + scan.times[far]) / 2, 0)  # halfway before it
    assert read_from(msgspec.structs.replace(scan, keyframes=()), 130) == ((scan.times[129] + scan.times[130]) / 2, 0)


def test_a_clip_shorter_than_the_minimum_is_one_chunk():
    chunks = plan_chunks(scan_of([0.0, 50.0, 0.0]), min_seconds=5, max_seconds=15, threshold=THRESHOLD)
    assert [(c.start, c.end) for c in chunks] == [(0, 3)]


FRAMES = """frame:0    pts:0       pts_time:0
lavfi.scd.mafd=0.000
lavfi.scd.score=0.000
frame:1    pts:40      pts_time:0.04
lavfi.scd.mafd=0.952
lavfi.scd.score=0.952
frame:2    pts:80      pts_time:0.08
lavfi.scd.mafd=18.583
lavfi.scd.score=17.483
"""
KEYFRAMES = """frame:0    pts:0       pts_time:0
lavfi.scd.mafd=0.000
lavfi.scd.score=0.000
frame:1    pts:80      pts_time:0.08
lavfi.scd.mafd=18.583
lavfi.scd.score=17.483
"""


def test_parse_scan_reads_times_scores_and_keyframes():
    scan = parse_scan(FRAMES, KEYFRAMES)
    assert scan.frames == 3
    assert scan.times == (0.0, 0.04, 0.08)
    assert scan.scores == (0.0, 0.952, 17.483)
    assert scan.keyframes == (0, 2)
    assert abs(scan.duration - 0.12) < 1e-9


def test_probe_window_starts_on_the_keyframe_nearest_the_middle():
    from drapto.core.chunks import probe_window

    scan = msgspec.structs.replace(scan_of([0.0] * 400), keyframes=(0, 100, 190, 300))
    window = probe_window(scan, 100, 400, 1.0)  # 25 frames; the middle is frame 237
    assert (window.start, window.frames) == (190, 25)
    assert window.seek == scan.times[190] and window.stop == (scan.times[214] + scan.times[215]) / 2
    no_keys = msgspec.structs.replace(scan, keyframes=(0,))
    assert probe_window(no_keys, 100, 400, 1.0).start == 237
    assert probe_window(scan, 100, 199, 1.0) is None  # shorter than four windows
    assert probe_window(scan, 100, 400, 0) is None
