"""What ffmpeg itself sees in a file: its stream listing (`ffmpeg -i FILE` on stderr), parsed. Pure.

MediaInfo and ffmpeg disagree on a few things that decide what the commands must do, and there ffmpeg,
which runs the commands, is the one to believe: the chapters it will copy (an MP4 holds a QuickTime
chapter track and a Nero list of the same chapters; MediaInfo lists both, ffmpeg reads one), the streams it
will map (an attached picture is a video stream to ffmpeg, cover art to MediaInfo; a QuickTime chapter
track is a data stream), each stream's start (ffmpeg's `-ss` and timestamps count from the file's start),
the display matrix it will apply (autorotate), and the field order its decoder reports.
"""

from __future__ import annotations

import re
from typing import Literal

import msgspec

Kind = Literal["video", "audio", "subtitle", "data", "attachment"]
FieldOrder = Literal["progressive", "tff", "bff"]

_DURATION = re.compile(r"^\s*Duration: [^,]+, start: (?P<start>-?[\d.]+)")
_CHAPTER = re.compile(r"^\s*Chapter #\d+:\d+: start (?P<start>-?[\d.]+), end (?P<end>-?[\d.]+)")
_STREAM = re.compile(
    r"^\s*Stream #(?P<file>\d+):(?P<index>\d+)(?:\[[^\]]*\])?(?:\((?P<lang>[^)]*)\))?: "
    r"(?P<kind>Video|Audio|Subtitle|Data|Attachment): (?P<codec>[\w-]+)(?P<rest>.*)$"
)
_STREAM_START = re.compile(r", start (?P<start>-?[\d.]+)")
_TAG = re.compile(r"\((?P<tag>[^()/]+?) / 0x[0-9A-Fa-f]+\)")  # the container's codec tag: `(tmcd / 0x64636D74)`
_FILENAME = re.compile(r"^\s+filename\s*: (?P<name>.+?)\s*$")  # a Matroska attachment's (or cover's) name
_PIXEL_FORMAT = re.compile(r", (?P<pix_fmt>(?:yuv|gray|nv|p0)\w*)")  # after the codec: `yuv420p10le(tv, …)`
_ROTATION = re.compile(r"(?i)display ?matrix: rotation of (?P<degrees>-?[\d.]+) degrees")
# The pixel format's parenthesis of a video stream: `yuv420p(tv, bt709, top first)`, `yuv420p(progressive)`.
_FIELDS = {
    "progressive": "progressive",
    "top first": "tff",
    "top coded first (swapped)": "tff",
    "bottom first": "bff",
    "bottom coded first (swapped)": "bff",
}


class ListedStream(msgspec.Struct, frozen=True, kw_only=True):
    index: int  # ffmpeg's stream index in the file (`0:N`)
    kind: Kind
    codec: str
    language: str | None = None
    start: float | None = None  # the stream's first timestamp, when it differs from the file's
    attached_pic: bool = False  # a picture (cover art) carried as a one-frame video stream
    field_order: FieldOrder | None = None  # video: as the decoder reports it; None when not said
    rotation: int = 0  # video: the display matrix's counter-clockwise rotation, 0/90/180/270
    pixel_format: str | None = None  # video: the decoder's, e.g. yuv420p10le (MediaInfo gives no bit depth for AV1)
    tag: str | None = None  # the container's codec tag where ffmpeg shows one: `text` (QuickTime chapters), `tmcd`
    filename: str | None = None  # a Matroska attachment's or attached picture's file name


class Listing(msgspec.Struct, frozen=True, kw_only=True):
    start: float | None = None  # the file's start: where `-ss 0` is, the earliest stream's first timestamp
    chapters: tuple[float, ...] = ()  # each chapter's start, as ffmpeg reads (and copies) them
    streams: tuple[ListedStream, ...] = ()

    def main_video(self) -> ListedStream | None:
        """The video stream drapto encodes: the first that is not an attached picture (ffmpeg's `V:0`)."""
        return next((s for s in self.streams if s.kind == "video" and not s.attached_pic), None)

    def stream_start(self, stream: ListedStream) -> float | None:
        """Where the stream begins, in seconds from the file's start (0 for a stream that begins with it)."""
        if self.start is None:
            return None
        return (stream.start if stream.start is not None else self.start) - self.start

    def audio_offsets(self, video_start: float | None = None) -> tuple[float, ...] | None:
        """Each audio stream's start minus the main video's, in seconds (positive: the audio begins
        later), in stream order; None when the listing has no start or no video. `video_start` (seconds
        from the file's start) replaces the listing's where the first frame is known to come later: the
        listing gives the first packet's time, and a TS cut mid-GOP begins with packets no decoder shows."""
        video = self.main_video()
        if video_start is None and video is not None:
            video_start = self.stream_start(video)
        if video_start is None or video is None:
            return None
        starts = [self.stream_start(s) for s in self.streams if s.kind == "audio"]
        return tuple(round(start - video_start, 6) for start in starts if start is not None)


def _field_order(rest: str) -> FieldOrder | None:
    for words, order in _FIELDS.items():
        if re.search(rf"[(,] ?{re.escape(words)}[),]", rest):
            return order  # type: ignore[return-value]
    return None


def _rotation(degrees: float) -> int:
    return round(degrees / 90) * 90 % 360


def parse_listing(stderr: str) -> Listing:
    """Parse the first input's listing from `ffmpeg -i FILE`'s stderr."""
    start: float | None = None
    chapters: list[float] = []
    streams: list[ListedStream] = []
    for line in stderr.splitlines():
        if line.startswith("Input #") and (start is not None or streams):
            break  # a second input: this parser describes one file
        if (match := _DURATION.match(line)) and start is None:
            start = float(match["start"])
        elif match := _CHAPTER.match(line):
            chapters.append(float(match["start"]))
        elif match := _STREAM.match(line):
            rest = match["rest"]
            stream_start = _STREAM_START.search(rest)
            tag = _TAG.search(rest)
            kind = match["kind"].lower()
            streams.append(
                ListedStream(
                    index=int(match["index"]),
                    kind=kind,  # type: ignore[arg-type]
                    codec=match["codec"],
                    language=match["lang"] if match["lang"] not in (None, "und") else None,
                    start=float(stream_start["start"]) if stream_start else None,
                    attached_pic="(attached pic)" in rest,
                    field_order=_field_order(rest) if kind == "video" else None,
                    tag=tag["tag"] if tag else None,
                    pixel_format=pixel["pix_fmt"]
                    if kind == "video" and (pixel := _PIXEL_FORMAT.search(rest))
                    else None,
                )
            )
        elif (match := _FILENAME.match(line)) and streams:
            streams[-1] = msgspec.structs.replace(streams[-1], filename=match["name"])
        elif (match := _ROTATION.search(line)) and streams:
            streams[-1] = msgspec.structs.replace(streams[-1], rotation=_rotation(float(match["degrees"])))
    return Listing(start=start, chapters=tuple(chapters), streams=tuple(streams))
