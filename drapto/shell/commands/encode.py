"""`drapto encode INPUT OUTPUT`: encode a film or a folder of films."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from cyclopts import Parameter

from drapto.graph.ffmpeg import resolve_ffmpeg
from drapto.graph.jobs import check_outside, discover
from drapto.shell.batch import Batch
from drapto.shell.clusterscope import cluster_scope
from drapto.shell.flags import NO_FLAGS, NO_LOG, NO_RUN, ConfigFile, EncodeFlags, LogFlags, RunFlags


def encode(
    input: Path,
    output: Path,
    *,
    flags: Annotated[EncodeFlags, Parameter(name="*")] = NO_FLAGS,
    config_file: ConfigFile = None,
    log_flags: Annotated[LogFlags, Parameter(name="*")] = NO_LOG,
    run_flags: Annotated[RunFlags, Parameter(name="*")] = NO_RUN,
    recursive: bool = False,
    force: bool = False,
) -> int:
    """Encode INPUT (a file or a folder of films) into OUTPUT (a folder, or a .mkv file for one input).

    Parameters
    ----------
    input
        A video file, or a folder whose video files are all encoded.
    output
        Output folder (created if missing), or the output .mkv path for a single input.
    recursive
        Also encode the video files in INPUT's subfolders, mirroring them under OUTPUT.
    force
        Re-encode files whose output already exists, replacing it once the new one validates (without
        it, an output that validates is skipped and one that does not is reported and left alone).
    """
    emit = run_flags.start(log_flags)
    config = flags.config(run_flags.keep, config_file)
    ffmpeg = resolve_ffmpeg(config.ffmpeg)
    # Absolute paths: a file named "-x.mkv" must never reach ffmpeg looking like an option.
    input, output = input.absolute(), output.absolute()
    sources = discover(input, recursive=recursive)
    batch = input.is_dir()
    if batch and recursive:
        check_outside(input, output)
    run = Batch(
        output,
        config,
        ffmpeg,
        emit,
        batch=batch,
        root=input if recursive and batch else None,
        force=force,
        report=run_flags.report,
    )
    with cluster_scope(config, ffmpeg, emit, input):
        for number, source in enumerate(sources, 1):
            run.encode(source, (number, len(sources)))
    if batch:
        emit(run.summary(input))
    return run.exit_code()
