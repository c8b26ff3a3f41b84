"""`drapto plan INPUT OUTPUT`: every command `encode` would run, and the chunk table; encodes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from cyclopts import Parameter

from drapto.core.plantext import render_plan
from drapto.errors import EXIT_OK
from drapto.graph.ffmpeg import resolve_ffmpeg
from drapto.graph.jobs import discover, output_for
from drapto.graph.planning import plan_job
from drapto.shell.clusterscope import cluster_scope
from drapto.shell.finished import finished_results
from drapto.shell.flags import NO_FLAGS, NO_LOG, ConfigFile, EncodeFlags, LogFlags


def plan(
    input: Path,
    output: Path,
    *,
    flags: Annotated[EncodeFlags, Parameter(name="*")] = NO_FLAGS,
    config_file: ConfigFile = None,
    log_flags: Annotated[LogFlags, Parameter(name="*")] = NO_LOG,
) -> int:
    """Print every command `drapto encode` would run for INPUT, shell-quoted, in order, and in chunked mode
    the chunk table (with the CRF and VMAF of chunks an earlier run finished). Encodes and writes
    nothing; MediaInfo, the crop samples and the scene scan (unless an earlier run saved it) read the
    source."""
    log_flags.start()
    config = flags.config(path=config_file)
    ffmpeg = resolve_ffmpeg(config.ffmpeg)
    input, output = input.absolute(), output.absolute()
    sources = discover(input)
    with cluster_scope(config, ffmpeg, lambda event: None, input):
        for source in sources:
            target = output_for(source, output, batch=input.is_dir())
            encode_plan, crop = plan_job(source, target, config, ffmpeg)
            print(render_plan(encode_plan, crop, str(target), finished_results(encode_plan)), end="", flush=True)
            if config.cluster and encode_plan.mode == "chunked":
                from drapto.graph.cluster import session

                print(session(config, ffmpeg).describe(str(source)), end="", flush=True)
    return EXIT_OK
