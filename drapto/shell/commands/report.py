"""`drapto report OUTPUT.mkv`: the report page of a file drapto made."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import msgspec
from cyclopts import Parameter

from drapto.core.config import load_config
from drapto.errors import EXIT_OK, InputError
from drapto.graph.ffmpeg import resolve_ffmpeg
from drapto.shell.flags import NO_LOG, ConfigFile, LogFlags


def report_command(
    output: Path,
    *,
    open_page: Annotated[bool, Parameter(name="--open")] = False,
    json: bool = False,
    vmaf: bool = False,
    source: Path | None = None,
    config_file: ConfigFile = None,
    log_flags: Annotated[LogFlags, Parameter(name="*")] = NO_LOG,
) -> int:
    """Write a report of what the encode of OUTPUT did (OUTPUT.report.html beside it, one self-contained
    page) and print its path: sizes, mode, target, time and speed; in chunked mode a timeline of every
    chunk's CRF, VMAF and bitrate, a VMAF histogram and the chunk table.

    Parameters
    ----------
    output
        A .mkv file drapto made.
    open_page
        Open the page in the web browser.
    json
        Print the report's data as JSON instead, and write no page.
    vmaf
        Also score the whole file against its source, every frame (slow), for a per-frame VMAF curve
        and its 1 % low.
    source
        The source, when the report cannot find it (the history and the attached results name it).
    """
    log_flags.start()
    from drapto.shell.report.inputs import make_report, report_path, write_report

    config = load_config({}, path=config_file)
    ffmpeg = resolve_ffmpeg(config.ffmpeg)
    output = output.absolute()
    if not output.is_file():
        raise InputError(f"Input not found: {output}" if not output.exists() else f"Input is not a file: {output}")
    if vmaf:
        print(f"drapto: scoring every frame of {output.name} against its source (slow)", file=sys.stderr, flush=True)
    data = make_report(ffmpeg, output, source=source.absolute() if source else None, vmaf=vmaf)
    if json:
        print(msgspec.json.encode(data).decode(), flush=True)
        return EXIT_OK
    page = write_report(data, report_path(output))
    print(page, flush=True)
    if open_page:
        import webbrowser

        webbrowser.open(page.as_uri())
    return EXIT_OK
