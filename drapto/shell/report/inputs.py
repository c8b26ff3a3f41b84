"""`drapto report`'s impure half: read what an output's report needs (probes, the attached chunk results,
the encode history, and with --vmaf the whole file scored frame by frame), hand it to
`reportdata.build_report`, and write the page `reportpage` renders beside the output."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from drapto.core import commands
from drapto.core.media import MediaInfo
from drapto.core.picture import Fields, displayed_size, video_filters
from drapto.core.vmaf import INDEX_CLOCK, frame_scores, libvmaf_filter, scoring_for, side_filter
from drapto.errors import DraptoError, InputError
from drapto.graph.probe import probe, require_video
from drapto.graph.runner import run_with_progress
from drapto.graph.validate import attached_results
from drapto.shell import history
from drapto.shell.report.data import FileScore, ReportData, build_report, crop_of, file_score, newest_record, parse_crop

VMAF_LOG = "vmaf.json"


def report_path(output: Path) -> Path:
    """`film.mkv` → `film.report.html`, beside it."""
    return output.with_name(output.stem + ".report.html")


def _source_media(path: Path, ffmpeg: str) -> MediaInfo | None:
    if not path.is_file():
        return None
    try:
        return require_video(probe(path, ffmpeg))  # with what ffmpeg sees: rotation, field order
    except DraptoError:
        return None


def vmaf_crop(
    ffmpeg: str, source: MediaInfo, output: tuple[int, int], known: tuple[str | None, str]
) -> tuple[str | None, str]:
    """The crop the whole-file score gives the reference: the one `known` (recorded or none needed), else
    cropdetect run again on the source when its answer has the output's size, else centred margins."""
    if not known[1].startswith("derived"):
        return known
    from drapto.graph.cropdetect import analyse_crop

    try:
        detected = analyse_crop(ffmpeg, source, "auto").decision.crop
    except DraptoError:
        detected = None
    if detected and parse_crop(detected)[:2] == output:
        return detected, "detected again on the source (cropdetect), matching the output's size"
    return known


def vmaf_fields(ffmpeg: str, source: MediaInfo) -> Fields | None:
    """How the encode treated the source's fields, judged again as `encode` judges them (idet on the
    crop samples), so the whole-file score's reference is deinterlaced or inverse-telecined as its input
    was; None when that cannot be told."""
    from drapto.graph.cropdetect import analyse_crop

    try:
        return analyse_crop(ffmpeg, source, "none", "auto").fields
    except DraptoError:
        return None


def score_file(
    ffmpeg: str,
    source: Path,
    output: Path,
    *,
    size: tuple[int, int],
    frames: int | None,
    crop: tuple[str | None, str],
    fields: Fields | None = None,
    threads: int | None = None,
    on_fraction: Callable[[float], None] | None = None,
    vmaf_scale: str = "auto",
) -> FileScore:
    """Score every frame of `output` against `source` with the search's convention (the model and
    upscale for the output's picture size, the reference cropped and its fields treated as the encode's
    input was)."""
    scoring = scoring_for(*size, every=1, pool="mean", threads=threads or os.cpu_count() or 1, scale=vmaf_scale)
    argv = commands.file_score_argv(
        ffmpeg, str(source), str(output), picture=video_filters(crop[0], fields), scoring_filter=side_filter(scoring),
        libvmaf=libvmaf_filter(scoring, VMAF_LOG),
    )  # fmt: skip
    clock = float(INDEX_CLOCK.split("/")[1].split(",")[0])  # the frame-index clock's rate: 25

    def _progress(report: object) -> None:
        seconds = getattr(report, "seconds", report)  # a runner.Progress, or plain seconds
        if on_fraction is not None and frames and isinstance(seconds, int | float):
            on_fraction(min(1.0, seconds * clock / frames))

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="drapto-report-") as folder:
        run_with_progress(argv, _progress, cwd=folder)
        scores = frame_scores((Path(folder) / VMAF_LOG).read_bytes())
    if not scores:
        raise DraptoError(f"libvmaf scored no frames of {output}")
    return file_score(
        scores, model=scoring.model, scale=scoring.scale, crop=crop[0], crop_from=crop[1],
        seconds=time.monotonic() - started,
    )  # fmt: skip


def make_report(
    ffmpeg: str,
    output: Path,
    *,
    source: Path | None = None,
    crop: str | None = None,
    vmaf: bool = False,
    on_fraction: Callable[[float], None] | None = None,
) -> ReportData:
    """Gather everything about `output` and build its report. `source` and `crop` (W:H:X:Y, "" for none)
    are what the caller knows (an encode that just finished); otherwise they come from the attached
    results or the history, and the crop from the sizes. `vmaf` scores the whole file (slow)."""
    output = output.absolute()
    media = probe(output)
    if not media.video:
        raise InputError(f"No video stream in {output}")
    results = attached_results(ffmpeg, output)
    try:
        record = newest_record(history.read(), str(output))
    except OSError:
        record = None
    if source is None:
        known = (results.source if results else None) or (record.source if record else None)
        source = Path(known) if known else None
    source_media = _source_media(source, ffmpeg) if source else None
    source_bytes = source.stat().st_size if source_media is not None and source else None
    size = (media.video[0].width, media.video[0].height)
    source_size = displayed_size(source_media) if source_media else None
    known_crop = crop_of(crop if crop is not None else (results.crop if results else None), source_size, size)
    whole = None
    if vmaf:
        if source_media is None or source is None:
            where = f"{source} is not a readable video file" if source else "the source is unknown"
            raise InputError(f"--vmaf needs the source: {where}; give it with --source PATH")
        known_crop = vmaf_crop(ffmpeg, source_media, size, known_crop)
        frames = results.frames if results else media.video[0].frame_count
        whole = score_file(
            ffmpeg,
            source,
            output,
            size=size,
            frames=frames,
            crop=known_crop,
            fields=vmaf_fields(ffmpeg, source_media),
            on_fraction=on_fraction,
            vmaf_scale=(results.vmaf_scale if results else None) or "auto",  # as the encode scored its chunks
        )
    return build_report(
        output=str(output), output_bytes=output.stat().st_size, output_media=media,
        generated=datetime.now().astimezone().isoformat(timespec="seconds"), source=str(source) if source else None,
        source_media=source_media, source_bytes=source_bytes, results=results, record=record, crop=known_crop,
        whole_file=whole,
    )  # fmt: skip


def write_report(data: ReportData, path: Path) -> Path:
    """Render the page and write it (through a temporary name, so a reader never sees half a page)."""
    from drapto.shell.report.page import render_html

    page = render_html(data)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(page, encoding="utf-8")
    os.replace(partial, path)
    return path
