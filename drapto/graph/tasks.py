"""The doit task graph that carries a plan out: probe → crop → video → audio[i] → mux → validate, or in
chunked mode probe → crop → scenes → chunk-NNNN… → concat, audio[i] → mux → validate.

Each step writes `<target>.partial` and renames it on success. doit skips a step whose file
dependencies (content hash) and argv (`config_changed`) are unchanged; its dependency file in the work
directory is the only state besides the targets. The CLI and `dodo.py` both build their tasks here.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec
from doit.dependency import MD5Checker, SqliteDB, get_file_md5
from doit.exceptions import TaskFailed
from doit.loader import create_after
from doit.tools import config_changed

from drapto.core import commands, events, reach, saving
from drapto.core.config import Config
from drapto.core.crop import CropAnalysis, CropDecision
from drapto.graph.cropdetect import analyse_crop
from drapto.errors import DraptoError, SourceDamagedError, ValidationError
from drapto.graph.executor import ChunkExecutor, LocalExecutor
from drapto.core.hdr import classify
from drapto.core.media import MediaInfo
from drapto.core.plan import (
    EncodePlan, Mode, Step, effective_mode, partial_name, plan_chunked, plan_standard, target_vmaf, work_paths,
)  # fmt: skip
from drapto.graph.probe import probe, require_video
from drapto.graph.runner import Progress, run_with_progress, terminate_all
from drapto.core.scenes import SceneScan
from drapto.graph.scenescan import scan_scenes
from drapto.core.units import ChunkResults, ChunkUnit, load_result
from drapto.graph.validate import damaged_source, validate_output
from drapto.core.vmaf import describe_scoring
from drapto.core.workers import Budget, machine_budget

Emit = Callable[[events.Event], None]
# Bump when the probe's Struct or parser changes, so old probe.json files are rebuilt.
PROBE_VERSION = "probe-1"
# Bump when crop sampling or the decision rules change, so old crop.json files are rebuilt.
CROP_VERSION = "crop-1"
# Bump when the scene scan's command or parsing changes, so old scenes.json files are rebuilt.
SCENES_VERSION = "scenes-1"
ENCODE_GROUP = "encode"


class Job(msgspec.Struct, frozen=True, kw_only=True):
    source: str
    output: str
    config: Config
    ffmpeg: str
    dolby_vision_rpu: bool = True  # whether this ffmpeg's libsvtav1 can carry Dolby Vision
    budget: Budget = Budget(cores=1, memory_gb=4.0)  # cores and memory the chunk workers may use


def locked(emit: Emit) -> Emit:
    """The same reporter, one event at a time (chunk workers emit from their own threads)."""
    lock = threading.Lock()

    def _emit(event: events.Event) -> None:
        with lock:
            emit(event)

    return _emit


class Outcome:
    """Where a failed step leaves its DraptoError for the CLI (doit keeps only a traceback string)."""

    def __init__(self) -> None:
        self.error: DraptoError | None = None


def job_mode(media: MediaInfo, job: Job) -> Mode:
    return effective_mode(job.config, classify(require_video(media).video[0]))


def build_plan(media: MediaInfo, job: Job, crop: str | None = None, scan: SceneScan | None = None) -> EncodePlan:
    """The chunked plan once the scene scan exists, else the standard one (which is also what the
    pre-flight checks look at before the scan)."""
    media = require_video(media)
    if scan is not None and job_mode(media, job) == "chunked":
        return plan_chunked(
            media, job.config, ffmpeg=job.ffmpeg, output=Path(job.output), scan=scan, budget=job.budget,
            crop=crop, dolby_vision_rpu=job.dolby_vision_rpu,
        )  # fmt: skip
    return plan_standard(
        media, job.config, ffmpeg=job.ffmpeg, output=Path(job.output), crop=crop,
        dolby_vision_rpu=job.dolby_vision_rpu,
    )  # fmt: skip


def make_job(source: Path, output: Path, config: Config, ffmpeg: str) -> Job:
    from drapto.graph.ffmpeg import encoder_has_option

    return Job(
        source=str(source), output=str(output), config=config, ffmpeg=ffmpeg,
        dolby_vision_rpu=encoder_has_option(ffmpeg, "libsvtav1", "dolbyvision"),
        budget=cluster_budget(config, ffmpeg) if config.cluster else machine_budget(config.workers),
    )  # fmt: skip


def cluster_budget(config: Config, ffmpeg: str) -> Budget:
    """The cluster's slots and threads per chunk (connecting on first use; drapto.graph.cluster imports Dask)."""
    from drapto.graph.cluster import session

    return session(config, ffmpeg).budget


def cluster_executor(job: Job) -> ChunkExecutor | None:
    """The Dask executor when the job runs its chunks on a cluster, else None (the local one)."""
    if not job.config.cluster:
        return None
    from drapto.graph.cluster import executor

    return executor(job.config, job.ffmpeg)


def _checked_plan(source: Path, output: Path, config: Config, ffmpeg: str) -> tuple[Job, MediaInfo, EncodePlan]:
    """The checks every route shares: the source is not the output and has video, and ffmpeg can do what
    the plan (and the crop setting) needs. The plan has no crop yet."""
    from drapto.graph.ffmpeg import check_capabilities
    from drapto.graph.jobs import check_not_source
    from drapto.core.plan import required_capabilities

    check_not_source(source, output)
    job = make_job(source, output, config, ffmpeg)
    media = require_video(probe(source))
    plan = build_plan(media, job)
    check_capabilities(ffmpeg, required_capabilities(plan, config.crop, chunked=job_mode(media, job) == "chunked"))
    if job_mode(media, job) == "chunked" and config.search_engine == "ab-av1":
        from drapto.graph.abav1 import require_ab_av1

        require_ab_av1()
    return job, media, plan


def plan_job(source: Path, output: Path, config: Config, ffmpeg: str) -> tuple[EncodePlan, CropAnalysis]:
    """Probe, detect the crop, scan the scenes (or reuse a finished scenes.json) and plan one file,
    writing nothing (what `drapto plan` shows)."""
    job, media, _uncropped = _checked_plan(source, output, config, ffmpeg)
    analysis = analyse_crop(ffmpeg, media, config.crop)
    crop = analysis.decision.crop
    scan = None
    if job_mode(media, job) == "chunked":
        scan = _reusable_scan(job, crop) or _scan(job, media, crop, Path(tempfile.mkdtemp(prefix="drapto-plan-")))
    return build_plan(media, job, crop, scan), analysis


def ready_job(source: Path, output: Path, config: Config, ffmpeg: str) -> tuple[Job, EncodePlan]:
    """Every check that must pass before encoding starts: the output folder is writable, plus the shared
    checks. The plan returned has no crop yet: the graph's crop step decides it."""
    from drapto.graph.jobs import prepare_output_dir

    prepare_output_dir(output)
    job, media, plan = _checked_plan(source, output, config, ffmpeg)
    if job_mode(media, job) == "chunked":  # the chunks come from the scene scan; say what they will aim at
        colour = classify(media.video[0])
        plan = msgspec.structs.replace(plan, mode="chunked", target_vmaf=target_vmaf(config, colour), steps=())
    return job, plan


class CachedMD5Checker(MD5Checker):
    """doit's content-hash checker, hashing each (file, mtime, size) once per process: every step
    depends on the source, and re-reading a 50 GB film for each of them would cost minutes."""

    def get_state(self, dep: str, current_state: Any) -> Any:
        stat = os.stat(dep)
        if current_state and current_state[0] == stat.st_mtime:
            return None
        return stat.st_mtime, stat.st_size, _md5(dep, stat.st_mtime_ns, stat.st_size)

    def check_modified(self, file_path: str, file_stat: os.stat_result, state: Any) -> bool:
        timestamp, size, digest = state
        if file_stat.st_mtime == timestamp:
            return False
        if file_stat.st_size != size:
            return True
        return digest != _md5(file_path, file_stat.st_mtime_ns, file_stat.st_size)


@functools.lru_cache(maxsize=256)
def _md5(path: str, _mtime_ns: int, _size: int) -> str:
    return get_file_md5(path)


def checkpoint_dependency_db() -> None:
    """doit writes its dependency file only when a run ends. Commit what finished steps recorded, so a
    run killed outright (SIGKILL, power loss) still knows them. Reaches into doit's SqliteDB internals,
    which have been stable across doit releases; any other backend is left alone."""
    from doit.globals import Globals

    backend = getattr(getattr(Globals, "dep_manager", None), "backend", None)
    if not isinstance(backend, SqliteDB) or not backend._dirty:
        return
    for task_id in backend._dirty:
        backend._conn.execute(
            "insert or replace into doit values (?,?)", (task_id, backend.codec.encode(backend._cache[task_id]))
        )
    backend._conn.commit()
    backend._dirty = set()


def _scan(job: Job, media: MediaInfo, crop: str | None, folder: Path, on_progress: Any = None) -> SceneScan:
    try:
        return scan_scenes(job.ffmpeg, job.source, require_video(media).video[0], crop, folder, on_progress)
    finally:
        if folder.name.startswith("drapto-plan-"):
            shutil.rmtree(folder, ignore_errors=True)


class ScanFile(msgspec.Struct, frozen=True, kw_only=True):
    """scenes.json: the scan and the crop it was made with."""

    version: str
    crop: str | None
    scan: SceneScan


def _reusable_scan(job: Job, crop: str | None) -> SceneScan | None:
    """The work folder's scenes.json, when an earlier run left one made with the same crop."""
    try:
        saved = msgspec.json.decode(Path(work_paths(Path(job.output)).scenes).read_bytes(), type=ScanFile)
    except (OSError, msgspec.DecodeError):
        return None
    return saved.scan if saved.version == SCENES_VERSION and saved.crop == crop else None


def load_scan(path: str) -> SceneScan:
    return msgspec.json.decode(Path(path).read_bytes(), type=ScanFile).scan


def _step_label(task_name: str) -> str:
    return task_name.split(":", 1)[-1]


def _guarded(outcome: Outcome, body: Callable[[], None]) -> TaskFailed | None:
    """doit action wrapper: a DraptoError becomes a clean TaskFailed (no traceback) kept for the CLI.
    On the main thread (doit's sequential runner) it first checkpoints what earlier steps recorded; with
    the threaded runner the reporter does that, on the main thread, as each step succeeds (sqlite
    connections belong to the thread that made them)."""
    if threading.current_thread() is threading.main_thread():
        checkpoint_dependency_db()
    try:
        body()
    except DraptoError as exc:
        outcome.error = exc
        return TaskFailed(exc.message)
    return None


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


def _run_step(job: Job, step: Step, emit: Emit) -> None:
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

    run_with_progress(step.argv, progress)
    Path(step.target + ".stamp").unlink(missing_ok=True)
    os.replace(partial, step.target)
    Path(step.target + ".stamp").write_bytes(_stamp(step))
    emit(events.StepFinished(file=job.source, step=step.name, elapsed=time.monotonic() - started))


def _write_probe(job: Job, emit: Emit) -> None:
    emit(events.StepStarted(file=job.source, step="probe"))
    started = time.monotonic()
    target = Path(work_paths(Path(job.output)).probe)
    media = probe(Path(job.source))
    partial = Path(partial_name(str(target)))
    partial.write_bytes(msgspec.json.format(msgspec.json.encode(media)))
    os.replace(partial, target)
    emit(events.StepFinished(file=job.source, step="probe", elapsed=time.monotonic() - started))


def _write_crop(job: Job, emit: Emit) -> None:
    """Decide the crop (sampling the film when the setting is `auto`) into crop.json."""
    paths = work_paths(Path(job.output))
    media = load_probe(paths.probe)
    emit(events.StepStarted(file=job.source, step="crop"))
    started = time.monotonic()

    def progress(done: int, total: int) -> None:
        emit(events.StepProgress(file=job.source, step="crop", seconds=float(done), fraction=done / total))

    analysis = analyse_crop(job.ffmpeg, require_video(media), job.config.crop, progress)
    partial = Path(partial_name(paths.crop))
    partial.write_bytes(msgspec.json.format(msgspec.json.encode(analysis)))
    os.replace(partial, paths.crop)
    emit(crop_event(job.source, analysis.decision))
    emit(events.StepFinished(file=job.source, step="crop", elapsed=time.monotonic() - started))


def _write_scenes(job: Job, emit: Emit) -> None:
    """Scan the (cropped) video once for scene changes and keyframes into scenes.json."""
    paths = work_paths(Path(job.output))
    media = load_probe(paths.probe)
    crop = load_crop(paths.crop).decision.crop
    duration = media.duration
    emit(events.StepStarted(file=job.source, step="scenes", duration=duration))
    started = time.monotonic()

    def progress(report: Progress) -> None:
        emit(progress_event(job.source, "scenes", report, duration))

    scan = _scan(job, media, crop, Path(paths.workdir), progress)
    damaged = damaged_source(scan.duration, media.duration)
    if damaged:  # found before any chunk is encoded
        raise SourceDamagedError(damaged)
    partial = Path(partial_name(paths.scenes))
    partial.write_bytes(msgspec.json.encode(ScanFile(version=SCENES_VERSION, crop=crop, scan=scan)))
    os.replace(partial, paths.scenes)
    emit(events.StepFinished(file=job.source, step="scenes", elapsed=time.monotonic() - started))


def _chunk_stamp(unit: ChunkUnit) -> bytes:
    """What made a chunk's files: the unit, and the size of the encode it left."""
    return msgspec.json.encode({"unit": msgspec.json.encode(unit).decode(), "bytes": os.stat(unit.target).st_size})


def _chunk_done(unit: ChunkUnit) -> bool:
    """The chunk's encode and result exist and its stamp says this exact unit made them: a run killed after
    the chunk finished but before doit recorded it sends nothing again (to a cluster, or to the encoder)."""
    return _stamped(unit.result, lambda: _chunk_stamp(unit))


def _run_chunk(
    job: Job, unit: ChunkUnit, executor: ChunkExecutor, emit: Emit, scouts: tuple[str, ...] = ()
) -> None:
    """One chunk work unit, run by the executor; the unit writes its encode and result JSON. `scouts` are
    the results of the first chunks, which may settle this one (`reach.settled`)."""
    if scouts:
        unit = reach.settled(unit, [load_result(path) for path in scouts])
    chunk = unit.chunk
    name = f"chunk-{chunk.index:04d}"
    if _chunk_done(unit):
        emit(events.StepSkipped(file=job.source, step=name, reason="already done"))
        return
    Path(unit.result + ".stamp").unlink(missing_ok=True)
    emit(
        events.ChunkStarted(
            file=job.source, step=name, index=chunk.index, start=chunk.start, end=chunk.end,
            duration=chunk.duration, crf=unit.start_crf,
        )  # fmt: skip
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
            file=job.source, step=name, index=chunk.index, crf=result.crf, predicted_vmaf=result.predicted_vmaf,
            vmaf=result.vmaf, in_band=result.in_band, bytes=result.bytes, tries=len(result.tries),
            elapsed=time.monotonic() - started, worker=result.worker,
        )  # fmt: skip
    )
    if not result.in_band and not reach.below_band(result, unit.search):  # below: one warning at the concat
        emit(
            events.Notice(
                file=job.source, level="info",
                message=f"chunk {chunk.index}: VMAF {result.vmaf:.2f} at CRF {result.crf:g} is above the target "
                "band even at the highest CRF allowed",
            )  # fmt: skip
        )


def _concat(job: Job, plan: EncodePlan, step: Step, emit: Emit) -> None:
    """Check every kept chunk, write the concat list and the combined chunk results, then join the chunks
    by stream copy and check the frame count."""
    from drapto.graph.validate import count_frames

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
    partial = Path(partial_name(plan.paths.chunk_results))
    partial.write_bytes(msgspec.json.format(msgspec.json.encode(summary)))
    os.replace(partial, plan.paths.chunk_results)
    emit(events.StepStarted(file=job.source, step=step.name, duration=step.duration))
    started = time.monotonic()
    Path(step.partial).unlink(missing_ok=True)
    run_with_progress(step.argv)
    frames = count_frames(job.ffmpeg, step.partial)
    if plan.expect.frames is not None and frames != plan.expect.frames:
        raise ValidationError(f"the joined video has {frames} frames, the source has {plan.expect.frames}")
    os.replace(step.partial, step.target)
    emit(events.StepFinished(file=job.source, step=step.name, elapsed=time.monotonic() - started))


def crop_event(source: str, decision: CropDecision) -> events.CropDecided:
    return events.CropDecided(
        file=source,
        crop=decision.crop,
        reason=decision.reason,
        samples=decision.samples,
        candidates=tuple(f"{c.crop} x {c.count}" for c in decision.candidates),
    )


def load_crop(path: str) -> CropAnalysis:
    return msgspec.json.decode(Path(path).read_bytes(), type=CropAnalysis)


def _finish_output(job: Job, plan: EncodePlan, emit: Emit) -> None:
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


def load_probe(path: str) -> MediaInfo:
    return msgspec.json.decode(Path(path).read_bytes(), type=MediaInfo)


def namespace(
    job: Job, emit: Emit, outcome: Outcome, *, reporter: type | None = None, executor: ChunkExecutor | None = None
) -> dict[str, Any]:
    """A doit namespace (`DOIT_CONFIG` and `task_*` creators) for one job, for ModuleTaskLoader or dodo.py."""
    paths = work_paths(Path(job.output))
    Path(paths.workdir).mkdir(parents=True, exist_ok=True)
    emit = locked(emit)  # chunk workers emit from their own threads
    executor = executor or LocalExecutor(chunk_workers(job))

    def action(body: Callable[..., None], *args: Any) -> Callable[[], TaskFailed | None]:
        return functools.partial(_guarded, outcome, functools.partial(body, *args))

    def task_probe() -> dict[str, Any]:
        """Probe the source with MediaInfo into probe.json."""
        return {
            "actions": [action(_write_probe, job, emit)],
            "file_dep": [job.source],
            "targets": [paths.probe],
            "uptodate": [config_changed(PROBE_VERSION)],
        }

    @create_after(executed="probe")
    def task_crop() -> dict[str, Any]:
        """Decide the crop into crop.json (cropdetect samples when the setting is auto)."""
        return {
            "actions": [action(_write_crop, job, emit)],
            "file_dep": [job.source, paths.probe],
            "targets": [paths.crop],
            "uptodate": [config_changed(f"{CROP_VERSION} {job.config.crop}")],
        }

    def chunked() -> bool:
        return Path(paths.probe).exists() and job_mode(load_probe(paths.probe), job) == "chunked"

    @create_after(executed="crop")
    def task_scenes() -> Iterator[dict[str, Any]]:
        """Scan the video for scene changes and keyframes into scenes.json (chunked mode only)."""
        if not chunked() or not Path(paths.crop).exists():
            return
        crop = load_crop(paths.crop).decision.crop
        yield {
            "name": "scenes",
            "actions": [action(_write_scenes, job, emit)],
            "file_dep": [job.source, paths.probe, paths.crop],
            "targets": [paths.scenes],
            "uptodate": [config_changed(f"{SCENES_VERSION} {crop}")],
        }

    @create_after(executed="scenes")
    def task_encode() -> Iterator[dict[str, Any]]:
        """Encode video (one step, or chunks and a concat) and audio, mux, validate: the tasks appear once
        probe.json, crop.json and, in chunked mode, scenes.json exist."""
        if not Path(paths.probe).exists() or not Path(paths.crop).exists():
            return  # `doit list --all` before the first probe: nothing planned yet
        if chunked() and not Path(paths.scenes).exists():
            return
        plan = build_plan(
            load_probe(paths.probe), job, load_crop(paths.crop).decision.crop,
            load_scan(paths.scenes) if chunked() else None,
        )  # fmt: skip
        executor.set_workers(plan.workers)  # the plan's count: cores and memory, or the cluster's slots
        steps = sorted(plan.steps, key=lambda step: step.stage != "audio")  # audio first: short, and beside the video
        for step in steps:
            if step.name == "concat":
                run: Callable[..., None] = functools.partial(_concat, job, plan, step, emit)
                body = action(run)
            else:
                body = action(_run_step, job, step, emit)
            yield {
                "name": step.name,
                "actions": [body],
                "file_dep": list(step.inputs),
                "targets": [step.target, *([plan.paths.chunk_results] if step.name == "concat" else [])],
                "uptodate": [config_changed(" ".join(step.argv))],
            }
        scouts = reach.scouts(plan.chunks)  # the first chunks, which the others wait for
        scouted = tuple(u.result for u in scouts)
        # the scouts first, then longest first: less idle at the end
        for unit in sorted(plan.chunks, key=lambda u: (u not in scouts, -u.chunk.frames)):
            waits = () if unit in scouts else scouted
            yield {
                "name": f"chunk-{unit.chunk.index:04d}",
                "actions": [action(_run_chunk, job, unit, executor, emit, waits)],
                "file_dep": [job.source, *waits],
                "targets": [unit.target, unit.result],
                "uptodate": [config_changed(msgspec.json.encode(unit).decode())],
            }
        yield {
            "name": "validate",
            "actions": [action(_finish_output, job, plan, emit)],
            "file_dep": [paths.muxed],
            "targets": [paths.output],
            "uptodate": [config_changed(msgspec.json.encode(plan.expect).decode())],
        }

    doit_config: dict[str, Any] = {
        "dep_file": paths.dep_file,
        "backend": "sqlite3",
        "check_file_uptodate": CachedMD5Checker,
        "default_tasks": [ENCODE_GROUP],
        "verbosity": 2,  # never capture stdout: events are printed from inside actions
    }
    if reporter is not None:
        doit_config["reporter"] = reporter
    return {
        "DOIT_CONFIG": doit_config, "task_probe": task_probe, "task_crop": task_crop, "task_scenes": task_scenes,
        "task_encode": task_encode,
    }  # fmt: skip


def event_reporter(job: Job, emit: Emit, outcome: Outcome, *, say_failures: bool = False) -> type:
    """A doit reporter class that turns doit's own news (skipped steps, doit errors) into events.
    `say_failures` emits a failed step as FileFailed (the doit route, where no CLI reports it)."""

    class EventReporter:
        desc = "drapto events"

        def __init__(self, outstream: Any, options: Any) -> None:
            pass

        def add_success(self, task: Any) -> None:
            checkpoint_dependency_db()  # doit calls this on the main thread, right after recording the step

        def skip_uptodate(self, task: Any) -> None:
            if task.actions:
                emit(events.StepSkipped(file=job.source, step=_step_label(task.name)))

        def add_failure(self, task: Any, fail: Any) -> None:
            if outcome.error is None:
                outcome.error = DraptoError(f"Step {_step_label(task.name)} failed: {fail.message}", fail.get_msg())
            if say_failures:
                emit(events.FileFailed(file=job.source, message=f"{_step_label(task.name)}: {fail.message}"))

        def runtime_error(self, msg: str) -> None:
            if outcome.error is None:
                outcome.error = DraptoError(f"Task graph error: {msg}")

        def __getattr__(self, name: str) -> Callable[..., None]:
            return lambda *args, **kwargs: None  # every other doit hook is of no interest

    return EventReporter


def run_job(job: Job, emit: Emit) -> None:
    """Run the graph for one job to completion; raise the DraptoError of a failed step."""
    from doit.cmd_base import ModuleTaskLoader
    from doit.doit_cmd import DoitMain

    outcome = Outcome()
    ns = namespace(job, emit, outcome, reporter=event_reporter(job, emit, outcome), executor=cluster_executor(job))
    try:
        code = DoitMain(ModuleTaskLoader(ns), config_filenames=()).run(["run", *parallel_args(job), ENCODE_GROUP])
    finally:
        terminate_all()  # children of worker threads, when a Ctrl-C stopped the main thread
    if outcome.error is not None:
        raise outcome.error
    if code != 0:
        raise DraptoError(f"The task graph for {job.source} stopped with doit exit code {code}")


def chunk_workers(job: Job) -> int:
    """The most chunk units that may run at once, whatever the picture: doit gets that many threads, and
    the executor's pool (sized from the plan, which knows the picture and the chunks) lets the right
    number of them encode."""
    return job.budget.split(1, 1, 1 << 30)[0]


def parallel_args(job: Job) -> list[str]:
    """doit's threaded runner with one thread per chunk worker plus one for the audio steps."""
    return ["-n", str(chunk_workers(job) + 1), "-P", "thread"]


def dodo_namespace(source: str | None, output: str | None, emit: Emit) -> dict[str, Any]:
    """What `dodo.py` exposes: the job's graph when `input=` and `output=` are given, reporting through
    `emit` (dodo.py passes the shell's plain reporter), else a task that says how to call it (so
    `doit list` and `doit help` still work)."""
    from drapto.core.config import load_config
    from drapto.graph.ffmpeg import resolve_ffmpeg
    from drapto.graph.jobs import check_not_source, output_for

    try:
        if not source or not output:
            raise DraptoError("usage: doit encode input=IN output=OUT (OUT: a folder or a .mkv path)")
        source_path = Path(source).absolute()
        target = output_for(source_path, Path(output).absolute(), batch=False)
        check_not_source(source_path, target)
        config = load_config()
        job, _plan = ready_job(source_path, target, config, resolve_ffmpeg(config.ffmpeg))
    except DraptoError as error:
        return _failing_encode_task(error.message)
    outcome = Outcome()
    ns = namespace(
        job, emit, outcome, reporter=event_reporter(job, emit, outcome, say_failures=True),
        executor=cluster_executor(job),
    )  # fmt: skip
    ns["DOIT_CONFIG"].update(num_process=chunk_workers(job) + 1, par_type="thread")
    return ns


def _failing_encode_task(message: str) -> dict[str, Any]:
    """A stand-in `encode` task that reports why the job cannot start, without a traceback."""

    def task_encode() -> dict[str, Any]:
        """Encode a film: doit encode input=IN output=OUT"""
        return {"actions": [lambda: TaskFailed(message)]}

    return {"task_encode": task_encode}
