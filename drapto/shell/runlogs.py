"""The run log as the shell keeps it: opened with this run's arguments, a note of each file's progress
(start, crop, chunks, end), and the hint that names the log when something fails."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from drapto.core import events
from drapto.errors import DraptoError
from drapto.graph import runlog
from drapto.shell.progress import describe

run_argv: list[str] = []  # this run's arguments, for the run log's first lines


def start_log(folder: Path | None, *, enabled: bool, verbose: bool) -> None:
    """Open this run's log, its first lines naming the run's arguments."""
    runlog.start(run_argv, folder=folder, enabled=enabled, verbose=verbose)


def log_failure(source: str | None, error: DraptoError) -> str:
    """The user sees one line; the detail (argv, stderr tail) goes to the run log. Returns the hint that
    names the log, or ""."""
    log = runlog.failure(source, error.message, error.detail)
    return f"details in {log}" if log and error.detail else ""


_LOGGED_EVENTS = (
    events.FileStarted, events.CropDecided, events.ChunkFinished, events.Notice, events.FileFinished,
    events.FileSkipped, events.FileDiscarded, events.BatchSummary,
)  # fmt: skip


def logged(emit: Any) -> Any:
    """`emit` that also notes each file's progress (start, crop, chunks, end) in the run log."""

    def _emit(event: events.Event) -> None:
        if isinstance(event, _LOGGED_EVENTS):
            line = describe(event)
            if line:
                runlog.note(line.strip())
        emit(event)

    return _emit
