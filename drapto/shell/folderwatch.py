"""`drapto watch`: which files in a watched folder are complete, and the loop that hands them over.

A file counts as complete once its size and mtime have stayed the same for the settle period, measured
between two stats; a file still being copied keeps changing and so waits. watchfiles says which paths
changed; every pending file is stat'ed again on each change and at least every second, so a file settles
even when nothing else happens.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import NamedTuple

import watchfiles

from drapto.graph.jobs import by_path, is_video, video_files


class Seen(NamedTuple):
    """A pending file's last stat, and since when (monotonic seconds) it has read the same."""

    size: int
    mtime_ns: int
    since: float


def observe(seen: Seen | None, size: int, mtime_ns: int, now: float) -> Seen:
    """The record after a stat at `now`: the same size and mtime keep their `since`, anything else
    (or a first stat) starts the settle period again."""
    if seen is not None and (seen.size, seen.mtime_ns) == (size, mtime_ns):
        return seen
    return Seen(size, mtime_ns, now)


def settled(pending: Mapping[Path, Seen], now: float, settle: float) -> list[Path]:
    """The files unchanged for at least `settle` seconds at `now`, in batch order. An empty file never
    settles: a copy may have created it and not started writing."""
    return by_path(path for path, seen in pending.items() if seen.size > 0 and now - seen.since >= settle)


def _visible(folder: Path, path: Path) -> bool:
    """Not a dotfile and not inside a dot-folder of `folder` (drapto skips those, as `discover` does)."""
    try:
        parts = path.relative_to(folder).parts
    except ValueError:
        parts = path.parts
    return not any(part.startswith(".") for part in parts)


def _videos_at(folder: Path, path: Path) -> list[Path]:
    """The video files a change at `path` may have brought: the file itself, or everything in a folder
    that was moved or copied in (its files may not have events of their own)."""
    if not _visible(folder, path):
        return []
    if path.is_dir():
        return video_files(path, recursive=True)
    return [path] if is_video(path) else []


def _restat(pending: Mapping[Path, Seen], new: Iterable[Path], now: float) -> dict[Path, Seen]:
    """Every pending and new file stat'ed again at `now`; files that have gone are dropped."""
    fresh = {}
    for path in {*pending, *new}:
        try:
            stat = path.stat()
        except OSError:
            continue
        fresh[path] = observe(pending.get(path), stat.st_size, stat.st_mtime_ns, now)
    return fresh


def watch_folder(
    folder: Path, settle: float, handle: Callable[[Path], object], *, stop: threading.Event | None = None
) -> None:
    """Call `handle` once for each video file under `folder` (recursively): the ones there now and the ones
    that appear later, each once it has settled, one at a time. A file is handed over at most once per
    call, even if it changes afterwards. Returns when `stop` is set; Ctrl-C raises KeyboardInterrupt."""
    pending: dict[Path, Seen] = {}
    handled: set[Path] = set()
    first = True
    for changes in watchfiles.watch(
        folder,
        watch_filter=lambda _change, path: _visible(folder, Path(path)),
        stop_event=stop,
        rust_timeout=max(50, min(1000, int(settle * 250))),  # re-check pending files at least this often
        yield_on_timeout=True,
    ):
        # The first pass (once the watcher is running, so nothing is missed in between) takes what is there.
        found = (
            video_files(folder, recursive=True)
            if first
            else [v for _, p in changes for v in _videos_at(folder, Path(p))]
        )
        first = False
        new = [path for path in found if path not in handled]
        while not (stop and stop.is_set()):
            now = time.monotonic()
            pending = _restat(pending, new, now)
            new = []
            ready = settled(pending, now, settle)
            if not ready:
                break
            del pending[ready[0]]
            handled.add(ready[0])
            handle(ready[0])  # may take hours: everything pending is stat'ed again afterwards
