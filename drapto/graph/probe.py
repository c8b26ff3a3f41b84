"""Read a file with MediaInfo (the library shipped inside pymediainfo's wheel) into a MediaInfo Struct, with
ffmpeg's own stream listing beside it (drapto.core.listing) when an ffmpeg is given."""

from __future__ import annotations

from pathlib import Path

import msgspec
from pymediainfo import MediaInfo as _LibMediaInfo

from drapto.core import commands
from drapto.core.framecrc import PacketSpan, first_time, packet_span, parse_framecrc
from drapto.core.listing import Listing, parse_listing
from drapto.core.media import MediaInfo, parse_mediainfo_json
from drapto.errors import InputError
from drapto.graph.runner import run_capture


def read_mediainfo_json(path: Path) -> str:
    """MediaInfo's JSON for `path` (its full output, which the pure parser reads)."""
    if not path.exists():
        raise InputError(f"Input not found: {path}")
    if not path.is_file():
        raise InputError(f"Input is not a file: {path}")
    try:
        return str(_LibMediaInfo.parse(path, output="JSON", full=True))
    except Exception as exc:  # pymediainfo raises bare Exceptions for unreadable files
        raise InputError(f"Cannot read {path} as media: {exc}") from exc


def read_listing(ffmpeg: str, path: Path) -> Listing:
    """ffmpeg's stream listing of `path` (`ffmpeg -i`, which exits 1 for want of an output)."""
    done = run_capture(commands.stream_summary_argv(ffmpeg, str(path)), check=False)
    return parse_listing(done.stderr.decode(errors="replace"))


def probe(path: Path, ffmpeg: str | None = None) -> MediaInfo:
    """Probe any file; the caller decides whether what it found is usable. With `ffmpeg`, the result also
    holds what ffmpeg sees in it (`listing`)."""
    media = parse_mediainfo_json(read_mediainfo_json(path), str(path))
    if ffmpeg is None:
        return media
    return msgspec.structs.replace(media, listing=read_listing(ffmpeg, path))


def read_video_packets(ffmpeg: str, path: Path, start: float | None) -> PacketSpan:
    """Count the video's packets and their span by a stream copy (disk speed, no decode), on the file's
    clock (`start`, the listing's): the source's frame count, first and last frame time for a standard
    encode (timeline.frame_expectations, timeline.audio_offsets)."""
    done = run_capture(commands.packet_read_argv(ffmpeg, str(path), start), check=False)
    return packet_span(parse_framecrc(done.stdout.decode(errors="replace")))


def read_audio_starts(ffmpeg: str, path: Path, start: float | None, streams: int) -> tuple[float | None, ...]:
    """Where each of the `streams` audio streams' first decoded sound is, on the file's clock (`start`):
    one frame of each decoded (timeline.audio_offsets)."""
    if not streams:
        return ()
    done = run_capture(commands.audio_starts_argv(ffmpeg, str(path), start), check=False)
    text = done.stdout.decode(errors="replace")
    return tuple(first_time(parse_framecrc(text, stream=i)) for i in range(streams))


def require_video(media: MediaInfo) -> MediaInfo:
    """A source drapto can encode has a video stream with a size."""
    if not media.video:
        what = "audio only" if media.audio else "not a media file MediaInfo recognises"
        raise InputError(f"No video stream in {media.path} ({what})")
    first = media.video[0]
    if first.width <= 0 or first.height <= 0:
        raise InputError(f"The video stream of {media.path} has no size")
    return media
