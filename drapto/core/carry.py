"""What the Matroska output carries of the source's other streams, and how. Pure.

Driven by ffmpeg's own listing (drapto.core.listing), by ffmpeg stream index, because ffmpeg runs the mux
and MediaInfo's lists are not ffmpeg's: MediaInfo lists closed captions inside the video as a text track
(ffmpeg has no subtitle stream for them), lists an MP4's QuickTime chapter track and its Nero chapter list
as two menus (ffmpeg reads one set of chapters), and calls an MP4's cover art a flag of the file (ffmpeg:
a one-frame video stream, an attached picture).

- Subtitles: copied when Matroska holds the codec, converted to SRT where it holds it only as text
  (MP4 timed text, EIA-608 captions), else left out.
- Attachments (fonts) are copied; attached pictures (cover art) become attachments named as Matroska
  players look for them (`cover.jpg`, `cover.png`; a Matroska source's own name is kept). This ffmpeg's
  Matroska muxer writes a copied attached picture as an MJPEG video track, not an attachment, so each is
  extracted to a file first (`commands.cover_argv`) and attached.
- Chapters: as ffmpeg reads them.
- What Matroska cannot carry (teletext, data streams, timecode tracks, a second video) is named in one
  notice, never a failure.

A MediaInfo without a listing (built by hand in tests) falls back to MediaInfo's lists, by type position.
"""

from __future__ import annotations

import msgspec

from drapto.core.listing import ListedStream
from drapto.core.media import MediaInfo

# Subtitle codecs (ffmpeg's names) that this ffmpeg's Matroska muxer takes as they are (measured).
MKV_SUBTITLE_COPY = frozenset(
    {"subrip", "ass", "ssa", "webvtt", "text", "hdmv_pgs_subtitle", "dvd_subtitle", "dvb_subtitle"}
)
# Subtitle codecs Matroska cannot hold as they are, and the codec they are converted to (measured: the muxer
# refuses `mov_text` and `eia_608`; ffmpeg's decoders turn both into text).
MKV_SUBTITLE_CONVERSIONS = {"mov_text": "srt", "eia_608": "srt"}
# The same conversions by MediaInfo's format name, for a MediaInfo without ffmpeg's listing.
_MEDIAINFO_CONVERSIONS = {"Timed Text": "srt", "EIA-608": "srt"}
# Attached-picture codecs and the file name extension and MIME type their attachment gets.
_PICTURES = {"mjpeg": ("jpg", "image/jpeg"), "png": ("png", "image/png"), "bmp": ("bmp", "image/bmp")}


class SubtitleMap(msgspec.Struct, frozen=True, kw_only=True):
    stream: str  # the source's stream specifier: ffmpeg's index (`3`), or `s:N` without a listing
    codec: str  # "copy", or the codec Matroska needs (`srt`)


class Cover(msgspec.Struct, frozen=True, kw_only=True):
    index: int  # ffmpeg's index of the attached picture in the source
    filename: str  # the attachment's name in the output: `cover.jpg`, `cover.png`, or a Matroska source's own
    mimetype: str


class Carry(msgspec.Struct, frozen=True, kw_only=True):
    subtitles: tuple[SubtitleMap, ...] = ()
    attachments: tuple[str, ...] = ()  # the source's attachment streams to map: ffmpeg indexes, or `t` (all)
    attachment_count: int = 0  # how many attachment streams those are
    covers: tuple[Cover, ...] = ()
    chapters: int = 0  # the chapters ffmpeg reads (and `-map_chapters` copies)
    dropped: tuple[str, ...] = ()  # what Matroska cannot carry, described for the notice


def _describe(stream: ListedStream) -> str:
    if stream.kind == "data" and stream.tag == "text":
        return f"stream {stream.index} (the QuickTime chapter track; its chapters are kept)"
    if stream.tag == "tmcd":
        return f"stream {stream.index} (a timecode track)"
    if stream.codec == "dvb_teletext":
        return f"stream {stream.index} (teletext)"
    if stream.kind == "video":
        return f"stream {stream.index} (a second video, {stream.codec})"
    return f"stream {stream.index} ({stream.kind}, {stream.codec})"


def _cover(stream: ListedStream, taken: set[str]) -> Cover:
    extension, mimetype = _PICTURES.get(stream.codec, (stream.codec, f"image/{stream.codec}"))
    name = stream.filename or f"cover.{extension}"
    stem, _, ext = name.rpartition(".")
    number = 1
    while name in taken:
        number += 1
        name = f"{stem}-{number}.{ext}"
    taken.add(name)
    return Cover(index=stream.index, filename=name, mimetype=mimetype)


def _without_listing(media: MediaInfo) -> Carry:
    return Carry(
        subtitles=tuple(
            SubtitleMap(stream=f"s:{s.index}", codec=_MEDIAINFO_CONVERSIONS.get(s.codec, "copy")) for s in media.text
        ),
        attachments=("t",) if media.attachments else (),
        attachment_count=len(media.attachments),
        chapters=len(media.chapters),
    )


def carry(media: MediaInfo) -> Carry:
    """What the output takes from `media` besides its main video and audio, and what it leaves out."""
    listing = media.listing
    if listing is None:
        return _without_listing(media)
    main = listing.main_video()
    subtitles: list[SubtitleMap] = []
    attachments: list[str] = []
    covers: list[Cover] = []
    dropped: list[str] = []
    taken: set[str] = set()
    for stream in listing.streams:
        if stream.kind == "audio" or stream == main:
            continue
        if stream.kind == "subtitle" and stream.codec in MKV_SUBTITLE_COPY:
            subtitles.append(SubtitleMap(stream=str(stream.index), codec="copy"))
        elif stream.kind == "subtitle" and stream.codec in MKV_SUBTITLE_CONVERSIONS:
            subtitles.append(SubtitleMap(stream=str(stream.index), codec=MKV_SUBTITLE_CONVERSIONS[stream.codec]))
        elif stream.kind == "attachment":
            attachments.append(str(stream.index))
        elif stream.kind == "video" and stream.attached_pic:
            covers.append(_cover(stream, taken))
        else:
            dropped.append(_describe(stream))
    captions = sum(1 for t in media.text if t.codec.startswith(("EIA-", "CEA-")))
    captions -= sum(1 for s in listing.streams if s.kind == "subtitle" and s.codec == "eia_608")
    if captions > 0:  # MediaInfo's text tracks inside the video stream, which ffmpeg does not list
        dropped.append("closed captions inside the video (EIA-608/708)")
    return Carry(
        subtitles=tuple(subtitles),
        attachments=tuple(attachments),
        attachment_count=len(attachments),
        covers=tuple(covers),
        chapters=len(listing.chapters),
        dropped=tuple(dropped),
    )


def carried_attachments(carry: Carry) -> int:
    """The attachments the output holds from the source: its attachment streams and its covers."""
    return carry.attachment_count + len(carry.covers)


def dropped_notice(carry: Carry) -> str | None:
    """The one line that names what Matroska cannot carry, or None when everything is carried."""
    if not carry.dropped:
        return None
    return f"Not carried into the Matroska output (Matroska cannot hold it): {'; '.join(carry.dropped)}"


def output_counts(media: MediaInfo) -> tuple[int, int, int]:
    """A finished output's subtitle streams, chapters and attachments (covers included), as ffmpeg reads
    them where its listing was read, else as MediaInfo does."""
    listing = media.listing
    if listing is None:
        return len(media.text), len(media.chapters), len(media.attachments)
    subtitles = sum(1 for s in listing.streams if s.kind == "subtitle")
    attachments = sum(1 for s in listing.streams if s.kind == "attachment" or s.attached_pic)
    return subtitles, len(listing.chapters), attachments
