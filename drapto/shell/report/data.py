"""What `drapto report` shows about one output, as one Struct built by one pure function (`build_report`).

The HTML page (`drapto.shell.report.page`) and `drapto report --json` both come from the `ReportData` this
module builds, so they always agree. The inputs are read elsewhere (`drapto.shell.report.inputs`): a probe of the
output and, while it exists, of the source; the chunk results a chunked encode attached to the output
(`drapto-chunks.json`); the newest encode history record for the output; and, with `--vmaf`, the
whole-file per-frame VMAF. What none of them holds is reported as unknown (None), with a note saying why.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence

import msgspec

from drapto.core.hdr import classify
from drapto.core.media import MediaInfo
from drapto.core.picture import displayed_size
from drapto.core.saving import grew, growth_warning, saving_percent
from drapto.core.search import SearchSettings
from drapto.core.shots import ShotScore
from drapto.core.units import ChunkResults
from drapto.core.vmaf import describe_scoring, pool_scores
from drapto.shell.history import HistoryRecord

REPORT_VERSION = 1


class ChunkRow(msgspec.Struct, frozen=True, kw_only=True):
    """One chunk of a chunked encode, as the table and the timeline show it."""

    index: int
    start: int  # first frame
    end: int  # one past the last frame
    start_time: float  # seconds
    end_time: float
    frames: int
    cut: str | None  # why the chunk starts there: start, scene or split (None: not recorded)
    crf: float
    predicted_vmaf: float | None
    vmaf: float  # what the search measured for the kept try
    in_band: bool
    tries: int  # full encodes of the chunk
    tried_crfs: tuple[float, ...]  # their CRFs, in the order made
    probes: int  # window probes before the first full encode
    bytes: int  # the kept encode's size
    kbps: float  # bytes × 8 / duration, in kbit/s
    encode_seconds: float  # encode time of all its probes and tries
    file_vmaf: float | None = None  # --vmaf: the mean of the whole-file frame scores over this chunk's frames
    capped: bool = False  # kept under the band by the size ceiling (the source's own bytes for its frames)
    shots: tuple[ShotScore, ...] = ()  # the kept try's shots and their VMAF (none: one shot, or not recorded)
    confirmed: bool = False  # its VMAF and its shots' come from all its frames


class FileScore(msgspec.Struct, frozen=True, kw_only=True):
    """The whole output scored against the source, every frame, with the search's convention (--vmaf)."""

    model: str
    scale: tuple[int, int] | None  # both sides upscaled to this, or None
    crop: str | None  # the crop the reference got (None: none)
    crop_from: str  # where that crop came from
    frames: int
    mean: float
    harmonic: float
    low_1pct: float  # the 1st percentile of the frame scores ("1 % low")
    minimum: float
    seconds: float  # how long the scoring took
    scores: tuple[float, ...]  # per frame, in order


class ReportData(msgspec.Struct, frozen=True, kw_only=True):
    version: int = REPORT_VERSION
    generated: str  # when the report was made, ISO 8601
    output: str
    output_bytes: int
    source: str | None  # None: unknown
    source_exists: bool
    source_bytes: int | None
    reduction: float | None  # percent smaller than the source (negative: larger)
    mode: str  # chunked or standard
    target_vmaf: float | None
    band: tuple[float, float] | None  # the VMAF a chunk is accepted at: target − 1 … target + 2
    preset: int | None
    crf: float | None  # standard mode's one CRF
    crf_range: tuple[float, float] | None  # chunked: lowest and highest chunk CRF
    chunk_vmaf: tuple[float, float, float] | None  # chunked: min, mean (frame-weighted), max of the chunks
    in_band: int | None  # chunked: chunks whose VMAF is in the band
    duration: float | None  # seconds
    frames: int | None
    frame_rate: str | None
    width: int
    height: int
    source_width: int | None
    source_height: int | None
    dynamic: str  # SDR, HDR10, PQ or HLG
    dolby_vision: str | None  # the profile, or None
    crop: str | None  # W:H:X:Y, or None for no crop or unknown (see crop_from)
    crop_from: str  # how the crop is known
    finished: str | None  # when the encode finished (history)
    wall_seconds: float | None  # wall time of the encode (history)
    speed: float | None  # × realtime (history)
    encode_seconds: float | None  # chunked: the chunks' encode time added up (they ran side by side)
    search_encodes: int | None  # chunked: full encodes and probes made by the search, all chunks
    history_found: bool
    chunks: tuple[ChunkRow, ...] = ()
    whole_file: FileScore | None = None
    notes: tuple[str, ...] = ()  # what is unknown or assumed, and why
    scoring: str | None = None  # chunked: how the chunks were scored (model, size, vmaf_scale); None: not recorded
    warnings: tuple[str, ...] = ()  # what the reader must not miss: an output larger than its source


def parse_crop(crop: str) -> tuple[int, int, int, int]:
    width, height, x, y = (int(part) for part in crop.split(":"))
    return width, height, x, y


def centred_crop(source: tuple[int, int], output: tuple[int, int]) -> str | None:
    """The crop that turns a source picture into the output's, assuming it took equal margins on both
    sides (rounded down to even, as cropdetect's round=2 does); None when the sizes are equal or the
    output is not smaller."""
    (sw, sh), (ow, oh) = source, output
    if (sw, sh) == (ow, oh) or ow > sw or oh > sh or ow <= 0 or oh <= 0:
        return None
    x, y = (sw - ow) // 2, (sh - oh) // 2
    return f"{ow}:{oh}:{x - x % 2}:{y - y % 2}"


def crop_of(recorded: str | None, source: tuple[int, int] | None, output: tuple[int, int]) -> tuple[str | None, str]:
    """The crop an encode applied and how that is known: recorded by the encode (`recorded`: W:H:X:Y, or
    "" for none), none when the sizes are equal, else derived from the sizes assuming it was centred."""
    if recorded is not None:
        return (recorded or None), "recorded by the encode"
    if source is None:
        return None, "unknown: the source's size is unknown"
    if source == output:
        return None, "the output has the source's size"
    derived = centred_crop(source, output)
    if derived is None:
        return None, f"unknown: the output is not a crop of the {source[0]}x{source[1]} source"
    return derived, "derived from the sizes, assuming equal margins"


def newest_record(records: Iterable[HistoryRecord], output: str) -> HistoryRecord | None:
    """The newest history record (the last appended) for `output`, by real path."""
    wanted = os.path.realpath(output)
    found = None
    for record in records:
        if record.output == output or os.path.realpath(record.output) == wanted:
            found = record
    return found


def _frame_rate(rate: str | None, frames: int | None, duration: float | None) -> float | None:
    if rate:
        num, _, den = rate.partition("/")
        try:
            value = float(num) / float(den or 1)
        except (ValueError, ZeroDivisionError):
            value = 0.0
        if value > 0:
            return value
    if frames and duration:
        return frames / duration
    return None


def file_score(
    scores: Sequence[float], *, model: str, scale: tuple[int, int] | None, crop: str | None, crop_from: str,
    seconds: float,
) -> FileScore:  # fmt: skip
    """Pool the whole file's frame scores: mean, harmonic mean, 1 % low and minimum. Pure."""
    return FileScore(
        model=model, scale=scale, crop=crop, crop_from=crop_from, frames=len(scores),
        mean=round(pool_scores(list(scores), "mean"), 4), harmonic=round(pool_scores(list(scores), "harmonic"), 4),
        low_1pct=round(pool_scores(list(scores), "p1"), 4), minimum=round(min(scores), 4), seconds=round(seconds, 3),
        scores=tuple(round(s, 3) for s in scores),
    )  # fmt: skip


def _rows(results: ChunkResults, whole: FileScore | None) -> tuple[ChunkRow, ...]:
    rows = []
    for r in results.chunks:
        duration = r.end_time - r.start_time
        file_vmaf = None
        if whole and r.end <= len(whole.scores) and r.end > r.start:
            part = whole.scores[r.start : r.end]
            file_vmaf = round(sum(part) / len(part), 3)
        rows.append(
            ChunkRow(
                index=r.index,
                start=r.start,
                end=r.end,
                start_time=r.start_time,
                end_time=r.end_time,
                frames=r.end - r.start,
                cut=r.cut,
                crf=r.crf,
                predicted_vmaf=r.predicted_vmaf,
                vmaf=r.vmaf,
                in_band=r.in_band,
                capped=r.capped,
                shots=r.shots,
                confirmed=r.confirmed,
                tries=len(r.tries),
                tried_crfs=tuple(t.crf for t in r.tries),
                probes=len(r.probes),
                bytes=r.bytes,
                kbps=round(r.bytes * 8 / duration / 1000, 3) if duration > 0 else 0.0,
                encode_seconds=r.seconds,
                file_vmaf=file_vmaf,
            )
        )
    return tuple(rows)


def build_report(
    *,
    output: str,
    output_bytes: int,
    output_media: MediaInfo,
    generated: str,
    source: str | None = None,
    source_media: MediaInfo | None = None,
    source_bytes: int | None = None,
    results: ChunkResults | None = None,
    record: HistoryRecord | None = None,
    crop: tuple[str | None, str] | None = None,
    whole_file: FileScore | None = None,
) -> ReportData:
    """Everything the report shows, from what was found. Pure.

    `source` is the source's path when known (`source_media` set when it still exists); `record` the
    newest history record for the output; `crop` the crop and how it is known (else it is derived from
    the sizes by `crop_of`)."""
    notes: list[str] = []
    video = output_media.video[0] if output_media.video else None
    width, height = (video.width, video.height) if video else (0, 0)
    colour = classify(video) if video else None

    source = source or (results.source if results else None) or (record.source if record else None)
    if source is None:
        notes.append("the source is unknown (no history record for this output, and the encode did not record it)")
    elif source_media is None:
        notes.append(f"the source {source} was not found; its size comes from the history, if anywhere")
    if source_bytes is None and record is not None:
        source_bytes = record.input_bytes
    source_size = None
    if source_media is not None and source_media.video:
        source_size = displayed_size(source_media)

    if crop is None:
        crop = crop_of(results.crop if results else None, source_size, (width, height))
    if crop[1].startswith("derived"):
        notes.append(f"the crop {crop[0]} is {crop[1]}: the encode did not record it")

    if results is not None:
        mode = "chunked"
    elif record is not None:
        mode = record.mode
    else:
        mode = "standard"
        notes.append("no chunk results are attached to the output: taken for a standard-mode encode")

    rows = _rows(results, whole_file) if results else ()
    target = results.target_vmaf if results else (record.target_vmaf if record else None)
    band = None
    if mode == "chunked" and target:
        settings = SearchSettings(target=target)
        band = (target - settings.below, target + settings.above)

    crf = float(record.crf) if record is not None and record.crf is not None and mode == "standard" else None
    if mode == "standard" and crf is None:
        notes.append("the CRF is unknown: no history record for this output holds it")
    crf_range = chunk_vmaf = in_band = encode_seconds = search_encodes = None
    if rows:
        crf_range = (min(r.crf for r in rows), max(r.crf for r in rows))
        frames_total = sum(r.frames for r in rows) or 1
        mean = sum(r.vmaf * r.frames for r in rows) / frames_total
        chunk_vmaf = (min(r.vmaf for r in rows), round(mean, 3), max(r.vmaf for r in rows))
        in_band = sum(r.in_band for r in rows)
        encode_seconds = round(sum(r.encode_seconds for r in rows), 3)
        search_encodes = sum(r.tries + r.probes for r in rows)

    duration = output_media.duration or (video.duration if video else None) or (record.duration if record else None)
    frames = results.frames if results else (video.frame_count if video else None)
    if record is None:
        notes.append("no encode history record for this output: wall time and speed are unknown")
    wall = record.seconds if record else None
    speed = record.speed if record else None
    if speed is None and wall and duration:
        speed = round(duration / wall, 3)
    reduction = None
    warnings = []
    if source_bytes:
        reduction = round(saving_percent(source_bytes, output_bytes), 2)
        if grew(source_bytes, output_bytes):
            warnings.append(growth_warning(source_bytes, output_bytes))
    scoring = None
    if results is not None and results.scoring is not None:
        scoring = describe_scoring(results.scoring, width, height, results.vmaf_scale or "auto")
    if mode == "standard" and whole_file is None:
        notes.append("a standard-mode encode measures no VMAF: `drapto report --vmaf` scores the whole file")

    return ReportData(
        generated=generated, output=output, output_bytes=output_bytes, source=source,
        source_exists=source_media is not None, source_bytes=source_bytes, reduction=reduction, mode=mode,
        target_vmaf=target, band=band, preset=record.preset if record else None, crf=crf, crf_range=crf_range,
        chunk_vmaf=chunk_vmaf, in_band=in_band, duration=duration, frames=frames,
        frame_rate=video.frame_rate if video else None, width=width, height=height,
        source_width=source_size[0] if source_size else None, source_height=source_size[1] if source_size else None,
        dynamic=colour.dynamic if colour else "SDR", dolby_vision=colour.dolby_vision if colour else None,
        crop=crop[0], crop_from=crop[1], finished=record.finished if record else None, wall_seconds=wall,
        speed=speed, encode_seconds=encode_seconds, search_encodes=search_encodes, history_found=record is not None,
        chunks=rows, whole_file=whole_file, notes=tuple(notes), scoring=scoring, warnings=tuple(warnings),
    )  # fmt: skip


def frame_times(data: ReportData) -> list[float]:
    """Each scored frame's time in seconds: within each chunk, evenly between its start and end time;
    without chunks, frame index over the frame rate. Pure."""
    if data.whole_file is None:
        return []
    count = len(data.whole_file.scores)
    rows = [r for r in data.chunks if r.frames > 0]
    if rows and rows[-1].end >= count:
        times = [0.0] * count
        for r in rows:
            step = (r.end_time - r.start_time) / r.frames
            for i in range(r.start, min(r.end, count)):
                times[i] = r.start_time + (i - r.start) * step
        return times
    rate = _frame_rate(data.frame_rate, data.frames, data.duration) or 25.0
    return [i / rate for i in range(count)]


def binned(values: Sequence[float], bins: int) -> list[tuple[int, int, float, float]]:
    """`values` cut into at most `bins` consecutive runs: (first index, end index, mean, minimum) of each,
    so a long per-frame curve can be drawn with a bounded number of points and its dips kept. Pure."""
    if not values:
        return []
    size = max(1, math.ceil(len(values) / bins))
    out = []
    for first in range(0, len(values), size):
        part = values[first : first + size]
        out.append((first, first + len(part), sum(part) / len(part), min(part)))
    return out
