"""Read a file with MediaInfo (the library shipped inside pymediainfo's wheel) into a MediaInfo Struct."""

from __future__ import annotations

from pathlib import Path

from pymediainfo import MediaInfo as _LibMediaInfo

from drapto.core.media import MediaInfo, parse_mediainfo_json
from drapto.errors import InputError


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


def probe(path: Path) -> MediaInfo:
    """Probe any file; the caller decides whether what it found is usable."""
    return parse_mediainfo_json(read_mediainfo_json(path), str(path))


def require_video(media: MediaInfo) -> MediaInfo:
    """A source drapto can encode has a video stream with a size."""
    if not media.video:
        what = "audio only" if media.audio else "not a media file MediaInfo recognises"
        raise InputError(f"No video stream in {media.path} ({what})")
    first = media.video[0]
    if first.width <= 0 or first.height <= 0:
        raise InputError(f"The video stream of {media.path} has no size")
    return media
