"""`--cluster` around a command: connect (and check every worker) before the first file, say where the
dashboard is, disconnect at the end. Without it nothing Dask is imported."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from drapto.core import events
from drapto.core.config import Config


@contextmanager
def cluster_scope(config: Config, ffmpeg: str, emit: Any, where: Path) -> Iterator[None]:
    """With `cluster` set: connect (and check every worker) before the first file, say where the
    dashboard is, and disconnect at the end (a LocalCluster stops). Without it, nothing Dask is imported."""
    if not config.cluster:
        yield
        return
    from drapto.graph.cluster import close_session, session

    try:
        emit(events.Notice(file=str(where), level="info", message=session(config, ffmpeg).summary()))
        yield
    finally:
        close_session()
