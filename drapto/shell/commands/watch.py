"""`drapto watch INDIR OUTDIR`: the library queue, encoding what the folder holds and every file that appears later."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from cyclopts import Parameter

from drapto.core import events
from drapto.errors import InputError
from drapto.graph.ffmpeg import resolve_ffmpeg
from drapto.graph.jobs import check_output_folder, check_outside
from drapto.shell.batch import Batch
from drapto.shell.clusterscope import cluster_scope
from drapto.shell.flags import NO_FLAGS, NO_LOG, NO_RUN, ConfigFile, EncodeFlags, LogFlags, RunFlags
from drapto.shell.folderwatch import watch_folder


def watch(
    input: Path,
    output: Path,
    *,
    flags: Annotated[EncodeFlags, Parameter(name="*")] = NO_FLAGS,
    config_file: ConfigFile = None,
    log_flags: Annotated[LogFlags, Parameter(name="*")] = NO_LOG,
    run_flags: Annotated[RunFlags, Parameter(name="*")] = NO_RUN,
    settle: float = 10.0,
) -> int:
    """Encode every video file in INPUT and its subfolders into OUTPUT, mirroring the subfolders (as
    `encode --recursive` does), then every file that appears later, once it is complete; until Ctrl-C.

    Parameters
    ----------
    input
        The folder to watch.
    output
        Output folder (created if missing); not inside INPUT.
    settle
        Seconds a file's size and modification time must stay the same before it is encoded, so a file
        still being copied is left alone.
    """
    emit = run_flags.start(log_flags)
    config = flags.config(run_flags.keep, config_file)
    ffmpeg = resolve_ffmpeg(config.ffmpeg)
    input, output = input.absolute(), output.absolute()
    if not input.is_dir():
        raise InputError(
            f"drapto watch needs a folder: {input} is a file" if input.exists() else f"Input not found: {input}"
        )
    if settle < 0:
        raise InputError(f"--settle takes seconds (0 or more), got {settle:g}")
    check_output_folder(output)
    check_outside(input, output)
    run = Batch(output, config, ffmpeg, emit, batch=True, root=input, report=run_flags.report)
    emit(events.Notice(file=str(input), level="info", message=f"watching {input} for new files; Ctrl-C stops"))
    try:
        with cluster_scope(config, ffmpeg, emit, input):
            watch_folder(input, settle, run.encode)
    finally:
        emit(run.summary(input))  # what this session did, also when Ctrl-C ends it
    return run.exit_code()
