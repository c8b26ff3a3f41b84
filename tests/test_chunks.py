"""The chunk planner and the scene scan parser: pure, property-tested."""

from __future__ import annotations

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from drapto.core.chunks import frame_bounds, plan_chunks
from drapto.core.scenes import SceneScan, parse_scan

THRESHOLD = 10.0


def scan_of(scores: list[float], rate: float = 25.0) -> SceneScan:
    times = tuple(i / rate for i in range(len(scores)))
    return SceneScan(
        frames=len(scores), duration=len(scores) / rate, times=times, scores=tuple(scores), keyframes=(0,)
    )


@st.composite
def scans(draw):
    frames = draw(st.integers(1, 3000))
    cuts = draw(st.lists(st.integers(1, max(frames - 1, 1)), max_size=40))
    scores = [draw(st.floats(0, 9.9)) if frames < 50 else 0.5 for _ in range(frames)]
    for cut in cuts:
        if cut < frames:
            scores[cut] = draw(st.floats(10, 100))
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


def test_scene_changes_become_boundaries_and_long_scenes_split_at_their_most_scene_like_frame():
    scores = [0.3] * 800
    scores[200] = 40.0  # a scene cut
    scores[230] = 35.0  # a flash 1.2 s later: too close to the cut for a 5 s minimum
    scores[540] = 8.0  # below the threshold, but the most scene-like frame near the middle of 200-800
    chunks = plan_chunks(scan_of(scores), min_seconds=5, max_seconds=15, threshold=THRESHOLD)
    assert [(c.start, c.cut) for c in chunks] == [(0, "start"), (200, "scene"), (540, "split")]
    assert chunks[1].seek == (199 + 200) / 2 / 25
    assert chunks[-1].stop is None and chunks[-1].end_time == 32.0


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
