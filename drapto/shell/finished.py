"""What a finished file leaves besides itself: its line in the encode history, its report page
(`--report`), and the summary's wording of what was written and what validation confirmed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from drapto import __version__
from drapto.core import events
from drapto.core.plan import EncodePlan, Expectations
from drapto.core.units import ChunkResult, ChunkResults, load_result
from drapto.graph import runlog
from drapto.graph.ffmpeg import versions
from drapto.shell import history


def record_history(finished: events.FileFinished, plan: EncodePlan, ffmpeg: str, emit: Any) -> None:
    """Append the finished file to the encode history. A history that cannot be written is a warning:
    the encode itself has succeeded."""
    try:
        ffmpeg_version, encoder_version = versions(ffmpeg)
        record = history.HistoryRecord(
            finished=history.now(),
            source=finished.file,
            output=finished.output,
            input_bytes=finished.input_bytes,
            output_bytes=finished.output_bytes,
            reduction=round(history.reduction(finished.input_bytes, finished.output_bytes), 2),
            seconds=round(finished.elapsed, 3),
            duration=plan.expect.duration,
            speed=round(plan.expect.duration / finished.elapsed, 3)
            if plan.expect.duration and finished.elapsed
            else None,
            mode=finished.mode,
            preset=plan.preset,
            crf=plan.crf if finished.mode == "standard" else None,
            crf_range=finished.crf_range,
            target_vmaf=plan.target_vmaf,
            vmaf=finished.vmaf,
            capped=finished.capped if finished.mode == "chunked" else None,
            drapto_version=__version__,
            ffmpeg_version=ffmpeg_version,
            encoder_version=encoder_version,
        )
        runlog.note(f"history: appended to {history.append(record)}")
    except Exception as exc:
        emit(events.Notice(file=finished.file, level="warning", message=f"could not write the encode history: {exc}"))


def write_report_page(source: Path, output: Path, plan: EncodePlan, ffmpeg: str, emit: Any) -> None:
    """`encode --report`: the finished file's report page beside it. A report that cannot be made is a
    warning: the encode itself has succeeded."""
    try:
        from drapto.shell.report.inputs import make_report, report_path, write_report

        data = make_report(ffmpeg, output, source=source, crop=plan.crop or "")
        page = write_report(data, report_path(output))
        emit(events.Notice(file=str(source), level="info", message=f"report: {page}"))
    except Exception as exc:
        emit(events.Notice(file=str(source), level="warning", message=f"could not write the report: {exc}"))


def audio_label(channels: int, kbps: int) -> str:
    """ "Opus 5.1 256k": the layout by channel count, and the bitrate the plan gives it."""
    layout = {1: "mono", 2: "2.0", 6: "5.1", 8: "7.1"}.get(channels, f"{channels}ch")
    return f"Opus {layout} {kbps}k"


def validation_summary(expect: Expectations) -> str:
    """What validation confirmed (it passed, or the file would not have its name)."""
    checks = [f"AV1 {expect.bit_depth}-bit {expect.width}x{expect.height}", expect.dynamic]
    if expect.duration is not None:
        checks.append(f"duration {expect.duration:.1f}s")
    if expect.frames is not None:
        checks.append(f"{expect.frames} frames")
    checks += [f"{len(expect.audio_channels)} audio", f"{expect.subtitles} subtitles", f"{expect.chapters} chapters"]
    if expect.attachments:
        checks.append(f"{expect.attachments} attachments")
    return "passed: " + ", ".join(checks)


def finished_results(plan: EncodePlan) -> dict[int, ChunkResult]:
    """Results an earlier (or running) encode left for the plan's chunks, by chunk index."""
    found = {}
    for unit in plan.chunks:
        try:
            result = load_result(unit.result)
        except (OSError, msgspec.DecodeError):
            continue
        if (result.start, result.end) == (unit.chunk.start, unit.chunk.end):
            found[unit.chunk.index] = result
    return found


class ChunkStats(msgspec.Struct, frozen=True):
    crf_range: tuple[float, float]  # lowest and highest CRF
    vmaf: tuple[float, float, float]  # min, mean, max VMAF
    capped: tuple[float, ...] = ()  # the VMAF of each chunk capped by size


def chunk_stats(path: str) -> ChunkStats | None:
    """The chunks' CRF range, VMAF and capped chunks, from the results file."""
    try:
        results = msgspec.json.decode(Path(path).read_bytes(), type=ChunkResults).chunks
    except (OSError, msgspec.DecodeError):
        return None
    if not results:
        return None
    crfs = [r.crf for r in results]
    scores = [r.vmaf for r in results]
    return ChunkStats(
        (min(crfs), max(crfs)),
        (min(scores), sum(scores) / len(scores), max(scores)),
        tuple(r.vmaf for r in results if r.capped),
    )
