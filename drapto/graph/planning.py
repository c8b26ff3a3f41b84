"""One job and its plan: the checks every route shares before encoding, and the plan built from the
work folder's probe, crop and scene scan (what `drapto plan` shows and what the task graph carries out)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import msgspec

from drapto.core.config import Config
from drapto.core.crop import CropAnalysis
from drapto.core.hdr import classify
from drapto.core.media import MediaInfo
from drapto.core.picture import Fields, rotation_of
from drapto.core.plan import EncodePlan, Mode, effective_mode, plan_chunked, plan_standard, target_vmaf
from drapto.core.scenes import SceneScan
from drapto.core.timeline import source_start
from drapto.core.workers import Budget, machine_budget
from drapto.core.workpaths import work_paths
from drapto.errors import SourceSkipped
from drapto.graph.cropdetect import analyse_crop
from drapto.graph.executor import ChunkExecutor
from drapto.graph.probe import probe, require_video
from drapto.graph.scenescan import scan_scenes
from drapto.graph.workfiles import reusable_scan


class Job(msgspec.Struct, frozen=True, kw_only=True):
    source: str
    output: str
    config: Config
    ffmpeg: str
    dolby_vision_rpu: bool = True  # whether this ffmpeg's libsvtav1 can carry Dolby Vision
    budget: Budget = Budget(cores=1, memory_gb=4.0)  # cores and memory the chunk workers may use


def job_mode(media: MediaInfo, job: Job) -> Mode:
    return effective_mode(job.config, classify(require_video(media).video[0]))


def build_plan(
    media: MediaInfo,
    job: Job,
    crop: str | None = None,
    scan: SceneScan | None = None,
    fields: Fields | None = None,
) -> EncodePlan:
    """The chunked plan once the scene scan exists, else the standard one (which is also what the
    pre-flight checks look at before the scan)."""
    media = require_video(media)
    if scan is not None and job_mode(media, job) == "chunked":
        return plan_chunked(
            media, job.config, ffmpeg=job.ffmpeg, output=Path(job.output), scan=scan, budget=job.budget,
            crop=crop, dolby_vision_rpu=job.dolby_vision_rpu, fields=fields,
        )  # fmt: skip
    return plan_standard(
        media, job.config, ffmpeg=job.ffmpeg, output=Path(job.output), crop=crop,
        dolby_vision_rpu=job.dolby_vision_rpu, fields=fields,
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
    from drapto.core.plan import required_capabilities
    from drapto.graph.ffmpeg import check_capabilities
    from drapto.graph.jobs import check_not_source

    check_not_source(source, output)
    job = make_job(source, output, config, ffmpeg)
    media = require_video(probe(source, ffmpeg))
    plan = build_plan(media, job)
    chunked = job_mode(media, job) == "chunked"
    check_capabilities(
        ffmpeg, required_capabilities(plan, config.crop, chunked=chunked, deinterlace=config.deinterlace)
    )
    if chunked and config.search_engine == "ab-av1":
        from drapto.graph.abav1 import require_ab_av1

        require_ab_av1()
    return job, media, plan


def plan_job(source: Path, output: Path, config: Config, ffmpeg: str) -> tuple[EncodePlan, CropAnalysis]:
    """Probe, detect the crop, scan the scenes (or reuse a finished scenes.json) and plan one file,
    writing nothing (what `drapto plan` shows)."""
    job, media, _uncropped = _checked_plan(source, output, config, ffmpeg)
    analysis = analyse_crop(ffmpeg, media, config.crop, config.deinterlace)
    crop = analysis.decision.crop
    scan = None
    if job_mode(media, job) == "chunked":
        scan = reusable_scan(job.output, crop) or scan_job(
            job, media, crop, Path(tempfile.mkdtemp(prefix="drapto-plan-"))
        )
    return build_plan(media, job, crop, scan, analysis.fields), analysis


def ready_job(source: Path, output: Path, config: Config, ffmpeg: str) -> tuple[Job, EncodePlan]:
    """Every check that must pass before encoding starts: the output folder is writable, plus the shared
    checks; a source already in AV1 is skipped (`SourceSkipped`) unless `reencode_av1` asks for it. The plan returned has no crop yet: the graph's crop step decides it."""
    from drapto.graph.jobs import prepare_output_dir

    prepare_output_dir(output)
    job, media, plan = _checked_plan(source, output, config, ffmpeg)
    if media.video[0].codec == "AV1" and not config.reencode_av1:
        raise SourceSkipped("already AV1: left as it is (--reencode-av1 encodes it again)")
    if job_mode(media, job) == "chunked":  # the chunks come from the scene scan; say what they will aim at
        colour = classify(media.video[0])
        plan = msgspec.structs.replace(plan, mode="chunked", target_vmaf=target_vmaf(config, colour), steps=())
    return job, plan


def work_plan(job: Job) -> EncodePlan | None:
    """The plan the graph carries out, from the work folder's probe.json, crop.json and (chunked)
    scenes.json; None until they exist."""
    from drapto.graph.workfiles import load_crop, load_probe, load_scan

    paths = work_paths(Path(job.output))
    if not Path(paths.probe).exists() or not Path(paths.crop).exists():
        return None
    media = load_probe(paths.probe)
    chunked = job_mode(media, job) == "chunked"
    if chunked and not Path(paths.scenes).exists():
        return None
    crop = load_crop(paths.crop)
    return build_plan(media, job, crop.decision.crop, load_scan(paths.scenes) if chunked else None, crop.fields)


def scan_job(
    job: Job, media: MediaInfo, crop: str | None, folder: Path, on_progress: Any = None, *, on_stderr: Any = None
) -> SceneScan:
    try:
        video = require_video(media).video[0]
        start = source_start(media)
        return scan_scenes(
            job.ffmpeg,
            job.source,
            video,
            crop,
            folder,
            on_progress,
            rotation_of(media),
            on_stderr=on_stderr,
            source_start=start,
        )
    finally:
        if folder.name.startswith("drapto-plan-"):
            shutil.rmtree(folder, ignore_errors=True)


def chunk_workers(job: Job) -> int:
    """The most chunk units that may run at once, whatever the picture: doit gets that many threads, and
    the executor's pool (sized from the plan, which knows the picture and the chunks) lets the right
    number of them encode."""
    return job.budget.split(1, 1, 1 << 30)[0]
