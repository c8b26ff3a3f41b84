"""The chunk work unit: plain data in (a `ChunkUnit`), files out (the encoded chunk and its result JSON).

One unit searches one chunk's CRF with real encodes, each scored in the encode's own process, and keeps
the best try. Every try is cached as a file pair in the chunk's folder (`crf<CRF>.mkv` + `crf<CRF>.json`,
the JSON written last and keyed by everything that shaped the try), so an interrupted search resumes
with what it measured. The unit touches nothing outside its own folder and its two targets, which is
what lets any executor (local threads, a cluster) run it.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import msgspec

from drapto.core.driver import Confirm, Driver, Keep, Probe, next_action
from drapto.core.search import Trial
from drapto.core.shots import ShotScore, shot_scores
from drapto.core.tries import (
    confirm_argv,
    confirm_name,
    probe_argv,
    probe_name,
    try_argv,
    try_key,
    try_name,
    try_scoring,
    with_threads,
)
from drapto.core.units import ChunkResult, ChunkUnit, Confirmation, TryRecord
from drapto.core.vmaf import counted_frames, counted_scores, frame_scores, pool_scores
from drapto.errors import ProcessError
from drapto.graph.atomic import write_atomic
from drapto.graph.runner import Progress, run_with_progress
from drapto.graph.validate import count_frames


def run_probe(unit: ChunkUnit, crf: float) -> TryRecord:
    """Encode and score the probe window at `crf` (cached like a try; the encode itself is not kept)."""
    folder = Path(unit.folder)
    folder.mkdir(parents=True, exist_ok=True)
    key = try_key(unit, crf, probe=True)
    record_path = folder / f"{probe_name(crf)}.json"
    try:
        cached = msgspec.json.decode(record_path.read_bytes(), type=TryRecord)
        if cached.key == key:
            return cached
    except (OSError, msgspec.DecodeError):
        pass
    partial = folder / f"{probe_name(crf)}.mkv.partial"
    log = folder / f"{probe_name(crf)}.vmaf.json"
    partial.unlink(missing_ok=True)
    log.unlink(missing_ok=True)
    started = time.monotonic()
    run_with_progress(probe_argv(unit, crf, partial.name), None, cwd=str(folder))
    seconds = time.monotonic() - started
    scores = frame_scores(log.read_bytes())
    record = TryRecord(
        key=key, crf=crf, vmaf=round(pool_scores(scores, unit.scoring.pool), 4), frames_scored=len(scores),
        bytes=partial.stat().st_size, seconds=round(seconds, 3),
    )  # fmt: skip
    partial.unlink(missing_ok=True)
    log.unlink(missing_ok=True)
    write_atomic(record_path, msgspec.json.encode(record))
    return record


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


def run_try(
    unit: ChunkUnit, crf: float, on_progress: Callable[[Progress], None] | None = None, threads: int = 0
) -> TryRecord:
    """Encode and score the chunk at `crf` (on `threads` threads; 0: the unit's own), or reuse the cached
    try with the same key."""
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
    argv = try_argv(with_threads(unit, threads) if threads else unit, crf, partial.name)
    started = time.monotonic()
    run_with_progress(argv, on_progress, cwd=str(folder))
    seconds = time.monotonic() - started
    frames = count_frames(unit.ffmpeg, str(partial))
    if frames != unit.chunk.encoded:
        raise ProcessError(
            f"chunk {unit.chunk.index}: the encode has {frames} frames, expected {unit.chunk.encoded}",
            detail=f"argv: {argv}",
        )
    scoring = try_scoring(unit)
    scores = counted_scores(frame_scores(log.read_bytes()), scoring)
    os.replace(partial, encode_path)
    record = TryRecord(
        key=key, crf=crf, vmaf=round(pool_scores(scores, unit.scoring.pool), 4), frames_scored=len(scores),
        bytes=encode_path.stat().st_size, seconds=round(seconds, 3),
        shots=_shots(unit, scores, counted_frames(unit.chunk.encoded, scoring)), exact=scoring.every <= 1,
    )  # fmt: skip
    write_atomic(folder / f"{try_name(crf)}.json", msgspec.json.encode(record))
    return record


def _shots(unit: ChunkUnit, scores: list[float], frames: list[int]) -> tuple[ShotScore, ...]:
    """Each shot's reading from the frames scored (their indices in the encode); none for a single shot."""
    chunk = unit.chunk
    if not chunk.shots or len(frames) != len(scores):
        return ()
    offsets = [chunk.source_offset(f) for f in frames]
    return shot_scores(scores, offsets, chunk.start, chunk.end, chunk.shots, unit.scoring.pool)


def run_confirm(unit: ChunkUnit, record: TryRecord) -> TryRecord:
    """Score the try again on all its frames (core.driver.Confirm) and record that beside its subset
    reading; a confirmed try is cached as confirmed."""
    folder = Path(unit.folder)
    log = folder / f"{confirm_name(record.crf)}.vmaf.json"
    log.unlink(missing_ok=True)
    argv = confirm_argv(unit, record.crf)
    started = time.monotonic()
    run_with_progress(argv, None, cwd=str(folder))
    seconds = time.monotonic() - started
    scores = frame_scores(log.read_bytes())
    log.unlink(missing_ok=True)
    if len(scores) != unit.chunk.encoded:
        raise ProcessError(
            f"chunk {unit.chunk.index}: scoring all frames read {len(scores)}, expected {unit.chunk.encoded}",
            detail=f"argv: {argv}",
        )
    confirmed = Confirmation(
        vmaf=round(pool_scores(scores, unit.scoring.pool), 4), shots=_shots(unit, scores, list(range(len(scores)))),
        seconds=round(seconds, 3),
    )  # fmt: skip
    record = msgspec.structs.replace(record, confirmed=confirmed)
    write_atomic(folder / f"{try_name(record.crf)}.json", msgspec.json.encode(record))
    return record


TryStarted = Callable[[float, int], None]  # (crf, try number from 1)
Threads = Callable[[], int]  # the threads a try starting now may use (0: the unit's own)


def _trial(record: TryRecord) -> Trial:
    """A try as the driver reads it: by its worst shot, with the floor of that reading."""
    return Trial(
        crf=record.crf, vmaf=record.reading, bytes=record.bytes, seconds=record.seconds, floor=record.floor,
        confirmed=record.confirmed is not None,
    )  # fmt: skip


def _probe_trial(record: TryRecord) -> Trial:
    return Trial(crf=record.crf, vmaf=record.vmaf, bytes=record.bytes, seconds=record.seconds)


def driver_for(unit: ChunkUnit) -> Driver:
    """Where the unit's search starts: its plan's start CRF, prediction, slope, probe and size ceiling."""
    return Driver(
        settings=unit.search, start_crf=unit.start_crf, predicted=unit.predicted_vmaf, slope=unit.slope,
        probe=unit.chunk.probe is not None, ceiling=unit.ceiling,
    )  # fmt: skip


def run_chunk_unit(
    unit: ChunkUnit,
    on_progress: Callable[[Progress], None] | None = None,
    on_try: TryStarted | None = None,
    worker: str = "local",
    threads: Threads | None = None,
) -> ChunkResult:
    """Search the chunk's CRF, keep the chosen try as the unit's target, write its result JSON. `threads`
    says, as each full encode starts, how many threads it may take (more when the chunk runs alone).

    The pure driver (core.driver) says what to measure next: a long chunk first probes its middle window
    (one or two probes) to aim the first full encode; every full encode is scored, and the search
    corrects until one lands in the band, under the chunk's size ceiling."""
    probes: list[TryRecord] = []
    records: list[TryRecord] = []
    predicted: dict[float, float | None] = {}
    driver = driver_for(unit)
    while True:
        action = next_action(driver, [_probe_trial(p) for p in probes], [_trial(r) for r in records])
        if isinstance(action, Keep):
            break
        if isinstance(action, Probe):
            probes.append(run_probe(unit, action.crf))
            continue
        if isinstance(action, Confirm):
            at = next(i for i, r in enumerate(records) if r.crf == action.crf)
            records[at] = run_confirm(unit, records[at])
            continue
        if on_try is not None:
            on_try(action.crf, len(records) + 1)
        predicted[action.crf] = action.predicted
        records.append(run_try(unit, action.crf, on_progress, threads() if threads is not None else 0))
    record = next(r for r in records if r.crf == action.crf)
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
    confirmed = record.confirmed
    result = ChunkResult(
        index=chunk.index, start=chunk.start, end=chunk.end, start_time=chunk.start_time, end_time=chunk.end_time,
        crf=record.crf, predicted_vmaf=predicted.get(record.crf), vmaf=confirmed.vmaf if confirmed else record.vmaf,
        in_band=unit.search.in_band(record.reading), bytes=record.bytes, capped=action.capped, ceiling=unit.ceiling,
        seconds=round(sum(r.seconds + (r.confirmed.seconds if r.confirmed else 0.0) for r in (*probes, *records)), 3),
        tries=tuple(records), probes=tuple(probes), worker=worker, cut=chunk.cut, scout=unit.scout,
        shots=confirmed.shots if confirmed else record.shots, worst=record.reading, confirmed=confirmed is not None,
    )  # fmt: skip
    write_atomic(Path(unit.result), msgspec.json.format(msgspec.json.encode(result)))
    return result
