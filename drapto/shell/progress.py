"""Reporters turn events into output: rich bars on a terminal, plain lines otherwise, NDJSON with --json."""

from __future__ import annotations

import sys
from typing import TextIO

import msgspec
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TaskProgressColumn, TextColumn, TimeRemainingColumn

from drapto.core import events
from drapto.core.crop import crop_summary
from drapto.core.saving import grew, growth_warning, saving_percent
from drapto.core.sizes import human_bytes


def size_change(input_bytes: int, output_bytes: int) -> str:
    """ "27.1% smaller", or "4.2% LARGER", loud: it happens with already well-compressed sources and small
    pictures, and such an output costs space instead of saving it."""
    percent = saving_percent(input_bytes, output_bytes)
    return f"{abs(percent):.1f}% {'smaller' if percent >= 0 else 'LARGER'}"


def finished_lines(event: events.FileFinished) -> str:
    """The file's summary: sizes, time and speed; the video and audio written; what validation found."""
    speed = f", {event.duration / event.elapsed:.2f}x realtime" if event.duration and event.elapsed else ""
    lines = [
        f"  finished: {human_bytes(event.input_bytes)} -> {human_bytes(event.output_bytes)} "
        f"({size_change(event.input_bytes, event.output_bytes)}) in {event.elapsed:.1f}s{speed}"
    ]
    quality = f"CRF {event.crf}" if event.crf is not None else ""
    if event.crf_range and event.vmaf:
        low, mean, high = event.vmaf
        quality = (f"chunk VMAF min {low:.2f} / mean {mean:.2f} / max {high:.2f}, "
                   f"CRF {event.crf_range[0]:g}-{event.crf_range[1]:g}")  # fmt: skip
    if event.capped and event.capped_vmaf:
        quality += f", {event.capped} capped by size (VMAF {event.capped_vmaf[0]:.2f}-{event.capped_vmaf[1]:.2f})"
    if event.video:
        lines.append(f"  video: {event.video}" + (f", {quality}" if quality else ""))
    elif quality:
        lines.append(f"  video: {quality}")
    if event.audio:
        lines.append(f"  audio: {', '.join(event.audio)}")
    if event.validation:
        lines.append(f"  validation {event.validation}")
    if grew(event.input_bytes, event.output_bytes):
        lines.append(f"  WARNING: {growth_warning(event.input_bytes, event.output_bytes)}")
    return "\n".join(lines)


def describe(event: events.Event) -> str | None:
    """The plain-text line for an event; None for events that only move a progress bar."""
    match event:
        case events.FileStarted():
            if event.mode == "chunked":
                quality = f"chunked, target VMAF {event.target_vmaf:g}"
            else:
                quality = f"CRF {event.crf}"
            return f"{event.file} -> {event.output}: {event.resolution}, {quality}, preset {event.preset}"
        case events.ChunkStarted():
            return f"  {event.step}: frames {event.start}-{event.end - 1} ({event.duration:.1f}s), CRF {event.crf:g}"
        case events.ChunkRetry():
            return f"  {event.step}: retry {event.attempt - 1} at CRF {event.crf:g}"
        case events.ChunkFinished():
            predicted = f", predicted {event.predicted_vmaf:.1f}" if event.predicted_vmaf is not None else ""
            how = [*([f"worst shot {event.worst_shot:.2f}"] if event.worst_shot is not None else []),
                   *(["all frames"] if event.confirmed else [])]  # fmt: skip
            scored = f" ({', '.join(how)})" if how else ""
            return (
                f"  {event.step}: CRF {event.crf:g}, VMAF {event.vmaf:.2f}{scored}{predicted}, "
                f"{human_bytes(event.bytes)}, "
                f"{event.tries} {'try' if event.tries == 1 else 'tries'}, {event.elapsed:.1f}s"
                + ("" if event.worker == "local" else on_worker(event.worker))
                + (" (capped by size)" if event.capped else "" if event.in_band else " (outside the target band)")
            )
        case events.CropDecided():
            return f"  crop: {crop_summary(event.crop, event.reason, event.samples)}"
        case events.StepStarted():
            return f"  {event.step}: started"
        case events.StepFinished():
            return f"  {event.step}: done in {event.elapsed:.1f}s"
        case events.StepSkipped():
            return f"  {event.step}: {event.reason}, skipped"
        case events.Notice():
            return f"  {event.level.upper()}: {event.message}"
        case events.FileFinished():
            return finished_lines(event)
        case events.FileSkipped():
            return f"{event.file}: skipped, {event.reason}"
        case events.FileDiscarded():
            return (
                f"{event.file}: not worth it: {human_bytes(event.input_bytes)} -> {human_bytes(event.output_bytes)} "
                f"({size_change(event.input_bytes, event.output_bytes)}) saves less than --min-saving "
                f"{event.min_saving:g}%; {event.output} not written, the source untouched"
            )
        case events.FileFailed():
            return f"{event.file}: FAILED: {event.message}" + (f" ({event.detail})" if event.detail else "")
        case events.BatchSummary():
            lines = [
                f"{event.succeeded} encoded, {event.failed} failed, {event.skipped} skipped"
                + (f", {event.discarded} not worth it" if event.discarded else "")
                + "; "
                f"{human_bytes(event.input_bytes)} -> {human_bytes(event.output_bytes)} "
                f"({size_change(event.input_bytes, event.output_bytes)}) in {event.elapsed:.1f}s"
            ]
            for entry in event.files:
                detail = entry.detail
                if entry.status == "encoded":
                    detail = (f"{human_bytes(entry.input_bytes)} -> {human_bytes(entry.output_bytes)} "
                              f"({size_change(entry.input_bytes, entry.output_bytes)})")  # fmt: skip
                lines.append(f"  {entry.status:<8} {entry.file}: {detail}")
            return "\n".join(lines)
    return None


def on_worker(address: str) -> str:
    """ " on 10.0.0.5:40123": where a chunk runs, a cluster worker's address without its scheme."""
    return f" on {address.split('://')[-1]}"


def rates(event: events.StepProgress) -> str:
    """ "48.2 fps, 2.01x, ~12.30 MiB": what ffmpeg reported, with the output size extrapolated from the
    bytes written so far; empty when ffmpeg reported nothing yet."""
    parts = []
    if event.fps:
        parts.append(f"{event.fps:.1f} fps")
    if event.speed:
        parts.append(f"{event.speed:.2f}x")
    if event.bytes and event.fraction:
        parts.append(f"~{human_bytes(event.bytes / event.fraction)}")
    return ", ".join(parts)


class PlainReporter:
    """One line per event for logs and pipes; a step's progress is reported every 10 %."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self._last_decile: dict[str, int] = {}

    def __call__(self, event: events.Event) -> None:
        if isinstance(event, events.StepProgress):
            if event.fraction is None or event.step.startswith("chunk-"):
                return  # a chunk says when it starts and finishes; that is enough for a log
            decile = int(event.fraction * 10)
            if decile > self._last_decile.get(event.step, 0):
                self._last_decile[event.step] = decile
                detail = rates(event)
                print(
                    f"  {event.step}: {decile * 10}%" + (f" ({detail})" if detail else ""), file=self.stream, flush=True
                )
            return
        if isinstance(event, events.StepStarted):
            self._last_decile[event.step] = 0
        line = describe(event)
        if line is not None:
            stream = sys.stderr if isinstance(event, events.FileFailed) else self.stream
            print(line, file=stream, flush=True)


class QuietReporter:
    """`-q`: errors only."""

    def __call__(self, event: events.Event) -> None:
        if isinstance(event, events.FileFailed):
            print(describe(event), file=sys.stderr, flush=True)


class JsonReporter:
    """One JSON object per line (tagged by "event"), for scripts and tests."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    def __call__(self, event: events.Event) -> None:
        self.stream.write(msgspec.json.encode(event).decode() + "\n")
        self.stream.flush()


class RichReporter:
    """Live bars on an interactive terminal: one for the file (how much of its video is encoded), one per
    running step or chunk (with the cluster worker that runs it), each with fps, speed × realtime, ETA and
    the estimated output size."""

    def __init__(self, console: Console | None = None) -> None:
        # The terminal itself, fixed now: doit swaps sys.stdout while tasks run, and a console that
        # followed it (or a Live that redirected it) would write into doit's capture and back.
        self.console = console or Console(file=sys.stdout)
        self.progress = Progress(
            TextColumn("  {task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[rates]}"),
            console=self.console,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._bars: dict[str, TaskID] = {}
        self._file: TaskID | None = None
        self._duration: float | None = None
        self._video_done: dict[str, float] = {}  # video seconds encoded, by step (video, chunk-NNNN)
        self._chunk_seconds: dict[str, float] = {}  # running chunks' lengths

    def _start_file(self, event: events.FileStarted) -> None:
        self.progress.start()
        where = f"[{event.index}/{event.count}] " if event.index and event.count else ""
        name = event.file.rsplit("/", 1)[-1]
        self._duration = event.duration
        self._video_done.clear()
        self._file = self.progress.add_task(f"{where}{name}", total=1.0, rates="")

    def _advance_file(self, step: str, seconds: float) -> None:
        if self._file is None or not self._duration or not (step == "video" or step.startswith("chunk-")):
            return
        self._video_done[step] = max(seconds, self._video_done.get(step, 0.0))  # a retry starts over
        self.progress.update(self._file, completed=min(sum(self._video_done.values()) / self._duration, 1.0))

    def _stop(self) -> None:
        for bar in (*self._bars.values(), *([self._file] if self._file is not None else [])):
            self.progress.remove_task(bar)
        self._bars.clear()
        self._file = None
        self.progress.stop()

    def __call__(self, event: events.Event) -> None:
        if isinstance(event, events.FileStarted):
            self._start_file(event)
        if isinstance(event, events.StepStarted | events.ChunkStarted):
            self.progress.start()
            self._bars[event.step] = self.progress.add_task(event.step, total=1.0, rates="")
            if isinstance(event, events.StepStarted):
                return
        if isinstance(event, events.StepProgress):
            if event.step in self._bars and event.fraction is not None:
                where = on_worker(event.worker) if event.worker else ""
                self.progress.update(
                    self._bars[event.step], completed=event.fraction, rates=rates(event), description=event.step + where
                )
            self._advance_file(event.step, event.seconds)
            return
        if isinstance(event, events.ChunkRetry) and event.step in self._bars:
            self.progress.reset(self._bars[event.step], total=1.0, rates=f"retry at CRF {event.crf:g}")
        if (
            isinstance(event, events.StepFinished | events.StepSkipped | events.ChunkFinished)
            and event.step in self._bars
        ):
            self.progress.remove_task(self._bars.pop(event.step))
        if isinstance(event, events.ChunkStarted):
            self._chunk_seconds[event.step] = event.duration
        if isinstance(event, events.ChunkFinished):
            self._advance_file(event.step, self._chunk_seconds.pop(event.step, 0.0))
        if isinstance(
            event,
            events.FileFailed | events.FileFinished | events.FileSkipped | events.FileDiscarded | events.BatchSummary,
        ):
            self._stop()
        line = describe(event)
        if line is not None:
            if isinstance(event, events.FileFailed):
                Console(stderr=True).print(line, style="red", highlight=False, markup=False)
            else:
                self.console.print(line, highlight=False, markup=False)


def make_reporter(json: bool, quiet: bool = False) -> PlainReporter | JsonReporter | RichReporter | QuietReporter:
    if json:
        return JsonReporter()
    if quiet:
        return QuietReporter()
    if sys.stdout.isatty():
        return RichReporter()
    return PlainReporter()
