"""Disk space: refuse a run that clearly cannot fit before hours of encoding, and turn a full disk during
a run into one line that names the folder and what is free."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

from drapto.core.sizes import human_bytes
from drapto.core.workpaths import work_paths
from drapto.errors import DiskFullError

# How many copies of the encoded video sit in the work folder at the peak: the chunks, the joined video
# and the muxed file (chunked); the video and the muxed file (standard). The output is a hard link to
# the muxed file when both share a filesystem, a copy otherwise.
VIDEO_COPIES = {"chunked": 3, "standard": 2}
NO_SPACE = "No space left on device"


def _existing(path: Path) -> Path:
    """`path`, or its nearest ancestor that exists (the work folder may not exist yet)."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _folder_bytes(folder: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total


def space_needs(source_bytes: int, mode: str, written: int, same_filesystem: bool) -> tuple[int, int]:
    """(what the work folder's filesystem needs, what the output's needs) at most, in bytes, taking the
    source's size as the encoded video's upper bound and counting what the work folder already holds.
    On one filesystem the first holds both. Pure."""
    work = max(0, VIDEO_COPIES[mode] * source_bytes - written)
    return (work, 0) if same_filesystem else (work, source_bytes)


def check_space(source: Path, output: Path, mode: str) -> str | None:
    """Raise DiskFullError when a filesystem the run writes to has less free space than even one copy
    of the video at its upper bound (clearly short); return a warning when it has less than the run may
    need at most; else None."""
    workdir = Path(work_paths(output).workdir)
    work_fs, out_fs = _existing(workdir), _existing(output.parent)
    same = os.stat(work_fs).st_dev == os.stat(out_fs).st_dev
    source_bytes = source.stat().st_size
    written = _folder_bytes(workdir) if workdir.is_dir() else 0
    work_need, out_need = space_needs(source_bytes, mode, written, same)
    warnings = []
    for folder, need, copies in ((workdir, work_need, VIDEO_COPIES[mode]), (output.parent, out_need, 1)):
        if not need:
            continue
        free = shutil.disk_usage(_existing(folder)).free
        if free < need / copies:
            raise DiskFullError(
                f"Not enough space for {output.name}: {folder} has {human_bytes(free)} free, and this encode "
                f"needs up to {human_bytes(need)} there (the source is {human_bytes(source_bytes)}); "
                "free some space or choose another output folder"
            )
        if free < need:
            warnings.append(f"{folder} has {human_bytes(free)} free; this encode may need up to {human_bytes(need)}")
    return "; ".join(warnings) or None


def is_disk_full(error: BaseException) -> bool:
    """An OSError for a full disk, or a failed command whose stderr says so."""
    if isinstance(error, OSError):
        return error.errno in (errno.ENOSPC, errno.EDQUOT)
    return NO_SPACE in str(getattr(error, "detail", "")) or NO_SPACE in str(error)


def disk_full_error(folder: Path, step: str) -> DiskFullError:
    free = shutil.disk_usage(_existing(folder)).free
    return DiskFullError(
        f"No space left on device in {folder} ({human_bytes(free)} free) during {step}; the partial file was "
        "removed: free some space and run the same command again (finished steps are kept)"
    )
