"""A chunk's shots: the scene cuts inside it that the planner did not make boundaries, and the VMAF of
each shot. Pure.

One CRF serves a whole chunk, so an easy shot beside a hard one reads above the target; that is fine.
A hard shot below it is not, and the chunk's mean hides it (a 5.4 s easy shot and a 3.3 s hard one read
94.18 together while the hard one scored 90.78: issue 26). So the search judges a chunk by its worst
shot. A shot shorter than `MIN_SHOT_SECONDS` pools with a neighbour: a viewer barely sees it alone, and
its few scored frames would read it with a large error.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import msgspec

from drapto.core.vmaf import pool_scores

# Shorter shots pool with a neighbour (across their weaker cut): about two seconds is where a shot is
# watched as a shot, and where a triple every 15 frames still counts three frames of it at 24 fps.
MIN_SHOT_SECONDS = 2.0


class ShotScore(msgspec.Struct, frozen=True, kw_only=True):
    """One shot of a chunk: source frames [start, end), its VMAF (pooled as the chunk is) and how many
    frames that reading counted."""

    start: int
    end: int
    vmaf: float
    frames: int


def shot_starts(scores: Sequence[float], start: int, end: int, threshold: float, min_frames: int) -> tuple[int, ...]:
    """The frames inside [start, end) where a shot starts, besides `start` itself: every frame scoring at
    least `threshold`, then, while some shot is shorter than `min_frames`, the shortest one (the earliest
    among equals) merged with its neighbour across the weaker of its two cuts (its only cut at the chunk's
    edge). A chunk shorter than twice `min_frames` is one shot."""
    cuts = [f for f in range(start + 1, end) if scores[f] >= threshold]
    while cuts:
        edges = [start, *cuts, end]
        lengths = [b - a for a, b in itertools.pairwise(edges)]
        shortest = min(range(len(lengths)), key=lambda i: (lengths[i], i))
        if lengths[shortest] >= min_frames:
            break
        before = shortest - 1 if shortest > 0 else None  # index into cuts of the shot's first cut
        after = shortest if shortest < len(cuts) else None  # … and of its last
        if before is None or (after is not None and scores[cuts[after]] < scores[cuts[before]]):
            del cuts[after]  # type: ignore[arg-type]
        else:
            del cuts[before]
    return tuple(cuts)


def shot_scores(
    frame_scores: Sequence[float], frames: Sequence[int], start: int, end: int, starts: Sequence[int], pool: str
) -> tuple[ShotScore, ...]:
    """Each shot's VMAF: the scores of the frames counted (`frames`: their indices in the chunk's encode,
    0 = `start`) grouped by the shots `starts` cut [start, end) into, each group pooled. A shot none of
    whose frames was counted takes its nearest scored frame (a subset every 15 frames can miss a short
    one)."""
    edges = [start, *starts, end]
    shots: list[ShotScore] = []
    for a, b in itertools.pairwise(edges):
        inside = [s for s, f in zip(frame_scores, frames, strict=True) if a <= start + f < b]
        if not inside:
            middle = (a + b) / 2 - start
            nearest = min(range(len(frames)), key=lambda i: abs(frames[i] - middle))
            inside = [frame_scores[nearest]]
        shots.append(ShotScore(start=a, end=b, vmaf=round(pool_scores(inside, pool), 4), frames=len(inside)))
    return tuple(shots)


def judged(chunk_vmaf: float, shots: Sequence[ShotScore]) -> float:
    """What the search reads a chunk as: its worst shot, never above the chunk's own pooled score."""
    return min([chunk_vmaf, *(s.vmaf for s in shots)])


# How far a shot's reading on n counted frames strays from its VMAF on all frames: about this over √n (a
# standard deviation). Measured on benchmarks/film.py's kept run, 29 shots of its 19 uncapped chunks, each
# read on 3-14 counted frames: √n × (reading − all frames) had a deviation of 1.13 and a mean of +0.08;
# the worst reading was 2.0 off (87.48 on all frames read as 89.50 on 3 frames). The counted frames are
# correlated (one frame alone strays 1.9), so the spread shrinks more slowly than the frames grow. The
# floor of a reading lies `READING_SIGMAS` of those under it.
FRAME_SPREAD = 1.13
READING_SIGMAS = 2.0


def reading_floor(chunk_vmaf: float, counted: int, shots: Sequence[ShotScore]) -> float:
    """The lowest the chunk's worst shot may score on all frames, given a subset reading of `counted`
    frames (the chunk as a whole, or each of its shots on its own part of them)."""
    parts = [(s.vmaf, s.frames) for s in shots] or [(chunk_vmaf, counted)]
    return min(vmaf - READING_SIGMAS * FRAME_SPREAD / math.sqrt(max(frames, 1)) for vmaf, frames in parts)
