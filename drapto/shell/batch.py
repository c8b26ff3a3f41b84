"""The per-file loop `encode` and `watch` share: each source to its output under the output's lock, an
existing output checked before it is skipped, a failed file reported and counted while the batch goes on."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drapto.core import events, saving
from drapto.core.config import Config
from drapto.core.workpaths import work_paths
from drapto.errors import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    DraptoError,
    InputError,
    OutputBusyError,
    SourceSkipped,
    ValidationError,
)
from drapto.graph.doitrun import run_job
from drapto.graph.jobs import check_not_source, output_for, prepare_output_dir
from drapto.graph.outputlock import output_lock
from drapto.graph.planning import ready_job, work_plan
from drapto.graph.probe import probe, require_video
from drapto.graph.space import check_space
from drapto.graph.validate import existing_output_problems
from drapto.shell.finished import audio_label, chunk_stats, record_history, validation_summary, write_report_page
from drapto.shell.runlogs import log_failure


def _existing_output(source: Path, output: Path, ffmpeg: str, emit: Any, *, force: bool) -> bool:
    """True when `output` is already a finished encode of `source` (skip it). An existing output that does
    not validate is left alone, unless `force`: then it is re-encoded, and replaced only once the new
    one validates."""
    if force:
        return False
    problems = existing_output_problems(ffmpeg, require_video(probe(source, ffmpeg)), output)
    if problems:
        raise ValidationError(
            f"{output} exists but is not a valid encode of this source ({'; '.join(problems)}); "
            "left alone: --force re-encodes and replaces it"
        )
    emit(events.FileSkipped(file=str(source), output=str(output), reason="output exists and validates"))
    return True


def encode_one(
    source: Path,
    output: Path,
    config: Config,
    ffmpeg: str,
    emit: Any,
    *,
    force: bool = False,
    position: tuple[int, int] | None = None,
    report: bool = False,
) -> tuple[str, int]:
    """Encode one file, holding its output's lock (a second run on the same output is refused); returns
    ("done"|"skipped"|"discarded", output size)."""
    check_not_source(source, output)
    prepare_output_dir(output)
    try:
        with output_lock(output):
            return _encode_locked(source, output, config, ffmpeg, emit, force=force, position=position, report=report)
    finally:
        if not config.keep:
            try:
                Path(work_paths(output).workdir).parent.rmdir()  # the shared .drapto folder, once no job uses it
            except OSError:
                pass


def _encode_locked(
    source: Path,
    output: Path,
    config: Config,
    ffmpeg: str,
    emit: Any,
    *,
    force: bool,
    position: tuple[int, int] | None,
    report: bool,
) -> tuple[str, int]:
    workdir = Path(work_paths(output).workdir)
    if output.exists() and not workdir.exists() and _existing_output(source, output, ffmpeg, emit, force=force):
        return "skipped", 0
    job, plan = ready_job(source, output, config, ffmpeg)
    short = check_space(source, output, plan.mode)
    emit(
        events.FileStarted(
            file=str(source),
            output=str(output),
            resolution=plan.resolution,
            crf=plan.crf if plan.mode == "standard" else None,
            preset=plan.preset,
            steps=tuple(step.name for step in plan.steps),
            mode=plan.mode,
            target_vmaf=plan.target_vmaf,
            index=position[0] if position else None,
            count=position[1] if position else None,
            duration=plan.expect.duration,
        )
    )
    for notice in (*plan.notices, *([f"disk space may run short: {short}"] if short else [])):
        emit(events.Notice(file=str(source), level="warning", message=notice))
    started = time.monotonic()
    run_job(job, emit)
    plan = work_plan(job) or plan  # as carried out: the decided crop and fields, the chunks' expectations
    muxed = Path(work_paths(output).muxed)
    sizes = source.stat().st_size, (muxed if muxed.exists() else output).stat().st_size
    stats = chunk_stats(work_paths(output).chunk_results) if plan.mode == "chunked" else None
    if not config.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    if saving.discard(*sizes, config.min_saving):  # validated, but not written (graph.steps.finish_output)
        emit(events.FileDiscarded(
            file=str(source), output=str(output), input_bytes=sizes[0], output_bytes=sizes[1],
            min_saving=config.min_saving or 0.0, elapsed=time.monotonic() - started,
        ))  # fmt: skip
        return "discarded", sizes[1]
    finished = events.FileFinished(
        file=str(source),
        output=str(output),
        input_bytes=source.stat().st_size,
        output_bytes=output.stat().st_size,
        elapsed=time.monotonic() - started,
        mode=plan.mode,
        crf_range=stats.crf_range if stats else None,
        vmaf=stats.vmaf if stats else None,
        capped=len(stats.capped) if stats else 0,
        capped_vmaf=(min(stats.capped), max(stats.capped)) if stats and stats.capped else None,
        crf=plan.crf if plan.mode == "standard" else None,
        duration=plan.expect.duration,
        video=f"AV1 {plan.expect.width}x{plan.expect.height} {plan.expect.bit_depth}-bit"
        + (f" {plan.expect.dynamic}" if plan.expect.dynamic != "SDR" else "")
        + (" Dolby Vision" if plan.expect.dolby_vision else ""),
        audio=tuple(
            audio_label(channels, kbps)
            for channels, kbps in zip(plan.expect.audio_channels, plan.audio_kbps, strict=True)
        ),
        validation=validation_summary(plan.expect),
    )
    emit(finished)
    record_history(finished, plan, ffmpeg, emit)
    if report:
        write_report_page(source, output, plan, ffmpeg, emit)
    return "done", output.stat().st_size


@dataclass
class Batch:
    """The per-file loop of `encode` and `watch`: each source goes to its output (`root`: its subfolders
    under it mirrored under `output`); a file that fails is reported and counted, and the batch goes on."""

    output: Path
    config: Config
    ffmpeg: str
    emit: Any
    batch: bool
    root: Path | None = None
    force: bool = False
    report: bool = False  # write each finished file's report page beside it
    claimed: dict[Path, Path] = field(default_factory=dict)  # output → the source that writes it
    counts: dict[str, int] = field(default_factory=lambda: {"done": 0, "skipped": 0, "discarded": 0, "failed": 0})
    failure_codes: list[int] = field(default_factory=list)
    in_bytes: int = 0
    out_bytes: int = 0
    started: float = field(default_factory=time.monotonic)
    files: list[events.BatchFile] = field(default_factory=list)  # one line each, for the summary
    skip_reason: str = "output exists and validates"

    def encode(self, source: Path, position: tuple[int, int] | None = None) -> None:
        """Encode one source; `position` is (its number, of how many) when the batch's size is known."""
        target = output_for(source, self.output, batch=self.batch, root=self.root)
        try:
            if target in self.claimed:
                raise InputError(
                    f"{source.name} would write {target}, which {self.claimed[target].name} writes; rename one"
                )
            self.claimed[target] = source
            status, size = encode_one(
                source,
                target,
                self.config,
                self.ffmpeg,
                self.emit,
                force=self.force,
                position=position,
                report=self.report,
            )
        except SourceSkipped as skipped:  # e.g. already AV1: said, counted as skipped, the batch goes on
            self.emit(events.FileSkipped(file=str(source), output=str(target), reason=skipped.message))
            self.counts["skipped"] += 1
            self.files.append(events.BatchFile(file=str(source), status="skipped", detail=skipped.message))
            return
        except OutputBusyError as error:
            if self.batch:  # another run (a second watcher, a manual encode) has it: leave it to that run
                self.emit(events.FileSkipped(file=str(source), output=str(target), reason=error.message))
                self.counts["skipped"] += 1
                self.files.append(events.BatchFile(file=str(source), status="skipped", detail=error.message))
                return
            self._failed(source, error)
            return
        except DraptoError as error:
            self._failed(source, error)
            return
        self.counts[status] += 1
        if status == "done":
            self.in_bytes += source.stat().st_size
            self.out_bytes += size
            self.files.append(events.BatchFile(
                file=str(source), status="encoded", input_bytes=source.stat().st_size, output_bytes=size,
            ))  # fmt: skip
        elif status == "discarded":
            self.files.append(events.BatchFile(
                file=str(source), status="discarded", input_bytes=source.stat().st_size, output_bytes=size,
                detail=f"not worth it: saves less than --min-saving {self.config.min_saving:g}%, not written",
            ))  # fmt: skip
        else:
            self.files.append(events.BatchFile(file=str(source), status="skipped", detail=self.skip_reason))

    def _failed(self, source: Path, error: DraptoError) -> None:
        detail = log_failure(str(source), error)
        self.emit(events.FileFailed(file=str(source), message=error.message, detail=detail))
        self.counts["failed"] += 1
        self.failure_codes.append(error.exit_code)
        self.files.append(events.BatchFile(file=str(source), status="failed", detail=error.message))

    def summary(self, input: Path) -> events.BatchSummary:
        return events.BatchSummary(
            file=str(input),
            succeeded=self.counts["done"],
            failed=self.counts["failed"],
            skipped=self.counts["skipped"],
            discarded=self.counts["discarded"],
            input_bytes=self.in_bytes,
            output_bytes=self.out_bytes,
            elapsed=time.monotonic() - self.started,
            files=tuple(self.files),
        )

    def exit_code(self) -> int:
        if not self.failure_codes:
            return EXIT_OK
        only_bad_input = (
            all(code == EXIT_USAGE for code in self.failure_codes) and not self.counts["done"] + self.counts["skipped"]
        )
        return EXIT_USAGE if only_bad_input else EXIT_FAILED
