"""The scene scan: what one fast pass over the source measured, and how ffmpeg's printout becomes it.

The pass (commands.scene_scan_argv) decodes the video once, downscaled, and runs ffmpeg's `scdet`
filter; two `metadata=print` filters write every frame's timestamp and scene score, and the keyframes'
timestamps, to two files, and a stream copy of the same read lists the source's packet sizes to a
third. `parse_scan` turns those files into a `SceneScan`, saved as scenes.json. Pure.
"""

from __future__ import annotations

import bisect

import msgspec

from drapto.core.framecrc import parse_framecrc

# Where the scan writes its raw printouts (relative names: ffmpeg runs in the scan's folder, so no path
# ever has to be escaped inside a filtergraph).
FRAMES_LOG = "frames.txt"
KEYFRAMES_LOG = "keyframes.txt"
PACKETS_LOG = "packets.txt"
# The scan looks at the picture area-averaged down to this width: scdet's cost stays small on any source,
# and averaging blocks of pixels cancels grain, whose frame-to-frame noise otherwise hides cuts out of a
# grainy scene from scdet (a grain → still cut scored 1.6 at 480 px bilinear, 9.2 at 160 px area, with
# non-cuts of that clip at most 5.3: benchmarks/chunked.py).
SCAN_WIDTH = 160


class SceneScan(msgspec.Struct, frozen=True, kw_only=True):
    """Per decoded frame: its time (seconds from the file's start, as `-ss` counts) and scdet's score
    (0–100, how unlike the previous frame it is); plus which frames are keyframes of the source."""

    frames: int
    duration: float  # end of the last frame: its time plus one frame
    times: tuple[float, ...]
    scores: tuple[float, ...]
    keyframes: tuple[int, ...]
    frame_bytes: tuple[int, ...] = ()  # per frame: the source's packet size (empty: an older scan)

    @property
    def rate(self) -> float:
        """The average frame rate, which turns the planner's seconds into frames (25 without a duration)."""
        return self.frames / self.duration if self.duration > 0 else 25.0


def _blocks(text: str) -> list[tuple[float, dict[str, str]]]:
    """`frame:N pts:P pts_time:T` headers, each followed by `key=value` lines."""
    blocks: list[tuple[float, dict[str, str]]] = []
    for line in text.splitlines():
        if line.startswith("frame:"):
            fields = dict(part.split(":", 1) for part in line.split() if ":" in part)
            blocks.append((float(fields["pts_time"]), {}))
        elif "=" in line and blocks:
            key, _, value = line.partition("=")
            blocks[-1][1][key.strip()] = value.strip()
    return blocks


def packet_sizes(packets_text: str, times: tuple[float, ...]) -> tuple[int, ...]:
    """Each decoded frame's packet size, from a `framecrc` listing of the source's video (`#tb 0: N/D`,
    then `0, dts, pts, duration, size, crc` per packet): packets sorted by timestamp pair with the frames
    in order; with a different count, each frame takes the packet nearest its time. Empty when the
    listing has no packets."""
    listing = parse_framecrc(packets_text)
    packets = sorted((listing.seconds(p.pts), p.size) for p in listing.packets if p.pts is not None)
    if not packets:
        return ()
    if len(packets) == len(times):
        return tuple(size for _, size in packets)
    starts = [time for time, _ in packets]
    sizes = []
    for time in times:
        at = bisect.bisect_left(starts, time)
        near = min((i for i in (at - 1, at) if 0 <= i < len(packets)), key=lambda i: abs(starts[i] - time))
        sizes.append(packets[near][1])
    return tuple(sizes)


def parse_scan(
    frames_text: str, keyframes_text: str, frame_rate: float | None = None, packets_text: str = ""
) -> SceneScan:
    """Build the scan from the printouts. `frame_rate` (from the probe) sizes the last frame when
    the printout has a single frame; otherwise the last frame lasts as long as the one before it."""
    blocks = _blocks(frames_text)
    if not blocks:
        raise ValueError("the scene scan decoded no video frames")
    times = tuple(t for t, _ in blocks)
    scores = tuple(float(meta.get("lavfi.scd.score", "0") or 0) for _, meta in blocks)
    if len(times) > 1:
        last = times[-1] - times[-2]
    else:
        last = 1 / frame_rate if frame_rate else 0.04
    index = {t: i for i, t in enumerate(times)}
    keyframes = sorted({index[t] for t, _ in _blocks(keyframes_text) if t in index})
    return SceneScan(
        frames=len(times),
        duration=times[-1] + max(last, 0.0),
        times=times,
        scores=scores,
        keyframes=tuple(keyframes),
        frame_bytes=packet_sizes(packets_text, times),
    )
