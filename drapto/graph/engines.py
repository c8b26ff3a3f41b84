"""The chunk search engines, dispatched from one place: executors run a unit here without knowing the
engines, and neither engine imports the other."""

from __future__ import annotations

from collections.abc import Callable

from drapto.core.units import ChunkResult, ChunkUnit
from drapto.graph.chunkwork import Threads, TryStarted, run_chunk_unit
from drapto.graph.runner import Progress


def run_unit(
    unit: ChunkUnit,
    on_progress: Callable[[Progress], None] | None = None,
    on_try: TryStarted | None = None,
    worker: str = "local",
    threads: Threads | None = None,
) -> ChunkResult:
    """Run the unit with the search engine it names (ab-av1's module is imported only when named);
    `threads`: the built-in engine's threads per try (chunkwork.run_chunk_unit)."""
    if unit.engine == "builtin":
        return run_chunk_unit(unit, on_progress, on_try, worker, threads)
    if unit.engine == "ab-av1":
        from drapto.graph.abav1 import run_abav1_unit

        return run_abav1_unit(unit, on_progress, on_try, worker)
    raise ValueError(f"unknown search engine {unit.engine!r}")
