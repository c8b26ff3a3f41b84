"""One run per output at a time: an OS lock beside the output's work folder, held for the whole run.

The lock is `flock` on `<outdir>/.drapto/<stem>.lock`: the kernel releases it when the process dies, so
a kill -9 never leaves a stale lock, and it works across processes of any user on a local disk (and on
NFS, where Linux maps it to a POSIX lock). The file holds the holder's PID and host, for the message a
second run prints.
"""

from __future__ import annotations

import fcntl
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from drapto.core.workpaths import work_paths
from drapto.errors import InputError, OutputBusyError


def lock_path(output: Path) -> Path:
    """The lock file of an output: beside its work folder, so it outlives the folder's removal."""
    return Path(work_paths(output).workdir + ".lock")


def _holder(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8").split()
    except OSError:
        text = []
    if len(text) >= 2 and text[1] != socket.gethostname():
        return f"process {text[0]} on {text[1]}"
    return f"process {text[0]}" if text else "another process"


@contextmanager
def output_lock(output: Path) -> Iterator[None]:
    """Hold the output's lock for the body, or raise OutputBusyError naming the process that holds it."""
    path = lock_path(output)
    while True:
        # Read-only: an open file for writing would keep the output's filesystem from being remounted.
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise InputError(f"Cannot write to output folder {path.parent}: {exc.strerror or exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise OutputBusyError(
                f"{output} is being encoded by another drapto ({_holder(path)}); "
                "wait for it to finish or stop it, then run this again"
            ) from None
        try:  # the holder before us may have removed the file between our open and our lock: lock the new one
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    try:
        try:
            path.write_text(f"{os.getpid()} {socket.gethostname()}\n", encoding="utf-8")
        except OSError:
            pass  # who holds it is only for a second run's message; the lock itself holds
        yield
    finally:
        try:
            path.unlink(missing_ok=True)  # while still locked: a waiting run then locks a new file
        except OSError:
            pass  # a folder that became read-only: the kernel still drops the lock below
        finally:
            os.close(fd)
