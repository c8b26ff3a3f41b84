"""The optional ab-av1 search engine: `ab-av1 auto-encode` per chunk, as the seed ran it.

ab-av1 works on a file, so the unit first cuts its chunk (frame-exact and cropped, as the built-in engine
reads it) to a lossless FFV1 file in the chunk's folder; that file exists only while the unit runs, so
the source is never copied whole. ab-av1 searches its CRF on samples of the cut and encodes it; drapto
then scores the kept encode over the whole chunk with its own convention (`drapto.core.vmaf`), so every kept
chunk has a measured VMAF, whichever engine made it.

The CRF ab-av1 chose is read from the `AB_AV1_FFMPEG_ARGS` tag ab-av1 (0.9.3 and later) writes into its
output, as ffmpeg lists the file. ab-av1's printed output is not parsed: auto-encode has no JSON output
and shows its result only on a terminal.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import msgspec

from drapto.core import commands, tries
from drapto.core.tries import try_scoring
from drapto.core.units import ChunkResult, ChunkUnit, TryRecord
from drapto.core.vmaf import Scoring, counted_scores, frame_scores, pool_scores
from drapto.errors import DependencyError, ProcessError
from drapto.graph.atomic import write_atomic
from drapto.graph.runner import Progress, run_capture, run_with_progress
from drapto.graph.validate import count_frames

# Bump when what an attempt's key covers changes.
ATTEMPT_VERSION = "abav1-2"  # abav1-2: the kept chunk is scored on triples' middles
CUT_NAME = "cut.ffv1.mkv"
SCORE_LOG = "abav1.vmaf.json"
KEYINT_SECONDS = 10  # the seed's, when the unit's SVT-AV1 parameters name none
_CRF_TAG = re.compile(r"AB_AV1_FFMPEG_ARGS\s*:.*?-crf\s+([0-9]+(?:\.[0-9]+)?)")


class Attempt(msgspec.Struct, frozen=True, kw_only=True):
    """One run of `ab-av1 auto-encode`: how it samples the chunk and the VMAF it must reach."""

    strategy: str
    samples: int
    sample_seconds: int
    min_vmaf: float


def require_ab_av1() -> str:
    path = shutil.which("ab-av1")
    if path is None:
        raise DependencyError(
            "--search-engine ab-av1 needs the ab-av1 program on PATH (it is not on PyPI: install it with "
            "`cargo install ab-av1` or from its releases), or use the built-in search (the default)"
        )
    return path


def attempts(target: float) -> tuple[Attempt, ...]:
    """The seed's retries, in order: its sampling, then more and longer samples (a steadier estimate),
    then the same with a target 2 lower (ab-av1 finds no CRF when even its lowest misses the target)."""
    return (
        Attempt(strategy="default", samples=3, sample_seconds=1, min_vmaf=target),
        Attempt(strategy="more_samples", samples=6, sample_seconds=2, min_vmaf=target),
        Attempt(strategy="lower_target", samples=6, sample_seconds=2, min_vmaf=target - 2),
    )


def split_keyint(svt: str) -> tuple[str, int]:
    """The unit's SVT-AV1 parameters without `keyint`, and the keyint in seconds: ab-av1 refuses keyint
    in `--svt` and takes it as `--keyint`."""
    kept, keyint = [], KEYINT_SECONDS
    for param in svt.split(":"):
        name, _, value = param.partition("=")
        if name == "keyint":
            keyint = int(value.removesuffix("s"))
        elif param:
            kept.append(param)
    return ":".join(kept), keyint


def vmaf_options(scoring: Scoring) -> str:
    """ab-av1's extra libvmaf options. ab-av1 picks the model and the upscale by the rules drapto copied,
    so only the threads and a harmonic pool need saying; ab-av1 cannot pool by percentile, so with pN
    it searches on the mean and the kept chunk is scored with pN afterwards."""
    return f"n_threads={scoring.threads}" + (":pool=harmonic_mean" if scoring.pool == "harmonic" else "")


def attempt_name(number: int) -> str:
    return f"abav1-{number}"


def attempt_key(unit: ChunkUnit, attempt: Attempt) -> str:
    """A digest of everything that decides an attempt's bytes and score."""
    chunk = unit.chunk
    material = msgspec.json.encode(
        [ATTEMPT_VERSION, unit.source, chunk.start, chunk.end, chunk.seek, chunk.stop, chunk.skip, unit.encode, unit.scoring,
         attempt]
    )  # fmt: skip
    return hashlib.sha256(material).hexdigest()[:20]


def cut_argv(unit: ChunkUnit, target: str) -> list[str]:
    chunk = unit.chunk
    return commands.chunk_cut_argv(
        unit.ffmpeg, unit.source, target, seek=chunk.seek, stop=chunk.stop, frames=chunk.read, skip=chunk.skip,
        keep=chunk.keep,
        restart=chunk.cycle > 0, picture=unit.encode.picture, colour=unit.encode.colour,
    )  # fmt: skip


def attempt_argv(unit: ChunkUnit, ab_av1: str, attempt: Attempt, target: str) -> list[str]:
    svt, keyint = split_keyint(unit.encode.svt)
    return commands.abav1_argv(
        ab_av1, CUT_NAME, target, min_vmaf=attempt.min_vmaf, preset=unit.encode.preset, svt=svt,
        keyint_seconds=keyint, samples=attempt.samples, sample_seconds=attempt.sample_seconds,
        vmaf=vmaf_options(unit.scoring), dolby_vision=unit.encode.dolby_vision,
    )  # fmt: skip


def score_argv(unit: ChunkUnit, encoded: str) -> list[str]:
    return tries.score_argv(unit, encoded, try_scoring(unit), SCORE_LOG)


def chosen_crf(listing: str) -> float:
    """The CRF in ab-av1's `AB_AV1_FFMPEG_ARGS` tag, from ffmpeg's listing of its output; 0 without one."""
    match = _CRF_TAG.search(listing)
    return float(match[1]) if match else 0.0


def _read_crf(unit: ChunkUnit, path: Path) -> float:
    listing = run_capture(commands.stream_summary_argv(unit.ffmpeg, str(path)), check=False).stderr
    return chosen_crf(listing.decode(errors="replace"))


def _check_frames(unit: ChunkUnit, path: Path) -> None:
    frames = count_frames(unit.ffmpeg, str(path))
    if frames != unit.chunk.encoded:
        raise ProcessError(
            f"chunk {unit.chunk.index}: ab-av1's encode has {frames} frames, expected {unit.chunk.encoded}"
        )


def _score(unit: ChunkUnit, path: Path, on_progress: Callable[[Progress], None] | None) -> tuple[float, int]:
    """The encode's VMAF over the whole chunk, pooled as the unit says, and how many frames were scored."""
    folder = Path(unit.folder)
    (folder / SCORE_LOG).unlink(missing_ok=True)
    run_with_progress(score_argv(unit, path.name), on_progress, cwd=str(folder))
    scores = counted_scores(frame_scores((folder / SCORE_LOG).read_bytes()), try_scoring(unit))
    return round(pool_scores(scores, unit.scoring.pool), 4), len(scores)


def _auto_encode(
    unit: ChunkUnit, ab_av1: str, on_try: Callable[[float, int], None] | None
) -> tuple[Attempt, Path, float, float]:
    """Run the attempts in order until one exits 0: that attempt, its encode, the seconds it took and the
    seconds all attempts took."""
    folder = Path(unit.folder)
    failures: list[ProcessError] = []
    first = time.monotonic()
    for number, attempt in enumerate(attempts(unit.search.target), start=1):
        if on_try is not None:
            on_try(0.0, number)  # ab-av1 chooses the CRF; none is known before it ends
        output = folder / f"{attempt_name(number)}.mkv"
        output.unlink(missing_ok=True)
        started = time.monotonic()
        try:
            run_with_progress(attempt_argv(unit, ab_av1, attempt, output.name), cwd=str(folder))
        except ProcessError as exc:
            failures.append(exc)
            continue
        if not output.is_file():
            raise ProcessError(f"chunk {unit.chunk.index}: ab-av1 exited 0 but wrote no {output.name}")
        ended = time.monotonic()
        return attempt, output, ended - started, ended - first
    raise ProcessError(
        f"chunk {unit.chunk.index}: ab-av1 failed all {len(failures)} attempts; last: {failures[-1].message}",
        detail="\n\n".join(exc.detail for exc in failures),
    )


def _keep(encoded: Path, target: Path) -> None:
    """Move the kept encode to the unit's target through `.partial`, so the target is never half there."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    shutil.move(encoded, partial)
    os.replace(partial, target)


def run_abav1_unit(
    unit: ChunkUnit,
    on_progress: Callable[[Progress], None] | None = None,
    on_try: Callable[[float, int], None] | None = None,
    worker: str = "local",
) -> ChunkResult:
    """Cut the chunk, let ab-av1 search and encode it, score the encode, keep it as the unit's target and
    write the result JSON. The cut is deleted whatever happens."""
    ab_av1 = require_ab_av1()
    folder = Path(unit.folder)
    folder.mkdir(parents=True, exist_ok=True)
    cut = folder / CUT_NAME
    try:
        run_with_progress(cut_argv(unit, CUT_NAME), on_progress, cwd=str(folder))
        attempt, encoded, seconds, all_seconds = _auto_encode(unit, ab_av1, on_try)
    finally:
        cut.unlink(missing_ok=True)
    _check_frames(unit, encoded)
    vmaf, frames_scored = _score(unit, encoded, on_progress)
    record = TryRecord(
        key=attempt_key(unit, attempt), crf=_read_crf(unit, encoded), vmaf=vmaf, frames_scored=frames_scored,
        bytes=encoded.stat().st_size, seconds=round(seconds, 3),
    )  # fmt: skip
    _keep(encoded, Path(unit.target))
    chunk = unit.chunk
    result = ChunkResult(
        index=chunk.index, start=chunk.start, end=chunk.end, start_time=chunk.start_time, end_time=chunk.end_time,
        crf=record.crf, predicted_vmaf=None, vmaf=vmaf, in_band=unit.search.in_band(vmaf), bytes=record.bytes,
        seconds=round(all_seconds, 3), tries=(record,), worker=worker, cut=chunk.cut,
    )  # fmt: skip
    write_atomic(Path(unit.result), msgspec.json.format(msgspec.json.encode(result)))
    return result
