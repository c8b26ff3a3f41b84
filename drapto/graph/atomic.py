"""Atomic writes: a file appears whole under its name or not at all, so a kill -9 never leaves half a
JSON file where a resumed run would read it."""

from __future__ import annotations

import os
from pathlib import Path

from drapto.core.workpaths import partial_name


def write_atomic(path: Path | str, data: bytes) -> None:
    """Write `data` to `path` through `<path>.partial`, so a reader never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(partial_name(str(path)))
    partial.write_bytes(data)
    os.replace(partial, path)
