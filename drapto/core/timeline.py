"""The source's clock, as the plan and validation need it. Pure.

Where every command's timestamps count from (the source file's start, `source_start`), the frames the
output's video must have and where its last one must sit (`frame_expectations`, the one place to scale
them when a filter changes the frames), and how far each may drift.
"""

from __future__ import annotations

from fractions import Fraction

from drapto.core.media import MediaInfo
from drapto.core.scenes import SceneScan

# How far an output's last frame may sit from the source's, relative to each video's first frame: the
# output's Matroska clock has 1 ms ticks, so the source's time rounded to them (and the concat's
# microsecond durations) is within 1 ms; anything more is a frame that moved or went missing.
LAST_FRAME_TOLERANCE = 0.001
# How far a stream's offset to the video may drift (seconds): Opus's encoder delay moves a start by 1 ms
# (a stream starting 0.500 s after the video comes out at 0.501); a lip-sync error shows from ~45 ms.
AUDIO_OFFSET_TOLERANCE = 0.020


def frame_expectations(media: MediaInfo, scan: SceneScan | None = None) -> tuple[int | None, float | None]:
    """The frame count the output's video must have and its last frame's time (seconds after its first
    frame): every source frame once, at its own time. From the scene scan's decode when there is one
    (chunked), else from the source's video packets the probe read (standard): a frame per packet, except
    where a packet may hold a single field (interlaced H.264 or HEVC can be coded a field per packet,
    PAFF; ffmpeg's MBAFF and MPEG-2 interlaced give one packet per frame, measured) and the count does
    not match the frame rate over the packets' span, where neither is known. The one place to scale them
    when the frames change (deinterlacing to double rate, inverse telecine)."""
    if scan is not None:
        return scan.frames, scan.times[-1] - scan.times[0]
    packets = media.video_packets
    if packets is None or packets.first is None or packets.last is None or _may_be_fields(media):
        return None, None
    return packets.count, packets.last - packets.first


def _may_be_fields(media: MediaInfo) -> bool:
    """An interlaced H.264 or HEVC stream whose packet count is not one per frame at its frame rate (an
    MBAFF 25i TS: 50 packets over 1.96 s, 49 frame intervals, one per frame; PAFF would hold about twice)."""
    video = media.listing.main_video() if media.listing else None
    if video is None or video.field_order not in ("tff", "bff") or video.codec not in ("h264", "hevc"):
        return False
    packets, rate = media.video_packets, media.video[0].frame_rate if media.video else None
    if packets is None or packets.first is None or packets.last is None or not rate:
        return True
    intervals = (packets.last - packets.first) * float(Fraction(rate))
    return abs(packets.count - 1 - intervals) > max(1.0, 0.01 * intervals)


def source_start(media: MediaInfo) -> float | None:
    """The source file's start (`Listing.start`), where every command's clock counts from; None when unknown."""
    return media.listing.start if media.listing else None


def audio_offsets(media: MediaInfo, first_frame: float | None = None) -> tuple[float, ...]:
    """Each audio stream's start minus the video's first frame in the source (seconds, in order;
    `Listing.audio_offsets`), which the output must keep within AUDIO_OFFSET_TOLERANCE; empty when unknown
    or when ffmpeg and MediaInfo count the audio streams differently. `first_frame` (the file's clock):
    the scan's first time; else the probe's first video packet (a stream copy, like a decode, starts at
    a keyframe). Not the listing's video start, the first packet's, which a TS cut mid-GOP puts before
    any frame: without a first frame, empty."""
    if first_frame is None and media.video_packets is not None:
        first_frame = media.video_packets.first
    if first_frame is None:
        return ()
    offsets = media.listing.audio_offsets(first_frame) if media.listing else None
    return offsets if offsets is not None and len(offsets) == len(media.audio) else ()
