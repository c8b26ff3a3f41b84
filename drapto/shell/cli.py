"""The `drapto` command: a thin shell over probe → plan → graph, reporting through events."""

from __future__ import annotations

import os
import shutil
import signal
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import cyclopts
import msgspec
from cyclopts import Parameter

from drapto import __version__
from drapto.core import events
from drapto.shell import history
from drapto.graph import runlog
from drapto.core.config import Config, default_config_path, load_config, load_settings, show_config, show_sources
from drapto.errors import DraptoError, InputError, ValidationError
from drapto.core.analysis import analyse, render_text
from drapto.graph.cropdetect import analyse_crop
from drapto.graph.ffmpeg import check_capabilities, resolve_ffmpeg, versions
from drapto.graph.tasks import plan_job, ready_job, run_job
from drapto.graph.jobs import check_not_source, check_output_folder, check_outside, discover, output_for
from drapto.graph.validate import existing_output_problems
from drapto.graph.probe import probe, require_video
from drapto.graph.runner import set_responsive, terminate_all
from drapto.shell.report import describe, make_reporter
from drapto.core.plan import EncodePlan, Expectations, opus_bitrate_kbps, work_paths
from drapto.core.plantext import render_plan
from drapto.core.units import ChunkResult, ChunkResults, load_result
from drapto.shell.watch import watch_folder

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

app = cyclopts.App(
    name="drapto",
    help="AV1 batch encoder for film and TV libraries.",
    version=__version__,
    suppress_keyboard_interrupt=False,  # main() says how to resume; cyclopts would exit silently
)


def parse_crf(value: str) -> dict[str, int]:
    """`25` sets every class; `24,26,26` sets SD, HD, UHD."""
    try:
        numbers = [int(part) for part in value.split(",")]
    except ValueError:
        raise InputError(f"--crf takes a number or SD,HD,UHD numbers, got {value!r}") from None
    if len(numbers) == 1:
        numbers *= 3
    if len(numbers) != 3:
        raise InputError(f"--crf takes one value or three (SD,HD,UHD), got {len(numbers)}")
    return dict(zip(("crf_sd", "crf_hd", "crf_uhd"), numbers, strict=True))


def parse_crf_range(value: str) -> dict[str, float]:
    """`20-45` → crf_min 20, crf_max 45."""
    low, sep, high = value.partition("-")
    try:
        if not sep:
            raise ValueError
        return {"crf_min": float(low), "crf_max": float(high)}
    except ValueError:
        raise InputError(f"--crf-range takes MIN-MAX, e.g. 20-45, got {value!r}") from None


ConfigFile = Annotated[
    Path | None,
    Parameter(
        name="--config",
        help="The TOML settings file to read (default: $DRAPTO_CONFIG, or config.toml in the user config folder).",
    ),
]
"""The `--config FILE` option every command takes, so each reads its settings from the same place."""


@dataclass(frozen=True)
class EncodeFlags:
    """Flags shared by `encode` and `plan`; each overrides the config file and environment.

    Parameters
    ----------
    standard
        One CRF encode of the whole film, CRF by width class (the default for Dolby Vision sources).
    chunked
        Scene chunks, each encoded at the CRF that reaches the VMAF target (the default, except for Dolby
        Vision sources).
    target_vmaf
        The VMAF every chunk must reach, on ab-av1's scale (default 93; 95 for HDR sources).
    vmaf_pool
        How a chunk's frame scores are pooled: mean (default), harmonic, or pN (the N-th percentile).
    crf_range
        The CRFs the chunk search may use, MIN-MAX (default 10-55; quarter steps).
    workers
        Chunks encoded at once (default: from cores and memory).
    search_engine
        builtin (default) or ab-av1 (needs the ab-av1 program on PATH).
    cluster
        Run the chunks on a Dask cluster: tcp://HOST:8786 or tls://HOST:8786 (a running `dask scheduler`),
        or local[:N] for N worker processes on this machine (default 2). Needs drapto[cluster].
    cluster_security
        A TOML file naming the certificate authority, drapto's certificate and its key (ca_file, cert,
        key) for a tls:// cluster; without it, Dask's own TLS settings. local[:N] makes its own.
    path_map
        LOCAL=REMOTE: the source's folder as the cluster's workers mount it (shared storage).
    crf
        CRF for every class (25) or per class as SD,HD,UHD (25,25,29).
    preset
        SVT-AV1 preset, -2 (slowest) to 13 (fastest); default 6.
    film_grain
        SVT-AV1 film-grain synthesis level, 0 (off) to 50.
    film_grain_denoise
        Denoise the source before grain synthesis.
    crop
        auto (detect black bars, the default), none, or an explicit W:H:X:Y crop.
    """

    standard: bool = False
    chunked: bool = False
    target_vmaf: float | None = None
    vmaf_pool: str | None = None
    crf_range: str | None = None
    workers: int | None = None
    search_engine: str | None = None
    cluster: str | None = None
    cluster_security: str | None = None
    path_map: str | None = None
    crf: str | None = None
    preset: int | None = None
    film_grain: int | None = None
    film_grain_denoise: bool | None = None
    crop: str | None = None

    def config(self, keep: bool | None = None, path: Path | None = None) -> Config:
        overrides: dict[str, Any] = {
            "crop": self.crop,
            "preset": self.preset,
            "film_grain": self.film_grain,
            "film_grain_denoise": self.film_grain_denoise,
            "keep": keep,
            "target_vmaf": self.target_vmaf,
            "vmaf_pool": self.vmaf_pool,
            "workers": self.workers,
            "search_engine": self.search_engine,
            "cluster": self.cluster,
            "cluster_security": self.cluster_security,
            "path_map": self.path_map,
        }
        names: dict[str, str] = {}  # the flags not named after their field, for error messages
        if self.standard and self.chunked:
            raise InputError("--standard and --chunked exclude each other")
        if self.standard or self.chunked:
            overrides["mode"] = "standard" if self.standard else "chunked"
            names["mode"] = f"--{overrides['mode']}"
        if self.crf is not None:
            overrides.update(parse_crf(self.crf))
            names.update(dict.fromkeys(("crf_sd", "crf_hd", "crf_uhd"), "--crf"))
        if self.crf_range is not None:
            overrides.update(parse_crf_range(self.crf_range))
            names.update(crf_min="--crf-range", crf_max="--crf-range")
        return load_config(overrides, flag_names=names, path=path)


NO_FLAGS = EncodeFlags()


@dataclass(frozen=True)
class LogFlags:
    """The run log, for the commands that run ffmpeg.

    Parameters
    ----------
    log_dir
        Folder for this run's log file (default: $DRAPTO_LOG_DIR, else the user log folder).
    log
        Write the run log: every command with its exit code, duration and stderr tail (--no-log: none).
    verbose
        Also print each command to stderr, shell-quoted, as it starts.
    """

    log_dir: Path | None = None
    log: bool = True
    verbose: Annotated[bool, Parameter(name=["--verbose", "-v"])] = False


NO_LOG = LogFlags()


@dataclass(frozen=True)
class RunFlags:
    """How `encode` and `watch` run and report.

    Parameters
    ----------
    keep
        Keep the work folder (OUTPUT/.drapto/STEM) after success.
    json
        Print events as JSON lines instead of text.
    quiet
        Print errors only.
    responsive
        Run the encoders at low CPU and I/O priority, so the machine stays usable.
    report
        Write each finished file's report page (OUTPUT.report.html, as `drapto report` does) beside it.
    """

    keep: bool | None = None
    json: bool = False
    quiet: Annotated[bool, Parameter(name=["--quiet", "-q"])] = False
    responsive: bool = False
    report: bool = False

    def start(self, log_flags: LogFlags) -> Any:
        """Open the run log, set the children's priority, and return where events go."""
        _start_log(log_flags)
        set_responsive(self.responsive)
        return _logged(make_reporter(self.json, self.quiet))


NO_RUN = RunFlags()
_run_argv: list[str] = []  # this run's arguments, for the run log's first lines


def _start_log(flags: LogFlags) -> None:
    runlog.start(_run_argv, folder=flags.log_dir, enabled=flags.log, verbose=flags.verbose)


def _log_failure(source: str | None, error: DraptoError) -> str:
    """The user sees one line; the detail (argv, stderr tail) goes to the run log. Returns the hint that
    names the log, or ""."""
    log = runlog.failure(source, error.message, error.detail)
    return f"details in {log}" if log and error.detail else ""


_LOGGED_EVENTS = (
    events.FileStarted, events.CropDecided, events.ChunkFinished, events.Notice, events.FileFinished,
    events.FileSkipped, events.BatchSummary,
)  # fmt: skip


def _logged(emit: Any) -> Any:
    """`emit` that also notes each file's progress (start, crop, chunks, end) in the run log."""

    def _emit(event: events.Event) -> None:
        if isinstance(event, _LOGGED_EVENTS):
            line = describe(event)
            if line:
                runlog.note(line.strip())
        emit(event)

    return _emit


def _record_history(finished: events.FileFinished, plan: EncodePlan, ffmpeg: str, emit: Any) -> None:
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
            speed=round(plan.expect.duration / finished.elapsed, 3) if plan.expect.duration and finished.elapsed else None,
            mode=finished.mode,
            preset=plan.preset,
            crf=plan.crf if finished.mode == "standard" else None,
            crf_range=finished.crf_range,
            target_vmaf=plan.target_vmaf,
            vmaf=finished.vmaf,
            drapto_version=__version__,
            ffmpeg_version=ffmpeg_version,
            encoder_version=encoder_version,
        )
        runlog.note(f"history: appended to {history.append(record)}")
    except Exception as exc:  # noqa: BLE001 - nothing here may fail an encode that has finished
        emit(events.Notice(file=finished.file, level="warning", message=f"could not write the encode history: {exc}"))


def _write_report(source: Path, output: Path, plan: EncodePlan, ffmpeg: str, emit: Any) -> None:
    """`encode --report`: the finished file's report page beside it. A report that cannot be made is a
    warning: the encode itself has succeeded."""
    try:
        from drapto.shell.reportrun import make_report, report_path, write_report

        data = make_report(ffmpeg, output, source=source, crop=plan.crop or "")
        page = write_report(data, report_path(output))
        emit(events.Notice(file=str(source), level="info", message=f"report: {page}"))
    except Exception as exc:  # noqa: BLE001 - nothing here may fail an encode that has finished
        emit(events.Notice(file=str(source), level="warning", message=f"could not write the report: {exc}"))


def _existing_output(source: Path, output: Path, ffmpeg: str, emit: Any, *, force: bool) -> bool:
    """True when `output` is already a finished encode of `source` (skip it). An existing output that does
    not validate is left alone, unless `force`: then it is re-encoded, and replaced only once the new
    one validates."""
    if force:
        return False
    problems = existing_output_problems(ffmpeg, require_video(probe(source)), output)
    if problems:
        raise ValidationError(
            f"{output} exists but is not a valid encode of this source ({'; '.join(problems)}); "
            "left alone: --force re-encodes and replaces it"
        )
    emit(events.FileSkipped(file=str(source), output=str(output), reason="output exists and validates"))
    return True


def audio_label(channels: int) -> str:
    """"Opus 5.1 256k": the layout by channel count, and the bitrate the plan gives it."""
    layout = {1: "mono", 2: "2.0", 6: "5.1", 8: "7.1"}.get(channels, f"{channels}ch")
    return f"Opus {layout} {opus_bitrate_kbps(channels)}k"


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


def _encode_one(
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
    """Encode one file; returns ("done"|"skipped", output size)."""
    check_not_source(source, output)
    workdir = Path(work_paths(output).workdir)
    if output.exists() and not workdir.exists() and _existing_output(source, output, ffmpeg, emit, force=force):
        return "skipped", 0
    job, plan = ready_job(source, output, config, ffmpeg)
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
    for notice in plan.notices:
        emit(events.Notice(file=str(source), level="warning", message=notice))
    started = time.monotonic()
    run_job(job, emit)
    stats = chunk_stats(work_paths(output).chunk_results) if plan.mode == "chunked" else None
    if not config.keep:
        shutil.rmtree(workdir, ignore_errors=True)
        try:
            workdir.parent.rmdir()  # the shared .drapto folder, once no other job uses it
        except OSError:
            pass
    finished = events.FileFinished(
        file=str(source),
        output=str(output),
        input_bytes=source.stat().st_size,
        output_bytes=output.stat().st_size,
        elapsed=time.monotonic() - started,
        mode=plan.mode,
        crf_range=stats[0] if stats else None,
        vmaf=stats[1] if stats else None,
        crf=plan.crf if plan.mode == "standard" else None,
        duration=plan.expect.duration,
        video=f"AV1 {plan.expect.width}x{plan.expect.height} {plan.expect.bit_depth}-bit"
        + (f" {plan.expect.dynamic}" if plan.expect.dynamic != "SDR" else "")
        + (" Dolby Vision" if plan.expect.dolby_vision else ""),
        audio=tuple(audio_label(channels) for channels in plan.expect.audio_channels),
        validation=validation_summary(plan.expect),
    )
    emit(finished)
    _record_history(finished, plan, ffmpeg, emit)
    if report:
        _write_report(source, output, plan, ffmpeg, emit)
    return "done", output.stat().st_size


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


def chunk_stats(path: str) -> tuple[tuple[float, float], tuple[float, float, float]] | None:
    """(lowest, highest CRF) and (min, mean, max VMAF) over the chunks, from the results file."""
    try:
        results = msgspec.json.decode(Path(path).read_bytes(), type=ChunkResults).chunks
    except (OSError, msgspec.DecodeError):
        return None
    if not results:
        return None
    crfs = [r.crf for r in results]
    scores = [r.vmaf for r in results]
    return (min(crfs), max(crfs)), (min(scores), sum(scores) / len(scores), max(scores))


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
    counts: dict[str, int] = field(default_factory=lambda: {"done": 0, "skipped": 0, "failed": 0})
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
                raise InputError(f"{source.name} would write {target}, which {self.claimed[target].name} writes; rename one")
            self.claimed[target] = source
            status, size = _encode_one(
                source, target, self.config, self.ffmpeg, self.emit, force=self.force, position=position,
                report=self.report,
            )
        except DraptoError as error:
            detail = _log_failure(str(source), error)
            self.emit(events.FileFailed(file=str(source), message=error.message, detail=detail))
            self.counts["failed"] += 1
            self.failure_codes.append(error.exit_code)
            self.files.append(events.BatchFile(file=str(source), status="failed", detail=error.message))
            return
        self.counts[status] += 1
        if status == "done":
            self.in_bytes += source.stat().st_size
            self.out_bytes += size
            self.files.append(events.BatchFile(
                file=str(source), status="encoded", input_bytes=source.stat().st_size, output_bytes=size,
            ))  # fmt: skip
        else:
            self.files.append(events.BatchFile(file=str(source), status="skipped", detail=self.skip_reason))

    def summary(self, input: Path) -> events.BatchSummary:
        return events.BatchSummary(
            file=str(input),
            succeeded=self.counts["done"],
            failed=self.counts["failed"],
            skipped=self.counts["skipped"],
            input_bytes=self.in_bytes,
            output_bytes=self.out_bytes,
            elapsed=time.monotonic() - self.started,
            files=tuple(self.files),
        )

    def exit_code(self) -> int:
        if not self.failure_codes:
            return EXIT_OK
        only_bad_input = all(code == EXIT_USAGE for code in self.failure_codes) and not self.counts["done"] + self.counts["skipped"]
        return EXIT_USAGE if only_bad_input else EXIT_FAILED


@app.command
def encode(
    input: Path,
    output: Path,
    *,
    flags: Annotated[EncodeFlags, Parameter(name="*")] = NO_FLAGS,
    config_file: ConfigFile = None,
    log_flags: Annotated[LogFlags, Parameter(name="*")] = NO_LOG,
    run_flags: Annotated[RunFlags, Parameter(name="*")] = NO_RUN,
    recursive: bool = False,
    force: bool = False,
) -> int:
    """Encode INPUT (a file or a folder of films) into OUTPUT (a folder, or a .mkv file for one input).

    Parameters
    ----------
    input
        A video file, or a folder whose video files are all encoded.
    output
        Output folder (created if missing), or the output .mkv path for a single input.
    recursive
        Also encode the video files in INPUT's subfolders, mirroring them under OUTPUT.
    force
        Re-encode files whose output already exists, replacing it once the new one validates (without
        it, an output that validates is skipped and one that does not is reported and left alone).
    """
    emit = run_flags.start(log_flags)
    config = flags.config(run_flags.keep, config_file)
    ffmpeg = resolve_ffmpeg(config.ffmpeg)
    # Absolute paths: a file named "-x.mkv" must never reach ffmpeg looking like an option.
    input, output = input.absolute(), output.absolute()
    sources = discover(input, recursive=recursive)
    batch = input.is_dir()
    if batch and recursive:
        check_outside(input, output)
    run = Batch(
        output, config, ffmpeg, emit, batch=batch, root=input if recursive and batch else None, force=force,
        report=run_flags.report,
    )
    with _cluster(config, ffmpeg, emit, input):
        for number, source in enumerate(sources, 1):
            run.encode(source, (number, len(sources)))
    if batch:
        emit(run.summary(input))
    return run.exit_code()


@contextmanager
def _cluster(config: Config, ffmpeg: str, emit: Any, where: Path) -> Iterator[None]:
    """With `cluster` set: connect (and check every worker) before the first file, say where the
    dashboard is, and disconnect at the end (a LocalCluster stops). Without it, nothing Dask is imported."""
    if not config.cluster:
        yield
        return
    from drapto.graph.cluster import close_session, session

    try:
        emit(events.Notice(file=str(where), level="info", message=session(config, ffmpeg).summary()))
        yield
    finally:
        close_session()


@app.command
def watch(
    input: Path,
    output: Path,
    *,
    flags: Annotated[EncodeFlags, Parameter(name="*")] = NO_FLAGS,
    config_file: ConfigFile = None,
    log_flags: Annotated[LogFlags, Parameter(name="*")] = NO_LOG,
    run_flags: Annotated[RunFlags, Parameter(name="*")] = NO_RUN,
    settle: float = 10.0,
) -> int:
    """Encode every video file in INPUT and its subfolders into OUTPUT, mirroring the subfolders (as
    `encode --recursive` does), then every file that appears later, once it is complete; until Ctrl-C.

    Parameters
    ----------
    input
        The folder to watch.
    output
        Output folder (created if missing); not inside INPUT.
    settle
        Seconds a file's size and modification time must stay the same before it is encoded, so a file
        still being copied is left alone.
    """
    emit = run_flags.start(log_flags)
    config = flags.config(run_flags.keep, config_file)
    ffmpeg = resolve_ffmpeg(config.ffmpeg)
    input, output = input.absolute(), output.absolute()
    if not input.is_dir():
        raise InputError(f"drapto watch needs a folder: {input} is a file" if input.exists() else f"Input not found: {input}")
    if settle < 0:
        raise InputError(f"--settle takes seconds (0 or more), got {settle:g}")
    check_output_folder(output)
    check_outside(input, output)
    run = Batch(output, config, ffmpeg, emit, batch=True, root=input, report=run_flags.report)
    emit(events.Notice(file=str(input), level="info", message=f"watching {input} for new files; Ctrl-C stops"))
    try:
        with _cluster(config, ffmpeg, emit, input):
            watch_folder(input, settle, run.encode)
    finally:
        emit(run.summary(input))  # what this session did, also when Ctrl-C ends it
    return run.exit_code()


@app.command
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
    _start_log(log_flags)
    config = flags.config(path=config_file)
    ffmpeg = resolve_ffmpeg(config.ffmpeg)
    input, output = input.absolute(), output.absolute()
    sources = discover(input)
    with _cluster(config, ffmpeg, lambda event: None, input):
        for source in sources:
            target = output_for(source, output, batch=input.is_dir())
            encode_plan, crop = plan_job(source, target, config, ffmpeg)
            print(render_plan(encode_plan, crop, str(target), finished_results(encode_plan)), end="", flush=True)
            if config.cluster and encode_plan.mode == "chunked":
                from drapto.graph.cluster import session

                print(session(config, ffmpeg).describe(str(source)), end="", flush=True)
    return EXIT_OK


@app.command
def analyze(
    input: Path,
    *,
    crop: str | None = None,
    json: bool = False,
    config_file: ConfigFile = None,
    log_flags: Annotated[LogFlags, Parameter(name="*")] = NO_LOG,
) -> int:
    """Show what drapto sees in INPUT (a file or a folder): container, duration, resolution class, HDR and
    Dolby Vision, the crop decision with its candidates, audio streams with their planned Opus bitrates,
    subtitles and chapters. Writes nothing.

    Parameters
    ----------
    input
        A video file, or a folder whose video files are all analysed.
    crop
        auto (detect black bars, the default), none, or an explicit W:H:X:Y crop.
    json
        One JSON object per file instead of text.
    """
    _start_log(log_flags)
    config = load_config({"crop": crop}, path=config_file)
    ffmpeg = resolve_ffmpeg(config.ffmpeg)
    check_capabilities(ffmpeg, {"filters": {"cropdetect"}} if config.crop == "auto" else {})
    for source in discover(input.absolute()):
        media = require_video(probe(source))
        report = analyse(media, analyse_crop(ffmpeg, media, config.crop), config)
        if json:
            print(msgspec.json.encode(report).decode(), flush=True)
        else:
            print(render_text(report), end="", flush=True)
    return EXIT_OK


@app.command(name="config")
def config_command(*, show: bool = True, toml: bool = False, config_file: ConfigFile = None) -> int:
    """Print the effective settings (defaults < config file < DRAPTO_* environment), each with where it came
    from.

    Parameters
    ----------
    show
        Accepted for compatibility; the settings are printed either way.
    toml
        Print plain TOML instead, ready to paste into a config file.
    """
    config, sources = load_settings(path=config_file)
    text = show_config(config) if toml else show_sources(config, sources, config_file or default_config_path())
    print(text, end="")
    return EXIT_OK


@app.command(name="history")
def history_command(*, json: bool = False) -> int:
    """List every finished encode (history.jsonl in the user data folder, or $DRAPTO_HISTORY): date, source,
    sizes, reduction, time, speed, mode and CRF/VMAF, then the totals.

    Parameters
    ----------
    json
        Print the records as JSON lines, and nothing else.
    """
    path = history.history_path()
    try:
        records = history.read(path)
    except OSError as exc:
        raise InputError(f"Cannot read the encode history {path}: {exc}") from exc
    if json:
        for record in records:
            print(msgspec.json.encode(record).decode())
    elif not records:
        print(f"No finished encodes yet (the history is kept in {path}).")
    elif sys.stdout.isatty():
        from rich.console import Console

        Console().print(history.render_rich(records))
    else:
        print(history.render_plain(records), end="")
    return EXIT_OK


@app.command(name="report")
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
    _start_log(log_flags)
    from drapto.shell.reportrun import make_report, report_path, write_report

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


def _interrupt(signum: int, frame: Any) -> None:
    """The first Ctrl-C (or SIGTERM) unwinds: children are stopped, the work stays resumable. A second
    one does not wait for that: children are killed and drapto exits at once."""
    signal.signal(signal.SIGINT, _stop_now)
    signal.signal(signal.SIGTERM, _stop_now)
    raise KeyboardInterrupt


def _stop_now(signum: int, frame: Any) -> None:
    terminate_all(signal.SIGKILL)
    os.write(2, b"drapto: stopped at once; run the same command again to resume\n")
    os._exit(EXIT_INTERRUPTED)


def main(argv: list[str] | None = None) -> int:
    """Entry point: every DraptoError is one line on stderr and an exit code, never a traceback."""
    global _run_argv
    handlers = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    _run_argv = list(argv if argv is not None else sys.argv[1:])
    code = EXIT_FAILED
    try:
        code = _main(_run_argv)
    finally:
        runlog.finish(code)  # the run log's last line
        if code != EXIT_INTERRUPTED:  # once interrupted, a late second Ctrl-C still exits at once
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
    return code


def program() -> None:
    """The `drapto` program: main(), then exit. An interrupted run leaves at once, skipping interpreter
    shutdown (during which Python restores the default signal handlers, so a second Ctrl-C arriving
    then would kill drapto by signal instead of exiting 130)."""
    code = main()
    if code == EXIT_INTERRUPTED:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def _main(argv: list[str]) -> int:
    try:
        result = app(argv, exit_on_error=False, print_error=False, result_action="return_value")
    except cyclopts.CycloptsError as error:  # a usage error: one line, like every other error
        print(f"drapto: {' '.join(str(error).split())} (drapto --help shows the usage)", file=sys.stderr)
        return EXIT_USAGE
    except DraptoError as error:
        hint = _log_failure(None, error)
        print(f"drapto: {error.message}" + (f" ({hint})" if hint else ""), file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        runlog.note("interrupted")
        print("drapto: interrupted; run the same command again to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug: its traceback goes to the run log too
        runlog.failure(None, f"{type(exc).__name__}: {exc}", traceback.format_exc())
        raise
    return result if isinstance(result, int) else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
