"""Chunk planning: scene scan → chunks, i.e. frame ranges that partition the source exactly. Pure.

Boundaries fall on scene cuts (scdet score at or above the threshold): of those the length bounds let
stand together, the strongest set (a dynamic programme, not the first past the minimum); a stretch longer than the maximum is split evenly, each forced split moved to the most scene-like
frame near its even position. Chunks are read frame-exactly (an input seek to the source keyframe at or
before the chunk, then its frames counted off by index: `read_from`), so a boundary may fall between
source keyframes.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections import deque
from typing import Literal

import msgspec

from drapto.core.scenes import SceneScan
from drapto.core.shots import MIN_SHOT_SECONDS, shot_starts

Cut = Literal["start", "scene", "split"]


class Window(msgspec.Struct, frozen=True, kw_only=True):
    """A run of frames read on its own (a probe window), with the seek and stop that read it exactly."""

    start: int
    frames: int
    seek: float
    stop: float | None
    skip: int = 0  # frames decoded from the seek that come before `start` (dropped by index)


class Chunk(msgspec.Struct, frozen=True, kw_only=True):
    index: int
    start: int  # first frame
    end: int  # one past the last frame
    start_time: float  # seconds from the file's start (as `-ss` counts)
    end_time: float  # where the next chunk starts, or the end of the video
    cut: Cut  # why the chunk starts where it does
    score: float  # the scene score of its first frame
    seek: float  # input seek (seconds): the first frame decoded is the keyframe `skip` frames before `start - lead`
    stop: float | None  # where reading stops (seconds, same clock); None for the last chunk
    probe: Window | None = None  # the middle window its CRF search probes first; None for short chunks
    skip: int = 0  # frames decoded from the seek that come before `start - lead` (dropped by index)
    lead: int = 0  # frames read before `start` for the field filter's sake, dropped after it (`with_neighbours`)
    tail: int = 0  # frames read after `end`, likewise
    cycle: int = 0  # inverse telecine's decimate cycle (5): one frame of every whole cycle goes; 0: none
    shots: tuple[int, ...] = ()  # where shots start inside it: the scan's cuts no boundary took (core.shots)

    @property
    def frames(self) -> int:
        return self.end - self.start

    def _kept(self, frames: int) -> int:
        return frames - frames // self.cycle if self.cycle else frames

    @property
    def encoded(self) -> int:
        """The frames the chunk's encode holds: its own, less those inverse telecine drops."""
        return self._kept(self.frames)

    def source_offset(self, encoded: int) -> int:
        """Which of the chunk's source frames (0 = `start`) the encode's frame `encoded` comes from: the same,
        or with inverse telecine about five for every four kept."""
        return encoded + encoded // (self.cycle - 1) if self.cycle else encoded

    @property
    def read(self) -> int:
        """The frames the chunk's window reads: its own and its neighbours."""
        return self.lead + self.frames + self.tail

    @property
    def keep(self) -> tuple[int, int] | None:
        """Which of the filtered frames are the chunk's, when it reads neighbours; None when it reads none."""
        if not (self.lead or self.tail):
            return None
        first = self._kept(self.lead)
        return first, first + self.encoded

    @property
    def duration(self) -> float:
        return self.end_time - self.start_time


def frame_bounds(scan: SceneScan, min_seconds: float, max_seconds: float) -> tuple[int, int]:
    """The length bounds in frames, at the scan's average frame rate."""
    low = max(1, round(min_seconds * scan.rate))
    return low, max(low, round(max_seconds * scan.rate))


def forced_splits(length: int, min_frames: int, max_frames: int) -> int:
    """How many forced splits a stretch between two kept cuts needs to keep every part at most `max`."""
    return max(0, math.ceil(length / max_frames) - 1)


def _stretch_cost(length: int, min_frames: int, max_frames: int, threshold: float) -> float:
    """What a stretch between two kept cuts costs the plan: each forced split counts as a lost cut of the
    threshold's strength; a stretch that cannot be split into parts of at least `min` costs far more."""
    splits = forced_splits(length, min_frames, max_frames)
    short = splits and (splits + 1) * min_frames > length
    return splits * threshold + (1e9 if short else 0.0)


def scene_cuts(scores: tuple[float, ...], threshold: float, min_frames: int, max_frames: int) -> list[int]:
    """The scene cuts kept as boundaries, earliest first: of the frames scoring at least `threshold`, the
    set that keeps every chunk at least `min_frames` long (and starts none closer than that to the end)
    with the greatest sum of kept scores, less the threshold for each forced split the stretches longer
    than `max_frames` then need. So a stronger cut is never blocked by a weaker one just before it.

    A dynamic programme over the candidates: a kept cut's best predecessor lies `min`..`max` frames
    before it (no split between: the best of a sliding window, kept in a monotone deque), or further back
    when no candidate between could have been kept (adding one never costs: its score is positive and
    splits only fall), i.e. within `min` of the last candidate that leaves `min` before it. Ties go to the
    earlier predecessor. About O(candidates), or O(candidates × `min`) where long empty stretches follow
    dense ones."""
    total = len(scores)
    nodes = [0, *(f for f in range(min_frames, total - min_frames + 1) if scores[f] >= threshold), total]
    best: list[float] = [-math.inf] * len(nodes)
    best[0] = 0.0
    back: list[int] = [-1] * len(nodes)
    window: deque[int] = deque()  # nodes min..max frames back, best first (earliest among equals)
    pushed = 0  # nodes [0, pushed) have entered the window
    for j in range(1, len(nodes)):
        here = nodes[j]
        last = bisect.bisect_right(nodes, here - min_frames, 0, j) - 1  # the last node leaving `min` before
        near = bisect.bisect_left(nodes, here - max_frames, 0, j)  # the first node within `max` before
        while pushed <= last:
            while window and best[window[-1]] < best[pushed]:
                window.pop()
            window.append(pushed)
            pushed += 1
        while window and window[0] < near:
            window.popleft()
        gain = scores[here] if here < total else 0.0
        choice, value = -1, -math.inf
        far = bisect.bisect_right(nodes, nodes[last] - min_frames, 0, j) if last >= 0 else j
        for i in range(far, min(near, last + 1)):  # longer than `max`: forced splits between
            candidate = best[i] + gain - _stretch_cost(here - nodes[i], min_frames, max_frames, threshold)
            if candidate > value:
                choice, value = i, candidate
        if window and best[window[0]] + gain > value:
            choice, value = window[0], best[window[0]] + gain
        if choice < 0 and here == total:  # a clip shorter than `min`: one chunk
            choice, value = 0, 0.0
        best[j], back[j] = value, choice
    cuts: list[int] = []
    j = back[-1]
    while j > 0:
        cuts.append(nodes[j])
        j = back[j]
    return cuts[::-1]


def split_points(scores: tuple[float, ...], start: int, end: int, min_frames: int, max_frames: int) -> list[int]:
    """Forced splits of [start, end) into ceil(length / max) parts of near-equal length; each split goes
    to the highest-scoring frame within a quarter part of its even position that keeps the rest feasible."""
    points: list[int] = []
    current = start
    while end - current > max_frames:
        remaining = end - current
        parts = math.ceil(remaining / max_frames)
        ideal = current + remaining / parts
        lowest = max(current + min_frames, end - (parts - 1) * max_frames)
        highest = min(current + max_frames, end - (parts - 1) * min_frames)
        reach = remaining / parts / 4
        low, high = max(lowest, math.ceil(ideal - reach)), min(highest, math.floor(ideal + reach))
        if low > high:  # the bounds cannot all hold here (max < 2 × min): keep the even split
            point = min(max(round(ideal), current + 1), end - 1)
        else:
            point = max(range(low, high + 1), key=lambda f: (scores[f], -abs(f - ideal)))
        points.append(point)
        current = point
    return points


def probe_window(scan: SceneScan, start: int, end: int, probe_seconds: float) -> Window | None:
    """`probe_seconds` near the middle of [start, end), when the chunk is at least four such windows long
    (a shorter chunk costs little more to encode whole than to probe). The window starts on the source
    keyframe nearest the middle when one leaves it room inside the chunk (a probe need not be frame-exact
    to its position, only to its own frames). Seeking there still decodes one GOP that is thrown away when
    the source has B-frames: ffmpeg backs every input seek off by 3/23 s then, which lands on the keyframe
    before (measured in issue 18's last note: 0.21 of a probe's 2.3 CPU-s)."""
    if probe_seconds <= 0:
        return None
    frames = max(8, round(probe_seconds * scan.rate))
    if end - start < 4 * frames:
        return None
    middle = start + (end - start - frames) // 2
    keys = [k for k in scan.keyframes if start <= k <= end - frames]
    first = min(keys, key=lambda k: abs(k - middle)) if keys else middle
    seek, skip = read_from(scan, first)
    return Window(start=first, frames=frames, seek=seek, stop=seek_time(scan, first + frames), skip=skip)


def plan_chunks(
    scan: SceneScan,
    *,
    min_seconds: float,
    max_seconds: float,
    threshold: float,
    probe_seconds: float = 0.0,
    cycle: int = 0,
) -> tuple[Chunk, ...]:
    """Chunks covering every frame of the scan once, in order, each with its probe window. With a decimate
    `cycle` (inverse telecine: 5) every chunk starts on a multiple of it, so each chunk's cycles are the
    whole-file pass's, and has no probe window (it would not be aligned)."""
    min_frames, max_frames = frame_bounds(scan, min_seconds, max_seconds)
    cuts = scene_cuts(scan.scores, threshold, min_frames, max_frames)
    edges = [0, *cuts, scan.frames]
    starts: list[tuple[int, Cut]] = []
    for a, b in itertools.pairwise(edges):
        starts.append((a, "start" if a == 0 else "scene"))
        starts.extend((p, "split") for p in split_points(scan.scores, a, b, min_frames, max_frames))
    if cycle:
        starts = _snapped(starts, cycle, scan.frames)
        probe_seconds = 0.0
    shot_frames = round(MIN_SHOT_SECONDS * scan.rate)
    chunks = []
    for index, (start, cut) in enumerate(starts):
        end = starts[index + 1][0] if index + 1 < len(starts) else scan.frames
        chunks.append(
            Chunk(
                index=index,
                start=start,
                end=end,
                start_time=scan.times[start],
                end_time=scan.times[end] if end < scan.frames else scan.duration,
                cut=cut,
                score=scan.scores[start],
                seek=(read := read_from(scan, start))[0],
                skip=read[1],
                stop=seek_time(scan, end) if end < scan.frames else None,
                probe=probe_window(scan, start, end, probe_seconds),
                cycle=cycle,
                shots=shot_starts(scan.scores, start, end, threshold, shot_frames),
            )
        )
    return tuple(chunks)


# The furthest a chunk's read starts before it, decoding frames it throws away (a film's GOPs are 10 s or less).
MAX_SKIP_SECONDS = 20.0


def read_from(scan: SceneScan, frame: int) -> tuple[float, int]:
    """How to read from `frame` exactly: the input seek (the time of the source keyframe at or before it)
    and how many decoded frames come before it. An accurate seek to a frame's own time drops everything
    earlier (ffmpeg's and the scan's times agree to the microsecond), but only if decoding starts at or
    before it: an MPEG-TS has no index and its seek lands on a packet near the time asked, mid-GOP, where
    the decoder waits for the next keyframe (a seek halfway before frame 55 of a 25 fps TS with a keyframe
    every 12 decoded from frame 60: 15 of the chunk's 20 frames). Asked for a keyframe's time, every
    demuxer lands at or before it. Without a keyframe at or before `frame` within MAX_SKIP_SECONDS (the
    scan saw too few to trust, and decoding that far for every chunk would cost): halfway before it, where
    an indexed demuxer (Matroska, MP4) finds its own keyframe."""
    at = bisect.bisect_right(scan.keyframes, frame)
    key = scan.keyframes[at - 1] if at else None
    if key is None or scan.times[frame] - scan.times[key] > MAX_SKIP_SECONDS:
        return seek_time(scan, frame), 0
    return (scan.times[key] if key > 0 else 0.0), frame - key


def _snapped(starts: list[tuple[int, Cut]], cycle: int, total: int) -> list[tuple[int, Cut]]:
    """Each start moved to the nearest multiple of `cycle`; one that meets the one before or the end goes."""
    snapped: list[tuple[int, Cut]] = []
    for start, cut in starts:
        frame = round(start / cycle) * cycle
        if frame < total and (not snapped or frame > snapped[-1][0]):
            snapped.append((frame, cut))
    return snapped


def with_neighbours(scan: SceneScan, chunks: tuple[Chunk, ...], frames: int) -> tuple[Chunk, ...]:
    """The chunks each read with up to `frames` source frames on either side (none: unchanged), so a filter
    that looks at a frame's neighbours (bwdif) treats a chunk's first and last frames as a whole-file pass
    does; the filtered neighbours are dropped again (`Chunk.keep`). Measured on a woven 25i clip: without
    them a chunk's first frame is 30.2 dB PSNR from the whole-file bwdif's; with one frame each side,
    identical (framemd5)."""
    if frames <= 0:
        return chunks
    widened = []
    for chunk in chunks:
        lead, tail = min(frames, chunk.start), min(frames, scan.frames - chunk.end)
        stop = seek_time(scan, chunk.end + tail) if chunk.end + tail < scan.frames else None
        seek, skip = read_from(scan, chunk.start - lead)
        widened.append(msgspec.structs.replace(chunk, lead=lead, tail=tail, seek=seek, skip=skip, stop=stop))
    return tuple(widened)


def seek_time(scan: SceneScan, frame: int) -> float:
    """Where an accurate input seek must aim to make `frame` the first frame decoded: halfway between it
    and the frame before, so rounding of either timestamp cannot drop or add a frame."""
    if frame == 0:
        return 0.0
    return (scan.times[frame - 1] + scan.times[frame]) / 2
