"""The bodies of the task graph's steps: probe, crop, scenes, a standard step (video, audio, mux), a
chunk, the concat and the final validation. Each writes through `.partial` and reports through events;
what runs them (doit) and how they are wired (the task graph) live elsewhere."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

import msgspec

from drapto.core import commands, events, reach, saving, scouting
from drapto.core.crop import CropDecision
from drapto.core.media import MediaInfo
from drapto.core.picture import Fields, fields_text, rotation_of, rotation_text
from drapto.core.plan import EncodePlan, Step
from drapto.core.timeline import source_start
from drapto.core.units import ChunkResults, ChunkUnit, load_result
from drapto.core.vmaf import describe_scoring
from drapto.core.workpaths import partial_name, work_paths
from drapto.errors import SourceDamagedError, ValidationError
from drapto.graph.atomic import write_atomic
from drapto.graph.cropdetect import analyse_crop
from drapto.graph.damage import SourceErrors, damage_warning
from drapto.graph.executor import ChunkExecutor
from drapto.graph.planning import Job, scan_job
from drapto.graph.probe import probe, read_audio_starts, read_video_packets, require_video
from drapto.graph.runner import Progress, run_with_progress
from drapto.graph.validate import count_frames, damaged_source, validate_output
from drapto.graph.workfiles import SCENES_VERSION, ScanFile, load_crop, load_probe

Emit = Callable[[events.Event], None]


def locked(emit: Emit) -> Emit:
    """The same reporter, one event at a time (chunk workers emit from their own threads)."""
    lock = threading.Lock()

    def _emit(event: events.Event) -> None:
        with lock:
            emit(event)

    return _emit


def _stamp(step: Step) -> bytes:
    """What made a step's target: its argv and the size and mtime of each input."""
    inputs = []
    for path in step.inputs:
        stat = os.stat(path)
        inputs.append([path, stat.st_size, stat.st_mtime_ns])
    return msgspec.json.encode({"argv": step.argv, "inputs": inputs})


def _stamped(target: str, stamp: Callable[[], bytes]) -> bool:
    """`target` exists and its `<target>.stamp` holds what `stamp` computes now."""
    try:
        return Path(target).is_file() and Path(target + ".stamp").read_bytes() == stamp()
    except OSError:
        return False


def _already_done(step: Step) -> bool:
    """The target exists and its stamp says this exact step made it: a run killed after the step finished
    but before doit recorded it (the record is written moments later, on the main thread) redoes nothing."""
    return _stamped(step.target, lambda: _stamp(step))


def progress_event(source: str, step: str, report: Progress, duration: float | None) -> events.StepProgress:
    """A step's `-progress` report as an event: the fraction of its media done, and ffmpeg's rates."""
    return events.StepProgress(
        file=source,
        step=step,
        seconds=report.seconds,
        fraction=min(report.seconds / duration, 1.0) if duration else None,
        fps=report.fps,
        speed=report.speed,
        bytes=report.bytes,
        worker=report.worker,
    )


def crop_event(source: str, decision: CropDecision) -> events.CropDecided:
    return events.CropDecided(
        file=source,
        crop=decision.crop,
        reason=decision.reason,
        samples=decision.samples,
        candidates=tuple(f"{c.crop} x {c.count}" for c in decision.candidates),
    )


def run_step(job: Job, step: Step, emit: Emit) -> None:
    if _already_done(step):
        emit(events.StepSkipped(file=job.source, step=step.name, reason="already done"))
        return
    emit(events.StepStarted(file=job.source, step=step.name, duration=step.duration))
    started = time.monotonic()
    partial = Path(step.partial)
    partial.parent.mkdir(parents=True, exist_ok=True)
    partial.unlink(missing_ok=True)

    def progress(report: Progress) -> None:
        emit(progress_event(job.source, step.name, report, step.duration))

    seen = SourceErrors() if step.stage == "video" else None  # the one pass that decodes the whole source
    run_with_progress(step.argv, progress, on_stderr=seen)
    Path(step.target + ".stamp").unlink(missing_ok=True)
    os.replace(partial, step.target)
    Path(step.target + ".stamp").write_bytes(_stamp(step))
    if seen is not None and (warning := damage_warning(job.ffmpeg, job.source, seen)):
        emit(events.Notice(file=job.source, level="warning", message=warning))
    emit(events.StepFinished(file=job.source, step=step.name, elapsed=time.monotonic() - started))


def write_probe(job: Job, emit: Emit) -> None:
    emit(events.StepStarted(file=job.source, step="probe"))
    started = time.monotonic()
    target = Path(work_paths(Path(job.output)).probe)
    media = probe(Path(job.source), job.ffmpeg)
    if media.video:
        start = source_start(media)  # the clock every command of the plan reads the source on
        media = msgspec.structs.replace(
            media,
            video_packets=read_video_packets(job.ffmpeg, Path(job.source), start),
            audio_starts=read_audio_starts(job.ffmpeg, Path(job.source), start, len(media.audio)),
        )
    write_atomic(target, msgspec.json.format(msgspec.json.encode(media)))
    emit(events.StepFinished(file=job.source, step="probe", elapsed=time.monotonic() - started))


def write_crop(job: Job, emit: Emit) -> None:
    """Decide the crop (sampling the film when the setting is `auto`) into crop.json."""
    paths = work_paths(Path(job.output))
    media = load_probe(paths.probe)
    emit(events.StepStarted(file=job.source, step="crop"))
    started = time.monotonic()

    def progress(done: int, total: int) -> None:
        emit(events.StepProgress(file=job.source, step="crop", seconds=float(done), fraction=done / total))

    analysis = analyse_crop(job.ffmpeg, require_video(media), job.config.crop, job.config.deinterlace, progress)
    write_atomic(paths.crop, msgspec.json.format(msgspec.json.encode(analysis)))
    emit(crop_event(job.source, analysis.decision))
    for message in picture_notices(media, analysis.fields):
        emit(events.Notice(file=job.source, level="info", message=message))
    emit(events.StepFinished(file=job.source, step="crop", elapsed=time.monotonic() - started))


def picture_notices(media: MediaInfo, fields: Fields | None) -> list[str]:
    """What the crop step tells the user of the picture's shape: a rotation turned, a field treatment."""
    notes = [text for text in (rotation_text(rotation_of(media)),) if text]
    if fields is not None and fields.treatment != "none":
        notes.append(f"video is {fields_text(fields)}")
    return notes


def write_scenes(job: Job, emit: Emit) -> None:
    """Scan the (cropped) video once for scene changes and keyframes into scenes.json."""
    paths = work_paths(Path(job.output))
    media = load_probe(paths.probe)
    crop = load_crop(paths.crop).decision.crop
    duration = media.duration
    emit(events.StepStarted(file=job.source, step="scenes", duration=duration))
    started = time.monotonic()

    def progress(report: Progress) -> None:
        emit(progress_event(job.source, "scenes", report, duration))

    seen = SourceErrors()
    scan = scan_job(job, media, crop, Path(paths.workdir), progress, on_stderr=seen)
    damaged = damaged_source(scan.duration, media.duration)
    if damaged:  # found before any chunk is encoded
        raise SourceDamagedError(damaged)
    if warning := damage_warning(job.ffmpeg, job.source, seen):  # damaged, but it decodes to its end
        emit(events.Notice(file=job.source, level="warning", message=warning))
    write_atomic(paths.scenes, msgspec.json.encode(ScanFile(version=SCENES_VERSION, crop=crop, scan=scan)))
    emit(events.StepFinished(file=job.source, step="scenes", elapsed=time.monotonic() - started))


def _chunk_stamp(unit: ChunkUnit) -> bytes:
    """What made a chunk's files: the unit, and the size of the encode it left."""
    return msgspec.json.encode({"unit": msgspec.json.encode(unit).decode(), "bytes": os.stat(unit.target).st_size})


def _chunk_done(unit: ChunkUnit) -> bool:
    """The chunk's encode and result exist and its stamp says this exact unit made them: a run killed after
    the chunk finished but before doit recorded it sends nothing again (to a cluster, or to the encoder)."""
    return _stamped(unit.result, lambda: _chunk_stamp(unit))


def run_chunk(
    job: Job, unit: ChunkUnit, executor: ChunkExecutor, emit: Emit, scouts: tuple[ChunkUnit, ...] = ()
) -> None:
    """One chunk work unit, run by the executor; the unit writes its encode and result JSON. A unit that
    waited for the `scouts` starts from their results (`scouting.start`)."""
    if scouts:
        unit = scouting.start(unit, [(scout, load_result(scout.result)) for scout in scouts])
    chunk = unit.chunk
    name = f"chunk-{chunk.index:04d}"
    if _chunk_done(unit):
        emit(events.StepSkipped(file=job.source, step=name, reason="already done"))
        return
    Path(unit.result + ".stamp").unlink(missing_ok=True)
    emit(
        events.ChunkStarted(
            file=job.source,
            step=name,
            index=chunk.index,
            start=chunk.start,
            end=chunk.end,
            duration=chunk.duration,
            crf=unit.start_crf,
        )
    )
    started = time.monotonic()

    def progress(report: Progress) -> None:
        emit(progress_event(job.source, name, report, chunk.duration))

    def tried(crf: float, number: int) -> None:
        if number > 1:
            emit(events.ChunkRetry(file=job.source, step=name, index=chunk.index, crf=crf, attempt=number))

    result = executor.run(unit, progress, tried)
    Path(unit.result + ".stamp").write_bytes(_chunk_stamp(unit))
    emit(
        events.ChunkFinished(
            file=job.source,
            step=name,
            index=chunk.index,
            crf=result.crf,
            predicted_vmaf=result.predicted_vmaf,
            vmaf=result.vmaf,
            in_band=result.in_band,
            bytes=result.bytes,
            tries=len(result.tries),
            elapsed=time.monotonic() - started,
            worker=result.worker,
            capped=result.capped,
            worst_shot=result.worst if result.shots else None,
            confirmed=result.confirmed,
        )
    )
    # below the band: one warning at the concat (out of reach) or one notice (capped by size)
    if not result.in_band and not result.capped and not reach.below_band(result, unit.search):
        emit(
            events.Notice(
                file=job.source,
                level="info",
                message=f"chunk {chunk.index}: VMAF {result.vmaf:.2f} at CRF {result.crf:g} is above the target "
                "band even at the highest CRF allowed",
            )
        )


def concat(job: Job, plan: EncodePlan, step: Step, emit: Emit) -> None:
    """Check every kept chunk, write the concat list and the combined chunk results, then join the chunks
    by stream copy and check the frame count."""
    results = []
    for unit in plan.chunks:
        try:
            result = load_result(unit.result)
        except (OSError, msgspec.DecodeError) as exc:
            raise ValidationError(f"chunk {unit.chunk.index} has no usable result: {exc}") from exc
        if (result.start, result.end) != (unit.chunk.start, unit.chunk.end) or not Path(unit.target).is_file():
            raise ValidationError(f"chunk {unit.chunk.index}: its encode or result does not match the plan")
        results.append(result)
    if plan.chunks:
        first = plan.chunks[0]
        scored = describe_scoring(first.scoring, plan.expect.width, plan.expect.height, plan.vmaf_scale)
        warning = reach.out_of_reach_warning(results, first.search, scored)
        if warning:
            emit(events.Notice(file=job.source, level="warning", message=warning))
        capped = reach.capped_notice(results)
        if capped:  # the target the user asked for was not kept there: said as loudly as out of reach
            emit(events.Notice(file=job.source, level="warning", message=capped))
    Path(plan.paths.encoded).mkdir(parents=True, exist_ok=True)
    listing = commands.concat_list([(Path(u.target).name, u.chunk.duration) for u in plan.chunks])
    Path(plan.paths.concat_list).write_text(listing, encoding="utf-8")
    summary = ChunkResults(
        target_vmaf=plan.target_vmaf or 0.0,
        frames=plan.expect.frames or 0,
        chunks=tuple(results),
        source=plan.source,
        crop=plan.crop or "",
        vmaf_scale=plan.vmaf_scale,
        scoring=plan.chunks[0].scoring if plan.chunks else None,
    )
    write_atomic(plan.paths.chunk_results, msgspec.json.format(msgspec.json.encode(summary)))
    emit(events.StepStarted(file=job.source, step=step.name, duration=step.duration))
    started = time.monotonic()
    Path(step.partial).unlink(missing_ok=True)
    run_with_progress(step.argv)
    frames = count_frames(job.ffmpeg, step.partial)
    if plan.expect.frames is not None and frames != plan.expect.frames:
        raise ValidationError(f"the joined video has {frames} frames, the source has {plan.expect.frames}")
    os.replace(step.partial, step.target)
    emit(events.StepFinished(file=job.source, step=step.name, elapsed=time.monotonic() - started))


def finish_output(job: Job, plan: EncodePlan, emit: Emit) -> None:
    """Validate the muxed file, then give it its final name: linked (or copied) to `<output>.partial`
    beside the output, then renamed, so the output never exists half-written."""
    emit(events.StepStarted(file=job.source, step="validate"))
    started = time.monotonic()
    validate_output(job.ffmpeg, Path(plan.paths.muxed), plan.expect)
    if saving.discard(os.path.getsize(job.source), os.path.getsize(plan.paths.muxed), job.config.min_saving):
        emit(events.StepFinished(file=job.source, step="validate", elapsed=time.monotonic() - started))
        return  # saves too little: never given the output's name (the shell says so)
    output = Path(plan.paths.output)
    partial = Path(partial_name(str(output)))
    partial.unlink(missing_ok=True)
    try:
        os.link(plan.paths.muxed, partial)
    except OSError:
        shutil.copyfile(plan.paths.muxed, partial)
    os.replace(partial, output)
    emit(events.StepFinished(file=job.source, step="validate", elapsed=time.monotonic() - started))
