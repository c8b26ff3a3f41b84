"""The glue to doit's runner: run one job's graph with doit's threaded runner and turn doit's news into
events (`run_job`), and the namespace behind `dodo.py`, so `doit encode input=… output=…` works too."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from doit.exceptions import TaskFailed

from drapto.core import events
from drapto.errors import DraptoError
from drapto.graph.depfile import checkpoint_dependency_db
from drapto.graph.failures import Outcome, explain
from drapto.graph.planning import Job, chunk_workers, cluster_executor, ready_job
from drapto.graph.runner import terminate_all
from drapto.graph.steps import Emit
from drapto.graph.taskgraph import ENCODE_GROUP, namespace


def _step_label(task_name: str) -> str:
    return task_name.split(":", 1)[-1]


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
            label = _step_label(task.name)
            if outcome.error is None:  # doit's own failure (a missing dependency): its first line, no internals
                lines = str(fail.message or "").strip().splitlines() or ["failed"]
                outcome.error = explain(job, label, DraptoError(f"Step {label} failed: {lines[0]}", fail.get_msg()))
            if say_failures:
                emit(events.FileFailed(file=job.source, message=outcome.error.message))

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


def parallel_args(job: Job) -> list[str]:
    """doit's threaded runner with one thread per chunk worker plus one for the audio steps."""
    return ["-n", str(chunk_workers(job) + 1), "-P", "thread"]


_held_locks = contextlib.ExitStack()  # the dodo.py route's output lock, held for the life of the process


def dodo_namespace(source: str | None, output: str | None, emit: Emit) -> dict[str, Any]:
    """What `dodo.py` exposes: the job's graph when `input=` and `output=` are given, reporting through
    `emit` (dodo.py passes the shell's plain reporter), else a task that says how to call it (so
    `doit list` and `doit help` still work)."""
    from drapto.core.config import load_config
    from drapto.graph.ffmpeg import resolve_ffmpeg
    from drapto.graph.jobs import check_not_source, output_for
    from drapto.graph.outputlock import output_lock

    try:
        if not source or not output:
            raise DraptoError("usage: doit encode input=IN output=OUT (OUT: a folder or a .mkv path)")
        source_path = Path(source).absolute()
        target = output_for(source_path, Path(output).absolute(), batch=False)
        check_not_source(source_path, target)
        config = load_config()
        job, _plan = ready_job(source_path, target, config, resolve_ffmpeg(config.ffmpeg))
        _held_locks.enter_context(output_lock(target))  # held until doit's process ends
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
