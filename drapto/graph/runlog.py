"""The per-run log: every external command drapto runs (argv, exit code, duration, stderr tail), the run's
start and end, and each file's failure with its detail. One file per run, written as it happens.

The CLI opens it (`start`) and closes it (`finish`); `drapto.graph.runner` reports every command to it
(`command`). Commands run in worker threads too, so every write holds one lock. Nothing here may fail an
encode: a log that cannot be written is given up, with one warning on stderr."""

from __future__ import annotations

import os
import shlex
import sys
import threading
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TextIO

import platformdirs

from drapto import __version__

LOG_DIR_ENV = "DRAPTO_LOG_DIR"
SUCCESS_TAIL_LINES = 5  # stderr lines kept for a command that succeeded
FAILURE_TAIL_LINES = 40  # and for one that failed


def default_log_dir() -> Path:
    """$DRAPTO_LOG_DIR, else the platform's user log folder (e.g. ~/.local/state/drapto/log)."""
    return Path(os.environ.get(LOG_DIR_ENV) or platformdirs.user_log_path("drapto"))


def log_name(when: datetime, pid: int) -> str:
    return f"drapto-{when:%Y%m%d-%H%M%S}-{pid}.log"


def _stamp() -> str:
    return datetime.now().astimezone().isoformat(timespec="milliseconds")


def _indent(text: str) -> str:
    return "".join(f"    {line}\n" for line in text.splitlines())


def tail(text: str, lines: int) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:]) if lines > 0 else ""


def shell_line(argv: Sequence[str], cwd: str | None = None) -> str:
    """The command as a shell would take it, run in `cwd` when given."""
    line = shlex.join(argv)
    return f"(cd {shlex.quote(cwd)} && {line})" if cwd else line


class RunLog:
    """One run's log file. Every method swallows its own I/O errors."""

    def __init__(self, path: Path, handle: TextIO) -> None:
        self.path = path
        self._handle: TextIO | None = handle
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._next_id = 0

    @classmethod
    def open(cls, folder: Path, argv: Sequence[str]) -> RunLog:
        """Create the run's file in `folder` (made if missing) and write the start; OSError if impossible."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / log_name(datetime.now(), os.getpid())
        log = cls(path, path.open("a", encoding="utf-8", errors="replace"))
        log.write(
            f"{_stamp()} drapto {__version__} started, pid {os.getpid()}\n"
            f"    argv: {shlex.join(['drapto', *argv])}\n"
            f"    cwd: {os.getcwd()}\n"
            f"    python {sys.version.split()[0]} on {sys.platform}\n"
        )
        return log

    def write(self, text: str) -> None:
        with self._lock:
            if self._handle is None:
                return
            try:
                self._handle.write(text)
                self._handle.flush()  # a killed run keeps everything up to its last command
            except (OSError, ValueError) as exc:
                self._give_up(exc)

    def _give_up(self, exc: Exception) -> None:
        print(f"drapto: cannot write the run log {self.path}: {exc}; continuing without it", file=sys.stderr)
        try:
            self._handle.close()  # type: ignore[union-attr]
        except (OSError, ValueError):
            pass
        self._handle = None

    @property
    def writing(self) -> bool:
        return self._handle is not None

    def new_id(self) -> int:
        with self._lock:
            self._next_id += 1
            return self._next_id

    def close(self, exit_code: int) -> None:
        self.write(f"{_stamp()} drapto finished: exit code {exit_code} in {time.monotonic() - self._started:.1f}s\n")
        with self._lock:
            if self._handle is not None:
                try:
                    self._handle.close()
                except OSError:
                    pass
                self._handle = None


_log: RunLog | None = None
_echo = False


def start(
    argv: Sequence[str], *, folder: Path | None = None, enabled: bool = True, verbose: bool = False
) -> RunLog | None:
    """Begin this run's log (in `folder`, else `default_log_dir()`), unless `enabled` is false. With
    `verbose`, every command is also echoed to stderr as it starts. A log that cannot be created is
    skipped with a warning."""
    global _log, _echo
    finish(None)
    _echo = verbose
    if not enabled:
        return None
    folder = folder or default_log_dir()
    try:
        _log = RunLog.open(folder, argv)
    except OSError as exc:
        print(f"drapto: cannot write a run log in {folder}: {exc}; continuing without it", file=sys.stderr)
    return _log


def current() -> RunLog | None:
    return _log


def path() -> Path | None:
    """This run's log file, if one is being written."""
    return _log.path if _log is not None else None


def note(text: str) -> None:
    """A line of context (a file started, finished, skipped)."""
    if _log is not None:
        _log.write(f"{_stamp()} {text}\n")


def failure(source: str | None, message: str, detail: str = "") -> Path | None:
    """Record a failure with its detail; returns the log's path when it was written."""
    log = _log
    if log is None:
        return None
    where = f"{source}: " if source else ""
    log.write(f"{_stamp()} FAILED {where}{message}\n{_indent(detail)}")
    return log.path if log.writing else None


def finish(exit_code: int | None) -> None:
    """Write the run's end (when `exit_code` is given) and close the log."""
    global _log, _echo
    log, _log, _echo = _log, None, False
    if log is not None:
        if exit_code is None:
            log.close(-1)
        else:
            log.close(exit_code)


class Command:
    """One external command, from its start to its exit."""

    def __init__(self, argv: Sequence[str], cwd: str | None) -> None:
        self.log = _log
        self.started = time.monotonic()
        self.id = 0
        if _echo:
            try:
                print(shell_line(argv, cwd), file=sys.stderr, flush=True)
            except (OSError, ValueError):
                pass
        if self.log is not None:
            self.id = self.log.new_id()
            where = f"\n    cwd: {cwd}" if cwd else ""
            self.log.write(f"{_stamp()} [{self.id}] run: {shlex.join(argv)}{where}\n")

    def finished(self, returncode: int | None, stderr: str = "", *, note: str = "") -> None:
        """Record the exit code (None: the command could not start or was stopped), its duration and the
        end of its stderr."""
        if self.log is None:
            return
        elapsed = time.monotonic() - self.started
        code = "did not finish" if returncode is None else f"exit code {returncode}"
        lines = FAILURE_TAIL_LINES if returncode != 0 else SUCCESS_TAIL_LINES
        extra = f" ({note})" if note else ""
        self.log.write(f"{_stamp()} [{self.id}] {code} in {elapsed:.2f}s{extra}\n{_indent(tail(stderr, lines))}")


def command(argv: Sequence[str], cwd: str | None = None) -> Command:
    """Call when a command starts; call `.finished(...)` on the result when it ends."""
    return Command(argv, cwd)
