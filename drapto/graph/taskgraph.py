"""The doit task graph for one job: which tasks exist, what each depends on and makes, and when each is up
to date. The step bodies are in `steps`; running the graph is `doitrun`'s."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec
from doit.exceptions import TaskFailed
from doit.loader import create_after
from doit.tools import config_changed

from drapto.core import scouting
from drapto.core.scheduling import expected_cost
from drapto.core.workpaths import partial_name, work_paths
from drapto.graph.depfile import CachedMD5Checker
from drapto.graph.executor import ChunkExecutor, LocalExecutor
from drapto.graph.failures import Outcome, guarded
from drapto.graph.planning import Job, chunk_workers, job_mode, work_plan
from drapto.graph.steps import (
    Emit,
    concat,
    finish_output,
    locked,
    run_chunk,
    run_step,
    write_crop,
    write_probe,
    write_scenes,
)  # fmt: skip
from drapto.graph.workfiles import CROP_VERSION, PROBE_VERSION, SCENES_VERSION, load_crop, load_probe

ENCODE_GROUP = "encode"


def namespace(
    job: Job, emit: Emit, outcome: Outcome, *, reporter: type | None = None, executor: ChunkExecutor | None = None
) -> dict[str, Any]:
    """A doit namespace (`DOIT_CONFIG` and `task_*` creators) for one job, for ModuleTaskLoader or dodo.py."""
    paths = work_paths(Path(job.output))
    Path(paths.workdir).mkdir(parents=True, exist_ok=True)
    emit = locked(emit)  # chunk workers emit from their own threads
    executor = executor or LocalExecutor(chunk_workers(job))

    def action(
        label: str, partials: list[str], body: Callable[..., None], *args: Any, sweep: str | None = None
    ) -> Callable[[], TaskFailed | None]:
        """A step's doit action: `body(*args)` under `guarded`, which removes `partials` (and every
        `*.partial` in the folder `sweep`) when it fails."""

        def found() -> list[Path]:
            return [*map(Path, partials), *(Path(sweep).glob("*.partial") if sweep else ())]

        return functools.partial(guarded, outcome, job, label, found, functools.partial(body, *args))

    def task_probe() -> dict[str, Any]:
        """Probe the source with MediaInfo into probe.json."""
        return {
            "actions": [action("probe", [partial_name(paths.probe)], write_probe, job, emit)],
            "file_dep": [job.source],
            "targets": [paths.probe],
            "uptodate": [config_changed(PROBE_VERSION)],
        }

    @create_after(executed="probe")
    def task_crop() -> dict[str, Any]:
        """Decide the crop into crop.json (cropdetect samples when the setting is auto)."""
        return {
            "actions": [action("crop", [partial_name(paths.crop)], write_crop, job, emit)],
            "file_dep": [job.source, paths.probe],
            "targets": [paths.crop],
            "uptodate": [config_changed(f"{CROP_VERSION} {job.config.crop} {job.config.deinterlace}")],
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
            "actions": [action("scenes", [partial_name(paths.scenes)], write_scenes, job, emit)],
            "file_dep": [job.source, paths.probe, paths.crop],
            "targets": [paths.scenes],
            "uptodate": [config_changed(f"{SCENES_VERSION} {crop}")],
        }

    @create_after(executed="scenes")
    def task_encode() -> Iterator[dict[str, Any]]:
        """Encode video (one step, or chunks and a concat) and audio, mux, validate: the tasks appear once
        probe.json, crop.json and, in chunked mode, scenes.json exist."""
        plan = work_plan(job)
        if plan is None:
            return  # `doit list --all` before the first probe (or the scan): nothing planned yet
        executor.set_workers(plan.workers)  # the plan's count: cores and memory, or the cluster's slots
        steps = sorted(plan.steps, key=lambda step: step.stage != "audio")  # audio first: short, and beside the video
        for step in steps:
            if step.name == "concat":
                run: Callable[..., None] = functools.partial(concat, job, plan, step, emit)
                body = action(step.name, [step.partial, partial_name(plan.paths.chunk_results)], run)
            else:
                body = action(step.name, [step.partial], run_step, job, step, emit)
            yield {
                "name": step.name,
                "actions": [body],
                "file_dep": list(step.inputs),
                "targets": [step.target, *([plan.paths.chunk_results] if step.name == "concat" else [])],
                "uptodate": [config_changed(" ".join(step.argv))],
            }
        scouts = scouting.scouts(plan.chunks)  # the chunks the others wait for and start from
        # the scouts first, then the rest; each group most expensive first, so no worker idles at the end
        for unit in sorted(plan.chunks, key=lambda u: (u not in scouts, -expected_cost(u))):
            waits = () if unit in scouts else scouts
            yield {
                "name": f"chunk-{unit.chunk.index:04d}",
                "actions": [
                    action(
                        f"chunk-{unit.chunk.index:04d}",
                        [partial_name(unit.target), partial_name(unit.result)],
                        run_chunk,
                        job,
                        unit,
                        executor,
                        emit,
                        waits,
                        sweep=unit.folder,
                    )
                ],
                "file_dep": [job.source, *(scout.result for scout in waits)],
                "targets": [unit.target, unit.result],
                "uptodate": [config_changed(msgspec.json.encode(unit).decode())],
            }
        yield {
            "name": "validate",
            "actions": [action("validate", [partial_name(paths.output)], finish_output, job, plan, emit)],
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
