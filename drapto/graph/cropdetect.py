"""Black-bar crop detection, the impure half: run cropdetect on short stretches spread over the film,
several at once, and hand the answers to `crop.decide_crop`."""

from __future__ import annotations

import os
from collections.abc import Callable

from drapto.core import commands
from drapto.core.crop import (
    SAMPLE_FRAMES,
    CropAnalysis,
    CropSample,
    cropdetect_limit_arg,
    decide_crop,
    fixed_decision,
    parse_cropdetect,
    sample_count,
    sample_times,
)
from drapto.core.media import MediaInfo
from drapto.errors import InputError
from drapto.graph.runner import process_failure, run_concurrently

# drapto's latest version ran 8 at a time; more than the cores only queues them.
MAX_WORKERS = 8


def sample_argvs(ffmpeg: str, media: MediaInfo, times: list[float], limit: str) -> list[list[str]]:
    return [commands.cropdetect_argv(ffmpeg, media.path, start=t, frames=SAMPLE_FRAMES, limit=limit) for t in times]


def analyse_crop(
    ffmpeg: str, media: MediaInfo, setting: str, on_progress: Callable[[int, int], None] | None = None
) -> CropAnalysis:
    """The crop for `media` under `setting` (auto, none or W:H:X:Y, normalised as `Config.crop` holds it);
    only `auto` runs ffmpeg.

    A sample whose ffmpeg fails counts as one with no answer; if every sample fails, that is an error
    (the source cannot be decoded, and the encode would fail too).
    """
    video = media.video[0]
    if setting != "auto":
        decision = fixed_decision(setting, video.width, video.height)
        return CropAnalysis(setting=setting, limit=None, samples=(), decision=decision)
    duration = video.duration or media.duration
    if not duration or duration <= 0:
        raise InputError(f"Cannot detect a crop in {media.path}: MediaInfo reports no duration (try --crop none)")
    times = sample_times(duration, sample_count(duration))
    limit = cropdetect_limit_arg(video.transfer)
    argvs = sample_argvs(ffmpeg, media, times, limit)
    total = len(argvs)
    results = run_concurrently(
        argvs,
        workers=min(MAX_WORKERS, os.cpu_count() or 1),
        on_done=(lambda done: on_progress(done, total)) if on_progress else None,
    )
    if all(result.returncode != 0 for result in results):
        first = results[0]
        raise process_failure(argvs[0], first.returncode, first.stderr.decode(errors="replace"))
    samples = tuple(
        CropSample(time=t, crop=parse_cropdetect(r.stderr.decode(errors="replace")) if r.returncode == 0 else None)
        for t, r in zip(times, results, strict=True)
    )
    decision = decide_crop(video.width, video.height, [s.crop for s in samples])
    return CropAnalysis(setting=setting, limit=limit, samples=samples, decision=decision)
