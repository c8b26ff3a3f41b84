"""How drapto scores an encode with VMAF: ab-av1's convention, which is what the target 93 means. Pure.

The 1080p model, with distorted and reference both upscaled (bicubic) to fit 1080p when the picture is
smaller than 1728×972; the 4k model above 2560×1440, upscaled to fit 2160p when smaller than 3456×1944.
Sizes are compared by the long and the short side, so a portrait picture is scored as the same landscape
one turned (ab-av1 looks at the width alone, its issue #383). `vmaf_scale` may instead ask for no scaling
(`none`: the picture's own size) or a fixed WxH, as ab-av1's `--vmaf-scale` does.
Scoring a chunk's subset takes runs of three consecutive frames and counts only each run's middle frame:
libvmaf's motion feature (motion2) is the smaller of a frame's motion to its previous and to its next
frame, so only a frame scored with both true neighbours reads as it does among all frames (a pair's
frames each see one, and read high: +0.8 on real footage, issue 18). Probe windows, too short for that
many runs, score frame pairs. libvmaf's `n_subsample` shifts the score and is never used.
"""

from __future__ import annotations

import math
import re

import msgspec

MODEL_1080P = "vmaf_v0.6.1"
MODEL_4K = "vmaf_4k_v0.6.1"
POOLS = ("mean", "harmonic")
_PERCENTILE = re.compile(r"^p(\d{1,2})$")


class Scoring(msgspec.Struct, frozen=True, kw_only=True):
    """How one picture size is scored."""

    model: str
    scale: tuple[int, int] | None  # both sides are scaled to this before libvmaf, or None
    every: int  # score about 2 frames in N (see side_filter); 1 scores every frame
    pool: str  # mean, harmonic or pN (the N-th percentile of the frame scores)
    threads: int = 1
    pairs: bool = False  # frame pairs every N (probe windows) instead of triples counting their middles


def check_pool(pool: str) -> str:
    pool = pool.strip().lower()
    match = _PERCENTILE.match(pool)
    if pool in POOLS or (match and 1 <= int(match[1]) <= 50):
        return pool
    raise ValueError(f"VMAF pooling must be mean, harmonic or pN (a percentile, p1 to p50), got {pool!r}")


def _fit(width: int, height: int, box_w: int, box_h: int) -> tuple[int, int]:
    """Scale into box_w × box_h keeping the aspect ratio, both sides even."""
    factor = min(box_w / width, box_h / height)
    return 2 * round(width * factor / 2), 2 * round(height * factor / 2)


def check_scale(scale: str) -> str:
    """`auto`, `none` or `WxH` (even sides), normalised."""
    scale = scale.strip().lower()
    if scale in ("auto", "none"):
        return scale
    width, sep, height = scale.partition("x")
    if (
        sep
        and width.isdigit()
        and height.isdigit()
        and all(2 <= int(v) <= 16384 and int(v) % 2 == 0 for v in (width, height))
    ):
        return f"{int(width)}x{int(height)}"
    raise ValueError(f"VMAF scale must be auto, none or WxH with even sides (e.g. 1920x1080), got {scale!r}")


def _oriented(box: tuple[int, int], width: int, height: int) -> tuple[int, int]:
    """The box turned to the picture's orientation."""
    return box if width >= height else (box[1], box[0])


def _model(width: int, height: int) -> str:
    long, short = max(width, height), min(width, height)
    return MODEL_4K if long > 2560 and short > 1440 else MODEL_1080P


def scoring_for(width: int, height: int, *, every: int, pool: str, threads: int = 1, scale: str = "auto") -> Scoring:
    """The model and scaling for a picture of width × height (after crop), under the `vmaf_scale` setting."""
    scale = check_scale(scale)
    if scale == "none":
        model, size = _model(width, height), None
    elif scale != "auto":
        fixed_w, fixed_h = (int(v) for v in scale.split("x"))
        fixed = (fixed_w, fixed_h)
        model, size = _model(*fixed), (fixed if fixed != (width, height) else None)
    else:
        long, short = max(width, height), min(width, height)
        if _model(width, height) == MODEL_4K:
            model, box, upscale = MODEL_4K, (3840, 2160), long < 3456 and short < 1944
        else:
            model, box, upscale = MODEL_1080P, (1920, 1080), long < 1728 and short < 972
        size = _fit(width, height, *_oriented(box, width, height)) if upscale else None
    return Scoring(model=model, scale=size, every=every, pool=check_pool(pool), threads=threads)


def describe_scoring(scoring: Scoring, width: int, height: int, setting: str = "auto") -> str:
    """`vmaf_v0.6.1 at 1920x1080 (upscaled from 256x144, vmaf-scale auto)`, for plans, reports and warnings."""
    where = f"at {scoring.scale[0]}x{scoring.scale[1]}" if scoring.scale else f"at its own size {width}x{height}"
    how = ""
    if scoring.scale:
        how = (
            f"upscaled from {width}x{height}, "
            if scoring.scale[0] * scoring.scale[1] > width * height
            else f"scaled from {width}x{height}, "
        )
    return f"{scoring.model} {where} ({how}vmaf-scale {setting})"


def small_picture_note(scoring: Scoring, width: int, height: int, target: float) -> str | None:
    """What scoring a picture below 720p at 1080p means for its CRFs, said plainly; None otherwise."""
    if min(width, height) >= 720 or not scoring.scale or min(scoring.scale) < 1080:
        return None
    return (
        f"a {width}x{height} picture is scored upscaled to {scoring.scale[0]}x{scoring.scale[1]}, where its own "
        f"blur counts against it: VMAF {target:g} then needs low CRFs (large files) or is out of reach; "
        f"--vmaf-scale none scores it at its own size instead"
    )


# Both libvmaf inputs are retimed from their frame index, so libvmaf pairs frames by position whatever
# clock each side kept (an encode's timestamps and a seeked source's differ by rounding at 23.976 fps,
# which made libvmaf pair neighbouring frames and drop one).
INDEX_CLOCK = "settb=1/25,setpts=N"


def triple_stride(every: int) -> int:
    """Triples every S frames, S the smallest odd number at least 1.5 × `every` (15 for 10): no more
    frames than pairs every `every`, and odd, so the counted frames alternate between SVT-AV1's even and
    odd temporal-layer positions and visit all 16 positions of its mini-GOP (a stride that is a multiple
    of 4 stays on the same layers and reads high; issue 8)."""
    stride = math.ceil(1.5 * every)
    return stride if stride % 2 else stride + 1


def triple_middle(every: int) -> int:
    """Where in each stride a triple's counted middle frame lies: late enough (frame 9 of 15) that a
    chunk never has more frames scored than pairs every `every` would score, for any chunk length."""
    stride = triple_stride(every)
    return stride - 1 - stride // 3


def side_filter(scoring: Scoring) -> str:
    """The filters both libvmaf inputs get: frame-index timestamps, the subset (triples, or pairs for a
    probe window), the upscale, the pixel format."""
    parts = [INDEX_CLOCK]
    if scoring.every > 1 and scoring.pairs:
        parts.append(rf"select='lt(mod(n\,{scoring.every})\,2)'")
    elif scoring.every > 1:
        stride, middle = triple_stride(scoring.every), triple_middle(scoring.every)
        parts.append(rf"select='lt(abs(mod(n\,{stride})-{middle})\,2)'")
    if scoring.scale:
        parts.append(f"scale={scoring.scale[0]}:{scoring.scale[1]}:flags=bicubic")
    parts.append("format=yuv420p10le")
    return ",".join(parts)


def libvmaf_filter(scoring: Scoring, log_name: str) -> str:
    """libvmaf writing per-frame scores to `log_name` (a plain relative file name)."""
    return f"libvmaf=model=version={scoring.model}:n_threads={scoring.threads}:log_fmt=json:log_path={log_name}"


def frame_scores(log_json: bytes) -> list[float]:
    """Per-frame VMAF from libvmaf's JSON log."""
    data = msgspec.json.decode(log_json)
    return [float(frame["metrics"]["vmaf"]) for frame in data.get("frames", [])]


def counted_scores(scores: list[float], scoring: Scoring) -> list[float]:
    """The scored frames that count: every one, or each triple's middle (the second of each three in the
    log; a run cut short by the chunk's end counts its middle if it has one, which, as the chunk's last
    frame, has only the neighbour it has among all frames too)."""
    if scoring.every <= 1 or scoring.pairs:
        return scores
    return scores[1::3] or scores


def scored_frames(frames: int, scoring: Scoring) -> list[int]:
    """Which of a chunk's `frames` frames (0 = its first) `side_filter`'s subset scores, in order."""
    if scoring.every <= 1:
        return list(range(frames))
    if scoring.pairs:
        return [n for n in range(frames) if n % scoring.every < 2]
    stride, middle = triple_stride(scoring.every), triple_middle(scoring.every)
    return [n for n in range(frames) if abs(n % stride - middle) < 2]


def counted_frames(frames: int, scoring: Scoring) -> list[int]:
    """The frames whose scores `counted_scores` keeps, as indices into the chunk (0 = its first frame)."""
    scored = scored_frames(frames, scoring)
    return scored if scoring.every <= 1 or scoring.pairs else (scored[1::3] or scored)


def pool_scores(scores: list[float], pool: str) -> float:
    """Pool per-frame scores: the mean, libvmaf's harmonic mean, or a low percentile."""
    if not scores:
        raise ValueError("no VMAF frame scores to pool")
    if pool == "mean":
        return sum(scores) / len(scores)
    if pool == "harmonic":
        return len(scores) / sum(1 / (s + 1) for s in scores) - 1
    percentile = int(pool[1:])
    ordered = sorted(scores)
    return ordered[min(len(ordered) - 1, math.floor(percentile / 100 * len(ordered)))]
