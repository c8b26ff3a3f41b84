"""Opus for every audio stream: the bitrate and the channel layout libopus gets, by channel count. Pure."""

from __future__ import annotations

from drapto.core.media import AudioStream

# libopus (mapping family -1/1) accepts exactly these layouts; any other layout is remapped to the one
# with the same channel count, so the count is always kept.
OPUS_LAYOUTS = {1: "mono", 2: "stereo", 3: "3.0", 4: "quad", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}
OPUS_BITRATES_KBPS = {1: 64, 2: 128, 6: 256, 8: 384}


def opus_bitrate_kbps(channels: int) -> int:
    return OPUS_BITRATES_KBPS.get(channels, 48 * channels)


def opus_kbps_for(stream: AudioStream) -> int:
    """The rule's bitrate for the stream's channels, but never more than the source spent (Opus at the
    source's own bitrate is at least as good as AAC, MP3 or AC-3 at it, and a web file's 96k stereo must
    not grow to 128k); at least 16k per channel."""
    rule = opus_bitrate_kbps(stream.channels)
    if not stream.bit_rate:
        return rule
    return max(min(rule, stream.bit_rate // 1000), 16 * stream.channels)


def opus_layout(channels: int) -> str | None:
    return OPUS_LAYOUTS.get(channels)
