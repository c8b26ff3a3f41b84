"""The chunk work unit: plain data in (a `ChunkUnit`), files out (the encoded chunk and its result JSON).

One unit searches one chunk's CRF with real encodes, each scored in the encode's own process, and keeps
the best try. Every try is cached as a file pair in the chunk's folder (`crf<CRF>.mkv` + `crf<CRF>.json`,
the JSON written last and keyed by everything that shaped the try), so an interrupted search resumes
with what it measured. The unit touches nothing outside its own folder and its two targets, which is
what lets any executor (local threads, a cluster) run it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import msgspec

from drapto import commands
from drapto.errors import ProcessError
from drapto.runner import run_with_progress
from drapto.search import SearchSettings, Trial, choose, next_crf
from drapto.units import ChunkResult, ChunkUnit, TryRecord
from drapto.validate import count_frames
from drapto.vmaf import frame_scores, libvmaf_filter, pool_scores, side_filter

# Bump when what a try file means changes, so old cached tries are not reused.
TRY_VERSION = "try-1"




def try_key(unit: ChunkUnit, crf: float) -> str:
    """A digest of everything that decides a try's bytes and score."""
    material = msgspec.json.encode(
        [TRY_VERSION, unit.source, unit.chunk.start, unit.chunk.end, unit.chunk.seek, unit.chunk.stop,
         unit.encode, unit.scoring, crf]
    )  # fmt: skip
    return hashlib.sha256(material).hexdigest()[:20]


def try_name(crf: float) -> str:
    return f"crf{crf:06.2f}"


def try_argv(unit: ChunkUnit, crf: float, target: str) -> list[str]:
    chunk, encode = unit.chunk, unit.encode
    return commands.chunk_encode_argv(
        unit.ffmpeg, unit.source, target,
        seek=chunk.seek, stop=chunk.stop, frames=chunk.frames,
        crf=crf, preset=encode.preset, svt=encode.svt, crop=encode.crop, colour=encode.colour,
        dolby_vision=encode.dolby_vision,
        scoring_filter=side_filter(unit.scoring), libvmaf=libvmaf_filter(unit.scoring, f"{try_name(crf)}.vmaf.json"),
    )  # fmt: skip


def _cached(folder: Path, crf: float, key: str) -> TryRecord | None:
    record_path = folder / f"{try_name(crf)}.json"
    encode_path = folder / f"{try_name(crf)}.mkv"
    try:
        record = msgspec.json.decode(record_path.read_bytes(), type=TryRecord)
    except (OSError, msgspec.DecodeError):
        return None
    if record.key != key or not encode_path.is_file() or encode_path.stat().st_size != record.bytes:
        return None
    return record


def _write_atomic(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    os.replace(partial, path)


def run_try(unit: ChunkUnit, crf: float, on_seconds: Callable[[float], None] | None = None) -> TryRecord:
    """Encode and score the chunk at `crf`, or reuse the cached try with the same key."""
    folder = Path(unit.folder)
    folder.mkdir(parents=True, exist_ok=True)
    key = try_key(unit, crf)
    cached = _cached(folder, crf, key)
    if cached is not None:
        return cached
    encode_path = folder / f"{try_name(crf)}.mkv"
    partial = folder / f"{try_name(crf)}.mkv.partial"
    log = folder / f"{try_name(crf)}.vmaf.json"
    partial.unlink(missing_ok=True)  # a fresh file, never one a killed run's encoder still holds
    log.unlink(missing_ok=True)
    started = time.monotonic()
    run_with_progress(try_argv(unit, crf, partial.name), on_seconds, cwd=str(folder))
    seconds = time.monotonic() - started
    frames = count_frames(unit.ffmpeg, str(partial))
    if frames != unit.chunk.frames:
        raise ProcessError(
            f"chunk {unit.chunk.index}: the encode has {frames} frames, expected {unit.chunk.frames}",
            detail=f"argv: {try_argv(unit, crf, partial.name)}",
        )
    scores = frame_scores(log.read_bytes())
    os.replace(partial, encode_path)
    record = TryRecord(
        key=key, crf=crf, vmaf=round(pool_scores(scores, unit.scoring.pool), 4), frames_scored=len(scores),
        bytes=encode_path.stat().st_size, seconds=round(seconds, 3),
    )  # fmt: skip
    _write_atomic(folder / f"{try_name(crf)}.json", msgspec.json.encode(record))
    return record


TryStarted = Callable[[float, int], None]  # (crf, try number from 1)


def run_chunk_unit(
    unit: ChunkUnit,
    on_seconds: Callable[[float], None] | None = None,
    on_try: TryStarted | None = None,
    worker: str = "local",
) -> ChunkResult:
    """Search the chunk's CRF, keep the chosen try as the unit's target, write its result JSON."""
    records: list[TryRecord] = []
    crf: float | None = unit.start_crf
    while crf is not None:
        if on_try is not None:
            on_try(crf, len(records) + 1)
        records.append(run_try(unit, crf, on_seconds))
        trials = [Trial(crf=r.crf, vmaf=r.vmaf, bytes=r.bytes, seconds=r.seconds) for r in records]
        crf = next_crf(trials, unit.search)
    kept = choose([Trial(crf=r.crf, vmaf=r.vmaf, bytes=r.bytes) for r in records], unit.search)
    record = next(r for r in records if r.crf == kept.crf)
    target = Path(unit.target)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    kept_path = Path(unit.folder) / f"{try_name(record.crf)}.mkv"
    try:
        os.link(kept_path, partial)  # no second copy of the bytes
    except OSError:
        shutil.copyfile(kept_path, partial)
    os.replace(partial, target)
    chunk = unit.chunk
    result = ChunkResult(
        index=chunk.index, start=chunk.start, end=chunk.end, start_time=chunk.start_time, end_time=chunk.end_time,
        crf=record.crf, predicted_vmaf=unit.predicted_vmaf, vmaf=record.vmaf,
        in_band=unit.search.in_band(record.vmaf), bytes=record.bytes,
        seconds=round(sum(r.seconds for r in records), 3), tries=tuple(records), worker=worker,
    )  # fmt: skip
    Path(unit.result).parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(Path(unit.result), msgspec.json.format(msgspec.json.encode(result)))
    return result


def run_unit(
    unit: ChunkUnit,
    on_seconds: Callable[[float], None] | None = None,
    on_try: TryStarted | None = None,
    worker: str = "local",
) -> ChunkResult:
    """Run the unit with the search engine it names, so executors need not know the engines."""
    if unit.engine == "builtin":
        return run_chunk_unit(unit, on_seconds, on_try, worker)
    if unit.engine == "ab-av1":
        from drapto.abav1 import run_abav1_unit

        return run_abav1_unit(unit, on_seconds, on_try, worker)
    raise ValueError(f"unknown search engine {unit.engine!r}")
