"""The doit task graph that carries a plan out: probe → crop → video → audio[i] → mux → validate.

Each step writes `<target>.partial` and renames it on success. doit skips a step whose file
dependencies (content hash) and argv (`config_changed`) are unchanged; its dependency file in the work
directory is the only state besides the targets. The CLI and `dodo.py` both build their tasks here.
"""

from __future__ import annotations

import functools
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec
from doit.dependency import MD5Checker, SqliteDB, get_file_md5
from doit.exceptions import TaskFailed
from doit.loader import create_after
from doit.tools import config_changed

from drapto import events
from drapto.config import Config
from drapto.crop import CropAnalysis, CropDecision
from drapto.cropdetect import analyse_crop
from drapto.errors import DraptoError
from drapto.media import MediaInfo
from drapto.plan import EncodePlan, Step, partial_name, plan_standard, work_paths
from drapto.probe import probe, require_video
from drapto.runner import run_with_progress
from drapto.validate import validate_output

Emit = Callable[[events.Event], None]
# Bump when the probe's Struct or parser changes, so old probe.json files are rebuilt.
PROBE_VERSION = "probe-1"
# Bump when crop sampling or the decision rules change, so old crop.json files are rebuilt.
CROP_VERSION = "crop-1"
ENCODE_GROUP = "encode"


class Job(msgspec.Struct, frozen=True, kw_only=True):
    source: str
    output: str
    config: Config
    ffmpeg: str
    dolby_vision_rpu: bool = True  # whether this ffmpeg's libsvtav1 can carry Dolby Vision


class Outcome:
    """Where a failed step leaves its DraptoError for the CLI (doit keeps only a traceback string)."""

    def __init__(self) -> None:
        self.error: DraptoError | None = None


def build_plan(media: MediaInfo, job: Job, crop: str | None = None) -> EncodePlan:
    return plan_standard(
        require_video(media), job.config, ffmpeg=job.ffmpeg, output=Path(job.output), crop=crop,
        dolby_vision_rpu=job.dolby_vision_rpu,
    )  # fmt: skip


def make_job(source: Path, output: Path, config: Config, ffmpeg: str) -> Job:
    from drapto.ffmpeg import encoder_has_option

    return Job(
        source=str(source), output=str(output), config=config, ffmpeg=ffmpeg,
        dolby_vision_rpu=encoder_has_option(ffmpeg, "libsvtav1", "dolbyvision"),
    )  # fmt: skip


def _checked_plan(source: Path, output: Path, config: Config, ffmpeg: str) -> tuple[Job, MediaInfo, EncodePlan]:
    """The checks every route shares: the source is not the output and has video, and ffmpeg can do what
    the plan (and the crop setting) needs. The plan has no crop yet."""
    from drapto.ffmpeg import check_capabilities
    from drapto.jobs import check_not_source
    from drapto.plan import required_capabilities

    check_not_source(source, output)
    job = make_job(source, output, config, ffmpeg)
    media = require_video(probe(source))
    plan = build_plan(media, job)
    check_capabilities(ffmpeg, required_capabilities(plan, config.crop))
    return job, media, plan


def plan_job(source: Path, output: Path, config: Config, ffmpeg: str) -> tuple[EncodePlan, CropAnalysis]:
    """Probe, detect the crop and plan one file, writing nothing (what `drapto plan` shows)."""
    job, media, _uncropped = _checked_plan(source, output, config, ffmpeg)
    analysis = analyse_crop(ffmpeg, media, config.crop)
    return build_plan(media, job, analysis.decision.crop), analysis


def ready_job(source: Path, output: Path, config: Config, ffmpeg: str) -> tuple[Job, EncodePlan]:
    """Every check that must pass before encoding starts: the output folder is writable, plus the shared
    checks. The plan returned has no crop yet: the graph's crop step decides it."""
    from drapto.jobs import prepare_output_dir

    prepare_output_dir(output)
    job, _media, plan = _checked_plan(source, output, config, ffmpeg)
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


def _step_label(task_name: str) -> str:
    return task_name.split(":", 1)[-1]


def _guarded(outcome: Outcome, body: Callable[[], None]) -> TaskFailed | None:
    """doit action wrapper: a DraptoError becomes a clean TaskFailed (no traceback) kept for the CLI."""
    checkpoint_dependency_db()
    try:
        body()
    except DraptoError as exc:
        outcome.error = exc
        return TaskFailed(exc.message)
    return None


def _run_step(job: Job, step: Step, emit: Emit) -> None:
    emit(events.StepStarted(file=job.source, step=step.name, duration=step.duration))
    started = time.monotonic()
    partial = Path(step.partial)
    partial.parent.mkdir(parents=True, exist_ok=True)
    partial.unlink(missing_ok=True)

    def progress(seconds: float) -> None:
        fraction = min(seconds / step.duration, 1.0) if step.duration else None
        emit(events.StepProgress(file=job.source, step=step.name, seconds=seconds, fraction=fraction))

    run_with_progress(step.argv, progress)
    os.replace(partial, step.target)
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


def namespace(job: Job, emit: Emit, outcome: Outcome, *, reporter: type | None = None) -> dict[str, Any]:
    """A doit namespace (`DOIT_CONFIG` and `task_*` creators) for one job, for ModuleTaskLoader or dodo.py."""
    paths = work_paths(Path(job.output))
    Path(paths.workdir).mkdir(parents=True, exist_ok=True)

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

    @create_after(executed="crop")
    def task_encode() -> Iterator[dict[str, Any]]:
        """Encode video and audio, mux, validate: the tasks appear once probe.json and crop.json exist."""
        if not Path(paths.probe).exists() or not Path(paths.crop).exists():
            return  # `doit list --all` before the first probe: nothing planned yet
        plan = build_plan(load_probe(paths.probe), job, load_crop(paths.crop).decision.crop)
        for step in plan.steps:
            yield {
                "name": step.name,
                "actions": [action(_run_step, job, step, emit)],
                "file_dep": list(step.inputs),
                "targets": [step.target],
                "uptodate": [config_changed(" ".join(step.argv))],
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
    return {"DOIT_CONFIG": doit_config, "task_probe": task_probe, "task_crop": task_crop, "task_encode": task_encode}


def event_reporter(job: Job, emit: Emit, outcome: Outcome) -> type:
    """A doit reporter class that turns doit's own news (skipped steps, doit errors) into events."""

    class EventReporter:
        desc = "drapto events"

        def __init__(self, outstream: Any, options: Any) -> None:
            pass

        def skip_uptodate(self, task: Any) -> None:
            if task.actions:
                emit(events.StepSkipped(file=job.source, step=_step_label(task.name)))

        def add_failure(self, task: Any, fail: Any) -> None:
            if outcome.error is None:
                outcome.error = DraptoError(f"Step {_step_label(task.name)} failed: {fail.message}", fail.get_msg())

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
    ns = namespace(job, emit, outcome, reporter=event_reporter(job, emit, outcome))
    code = DoitMain(ModuleTaskLoader(ns), config_filenames=()).run(["run", ENCODE_GROUP])
    if outcome.error is not None:
        raise outcome.error
    if code != 0:
        raise DraptoError(f"The task graph for {job.source} stopped with doit exit code {code}")


def dodo_namespace(source: str | None, output: str | None) -> dict[str, Any]:
    """What `dodo.py` exposes: the job's graph when `input=` and `output=` are given, else a task that
    says how to call it (so `doit list` and `doit help` still work)."""
    from drapto.config import load_config
    from drapto.ffmpeg import resolve_ffmpeg
    from drapto.jobs import check_not_source, output_for
    from drapto.report import PlainReporter

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
    return namespace(job, PlainReporter(), Outcome())


def _failing_encode_task(message: str) -> dict[str, Any]:
    """A stand-in `encode` task that reports why the job cannot start, without a traceback."""

    def task_encode() -> dict[str, Any]:
        """Encode a film: doit encode input=IN output=OUT"""
        return {"actions": [lambda: TaskFailed(message)]}

    return {"task_encode": task_encode}
