"""How many chunk units run at once and how many threads each encoder gets. Pure.

SVT-AV1 scales well to about four threads at these presets and less well beyond, so cores are shared
out four at a time (small machines get one thread per worker), and memory caps the count the way
Av1an's formula does: about 1.5 GB per megapixel per SVT-AV1 instance, plus VMAF and decoders.
"""

from __future__ import annotations

import os

import msgspec

THREADS_PER_WORKER = 4
GB_PER_MEGAPIXEL = 1.5
BASE_GB = 0.5


class Budget(msgspec.Struct, frozen=True, kw_only=True):
    cores: int
    memory_gb: float
    requested: int = 0  # --workers; 0 means decide from cores and memory

    def split(self, width: int, height: int, chunks: int) -> tuple[int, int]:
        """(workers, threads per worker)."""
        cores = max(self.cores, 1)
        if self.requested > 0:
            workers = self.requested
        else:
            threads = THREADS_PER_WORKER if cores >= 2 * THREADS_PER_WORKER else 1
            by_cores = max(1, cores // threads)
            per_worker_gb = BASE_GB + GB_PER_MEGAPIXEL * width * height / 1e6
            by_memory = max(1, int(self.memory_gb / per_worker_gb))
            workers = min(by_cores, by_memory)
        workers = max(1, min(workers, max(chunks, 1)))
        return workers, max(1, cores // workers)


def usable_cores() -> int:
    """The cores this process may run on (affinity-aware)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def machine_budget(requested: int = 0) -> Budget:
    """This machine's usable cores and physical memory."""
    cores = usable_cores()
    try:
        memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    except (ValueError, OSError, AttributeError):
        memory_gb = 8.0
    return Budget(cores=cores, memory_gb=memory_gb, requested=requested)
