"""Executors run chunk work units. The graph hands a unit to an executor and gets a `ChunkResult` back;
where the unit ran (this process, a cluster worker) is the executor's business, so the planner and the
graph never change with it. Every executor leaves the unit's encode and result JSON in the local work
folder, which is what the graph checks."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

from drapto.core.units import ChunkResult, ChunkUnit
from drapto.graph.runner import Progress as ProgressReport

Progress = Callable[[ProgressReport], None]
TryStarted = Callable[[float, int], None]


class ChunkExecutor(Protocol):
    def set_workers(self, workers: int) -> None: ...

    def run(self, unit: ChunkUnit, on_progress: Progress, on_try: TryStarted) -> ChunkResult: ...


class LocalExecutor:
    """Runs the unit in the calling thread, `workers` units at a time; doit's threaded runner supplies the
    threads (one more than the workers, so the audio steps run beside the chunks). A full encode that starts
    while fewer units run than there are workers takes their threads too (`threads_now`): the last chunks of
    a film otherwise run on one worker's share while the other cores idle."""

    def __init__(self, workers: int = 1) -> None:
        self.set_workers(workers)

    def set_workers(self, workers: int) -> None:
        """Size the pool from the plan (known only once the chunks are), before any unit runs."""
        self._workers = max(workers, 1)
        self._slots = threading.BoundedSemaphore(self._workers)
        self._running = 0
        self._lock = threading.Lock()

    def threads_now(self, unit: ChunkUnit) -> int:
        """The unit's share of the workers' threads: its own, times the workers over the units running."""
        with self._lock:
            return unit.scoring.threads * self._workers // max(self._running, 1)

    def run(self, unit: ChunkUnit, on_progress: Progress, on_try: TryStarted) -> ChunkResult:
        from drapto.graph.engines import run_unit

        with self._slots:
            with self._lock:
                self._running += 1
            try:
                return run_unit(unit, on_progress, on_try, worker="local", threads=lambda: self.threads_now(unit))
            finally:
                with self._lock:
                    self._running -= 1
