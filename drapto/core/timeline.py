"""The source's clock, as the plan and validation need it. Pure.

Where every command's timestamps count from (the source file's start, `source_start`), the frames the
output's video must have and where its last one must sit (`frame_expectations`, the one place to scale
them when a filter changes the frames), and how far each may drift.
"""

from __future__ import annotations

from fractions import Fraction

from drapto.core.media import MediaInfo
from drapto.core.picture import IVTC_CYCLE, Treatment, output_frames
from drapto.core.scenes import SceneScan

# How far an output's last frame may sit from the source's, relative to each video's first frame: the
# output's Matroska clock has 1 ms ticks, so the source's time rounded to them (and the concat's
# microsecond durations) is within 1 ms; anything more is a frame that moved or went missing.
LAST_FRAME_TOLERANCE = 0.001
# How far a stream's offset to the video may drift (seconds): Opus's encoder delay moves a start by 1 ms
# (a stream starting 0.500 s after the video comes out at 0.501); a lip-sync error shows from ~45 ms.
AUDIO_OFFSET_TOLERANCE = 0.020


def frame_expectations(
    media: MediaInfo, scan: SceneScan | None = None, treatment: Treatment = "none"
) -> tuple[int | None, float | None]:
    """The frame count the output's video must have and its last frame's time (seconds after its first
    frame): every source frame once, at its own time. From the scene scan's decode when there is one
    (chunked), else from the source's video packets the probe read (standard): a frame per packet, except
    where a packet may hold a single field (interlaced H.264 or HEVC can be coded a field per packet,
    PAFF; ffmpeg's MBAFF and MPEG-2 interlaced give one packet per frame, measured) and the count does
    not match the frame rate over the packets' span, where neither is known. Inverse telecine keeps 4 of
    every 5 frames (`picture.output_frames`), evenly spaced at 5/4 of the source's frame interval (29.97i →
    23.976p); bwdif keeps one frame per frame."""
    if scan is not None:
        count, span = scan.frames, scan.times[-1] - scan.times[0]
    else:
        packets = media.video_packets
        if packets is None or packets.first is None or packets.last is None or _may_be_fields(media) or _slots(media):
            return None, None
        count, span = packets.count, packets.last - packets.first
    if treatment != "ivtc" or count < 2:
        return count, span
    kept = output_frames(count, treatment)
    return kept, round((kept - 1) * span / (count - 1) * IVTC_CYCLE / (IVTC_CYCLE - 1), 6)


def _slots(media: MediaInfo) -> bool:
    """AVI: packets are frame slots, not frames (packed B-frames leave empty ones), and their times say
    little: an Xvid AVI of 48 decoded frames read 1.80 s from its first packet to its last, its decode
    1.88 s. Its frames and offsets are left to the decode."""
    return media.container == "AVI"


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
    """The source file's start (`Listing.start`), where every command's clock counts from; None when unknown,
    and for AVI, whose frames have no times of their own: on the file's clock ffmpeg's guessed times put an
    Xvid AVI's first frame 160 ms after its audio, where players (and ffmpeg's own shift) start both at 0."""
    return media.listing.start if media.listing and not _slots(media) else None


def audio_offsets(media: MediaInfo, first_frame: float | None = None) -> tuple[float, ...]:
    """Each audio stream's start minus the video's first frame in the source (seconds, in order;
    `Listing.audio_offsets`), which the output must keep within AUDIO_OFFSET_TOLERANCE; empty when unknown
    or when ffmpeg and MediaInfo count the audio streams differently. `first_frame` (the file's clock):
    the scan's first time; else the probe's first video packet (a stream copy, like a decode, starts at
    a keyframe). Not the listing's video start, the first packet's, which a TS cut mid-GOP puts before
    any frame: without a first frame, empty."""
    if first_frame is None and media.video_packets is not None and not _slots(media):
        first_frame = media.video_packets.first
    if first_frame is None:
        return ()
    if len(media.audio_starts) == len(media.audio) and all(s is not None for s in media.audio_starts):
        # the decoded sound's start (the probe step's), not the first packet's: WMA's sits 86 ms earlier
        return tuple(round(s - first_frame, 6) for s in media.audio_starts if s is not None)
    offsets = media.listing.audio_offsets(first_frame) if media.listing else None
    return offsets if offsets is not None and len(offsets) == len(media.audio) else ()
