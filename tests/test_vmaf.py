"""VMAF convention (model, upscale, frame subsets), pooling, and the worker budget: pure."""

from __future__ import annotations

import msgspec
import pytest

from drapto.core.vmaf import (
    check_pool,
    check_scale,
    counted_scores,
    pool_scores,
    scoring_for,
    side_filter,
    small_picture_note,
    triple_middle,
    triple_stride,
)
from drapto.core.workers import Budget


@pytest.mark.parametrize(
    ("size", "model", "scale"),
    [
        ((1280, 720), "vmaf_v0.6.1", (1920, 1080)),
        ((1280, 536), "vmaf_v0.6.1", (1920, 804)),  # cropped scope: aspect kept, even sides
        ((720, 576), "vmaf_v0.6.1", (1350, 1080)),
        ((1920, 1080), "vmaf_v0.6.1", None),
        ((1920, 800), "vmaf_v0.6.1", None),
        ((2560, 1440), "vmaf_v0.6.1", None),  # not above 2560x1440: the 1080p model, no upscale
        ((3840, 2160), "vmaf_4k_v0.6.1", None),
        ((3840, 1600), "vmaf_4k_v0.6.1", None),
        ((2880, 1620), "vmaf_4k_v0.6.1", (3840, 2160)),
    ],
)
def test_ab_av1_convention(size, model, scale):
    scoring = scoring_for(*size, every=10, pool="mean")
    assert (scoring.model, scoring.scale) == (model, scale)


@pytest.mark.parametrize(
    ("landscape", "scale"),
    [
        ((1280, 720), (1920, 1080)),
        ((640, 480), (1440, 1080)),
        ((256, 144), (1920, 1080)),
        ((2880, 1620), (3840, 2160)),
        ((1920, 1080), None),
        ((3840, 2160), None),
    ],
)
def test_auto_scores_a_portrait_picture_as_the_landscape_one_turned(landscape, scale):
    """ab-av1's issue #383: its rule looks at the width alone, so 720x1280 was not upscaled."""
    wide = scoring_for(*landscape, every=10, pool="mean")
    tall = scoring_for(*reversed(landscape), every=10, pool="mean")
    assert wide.scale == scale
    assert tall.model == wide.model and tall.scale == (scale[::-1] if scale else None)


def test_vmaf_scale_none_and_fixed():
    assert scoring_for(720, 480, every=10, pool="mean", scale="none").scale is None
    assert scoring_for(3840, 2160, every=10, pool="mean", scale="none").model == "vmaf_4k_v0.6.1"
    fixed = scoring_for(720, 480, every=10, pool="mean", scale="1280x720")
    assert (fixed.model, fixed.scale) == ("vmaf_v0.6.1", (1280, 720))
    assert scoring_for(1280, 720, every=10, pool="mean", scale="1280X720").scale is None  # already that size
    assert check_scale(" AUTO ") == "auto"


@pytest.mark.parametrize("scale", ["", "big", "1920", "1919x1080", "0x0", "x1080", "-2x4"])
def test_bad_vmaf_scale_is_refused(scale):
    with pytest.raises(ValueError, match="VMAF scale must be"):
        check_scale(scale)


def test_small_picture_note_only_below_720p_upscaled_to_1080p():
    def note(w, h, scale="auto"):
        return small_picture_note(scoring_for(w, h, every=10, pool="mean", scale=scale), w, h, 93)

    assert "256x144 picture is scored upscaled to 1920x1080" in note(256, 144)
    assert "--vmaf-scale none" in note(480, 720)  # portrait 480p
    assert note(1280, 720) is None and note(720, 480, "none") is None and note(720, 480, "960x540") is None


def test_side_filter_takes_frame_triples_then_upscales():
    scoring = scoring_for(1280, 720, every=10, pool="mean")
    assert side_filter(scoring) == (
        r"settb=1/25,setpts=N,select='lt(abs(mod(n\,15)-9)\,2)',scale=1920:1080:flags=bicubic,format=yuv420p10le"
    )
    probe = msgspec.structs.replace(scoring_for(1920, 1080, every=5, pool="mean"), pairs=True)
    assert side_filter(probe) == r"settb=1/25,setpts=N,select='lt(mod(n\,5)\,2)',format=yuv420p10le"
    assert side_filter(scoring_for(1920, 1080, every=1, pool="mean")) == "settb=1/25,setpts=N,format=yuv420p10le"


@pytest.mark.parametrize("every", range(2, 31))
def test_triples_score_no_more_frames_than_pairs_and_count_their_middles(every):
    """Frames 8-10 of every 15 for every=10: odd strides (never a multiple of 4: those stay on the same
    SVT-AV1 layers), at most as many frames as pairs every N scored on any chunk, and the counted middles
    are the subset's second of each three."""
    stride, middle = triple_stride(every), triple_middle(every)
    assert stride % 2 == 1 and stride >= 1.5 * every and 1 <= middle <= stride - 2
    for frames in range(1, 600):
        scored = [n for n in range(frames) if abs(n % stride - middle) < 2]
        pairs = [n for n in range(frames) if n % every < 2]
        assert len(scored) <= len(pairs)
        scoring = scoring_for(1280, 720, every=every, pool="mean")
        counted = counted_scores([float(n) for n in scored], scoring)
        if frames > middle:
            assert counted == [float(n) for n in scored if n % stride == middle]


def test_pooling():
    scores = [90.0, 80.0, 100.0, 94.0]
    assert pool_scores(scores, "mean") == 91.0
    assert pool_scores(scores, "harmonic") < 91.0
    assert pool_scores(scores, "p25") == 90.0
    assert pool_scores([50.0] * 10, "harmonic") == pytest.approx(50.0)


@pytest.mark.parametrize("pool", ["median", "p0", "p51", "p", ""])
def test_bad_pooling_is_refused(pool):
    with pytest.raises(ValueError, match="VMAF pooling"):
        check_pool(pool)


@pytest.mark.parametrize(
    ("cores", "memory", "requested", "size", "chunks", "expected"),
    [
        (2, 24, 0, (1280, 720), 10, (2, 1)),  # small machine: a worker per core, one thread each
        (16, 64, 0, (1920, 1080), 100, (4, 4)),
        (16, 8, 0, (3840, 2160), 100, (1, 16)),  # memory caps 4K workers
        (8, 24, 0, (1920, 1080), 1, (1, 8)),  # never more workers than chunks
        (2, 24, 3, (1280, 720), 10, (3, 1)),  # --workers wins
    ],
)
def test_worker_budget(cores, memory, requested, size, chunks, expected):
    assert Budget(cores=cores, memory_gb=memory, requested=requested).split(*size, chunks) == expected
