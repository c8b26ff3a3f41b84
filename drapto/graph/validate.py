"""Check a muxed output against what the source and the plan promised, before it gets its final name."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import msgspec

from drapto.core import commands
from drapto.core.carry import carried_attachments, carry, output_counts
from drapto.core.framecrc import packet_span, parse_framecrc
from drapto.core.hdr import classify
from drapto.core.listing import Listing, parse_listing
from drapto.core.media import MediaInfo
from drapto.core.picture import displayed_size
from drapto.core.plan import Expectations, source_expectations
from drapto.core.timeline import AUDIO_OFFSET_TOLERANCE, LAST_FRAME_TOLERANCE
from drapto.core.units import ChunkResults
from drapto.core.workpaths import CHUNK_RESULTS_NAME
from drapto.errors import DraptoError, SourceDamagedError, ValidationError
from drapto.graph.probe import probe
from drapto.graph.runner import run_capture


def parse_pixel_format(ffmpeg_stderr: str) -> str | None:
    """The main video stream's pixel format from ffmpeg's stream listing, e.g. `yuv420p10le`."""
    return pixel_format(parse_listing(ffmpeg_stderr))


def pixel_format(listing: Listing | None) -> str | None:
    video = listing.main_video() if listing else None
    return video.pixel_format if video else None


def bit_depth_of(pixel_format: str | None) -> int | None:
    if pixel_format is None:
        return None
    match = re.search(r"p(\d+)(?:le|be)$", pixel_format)
    return int(match[1]) if match else 8


def check_output(expect: Expectations, media: MediaInfo, pixel_format: str | None) -> list[str]:
    """Every way `media` falls short of `expect`, as readable lines; empty means valid. Pure."""
    problems: list[str] = []
    if not media.video:
        return ["no video stream"]
    video = media.video[0]
    if video.codec != "AV1":
        problems.append(f"video codec is {video.codec}, expected AV1")
    depth = bit_depth_of(pixel_format)
    if depth != expect.bit_depth:
        problems.append(f"video is {depth}-bit ({pixel_format}), expected {expect.bit_depth}-bit")
    if (video.width, video.height) != (expect.width, expect.height):
        problems.append(f"video is {video.width}x{video.height}, expected {expect.width}x{expect.height}")
    if expect.duration is not None:
        if media.duration is None:
            problems.append("output has no duration")
        elif abs(media.duration - expect.duration) > expect.duration_tolerance:
            problems.append(
                f"duration {media.duration:.3f}s differs from the source's {expect.duration:.3f}s "
                f"by more than {expect.duration_tolerance:g}s"
            )
    colour = classify(video)
    if colour.dynamic != expect.dynamic:
        problems.append(f"video is {colour.dynamic}, expected {expect.dynamic}")
    if expect.dolby_vision and colour.dolby_vision is None:
        problems.append("Dolby Vision was expected but the output has none")
    tags = (video.color_primaries, video.transfer, video.matrix)
    for label, want, have in zip(("primaries", "transfer", "matrix"), expect.colour, tags, strict=True):
        if want is not None and have != want:
            problems.append(f"colour {label} is {have}, expected {want}")
    channels = tuple(a.channels for a in media.audio)
    if channels != expect.audio_channels:
        problems.append(f"audio channels {list(channels)}, expected {list(expect.audio_channels)}")
    not_opus = [a.index for a in media.audio if a.codec != "Opus"]
    if not_opus:
        problems.append(f"audio streams {not_opus} are not Opus")
    subtitles, chapters, attachments = output_counts(media)  # as ffmpeg reads them, covers among the attachments
    for label, count, wanted in (
        ("subtitle streams", subtitles, expect.subtitles),
        ("chapters", chapters, expect.chapters),
        ("attachments", attachments, expect.attachments),
    ):
        if count != wanted:
            problems.append(f"{count} {label}, expected {wanted}")
    return problems


_LOG_PREFIX = re.compile(r"^(\[[^\]]*\]\s*)+")  # ffmpeg's "[in#0/matroska,webm @ 0x55…] " context


class PacketRead(msgspec.Struct, frozen=True):
    """What reading every packet of a file found: the first video stream's packet count, where its
    video ends (seconds), and what the demuxer complained of (empty for a clean file); `last_frame` is
    the last frame's time after the first's (seconds)."""

    frames: int
    video_end: float | None
    errors: tuple[str, ...]
    last_frame: float | None = None


def parse_packets(listing: str, errors: str = "", returncode: int = 0) -> PacketRead:
    """framecrc's listing (`#tb 0: 1/1000`, then `0, dts, pts, duration, size, crc` per packet) and
    ffmpeg's error-level stderr, as a PacketRead. Pure."""
    packets = parse_framecrc(listing)
    span = packet_span(packets)
    end = max((p.pts + p.duration for p in packets.packets if p.pts is not None), default=None)
    complaints = [_LOG_PREFIX.sub("", line).strip() for line in errors.splitlines() if line.strip()]
    if returncode != 0 and not complaints:
        complaints.append(f"ffmpeg stopped reading it with exit code {returncode}")
    return PacketRead(
        frames=len(packets.packets),
        video_end=None if end is None else packets.seconds(end),
        errors=tuple(complaints),
        last_frame=None if span.first is None or span.last is None else span.last - span.first,
    )


def read_packets(ffmpeg: str, path: str) -> PacketRead:
    """Read every packet of `path` (a stream copy to a listing, no decode)."""
    done = run_capture(commands.packet_read_argv(ffmpeg, path), check=False)
    return parse_packets(done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace"), done.returncode)


def count_frames(ffmpeg: str, path: str) -> int:
    """The number of video packets in `path` (a stream copy, no decode)."""
    return read_packets(ffmpeg, path).frames


def packet_problems(read: PacketRead, expect: Expectations) -> list[str]:
    """Every way the packets read fall short of `expect`: a file that does not end cleanly, video that
    stops before the source's does, a frame count that differs, a last frame that is not at the source's
    last frame's time (both relative to their first frame, within LAST_FRAME_TOLERANCE). Pure."""
    problems = []
    if read.errors:
        problems.append(f"the file is damaged: {read.errors[0]}")
    end = expect.video_duration or expect.duration
    if end is not None and (read.video_end is None or read.video_end < end - expect.duration_tolerance):
        reached = "no video packets" if read.video_end is None else f"its video ends at {read.video_end:.3f}s"
        problems.append(f"{reached}, the source's runs to {end:.3f}s")
    if expect.frames is not None and read.frames != expect.frames:
        problems.append(f"{read.frames} video frames, the source has {expect.frames}")
    if expect.last_frame is not None and (
        read.last_frame is None or abs(read.last_frame - expect.last_frame) > LAST_FRAME_TOLERANCE + 1e-9
    ):
        found = "no" if read.last_frame is None else f"{read.last_frame:.3f}s after the first,"
        problems.append(f"its last frame is {found} the source's is {expect.last_frame:.3f}s after its first")
    return problems


def timeline_problems(expect: Expectations, listing: Listing | None) -> list[str]:
    """Every audio stream whose start, relative to the video's, moved by more than
    AUDIO_OFFSET_TOLERANCE from the source's (`listing` is the output's). Pure."""
    offsets = listing.audio_offsets() if listing else None
    if not expect.audio_offsets or offsets is None or len(offsets) != len(expect.audio_offsets):
        return []
    return [
        f"audio stream {i} starts {have * 1000:+.0f} ms from the video, the source's {want * 1000:+.0f} ms"
        for i, (have, want) in enumerate(zip(offsets, expect.audio_offsets, strict=True))
        if abs(have - want) > AUDIO_OFFSET_TOLERANCE
    ]


def attached_results(ffmpeg: str, path: Path) -> ChunkResults | None:
    """The per-chunk results a chunked encode attached to its output, or None."""
    with tempfile.TemporaryDirectory(prefix="drapto-") as folder:
        target = Path(folder) / CHUNK_RESULTS_NAME
        run_capture(commands.dump_attachment_argv(ffmpeg, str(path), CHUNK_RESULTS_NAME, str(target)), check=False)
        try:
            return msgspec.json.decode(target.read_bytes(), type=ChunkResults)
        except (OSError, msgspec.DecodeError):
            return None


def existing_expectations(source: MediaInfo, output: MediaInfo) -> Expectations:
    """What an output drapto finished earlier must show, from the source alone (the crop and mode that
    made it are unknown): the source's streams, duration and colour, a picture no larger than the
    source's as displayed (a rotated source's pixels are turned), and the attachments it carries from the
    source (plus the chunk results a chunked encode attaches). Pure."""
    width, height = displayed_size(source)
    if output.video and output.video[0].width <= width and output.video[0].height <= height:
        width, height = output.video[0].width, output.video[0].height
    attachments = carried_attachments(carry(source))
    if output_counts(output)[2] == attachments + 1:
        attachments += 1
    return source_expectations(source, width=width, height=height, attachments=attachments)


def existing_output_problems(ffmpeg: str, source: MediaInfo, path: Path) -> list[str]:
    """Why an existing output is not a finished encode of `source`; empty when it is one."""
    try:
        media = probe(path, ffmpeg)
    except DraptoError as error:
        return [error.message]
    return _problems(ffmpeg, path, media, existing_expectations(source, media))


def _problems(ffmpeg: str, path: Path, media: MediaInfo, expect: Expectations) -> list[str]:
    """`media` is the output probed with ffmpeg's listing (`probe(path, ffmpeg)`), which holds its pixel format."""
    return (
        check_output(expect, media, pixel_format(media.listing))
        + timeline_problems(expect, media.listing)
        + packet_problems(read_packets(ffmpeg, str(path)), expect)
    )


def damaged_source(decoded: float | None, declared: float | None, tolerance: float = 1.0) -> str | None:
    """The message for a source that decodes to clearly less than its container declares (a truncated
    download, a bad rip): that is the source's fault, and the user must hear so, not that the output is
    short. Pure."""
    if decoded is None or declared is None or decoded >= declared - tolerance:
        return None
    return (
        f"The source is damaged: its video decodes to {decoded:.1f}s, but its container declares "
        f"{declared:.1f}s (truncated or corrupt); drapto does not encode part of a film"
    )


def validate_output(ffmpeg: str, path: Path, expect: Expectations) -> None:
    media = probe(path, ffmpeg)
    damaged = damaged_source(media.duration, expect.duration, expect.duration_tolerance)
    if damaged:  # every frame that decoded was encoded, so a short output means a short source
        raise SourceDamagedError(damaged)
    problems = _problems(ffmpeg, path, media, expect)
    if problems:
        raise ValidationError(f"Output failed validation: {'; '.join(problems)}", detail="\n".join(problems))
