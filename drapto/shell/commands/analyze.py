"""`drapto analyze INPUT`: what drapto sees in a file, as text or JSON; writes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import msgspec
from cyclopts import Parameter

from drapto.core.analysis import analyse, render_text
from drapto.core.config import load_config
from drapto.errors import EXIT_OK
from drapto.graph.cropdetect import analyse_crop
from drapto.graph.ffmpeg import check_capabilities, resolve_ffmpeg
from drapto.graph.jobs import discover
from drapto.graph.probe import probe, require_video
from drapto.shell.flags import NO_LOG, ConfigFile, LogFlags


def analyze(
    input: Path,
    *,
    crop: str | None = None,
    deinterlace: str | None = None,
    json: bool = False,
    config_file: ConfigFile = None,
    log_flags: Annotated[LogFlags, Parameter(name="*")] = NO_LOG,
) -> int:
    """Show what drapto sees in INPUT (a file or a folder): container, duration, resolution class, HDR and
    Dolby Vision, the crop decision with its candidates, audio streams with their planned Opus bitrates,
    subtitles and chapters. Writes nothing.

    Parameters
    ----------
    input
        A video file, or a folder whose video files are all analysed.
    crop
        auto (detect black bars, the default), none, or an explicit W:H:X:Y crop.
    deinterlace
        auto (detect interlaced and telecined video, the default), off, bwdif or ivtc.
    json
        One JSON object per file instead of text.
    """
    log_flags.start()
    config = load_config({"crop": crop, "deinterlace": deinterlace}, path=config_file)
    ffmpeg = resolve_ffmpeg(config.ffmpeg)
    sampled = config.crop == "auto" or config.deinterlace == "auto"
    check_capabilities(ffmpeg, {"filters": {"cropdetect", "idet"}} if sampled else {})
    for source in discover(input.absolute()):
        media = require_video(probe(source, ffmpeg))
        report = analyse(media, analyse_crop(ffmpeg, media, config.crop, config.deinterlace), config)
        if json:
            print(msgspec.json.encode(report).decode(), flush=True)
        else:
            print(render_text(report), end="", flush=True)
    return EXIT_OK
