"""Run the scene scan (one downscaled decode of the whole video) and parse it into a `SceneScan`."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

from drapto.core import commands
from drapto.core.media import VideoStream
from drapto.core.picture import turned
from drapto.core.scenes import FRAMES_LOG, KEYFRAMES_LOG, PACKETS_LOG, SCAN_WIDTH, SceneScan, parse_scan
from drapto.errors import ProcessError
from drapto.graph.runner import Progress, run_with_progress


def scan_width(video: VideoStream, crop: str | None, rotation: int = 0) -> int | None:
    """Downscale wide pictures for scdet; leave small ones as they are (widths as displayed: autorotate
    turns a rotated picture before the crop and the scale)."""
    width = int(crop.split(":")[0]) if crop else turned(video.width, video.height, rotation)[0]
    return SCAN_WIDTH if width > SCAN_WIDTH else None


def scan_scenes(
    ffmpeg: str,
    source: str,
    video: VideoStream,
    crop: str | None,
    folder: Path,
    on_progress: Callable[[Progress], None] | None = None,
    rotation: int = 0,
    *,
    on_stderr: Callable[[str], None] | None = None,
    source_start: float | None = None,
) -> SceneScan:
    """Decode the video once with scdet; the raw printouts live in a scratch folder under `folder`. The
    frames' times count from `source_start`, the file's start (commands.source_clock). `on_stderr` sees
    each line ffmpeg prints (at `-loglevel error`: what went wrong reading the source)."""
    folder.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="scan-", dir=folder))
    try:
        argv = commands.scene_scan_argv(
            ffmpeg, source, crop=crop, scan_width=scan_width(video, crop, rotation), frames_log=FRAMES_LOG,
            keyframes_log=KEYFRAMES_LOG, packets_log=PACKETS_LOG, source_start=source_start,
        )  # fmt: skip
        run_with_progress(argv, on_progress, cwd=str(scratch), on_stderr=on_stderr)
        try:
            return parse_scan(
                (scratch / FRAMES_LOG).read_text(errors="replace"),
                (scratch / KEYFRAMES_LOG).read_text(errors="replace"),
                float(Fraction(video.frame_rate)) if video.frame_rate else None,
                (scratch / PACKETS_LOG).read_text(errors="replace"),
            )
        except (OSError, ValueError) as exc:
            raise ProcessError(f"The scene scan of {source} gave no usable result: {exc}") from exc
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
