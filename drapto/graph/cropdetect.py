"""Black-bar crop and interlace detection, the impure half: run cropdetect and idet on short stretches
spread over the film, several at once, and hand the answers to `crop.decide_crop` and
`picture.decide_fields`."""

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
from drapto.core.picture import decide_fields, displayed_size, field_flag, parse_idet, rotation_of, sum_idet
from drapto.errors import InputError
from drapto.graph.runner import process_failure, run_concurrently

# drapto's latest version ran 8 at a time; more than the cores only queues them.
MAX_WORKERS = 8


def sample_argvs(ffmpeg: str, media: MediaInfo, times: list[float], limit: str) -> list[list[str]]:
    return [commands.cropdetect_argv(ffmpeg, media.path, start=t, frames=SAMPLE_FRAMES, limit=limit) for t in times]


def analyse_crop(
    ffmpeg: str,
    media: MediaInfo,
    setting: str,
    deinterlace: str = "auto",
    on_progress: Callable[[int, int], None] | None = None,
) -> CropAnalysis:
    """The crop for `media` under `setting` (auto, none or W:H:X:Y, normalised as `Config.crop` holds it),
    and the fields under `deinterlace` (auto, off, bwdif, ivtc); samples are taken when either is `auto`
    (and the file has a duration: else the field flag alone decides).
    Sizes are the displayed picture's (ffmpeg's autorotate turns a rotated source before cropdetect).

    A sample whose ffmpeg fails counts as one with no answer; if every sample fails, that is an error
    (the source cannot be decoded, and the encode would fail too).
    """
    video = media.video[0]
    width, height = displayed_size(media)
    rotation = rotation_of(media)
    fixed = fixed_decision(setting, width, height) if setting != "auto" else None
    duration = video.duration or media.duration
    unsampled = not duration or duration <= 0
    if fixed is not None and (deinterlace != "auto" or unsampled):  # without samples the flag decides
        fields = decide_fields(deinterlace, field_flag(media), None, rotation)
        return CropAnalysis(setting=setting, limit=None, samples=(), decision=fixed, fields=fields)
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
    outputs = [r.stderr.decode(errors="replace") if r.returncode == 0 else "" for r in results]
    samples = tuple(
        CropSample(time=t, crop=parse_cropdetect(out) if out else None) for t, out in zip(times, outputs, strict=True)
    )
    fields = decide_fields(deinterlace, field_flag(media), sum_idet([parse_idet(out) for out in outputs]), rotation)
    if fixed is not None:
        return CropAnalysis(setting=setting, limit=None, samples=(), decision=fixed, fields=fields)
    decision = decide_crop(width, height, [s.crop for s in samples])
    return CropAnalysis(setting=setting, limit=limit, samples=samples, decision=decision, fields=fields)
