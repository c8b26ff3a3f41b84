"""What names, keys and command lines a chunk's probes and tries get. Pure.

A try is one full encode of the chunk at one CRF; a probe is one encode of its middle window. Both are
cached in the chunk's folder under names derived from the CRF, and keyed by a digest of everything that
shaped them, so a resumed search reuses exactly what it measured and nothing stale.
"""

from __future__ import annotations

import hashlib

import msgspec

from drapto.core import commands
from drapto.core.units import ChunkUnit
from drapto.core.vmaf import Scoring, libvmaf_filter, side_filter, triple_middle

# Bump when what a try file means changes, so old cached tries are not reused.
TRY_VERSION = "try-5"  # try-2: probes score frame pairs every 5 frames; try-3: tries count triples'
# middles; try-4: every frame at its own time (a variable frame rate's tries dropped or doubled frames);
# try-5: each shot's VMAF recorded, and the confirmation on all frames


def with_threads(unit: ChunkUnit, threads: int) -> ChunkUnit:
    """The unit with its encoder (SVT-AV1's `lp`) and scorer on `threads` threads (0: no `lp`). SVT-AV1 4.2
    writes the same packets at any `lp` (framecrc, lp 1, 2 and 4, on testsrc2, grain, mandelbrot and Game of
    Life: tests/test_threads.py), so a chunk alone at the tail may take the idle cores."""
    options = [part for part in unit.encode.svt.split(":") if not part.startswith("lp=")]
    svt = ":".join([*options, *([f"lp={threads}"] if threads else [])])
    return msgspec.structs.replace(
        unit,
        encode=msgspec.structs.replace(unit.encode, svt=svt),
        scoring=msgspec.structs.replace(unit.scoring, threads=max(threads, 1)),
    )


def try_key(unit: ChunkUnit, crf: float, *, probe: bool = False) -> str:
    """A digest of everything that decides a try's (or probe's) bytes and score: not the threads, which
    decide neither."""
    unit = with_threads(unit, 0)
    chunk = unit.chunk
    frames = (
        chunk.probe if probe else (chunk.start, chunk.end, chunk.seek, chunk.stop, chunk.skip, chunk.lead, chunk.tail)
    )
    material = msgspec.json.encode([TRY_VERSION, unit.source, frames, unit.encode, unit.scoring, crf])
    return hashlib.sha256(material).hexdigest()[:20]


def try_name(crf: float) -> str:
    return f"crf{crf:06.2f}"


def probe_name(crf: float) -> str:
    return f"probe-crf{crf:06.2f}"


def try_scoring(unit: ChunkUnit) -> Scoring:
    """How a full encode of the chunk is scored: the unit's scoring, or every frame when the chunk ends
    before the subset's first counted frame (a few frames: scoring them all costs nothing)."""
    scoring = unit.scoring
    if scoring.every > 1 and not scoring.pairs and unit.chunk.encoded <= triple_middle(scoring.every):
        return msgspec.structs.replace(scoring, every=1)
    return scoring


def try_argv(unit: ChunkUnit, crf: float, target: str) -> list[str]:
    """The whole chunk encoded at `crf`, scored as `try_scoring` says."""
    chunk, encode, scoring = unit.chunk, unit.encode, try_scoring(unit)
    return commands.chunk_encode_argv(
        unit.ffmpeg, unit.source, target,
        seek=chunk.seek, stop=chunk.stop, frames=chunk.read, skip=chunk.skip, keep=chunk.keep, restart=chunk.cycle > 0,
        crf=crf, preset=encode.preset, svt=encode.svt, picture=encode.picture, colour=encode.colour,
        dolby_vision=encode.dolby_vision,
        scoring_filter=side_filter(scoring), libvmaf=libvmaf_filter(scoring, f"{try_name(crf)}.vmaf.json"),
    )  # fmt: skip


# Probe windows score frame pairs every 5 frames (10 of a 1 s window's 25): scoring every frame of an
# upscaled window cost about as much as encoding it; on the benchmark's chunks this subset stayed within
# ±0.3 VMAF of all the window's frames (p5–p95), far inside the window's own bias against its chunk.
# Not every 4: strides that are multiples of 4 fall on SVT-AV1's better low temporal layers and read +0.4.
PROBE_EVERY = 5


def probe_argv(unit: ChunkUnit, crf: float, target: str) -> list[str]:
    """The chunk's middle window encoded at the final preset, frame pairs every `PROBE_EVERY` scored."""
    window, encode = unit.chunk.probe, unit.encode
    assert window is not None
    scoring = msgspec.structs.replace(unit.scoring, every=PROBE_EVERY, pairs=True)
    return commands.chunk_encode_argv(
        unit.ffmpeg, unit.source, target,
        seek=window.seek, stop=window.stop, frames=window.frames, skip=window.skip,
        crf=crf, preset=encode.preset, svt=encode.svt, picture=encode.picture, colour=encode.colour,
        dolby_vision=encode.dolby_vision,
        scoring_filter=side_filter(scoring), libvmaf=libvmaf_filter(scoring, f"{probe_name(crf)}.vmaf.json"),
    )  # fmt: skip


def score_argv(unit: ChunkUnit, encoded: str, scoring: Scoring, log_name: str) -> list[str]:
    """An encode of the chunk (`encoded`, relative to its folder) scored against the source's chunk, read
    as the try reads it: how the ab-av1 engine scores its encode, and how a try is confirmed."""
    chunk = unit.chunk
    return commands.chunk_score_argv(
        unit.ffmpeg, unit.source, encoded, seek=chunk.seek, stop=chunk.stop, frames=chunk.read, skip=chunk.skip,
        keep=chunk.keep, restart=chunk.cycle > 0, picture=unit.encode.picture, scoring_filter=side_filter(scoring),
        libvmaf=libvmaf_filter(scoring, log_name),
    )  # fmt: skip


def confirm_name(crf: float) -> str:
    return f"{try_name(crf)}.all"


def confirm_argv(unit: ChunkUnit, crf: float) -> list[str]:
    """The try at `crf` scored again on every frame (core.driver.Confirm)."""
    scoring = msgspec.structs.replace(unit.scoring, every=1, pairs=False)
    return score_argv(unit, f"{try_name(crf)}.mkv", scoring, f"{confirm_name(crf)}.vmaf.json")
