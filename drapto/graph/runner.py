"""Run external commands (argv lists only, never a shell) with anyio, and turn ffmpeg's
`-progress pipe:1` stream into progress callbacks."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import anyio
from anyio.streams.text import TextReceiveStream

from drapto.errors import DependencyError, ProcessError, SourceDamagedError
from drapto.graph import runlog

STDERR_TAIL_LINES = 40
# SVT-AV1 logs through its own channel, not ffmpeg's -loglevel; level 1 keeps only its errors.
CHILD_ENV = {"SVT_LOG": "1"}


# On Linux every child is started through this tiny exec shim, which asks the kernel to SIGKILL it when the
# drapto thread that started it dies, so even a `kill -9` of drapto leaves no ffmpeg behind (a stray one
# would keep writing into the work folder). It checks that its parent is still alive first, then execs.
_DEATH_SHIM = (
    "import ctypes,os,sys;ctypes.CDLL(None).prctl(1,9);"
    "os.getppid()==int(sys.argv[1]) or os._exit(137);os.execv(sys.argv[2],sys.argv[2:])"
)
# --responsive: the shim also lowers the child's CPU priority (nice 10) and puts its disk I/O in the idle
# class (the ioprio_set syscall, whose number depends on the architecture), so a desktop stays usable.
_RESPONSIVE_SHIM = (
    "import ctypes,os,sys;libc=ctypes.CDLL(None);libc.prctl(1,9);os.nice(10);"
    "n={'x86_64':251,'aarch64':30}.get(os.uname().machine);n and libc.syscall(n,1,0,3<<13);"
    "os.getppid()==int(sys.argv[1]) or os._exit(137);os.execv(sys.argv[2],sys.argv[2:])"
)
_responsive = False
_live_pids: set[int] = set()
_live_lock = threading.Lock()


def set_responsive(responsive: bool) -> None:
    """Run every later child at low CPU and I/O priority (Linux)."""
    global _responsive
    _responsive = responsive


def _env() -> dict[str, str]:
    return {**os.environ, **CHILD_ENV}


def spawn_argv(argv: Sequence[str]) -> list[str]:
    """The argv actually started: behind the parent-death shim on Linux, as it is elsewhere. The command
    must name an executable path or one found on PATH."""
    if not sys.platform.startswith("linux"):
        return list(argv)
    import shutil

    executable = argv[0] if os.sep in argv[0] else shutil.which(argv[0])
    if executable is None or not os.path.isfile(executable):
        raise FileNotFoundError(argv[0])
    if not os.access(executable, os.X_OK):
        raise PermissionError(argv[0])
    shim = _RESPONSIVE_SHIM if _responsive else _DEATH_SHIM
    return [sys.executable, "-I", "-S", "-c", shim, str(os.getpid()), executable, *argv[1:]]


def terminate_all(how: int = signal.SIGTERM) -> None:
    """Stop every long-running child still alive (those started by worker threads, which a Ctrl-C in the
    main thread does not reach), so no ffmpeg outlives drapto; SIGKILL when the user will not wait."""
    with _live_lock:
        pids = list(_live_pids)
    for pid in pids:
        try:
            os.kill(pid, how)
        except ProcessLookupError:
            pass


def _why(exc: BaseException) -> str:
    """Why a command has no exit code, for the run log."""
    if isinstance(exc, FileNotFoundError):
        return "not found"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, KeyboardInterrupt | asyncio.CancelledError):
        return "interrupted"
    return f"{type(exc).__name__}: {exc}"


# What ffmpeg's demuxer says about an input file that is cut short or corrupt.
_DAMAGE = re.compile(r"^\[in#\d+/[^\]]*\] (File ended prematurely|Invalid data found when processing input)", re.M)


def process_failure(argv: Sequence[str], returncode: int, stderr: str) -> ProcessError | SourceDamagedError:
    """The error for a failed command; when ffmpeg's demuxer found its input cut short or corrupt, the
    input is to blame, and the message says so instead of quoting ffmpeg's last line."""
    tail = "\n".join(stderr.strip().splitlines()[-STDERR_TAIL_LINES:])
    name = os.path.basename(argv[0])
    last = tail.splitlines()[-1] if tail else "no error output"
    detail = f"argv: {list(argv)}\n{tail}"
    damage = _DAMAGE.search(stderr)
    if damage and "-i" in argv:
        source = argv[list(argv).index("-i") + 1]
        return SourceDamagedError(f"The source is damaged: ffmpeg cannot read {source} ({damage[1]})", detail=detail)
    return ProcessError(f"{name} failed (exit code {returncode}): {last}", detail=detail)


def run_capture(
    argv: Sequence[str], *, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run a short command to completion and keep its output (`env` adds or replaces variables)."""

    async def _run() -> subprocess.CompletedProcess[bytes]:
        return await anyio.run_process(
            spawn_argv(argv), check=False, env={**_env(), **(env or {})}, stdin=subprocess.DEVNULL
        )

    logged = runlog.command(argv)
    try:
        result = anyio.run(_run)
    except BaseException as exc:
        logged.finished(None, note=_why(exc))
        if isinstance(exc, FileNotFoundError):
            raise DependencyError(f"Cannot run {argv[0]}: not found") from exc
        if isinstance(exc, PermissionError):
            raise DependencyError(f"Cannot run {argv[0]}: permission denied") from exc
        raise
    logged.finished(result.returncode, result.stderr.decode(errors="replace"))
    if check and result.returncode != 0:
        raise process_failure(argv, result.returncode, result.stderr.decode(errors="replace"))
    return result


def run_concurrently(
    argvs: Sequence[Sequence[str]], *, workers: int, on_done: Callable[[int], None] | None = None
) -> list[subprocess.CompletedProcess[bytes]]:
    """Run short commands `workers` at a time and keep their output, in argv order. A non-zero exit is
    the caller's to judge (it is returned, not raised); `on_done(n)` follows completions. On
    cancellation anyio kills the children still running."""
    results: list[subprocess.CompletedProcess[bytes] | None] = [None] * len(argvs)
    done = 0

    async def _one(limiter: anyio.CapacityLimiter, index: int, argv: Sequence[str]) -> None:
        nonlocal done
        async with limiter:
            logged = runlog.command(argv)
            try:
                result = await anyio.run_process(spawn_argv(argv), check=False, env=_env(), stdin=subprocess.DEVNULL)
            except BaseException as exc:
                logged.finished(None, note=_why(exc))
                raise
            logged.finished(result.returncode, result.stderr.decode(errors="replace"))
            results[index] = result
        done += 1
        if on_done is not None:
            on_done(done)

    async def _run() -> None:
        limiter = anyio.CapacityLimiter(max(workers, 1))
        async with anyio.create_task_group() as group:
            for index, argv in enumerate(argvs):
                group.start_soon(_one, limiter, index, argv)

    try:
        anyio.run(_run)
    except FileNotFoundError as exc:
        raise DependencyError(f"Cannot run {argvs[0][0]}: not found") from exc
    return [result for result in results if result is not None]


class Progress(NamedTuple):
    """One `-progress` report: media seconds done, and (when ffmpeg knows them) frames per second,
    speed × realtime and bytes written so far; `worker` is the cluster worker that ran ffmpeg (None: here)."""

    seconds: float
    fps: float | None = None
    speed: float | None = None
    bytes: int | None = None
    worker: str | None = None


def _number(value: str | None) -> float | None:
    try:
        number = float((value or "").rstrip("x"))
    except ValueError:
        return None  # "N/A"
    return number if number == number and number >= 0 else None


def parse_progress_block(values: dict[str, str]) -> Progress | None:
    """The keys of one `-progress` block (`out_time_us=1960292`, `fps=48.2`, `speed=2.01x`,
    `total_size=123456`, … up to `progress=continue`) → a Progress; None without a usable time."""
    raw = values.get("out_time_us", "")
    if not raw.lstrip("-").isdigit():
        return None
    size = _number(values.get("total_size"))
    return Progress(
        seconds=max(int(raw), 0) / 1_000_000,
        fps=_number(values.get("fps")),
        speed=_number(values.get("speed")),
        bytes=int(size) if size is not None else None,
    )


def run_with_progress(
    argv: Sequence[str],
    on_progress: Callable[[Progress], None] | None = None,
    *,
    cwd: str | None = None,
    on_stderr: Callable[[str], None] | None = None,
) -> None:
    """Run a long ffmpeg command (in `cwd` when given), reporting its `-progress` blocks (and, with
    `on_stderr`, each stderr line, in the order the two arrive); raise ProcessError on failure.

    On cancellation (Ctrl-C, SIGTERM) the child is terminated, so no ffmpeg outlives drapto; children of
    worker threads are registered for `terminate_all`.
    """
    stderr_tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)

    async def _pump_stdout(stream: Any) -> None:
        buffer = ""
        block: dict[str, str] = {}
        async for chunk in TextReceiveStream(stream, errors="replace"):
            buffer += chunk
            *lines, buffer = buffer.split("\n")
            for line in lines:
                key, _, value = line.strip().partition("=")
                block[key] = value
                if key == "progress":  # the block's last line
                    report = parse_progress_block(block)
                    block = {}
                    if report is not None and on_progress is not None:
                        on_progress(report)

    async def _pump_stderr(stream: Any) -> None:
        buffer = ""
        async for chunk in TextReceiveStream(stream, errors="replace"):
            stderr_tail.extend(chunk.splitlines())
            if on_stderr is not None:
                buffer += chunk
                *lines, buffer = buffer.split("\n")
                for line in lines:
                    on_stderr(line)
        if on_stderr is not None and buffer:
            on_stderr(buffer)

    async def _run() -> int:
        process = await anyio.open_process(spawn_argv(argv), env=_env(), stdin=subprocess.DEVNULL, cwd=cwd)
        with _live_lock:
            _live_pids.add(process.pid)
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(_pump_stdout, process.stdout)
                group.start_soon(_pump_stderr, process.stderr)
            return await process.wait()
        finally:
            if process.returncode is None:
                process.terminate()
                with anyio.move_on_after(5, shield=True):
                    await process.wait()
                if process.returncode is None:
                    process.kill()
            with _live_lock:
                _live_pids.discard(process.pid)

    logged = runlog.command(argv, cwd)
    try:
        returncode = anyio.run(_run)
    except BaseException as exc:
        logged.finished(None, "\n".join(stderr_tail), note=_why(exc))
        if isinstance(exc, FileNotFoundError):
            raise DependencyError(f"Cannot run {argv[0]}: not found") from exc
        raise
    logged.finished(returncode, "\n".join(stderr_tail))
    if returncode != 0:
        raise process_failure(argv, returncode, "\n".join(stderr_tail))
