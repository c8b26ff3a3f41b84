"""Chunk work units on a Dask distributed cluster (`--cluster`). Imported only when a cluster is asked for,
so nothing Dask is loaded otherwise.

The client (the machine running `drapto encode`) connects once per process (`session`), checks every
worker (drapto, ffmpeg and SVT-AV1 versions, the encoders and filters a chunk needs), and sizes the run
from the cluster: one chunk per worker thread, each encoder with the threads its host can give every one
of them (the smallest such share, so every unit carries the same `lp` and a chunk's bytes do not depend on
where it ran). The `DaskExecutor` submits one task per unit; the task runs drapto's own `run_unit` in a
temporary folder on the worker and returns the kept encode's bytes and its result; the client writes both
into the local work folder (`.partial`, then renamed), so the doit graph stays the only authority.

Data modes, per source: *shared* when every worker can read the source (after `path_map`), then only the
encode travels; else *copy*: the client stream-copies the chunk's packets from the keyframe at or before
its seek, with the source's timestamps, and sends them with the task; the unit's seek and stop are rebased
by the copy's start, so the worker decodes exactly the frames a local run decodes.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from drapto.core import commands
from drapto.core.config import Config
from drapto.core.units import ChunkResult, ChunkUnit
from drapto.errors import DependencyError, DraptoError, ProcessError
from drapto.graph.atomic import write_atomic
from drapto.graph.clustersecurity import client_security, connection_error, local_security
from drapto.graph.clusterwork import (
    PROGRESS_TOPIC,
    Facts,
    Worker,
    cluster_budget,
    copy_duration,
    differences,
    machine_facts,
    map_path,
    parse_start,
    readable,
    rebase,
    rekeyed,
    run_remote,
    threads_per_unit,
    worker_facts,
)
from drapto.graph.runner import Progress, run_capture

LOCAL_WORKERS = 2  # `local` without a count
# What a Dask nanny puts in its worker's environment (distributed.nanny.pre-spawn-environ defaults): glibc's
# trim threshold at 64 KiB makes every big free return memory to the system, a cost for SVT-AV1's children
# Dask's housekeeping, slowed for the LocalCluster drapto starts (the encoders need the cores): the
# worker's statistical profiler (every 10 ms), the system and memory monitors (0.5 s) and the stealing and
# tick loops. On this 2-core machine a busy 2-worker LocalCluster used 2.1 CPU-s per 30 s with the
# defaults and 0.4 with these. Remote workers read their own config (see README, "Many machines").
QUIET_DASK = {
    "distributed.worker.profile.enabled": False,
    "distributed.worker.profile.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "5s",
    "distributed.scheduler.work-stealing-interval": "1s",
    "distributed.admin.tick.interval": "1s",
}


# ----- pure rules ---------------------------------------------------------------------------------------


def local_count(address: str) -> int | None:
    """`local` → 2, `local:N` → N; None for a scheduler address."""
    name, _, count = address.partition(":")
    if name != "local":
        return None
    return int(count) if count else LOCAL_WORKERS


# ----- what runs on the workers -------------------------------------------------------------------------


# ----- the client ---------------------------------------------------------------------------------------


class Session:
    """One connection to a cluster (or one LocalCluster) for the whole process."""

    def __init__(self, config: Config, ffmpeg: str) -> None:
        from distributed import Client

        address = config.cluster or "local"
        self.address = address
        self.config = config
        self.ffmpeg = ffmpeg
        self.local = None
        count = local_count(address)
        if count is not None:
            security = local_security()
        else:
            security = client_security(address, config.cluster_security)
        try:
            if count is not None:
                import dask
                from distributed import LocalCluster

                with dask.config.set(QUIET_DASK):  # the workers get a copy of the config as it is now
                    # everything on loopback, the dashboard too; TLS with this run's own certificates
                    self.local = LocalCluster(
                        n_workers=count, threads_per_worker=1, processes=True, host="127.0.0.1",
                        protocol="tls://", security=security, dashboard_address="127.0.0.1:0",
                        silence_logs=logging.ERROR,
                    )  # fmt: skip
                    self.client = Client(self.local, security=security)
            else:
                self.client = Client(address, timeout="20s", security=security)
                self.client.wait_for_workers(1, timeout=60)
        except (OSError, TimeoutError, RuntimeError, ValueError) as exc:
            # RuntimeError: Dask's configuration refusing plain TCP; ValueError: TLS to a plain-TCP scheduler
            self.close()
            raise connection_error(address, exc) from None
        self._lock = threading.Lock()
        self._modes: dict[str, str] = {}
        self._starts: dict[str, float] = {}
        self._listeners: dict[str, tuple[Callable[[Progress], None], Callable[[float, int], None]]] = {}
        self.facts = machine_facts(ffmpeg)  # what every worker must match, now and when it joins later
        self.workers = self._check_workers()
        self.lp = threads_per_unit(self.workers)
        self.budget = cluster_budget(self.workers, self.lp)
        self.client.subscribe_topic(PROGRESS_TOPIC, self._on_event)

    def _check_workers(self) -> list[Worker]:
        here = self.facts
        answers = self.client.run(worker_facts, on_error="return")
        nthreads = self.client.nthreads()
        workers = []
        for address, raw in sorted(answers.items()):
            if isinstance(raw, BaseException):  # e.g. no drapto installed there
                facts = Facts(drapto="?", ffmpeg=None, svt=None, problem=f"it cannot run drapto: {raw!r}")
            else:
                facts = msgspec.json.decode(raw, type=Facts)
            workers.append(Worker(address=address, nthreads=nthreads.get(address, 1), facts=facts))
        refused = [
            f"{w.address}: {'; '.join(differences(here, w.facts))}" for w in workers if differences(here, w.facts)
        ]
        if refused:
            self.close()
            raise DependencyError("Cluster worker refused (it must run what this machine runs): " + " | ".join(refused))
        if not workers:
            self.close()
            raise DependencyError(f"The Dask cluster at {self.address} has no workers")
        return workers

    @property
    def slots(self) -> int:
        return self.budget.requested

    @property
    def dashboard(self) -> str | None:
        try:
            services = self.client.scheduler_info()["services"]
        except Exception:
            return None
        return self.client.dashboard_link if "dashboard" in services else None

    def summary(self) -> str:
        link = self.dashboard
        return (
            f"cluster {self.address}: {len(self.workers)} workers, {self.slots} chunks at once, {self.lp} "
            f"threads each; " + (f"dashboard {link}" if link else "no dashboard (install bokeh beside the scheduler)")
        )

    def data_mode(self, source: str) -> str:
        """`shared` when every worker reads the source (after the path map), else `copy`; asked once per
        source. `cluster_data` forces one (`shared` refused when a worker cannot read it)."""
        with self._lock:
            if source not in self._modes:
                self._modes[source] = self._decide(source)
            return self._modes[source]

    def _decide(self, source: str) -> str:
        wanted = self.config.cluster_data
        if wanted == "copy":
            return "copy"
        mapped = map_path(source, self.config.path_map)
        answers = self.client.run(readable, mapped, os.stat(source).st_size)
        blind = sorted(a for a, ok in answers.items() if not ok)
        if not blind and answers:
            return "shared"
        if wanted == "shared":
            raise DependencyError(
                f"Cluster worker {blind[0]} cannot read the source as {mapped} (--path-map LOCAL=REMOTE maps a "
                "path prefix to the workers' mount)"
            )
        return "copy"

    def describe(self, source: str) -> str:
        mode = self.data_mode(source)
        if mode == "shared":
            how = f"shared storage: workers read {map_path(source, self.config.path_map)}; only encodes come back"
        else:
            how = "no shared storage: each chunk's source packets go to its worker, the encode comes back"
        return f"# {self.summary()}\n# cluster data: {how}\n"

    def source_start(self, source: str) -> float:
        with self._lock:
            if source not in self._starts:
                text = run_capture(commands.start_time_argv(self.ffmpeg, source), check=False).stderr
                self._starts[source] = parse_start(text.decode(errors="replace"))
            return self._starts[source]

    def _on_event(self, event: tuple[float, Any]) -> None:
        """A worker's progress or try report, handed to the chunk's listeners (on the client's loop)."""
        msg = event[1]
        listeners = self._listeners.get(msg.get("key", "")) if isinstance(msg, dict) else None
        if listeners is None:
            return
        try:
            if "progress" in msg:
                listeners[0](msgspec.convert(msg["progress"], Progress))
            elif "try" in msg:
                listeners[1](float(msg["try"][0]), int(msg["try"][1]))
        except Exception:
            pass

    def listen(self, key: str, on_progress: Callable[[Progress], None] | None = None, on_try: Any = None) -> None:
        if on_progress is None:
            self._listeners.pop(key, None)
        else:
            self._listeners[key] = (on_progress, on_try or (lambda crf, number: None))

    def close(self) -> None:
        for thing in (getattr(self, "client", None), self.local):
            if thing is not None:
                try:
                    thing.close()
                except Exception:
                    pass


_session: Session | None = None
_session_lock = threading.Lock()


def session(config: Config, ffmpeg: str) -> Session:
    """The process's cluster connection, made on first use (the CLI makes it before the first file)."""
    global _session
    with _session_lock:
        if _session is None or _session.address != config.cluster:
            if _session is not None:
                _session.close()
            _session = Session(config, ffmpeg)
        return _session


def close_session() -> None:
    global _session
    with _session_lock:
        if _session is not None:
            _session.close()
            _session = None


class DaskExecutor:
    """Runs each chunk unit as one Dask task; the calling doit thread waits for it. No more units are in
    the cluster at once than it has worker threads: Dask queues a task behind a busy worker's as soon as it
    is submitted and rarely moves it, so the one extra doit thread (there for the audio) once parked a long
    chunk behind another while a worker sat idle (x1.09 on the cluster benchmark). Dask decides where; a
    worker that dies mid-chunk has its task run elsewhere."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._slots = threading.BoundedSemaphore(max(session.slots, 1))

    def set_workers(self, workers: int) -> None:
        """Units at once: the plan's count (the cluster's slots, or fewer when there are fewer chunks)."""
        self._slots = threading.BoundedSemaphore(max(workers, 1))

    def run(self, unit: ChunkUnit, on_progress: Callable[[Progress], None], on_try: Any) -> ChunkResult:
        session = self.session
        key = f"drapto-chunk-{unit.chunk.index:04d}-{uuid.uuid4().hex[:12]}"
        folder = Path(unit.folder)
        folder.mkdir(parents=True, exist_ok=True)
        copy_path = folder / "source-copy.mkv"
        copy = None
        if session.data_mode(unit.source) == "copy":
            remote, copy = self._copy(unit, copy_path)
        else:
            remote = msgspec.structs.replace(unit, source=map_path(unit.source, session.config.path_map))
        session.listen(key, on_progress, on_try)
        try:
            with self._slots:
                future = session.client.submit(run_remote, remote, copy, key, session.facts, key=key, pure=False)
                del copy
                try:
                    encoded, result = future.result()
                except DraptoError:
                    raise
                except Exception as exc:  # the worker's failure, or a task the cluster gave up on
                    raise ProcessError(f"chunk {unit.chunk.index} failed on the cluster: {exc}") from exc
        finally:
            session.listen(key, None)
            copy_path.unlink(missing_ok=True)
        result = rekeyed(unit, result, result.worker)
        write_atomic(Path(unit.target), encoded)
        write_atomic(Path(unit.result), msgspec.json.format(msgspec.json.encode(result)))
        return result

    def _copy(self, unit: ChunkUnit, path: Path) -> tuple[ChunkUnit, bytes]:
        """The chunk's packets (stream copy, source timestamps) and the unit rebased onto the copy."""
        session = self.session
        path.unlink(missing_ok=True)
        argv = commands.chunk_copy_argv(
            session.ffmpeg, unit.source, str(path), seek=unit.chunk.seek, duration=copy_duration(unit)
        )
        run_capture(argv)
        text = run_capture(commands.start_time_argv(session.ffmpeg, str(path)), check=False).stderr
        offset = parse_start(text.decode(errors="replace")) - session.source_start(unit.source)
        data = path.read_bytes()
        return rebase(unit, offset), data


def executor(config: Config, ffmpeg: str) -> DaskExecutor:
    return DaskExecutor(session(config, ffmpeg))
