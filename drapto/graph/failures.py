"""How a failed step reaches the user: one line that says what happened and what to do (a vanished
source, a full disk, an unwritable folder, drapto's own error, or an unforeseen fault naming the step
and the log), never doit's internals or a traceback; the failed step's partial files removed."""

from __future__ import annotations

import errno
import os
import threading
import traceback
from collections.abc import Callable
from pathlib import Path

from doit.exceptions import TaskFailed

from drapto.core.workpaths import work_paths
from drapto.errors import DraptoError, NotWritableError, SourceGoneError
from drapto.graph.depfile import checkpoint_dependency_db
from drapto.graph.planning import Job
from drapto.graph.space import disk_full_error, is_disk_full


class Outcome:
    """Where a failed step leaves its DraptoError for the CLI (doit keeps only a traceback string)."""

    def __init__(self) -> None:
        self.error: DraptoError | None = None


def guarded(
    outcome: Outcome, job: Job, label: str, partials: Callable[[], list[Path]], body: Callable[[], None]
) -> TaskFailed | None:
    """doit action wrapper: any failure becomes a clean TaskFailed (no traceback) whose DraptoError is kept
    for the CLI, explained in one line (`explain`), and the step's partial files are removed. On the main
    thread (doit's sequential runner) it first checkpoints what earlier steps recorded; with the threaded
    runner the reporter does that, on the main thread, as each step succeeds (sqlite connections belong
    to the thread that made them)."""
    if threading.current_thread() is threading.main_thread():
        checkpoint_dependency_db()
    try:
        body()
    except Exception as exc:
        for path in partials():
            path.unlink(missing_ok=True)
        error = explain(job, label, exc)
        if outcome.error is None:
            outcome.error = error
        return TaskFailed(error.message)
    return None


_NOT_WRITABLE = (errno.EROFS, errno.EACCES, errno.EPERM)


def explain(job: Job, label: str, exc: BaseException) -> DraptoError:
    """What a failed step means to the user, in one line: the source vanished, a disk filled up, a folder
    became unwritable, the DraptoError the step raised, or (a fault drapto did not foresee) the step's
    name and the error, with the traceback kept for the run log."""
    if not Path(job.source).exists():
        return SourceGoneError(
            f"The source disappeared during {label}: {job.source}; what was finished is kept: put it back and "
            "run the same command again"
        )
    # the folder a failed write was in: the file an OSError names, else (a failed command) the work folder
    written = exc.filename if isinstance(exc, OSError) and exc.filename else None
    folder = Path(written).parent if written else Path(work_paths(Path(job.output)).workdir)
    if is_disk_full(exc):
        return disk_full_error(folder, label)
    detail = str(getattr(exc, "detail", ""))
    if (isinstance(exc, OSError) and exc.errno in _NOT_WRITABLE) or "Read-only file system" in detail:
        reason = os.strerror(exc.errno) if isinstance(exc, OSError) and exc.errno else "Read-only file system"
        return NotWritableError(
            f"Cannot write to {folder} during {label} ({reason}); make it writable and run the same command again"
        )
    if isinstance(exc, DraptoError):
        return exc
    return DraptoError(
        f"Step {label} failed unexpectedly: {type(exc).__name__}: {exc}",
        detail="".join(traceback.format_exception(exc)),
    )
