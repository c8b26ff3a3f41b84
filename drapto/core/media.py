"""What a media file contains, as immutable Structs, and the pure parser from MediaInfo's JSON.

The parser takes MediaInfo's own JSON (`mediainfo --Output=JSON`, or pymediainfo's `output="JSON"`), so
fixtures are plain files any user can produce with the mediainfo tool.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import msgspec

from drapto.core.framecrc import PacketSpan
from drapto.core.listing import Listing


class VideoStream(msgspec.Struct, frozen=True, kw_only=True):
    index: int  # position among the video streams (ffmpeg's `0:v:N`)
    codec: str
    width: int
    height: int
    frame_rate: str | None = None  # exact fraction, e.g. "24000/1001"
    frame_count: int | None = None
    duration: float | None = None
    bit_depth: int | None = None
    chroma_subsampling: str | None = None
    color_primaries: str | None = None
    transfer: str | None = None
    matrix: str | None = None
    color_range: str | None = None
    hdr_format: str | None = None  # MediaInfo's full HDR_Format string
    mastering_display_primaries: str | None = None
    mastering_display_luminance: str | None = None
    max_cll: str | None = None
    max_fall: str | None = None
    language: str | None = None
    title: str | None = None


class AudioStream(msgspec.Struct, frozen=True, kw_only=True):
    index: int  # position among the audio streams (ffmpeg's `0:a:N`)
    codec: str
    channels: int
    layout: str | None = None
    language: str | None = None
    title: str | None = None
    default: bool = False
    forced: bool = False
    duration: float | None = None
    bit_rate: int | None = None  # bits per second, as the source's container or stream declares it


class TextStream(msgspec.Struct, frozen=True, kw_only=True):
    index: int  # position among the subtitle streams (ffmpeg's `0:s:N`)
    codec: str
    codec_id: str | None = None
    language: str | None = None
    title: str | None = None
    default: bool = False
    forced: bool = False


class Chapter(msgspec.Struct, frozen=True, kw_only=True):
    start: float
    title: str


class MediaInfo(msgspec.Struct, frozen=True, kw_only=True):
    path: str
    container: str | None
    duration: float | None
    size: int | None = None
    title: str | None = None
    video: tuple[VideoStream, ...] = ()
    audio: tuple[AudioStream, ...] = ()
    text: tuple[TextStream, ...] = ()
    chapters: tuple[Chapter, ...] = ()
    attachments: tuple[str, ...] = ()
    listing: Listing | None = None  # what ffmpeg itself sees (drapto.core.listing); None if not read
    video_packets: PacketSpan | None = None  # the source's video packets (the probe step reads them)
    audio_starts: tuple[float | None, ...] = ()  # each audio stream's first decoded sound, on the file's clock


def _str(track: dict[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = track.get(key)
        if value not in (None, ""):
            return str(value)
    return None


def _int(track: dict[str, Any], *keys: str) -> int | None:
    value = _str(track, *keys)
    if value is None:
        return None
    try:
        return int(float(value.split(" ")[0]))
    except ValueError:
        return None


def _float(track: dict[str, Any], *keys: str) -> float | None:
    value = _str(track, *keys)
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _flag(track: dict[str, Any], key: str) -> bool:
    return _str(track, key) == "Yes"


def _language(track: dict[str, Any]) -> str | None:
    # Matroska stores ISO 639-2 codes; MediaInfo's String3 form is that code.
    return _str(track, "Language_String3", "Language")


def _frame_rate(track: dict[str, Any]) -> str | None:
    """The exact rate: the stream's own (Original) fraction wins over the container's rounded one."""
    for prefix in ("FrameRate_Original", "FrameRate"):
        num, den = _int(track, f"{prefix}_Num"), _int(track, f"{prefix}_Den")
        if num and den:
            rate = Fraction(num, den)
            return f"{rate.numerator}/{rate.denominator}"
    decimal = _str(track, "FrameRate")
    if decimal is None:
        return None
    try:
        rate = Fraction(decimal).limit_denominator(1001)
    except ValueError:
        return None
    return f"{rate.numerator}/{rate.denominator}"


def _chapter_start(key: str) -> float | None:
    """MediaInfo names chapter entries `_HH_MM_SS_mmm`."""
    parts = key.lstrip("_").split("_")
    if len(parts) != 4 or not all(p.isdigit() for p in parts):
        return None
    hours, minutes, seconds, millis = (int(p) for p in parts)
    return hours * 3600 + minutes * 60 + seconds + millis / 1000


def parse_mediainfo_json(document: bytes | str | dict[str, Any], path: str) -> MediaInfo:
    """Turn MediaInfo's JSON into a MediaInfo Struct. Pure: no file is read."""
    data = msgspec.json.decode(document) if isinstance(document, (bytes, str)) else document
    tracks: list[dict[str, Any]] = ((data or {}).get("media") or {}).get("track") or []
    general: dict[str, Any] = next((t for t in tracks if t.get("@type") == "General"), {})
    video: list[VideoStream] = []
    audio: list[AudioStream] = []
    text: list[TextStream] = []
    chapters: list[Chapter] = []
    for track in tracks:
        kind = track.get("@type")
        if kind == "Video":
            video.append(
                VideoStream(
                    index=len(video),
                    codec=_str(track, "Format") or "unknown",
                    width=_int(track, "Width") or 0,
                    height=_int(track, "Height") or 0,
                    frame_rate=_frame_rate(track),
                    frame_count=_int(track, "FrameCount"),
                    duration=_float(track, "Duration"),
                    bit_depth=_int(track, "BitDepth"),
                    chroma_subsampling=_str(track, "ChromaSubsampling"),
                    color_primaries=_str(track, "colour_primaries"),
                    transfer=_str(track, "transfer_characteristics"),
                    matrix=_str(track, "matrix_coefficients"),
                    color_range=_str(track, "colour_range"),
                    hdr_format=_str(track, "HDR_Format_String", "HDR_Format"),
                    mastering_display_primaries=_str(track, "MasteringDisplay_ColorPrimaries"),
                    mastering_display_luminance=_str(track, "MasteringDisplay_Luminance"),
                    max_cll=_str(track, "MaxCLL"),
                    max_fall=_str(track, "MaxFALL"),
                    language=_language(track),
                    title=_str(track, "Title"),
                )
            )
        elif kind == "Audio":
            audio.append(
                AudioStream(
                    index=len(audio),
                    codec=_str(track, "Format") or "unknown",
                    channels=_int(track, "Channels") or 0,
                    layout=_str(track, "ChannelLayout"),
                    language=_language(track),
                    title=_str(track, "Title"),
                    default=_flag(track, "Default"),
                    forced=_flag(track, "Forced"),
                    duration=_float(track, "Duration"),
                    bit_rate=_int(track, "BitRate"),
                )
            )
        elif kind == "Text":
            text.append(
                TextStream(
                    index=len(text),
                    codec=_str(track, "Format") or "unknown",
                    codec_id=_str(track, "CodecID"),
                    language=_language(track),
                    title=_str(track, "Title"),
                    default=_flag(track, "Default"),
                    forced=_flag(track, "Forced"),
                )
            )
        elif kind == "Menu":
            for key, title in (track.get("extra") or {}).items():
                start = _chapter_start(key)
                if start is not None:
                    chapters.append(Chapter(start=start, title=str(title)))
    attachments = _str(general.get("extra") or {}, "Attachments")
    return MediaInfo(
        path=path,
        container=_str(general, "Format"),
        duration=_float(general, "Duration"),
        size=_int(general, "FileSize"),
        title=_str(general, "Title", "Movie"),
        video=tuple(video),
        audio=tuple(audio),
        text=tuple(text),
        chapters=tuple(sorted(chapters, key=lambda c: c.start)),
        attachments=tuple(a.strip() for a in attachments.split(" / ")) if attachments else (),
    )
