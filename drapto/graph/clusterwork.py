"""The worker's side of `--cluster`, and what both sides compare: a machine's facts (drapto, ffmpeg and
SVT-AV1 versions, encoders and filters), a worker's share of threads, a chunk's copy rebased to its own
start, and `run_remote`, the Dask task that runs drapto's own `run_unit` in a temporary folder on a worker
and returns the kept encode's bytes and its result. Workers import this module by name to run the task.
"""

from __future__ import annotations

import os
import re
import socket
import tempfile
from pathlib import Path

import msgspec

from drapto.core.tries import try_key
from drapto.core.units import ChunkResult, ChunkUnit, TryRecord
from drapto.core.workers import Budget, usable_cores
from drapto.errors import DraptoError
from drapto.graph.engines import run_unit
from drapto.graph.runner import Progress

# What a worker's ffmpeg must have to run a chunk unit (libopus is not needed there: audio stays local)
NEEDED = {
    "encoders": frozenset({"libsvtav1"}),
    "filters": frozenset(
        {
            "libvmaf",
            "scale",
            "split",
            "trim",
            "format",
            "settb",
            "setpts",
            "select",
            "crop",
            "bwdif",
            "fieldmatch",
            "decimate",
        }
    ),
}


PROGRESS_TOPIC = "drapto-progress"


NANNY_ENVIRON = {
    "MALLOC_TRIM_THRESHOLD_": "65536",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
}
COPY_MARGIN = 2.0  # seconds copied past a chunk's stop: the frames its last frames may depend on (B-frames)


class Facts(msgspec.Struct, frozen=True, kw_only=True):
    """What a machine (a worker, or the client) runs chunks with."""

    drapto: str
    ffmpeg: str | None  # ffmpeg's version
    svt: str | None  # SVT-AV1's version
    missing: tuple[str, ...] = ()  # needed encoders and filters the ffmpeg lacks
    problem: str | None = None  # no usable ffmpeg at all
    host: str = ""
    cpus: int = 1


class Worker(msgspec.Struct, frozen=True, kw_only=True):
    address: str
    nthreads: int
    facts: Facts


def differences(here: Facts, there: Facts) -> list[str]:
    """Why a worker cannot run this client's chunks (empty: it can)."""
    if there.problem:
        return [there.problem]
    found = []
    if there.drapto != here.drapto:
        found.append(f"drapto {there.drapto} there, {here.drapto} here")
    if there.ffmpeg != here.ffmpeg:
        found.append(f"ffmpeg {there.ffmpeg} there, {here.ffmpeg} here")
    if there.svt != here.svt:
        found.append(f"SVT-AV1 {there.svt} there, {here.svt} here")
    if there.missing:
        found.append("its ffmpeg lacks " + ", ".join(there.missing))
    return found


def threads_per_unit(workers: list[Worker]) -> int:
    """Encoder threads per chunk: each host's usable cores shared among all the worker threads it runs
    (a host may run several worker processes), the smallest share over the hosts, at least 1."""
    per_host: dict[str, list[int]] = {}
    for worker in workers:
        _cpus, threads = per_host.setdefault(worker.facts.host, [worker.facts.cpus, 0])
        per_host[worker.facts.host][1] = threads + worker.nthreads
    return max(1, min((cpus // max(threads, 1) for cpus, threads in per_host.values()), default=1))


def cluster_budget(workers: list[Worker], lp: int) -> Budget:
    """A budget whose split gives one chunk per worker thread, `lp` threads each (more when there are
    fewer chunks than slots, as on one machine)."""
    slots = max(1, sum(w.nthreads for w in workers))
    return Budget(cores=slots * lp, memory_gb=1e9, requested=slots)


def map_path(path: str, mapping: str | None) -> str:
    """`path` as the workers see it: LOCAL=REMOTE replaces a leading LOCAL folder by REMOTE."""
    if not mapping:
        return path
    local, _, remote = mapping.partition("=")
    local = local.rstrip("/")
    if path == local or path.startswith(local + "/"):
        return remote.rstrip("/") + path[len(local) :]
    return path


def parse_start(text: str) -> float:
    """The `start: S` of ffmpeg's description of a file (0 when it prints none)."""
    found = re.search(r"Duration: .*?, start: (-?[0-9.]+)", text)
    return float(found[1]) if found else 0.0


def rebase(unit: ChunkUnit, offset: float) -> ChunkUnit:
    """The unit with its seeks and stops on the clock of a copy that starts `offset` seconds later than the
    source (as `-ss` counts). Frame indexes and times stay: they describe the chunk, not the reading."""
    chunk = unit.chunk

    def moved(value: float) -> float:
        return round(value - offset, 6)

    probe = chunk.probe
    if probe is not None:
        probe = msgspec.structs.replace(
            probe, seek=moved(probe.seek), stop=None if probe.stop is None else moved(probe.stop)
        )
    chunk = msgspec.structs.replace(
        chunk, seek=moved(chunk.seek) if chunk.seek > 0 else 0.0,
        stop=None if chunk.stop is None else moved(chunk.stop), probe=probe,
    )  # fmt: skip
    return msgspec.structs.replace(unit, chunk=chunk)


def copy_duration(unit: ChunkUnit) -> float | None:
    """How long the copy reads from the chunk's seek: to its stop plus a margin (None: to the end)."""
    chunk = unit.chunk
    return None if chunk.stop is None else chunk.stop - chunk.seek + COPY_MARGIN


def rekeyed(unit: ChunkUnit, result: ChunkResult, worker: str) -> ChunkResult:
    """The worker's result with the keys a local run would give its tries (the worker keyed them by its own
    paths), and the worker's address."""

    def fix(record: TryRecord, probe: bool) -> TryRecord:
        return msgspec.structs.replace(record, key=try_key(unit, record.crf, probe=probe))

    return msgspec.structs.replace(
        result, tries=tuple(fix(r, False) for r in result.tries), probes=tuple(fix(p, True) for p in result.probes),
        worker=worker,
    )  # fmt: skip


def machine_facts(ffmpeg: str | None = None) -> Facts:
    """This machine's versions and what its ffmpeg lacks. On a worker, the ffmpeg is the one drapto would
    pick there (DRAPTO_FFMPEG, else imageio-ffmpeg's). The drapto version is read from the package at
    call time, so a worker preload that replaces `drapto.__version__` shows up here."""
    import drapto
    from drapto.graph.ffmpeg import capabilities, resolve_ffmpeg, versions

    cpus = usable_cores()
    try:
        ffmpeg = ffmpeg or resolve_ffmpeg()
        have = capabilities(ffmpeg)
    except DraptoError as exc:
        return Facts(
            drapto=drapto.__version__, ffmpeg=None, svt=None, problem=exc.message, host=socket.gethostname(), cpus=cpus
        )
    missing = [f"{kind[:-1]} {name}" for kind, names in NEEDED.items() for name in sorted(names - have[kind])]
    ffmpeg_version, svt = versions(ffmpeg)
    return Facts(
        drapto=drapto.__version__, ffmpeg=ffmpeg_version, svt=svt, missing=tuple(missing),
        host=socket.gethostname(), cpus=cpus,
    )  # fmt: skip


_own_facts: Facts | None = None  # this worker process's facts, found once: by the start check or a first chunk


def own_facts() -> Facts:
    global _own_facts
    if _own_facts is None:
        _own_facts = machine_facts()
    return _own_facts


def worker_facts() -> bytes:
    """`own_facts` on a worker (Client.run calls it on the worker's event loop, where the subprocess
    runner cannot start its own: it runs in a thread of its own)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return msgspec.json.encode(pool.submit(own_facts).result())


class WorkerMismatch(Exception):
    """A worker that was not checked at the start (it joined later) runs something other than the client."""


def readable(path: str, size: int) -> bool:
    try:
        return os.stat(path).st_size == size and os.access(path, os.R_OK)
    except OSError:
        return False


def run_remote(unit: ChunkUnit, copy: bytes | None, key: str, client: Facts | None = None) -> tuple[bytes, ChunkResult]:
    """One chunk unit on a worker, in a temporary folder: from the shared source, or from the copy sent
    with the task. Returns the kept encode's bytes and the result. Progress goes to the client as worker
    events (`PROGRESS_TOPIC`), tagged with `key`. First, the worker's own facts (found by the start
    check, or now for a worker that joined later) must match the `client`'s, so no chunk is encoded by a
    different drapto, ffmpeg or SVT-AV1."""
    from distributed import get_worker

    from drapto.graph.ffmpeg import resolve_ffmpeg

    worker = get_worker()
    if client is not None and (found := differences(client, own_facts())):
        raise WorkerMismatch(f"worker {worker.address} must run what this machine runs: {'; '.join(found)}")
    for name, value in NANNY_ENVIRON.items():  # Dask's worker settings, not for the encoders drapto starts
        if os.environ.get(name) == value:
            del os.environ[name]

    def progress(report: Progress) -> None:
        try:
            worker.log_event(
                PROGRESS_TOPIC, {"key": key, "progress": msgspec.to_builtins(report._replace(worker=worker.address))}
            )
        except Exception:  # progress is a nicety; never fail a chunk for it
            pass

    def tried(crf: float, number: int) -> None:
        try:
            worker.log_event(PROGRESS_TOPIC, {"key": key, "try": [crf, number]})
        except Exception:
            pass

    with tempfile.TemporaryDirectory(prefix="drapto-worker-") as folder:
        source = unit.source
        if copy is not None:
            source = str(Path(folder) / "source.mkv")
            Path(source).write_bytes(copy)
        here = msgspec.structs.replace(
            unit, ffmpeg=resolve_ffmpeg(), source=source, folder=str(Path(folder) / "tries"),
            target=str(Path(folder) / "chunk.mkv"), result=str(Path(folder) / "result.json"),
        )  # fmt: skip
        result = run_unit(here, progress, tried, worker=worker.address)
        return Path(here.target).read_bytes(), result
