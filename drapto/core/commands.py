"""Every ffmpeg command line drapto runs, each built by exactly one pure function.

Snapshot tests pin each builder's output; nothing else in drapto assembles an argv.

Reason: over 450 lines because that is the rule itself: every command line drapto runs (some twenty
builders) is built here and nowhere else, with the option groups they share.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from drapto.core.carry import Carry

# Quiet, machine-readable progress on stdout, never reading stdin, always overwriting our own temp names.
_RUN_FLAGS = ("-hide_banner", "-nostdin", "-loglevel", "error", "-nostats", "-progress", "pipe:1", "-y")
# Every video encode writes each frame it is given once, at the time it came with: the default frame-rate
# mode for Matroska is constant (it dropped 107 of the 252 frames of a 24-then-60 fps source), and the
# encoder's default time base (1/frame rate) rounds a variable frame rate's times onto that grid (duplicate
# timestamps). `-enc_time_base filter` keeps the filter chain's, i.e. the source's, time base.
KEEP_FRAME_TIMES = ("-fps_mode", "passthrough", "-enc_time_base", "filter")


def source_clock(start: float | None) -> list[str]:
    """Input options (before `-i SOURCE`) that put the source's timestamps on its file's clock: seconds from
    the file's start, `start` (`Listing.start`), as `-ss` counts. Without them ffmpeg shifts each command's
    input by the start of the streams it uses (an MPEG-TS: by the used stream's own start), so a stream that
    began after the file's start (audio 0.5 s after the video, a TS's video 23 ms after its audio) lost its
    offset. `-copyts` stops that shift; `-itsoffset -start` counts from the file's start instead of its
    absolute timestamps (a TS starts at e.g. 1.4 s). None (start unknown): ffmpeg's own shift."""
    return [] if start is None else ["-copyts", *_from_file_start(start)]


def _from_file_start(start: float | None) -> list[str]:
    """The input offset that makes a file whose first timestamp is `start` count from 0 under `-copyts`."""
    return ["-itsoffset", f"{-start:.6f}"] if start else []


class StreamTags(msgspec.Struct, frozen=True, kw_only=True):
    """Per-stream tags the mux writes explicitly, so the plan shows exactly what the output will carry."""

    language: str | None = None
    title: str | None = None
    disposition: str = "0"  # ffmpeg syntax: "default+forced", or "0" for none


def svt_params(*, keyint_seconds: int, film_grain: int, film_grain_denoise: bool, threads: int | None = None) -> str:
    """SVT-AV1's own options; `threads` (its `lp`, level of parallelism) caps the threads one encoder uses."""
    params = f"tune=0:keyint={keyint_seconds}s:film-grain={film_grain}:film-grain-denoise={int(film_grain_denoise)}"
    return params + (f":lp={threads}" if threads else "")


def video_encode_argv(
    ffmpeg: str,
    source: str,
    target: str,
    *,
    crf: int,
    preset: int,
    keyint_seconds: int,
    film_grain: int,
    film_grain_denoise: bool,
    picture: str | None,
    colour: Sequence[str] = (),
    dolby_vision: bool = False,
    source_start: float | None = None,
) -> list[str]:
    """SVT-AV1 10-bit encode of the first video stream only; audio, subtitles and tags come later.
    `picture` is the video filter chain (field treatment, crop: `picture.video_filters`); `colour` holds
    the source's colour tags as ffmpeg flags; `dolby_vision` keeps the RPU (only ever set for a Dolby
    Vision source: libsvtav1 fails to open with it on any other). Every frame keeps its time
    (`KEEP_FRAME_TIMES`) on the source file's clock (`source_clock`), which the mux keeps."""
    svt = svt_params(keyint_seconds=keyint_seconds, film_grain=film_grain, film_grain_denoise=film_grain_denoise)
    return [
        ffmpeg, *_RUN_FLAGS,
        *source_clock(source_start), "-i", source,
        "-map", "0:V:0",
        *(["-vf", picture] if picture else []),
        *KEEP_FRAME_TIMES,
        "-c:v", "libsvtav1",
        "-pix_fmt", "yuv420p10le",
        "-preset", str(preset),
        "-crf", str(crf),
        "-svtav1-params", svt,
        *colour,
        *(["-dolbyvision", "1"] if dolby_vision else []),
        "-an", "-sn", "-dn",
        "-map_metadata", "-1", "-map_chapters", "-1",
        "-f", "matroska", target,
    ]  # fmt: skip


def audio_encode_argv(
    ffmpeg: str,
    source: str,
    target: str,
    *,
    index: int,
    bitrate_kbps: int,
    layout: str | None,
    source_start: float | None = None,
) -> list[str]:
    """One audio stream to Opus. `layout` (same channel count) makes libopus accept odd source layouts;
    `None` means more than 8 channels, which libopus only takes with mapping family 255. The stream keeps
    its start on the source file's clock (`source_clock`): audio 0.5 s after the file's start stays there."""
    layout_args = ["-af", f"aformat=channel_layouts={layout}"] if layout else ["-mapping_family", "255"]
    return [
        ffmpeg, *_RUN_FLAGS,
        *source_clock(source_start), "-i", source,
        "-map", f"0:a:{index}",
        "-vn", "-sn", "-dn",
        "-map_metadata", "-1", "-map_chapters", "-1",
        "-c:a", "libopus",
        "-b:a", f"{bitrate_kbps}k",
        *layout_args,
        "-f", "matroska", target,
    ]  # fmt: skip


def _tag_args(kind: str, index: int, tags: StreamTags) -> list[str]:
    args: list[str] = []
    if tags.language:
        args += [f"-metadata:s:{kind}:{index}", f"language={tags.language}"]
    if tags.title:
        args += [f"-metadata:s:{kind}:{index}", f"title={tags.title}"]
    return [*args, f"-disposition:{kind}:{index}", tags.disposition]


def mux_argv(
    ffmpeg: str,
    source: str,
    video: str,
    audio: Sequence[str],
    target: str,
    *,
    video_tags: StreamTags,
    audio_tags: Sequence[StreamTags],
    carry: Carry,
    cover_files: Sequence[str] = (),
    attach_json: str | None = None,
    source_start: float | None = None,
    video_start: float | None = None,
) -> list[str]:
    """Stream-copy the encoded video and audio, plus what `carry` takes from the source: subtitles (each
    copied or converted to the codec Matroska needs), attachment streams, chapters and global tags.
    `cover_files[i]` is `carry.covers[i]` extracted (`cover_argv`), attached under its name and type.
    `attach_json` adds a JSON file as one more attachment.

    Timestamps (with `source_start`, the source file's start): `-copyts` keeps every input's own, where
    ffmpeg would shift each input by its start (audio that began 0.5 s after the video came out at 0);
    the encoded audio and a standard video already count from the source file's start, and the source
    (subtitles, chapters) is put on that clock (`source_clock`). `video_start` places a video that starts
    at 0 (the chunks' concat) where the source's first frame was."""
    source_input = 1 + len(audio)
    argv = [ffmpeg, *_RUN_FLAGS, *(["-copyts"] if source_start is not None else [])]
    argv += [*(["-itsoffset", f"{video_start:.6f}"] if video_start else []), "-i", video]
    for path in audio:
        argv += ["-i", path]
    argv += [*_from_file_start(source_start), "-i", source, "-map", "0:V:0"]
    for i in range(len(audio)):
        argv += ["-map", f"{1 + i}:a:0"]
    for subtitle in carry.subtitles:
        argv += ["-map", f"{source_input}:{subtitle.stream}"]
    for stream in carry.attachments:
        argv += ["-map", f"{source_input}:{stream}"]
    argv += ["-c", "copy"]
    for i, subtitle in enumerate(carry.subtitles):
        if subtitle.codec != "copy":
            argv += [f"-c:s:{i}", subtitle.codec]
    argv += ["-map_metadata", str(source_input), "-map_chapters", str(source_input)]
    argv += _tag_args("v", 0, video_tags)
    for i, tags in enumerate(audio_tags):
        argv += _tag_args("a", i, tags)
    attached = carry.attachment_count
    for cover, path in zip(carry.covers, cover_files, strict=True):
        argv += ["-attach", path, f"-metadata:s:t:{attached}", f"mimetype={cover.mimetype}"]
        argv += [f"-metadata:s:t:{attached}", f"filename={cover.filename}"]
        attached += 1
    if attach_json:
        argv += ["-attach", attach_json, f"-metadata:s:t:{attached}", "mimetype=application/json"]
    return [*argv, "-f", "matroska", target]


def cover_argv(ffmpeg: str, source: str, index: int, target: str) -> list[str]:
    """An attached picture (cover art, the source's stream `index`) as the image file it holds: its one
    packet copied out as it is (`-f data`), so the mux can attach it (Matroska's muxer writes a mapped
    attached picture as a video track, not an attachment)."""
    return [ffmpeg, *_RUN_FLAGS, "-i", source, "-map", f"0:{index}", "-c", "copy", "-f", "data", target]


def cropdetect_argv(ffmpeg: str, source: str, *, start: float, frames: int, limit: str) -> list[str]:
    """idet (interlacing) and cropdetect over `frames` frames from the keyframe at or before `start`; both
    print at info level on stderr. `-noaccurate_seek` skips decoding from that keyframe up to `start` (up
    to a whole GOP per sample), and one decoder thread each suits many samples running side by side."""
    return [
        ffmpeg, "-hide_banner", "-nostdin", "-nostats", "-loglevel", "info",
        "-threads", "1", "-noaccurate_seek", "-ss", f"{start:.2f}",
        "-i", source,
        "-map", "0:V:0",
        "-frames:v", str(frames),
        "-vf", f"idet,cropdetect=limit={limit}:round=2:reset=1:skip=0",
        "-an", "-sn", "-dn",
        "-f", "null", "-",
    ]  # fmt: skip


def damage_locate_argv(ffmpeg: str, source: str) -> list[str]:
    """One more decode of a source whose read printed errors, to place them in time: `-debug_ts` logs each
    demuxed packet's and decoded frame's time in the same stream as the demuxer's and decoder's errors, and
    `level` tags each line with its level (drapto.core.damage reads it). Only a damaged source pays it."""
    return [
        ffmpeg, "-hide_banner", "-nostdin", "-nostats", "-loglevel", "level+info", "-debug_ts",
        "-i", source, "-map", "0:V:0", "-an", "-sn", "-dn", "-f", "null", "-",
    ]  # fmt: skip


def stream_summary_argv(ffmpeg: str, path: str) -> list[str]:
    """ffmpeg's own stream listing (on stderr): the only place the decoder's pixel format shows,
    which MediaInfo does not report for AV1 in Matroska."""
    return [ffmpeg, "-hide_banner", "-nostdin", "-i", path]


def encoder_help_argv(ffmpeg: str, encoder: str) -> list[str]:
    """The options an encoder takes (e.g. whether libsvtav1 has `-dolbyvision`)."""
    return [ffmpeg, "-hide_banner", "-nostdin", "-h", f"encoder={encoder}"]


def encoder_version_argv(ffmpeg: str) -> list[str]:
    """One 64x64 frame through libsvtav1 into nothing: SVT-AV1 prints its library version as it starts
    (with SVT_LOG=3). About 0.03 s."""
    return [
        ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "color=s=64x64:d=0.04",
        "-frames:v", "1", "-c:v", "libsvtav1", "-preset", "13", "-f", "null", "-",
    ]  # fmt: skip


def ffmpeg_version_argv(ffmpeg: str) -> list[str]:
    return [ffmpeg, "-hide_banner", "-nostdin", "-version"]


def capabilities_argv(ffmpeg: str, listing: str) -> list[str]:
    """`listing` is "encoders" or "filters"."""
    return [ffmpeg, "-hide_banner", "-nostdin", f"-{listing}"]


def scene_scan_argv(
    ffmpeg: str,
    source: str,
    *,
    crop: str | None,
    scan_width: int | None,
    frames_log: str,
    keyframes_log: str,
    packets_log: str,
    source_start: float | None = None,
) -> list[str]:
    """One decode of the whole video for the chunk planner: scdet's per-frame scene score and every
    frame's time go to `frames_log`, the keyframes' times to `keyframes_log` (relative names: ffmpeg runs
    in the scan's folder). The picture is cropped as the encode will be (black bars only dilute the
    score), and `scan_width` downscales it, which keeps scdet cheap on big pictures. The same read also
    lists the source's video packets (timestamps and sizes) to `packets_log` by stream copy: the bytes the
    source's encoder spent on each frame, a free measure of how hard each chunk is to encode. The times are
    on the source file's clock (`source_clock`), the one the chunks' `-ss` seeks count on: without it a
    TS's frames counted from the video's own start (ffmpeg's shift), 23 ms off the seeks' clock when the
    audio led, which moved every chunk by a frame."""
    crop_filter = f"crop={crop}," if crop else ""
    scale = f"scale={scan_width}:-2:flags=area," if scan_width else ""
    graph = (
        f"[0:V:0]{crop_filter}{scale}scdet=threshold=100,metadata=mode=print:file={frames_log},"
        rf"select='eq(key\,1)',metadata=mode=print:file={keyframes_log}[scan]"
    )
    return [
        ffmpeg, *_RUN_FLAGS,
        *source_clock(source_start), "-i", source,
        "-filter_complex", graph,
        "-map", "[scan]", "-an", "-sn", "-dn",
        "-f", "null", "-",
        "-map", "0:V:0", "-c", "copy", "-f", "framecrc", packets_log,
    ]  # fmt: skip


def chunk_encode_argv(
    ffmpeg: str,
    source: str,
    target: str,
    *,
    seek: float,
    stop: float | None,
    frames: int,
    skip: int = 0,
    crf: float,
    preset: int,
    svt: str,
    picture: str | None,
    keep: tuple[int, int] | None = None,
    restart: bool = False,
    colour: Sequence[str] = (),
    dolby_vision: bool = False,
    scoring_filter: str,
    libvmaf: str,
) -> list[str]:
    """Encode one chunk (frames [start, start + frames) of the source) and score it in the same process.

    An accurate input seek to `seek` (the source keyframe at or before the first frame read) decodes from
    there; `trim` drops the `skip` frames before the first frame read and guarantees the count; `-t` stops
    reading halfway after the last frame read. The frames, through the picture's filters (`picture`, `keep`,
    `restart`: see `_chunk_frames`) and made 10-bit, are split: one copy goes to SVT-AV1 (the fractional
    CRF only reaches SVT through `-svtav1-params`; `-crf` would truncate it), the other is the VMAF
    reference. A loopback decoder (`-dec 0:0`) decodes the encode again for libvmaf, whose per-frame
    log goes to a relative file name (ffmpeg runs in the chunk's folder)."""
    return [
        ffmpeg, *_RUN_FLAGS,
        *_chunk_window(seek, stop), "-i", source,
        "-filter_complex",
        f"[0:V:0]{_chunk_frames(skip, frames, picture, keep, restart)},format=yuv420p10le,split[enc][ref]",
        "-map", "[enc]",
        *KEEP_FRAME_TIMES,
        "-c:v", "libsvtav1",
        "-preset", str(preset),
        "-svtav1-params", f"{svt}:crf={crf:g}",
        *colour,
        *(["-dolbyvision", "1"] if dolby_vision else []),
        "-an", "-sn", "-dn",
        "-map_metadata", "-1", "-map_chapters", "-1",
        "-f", "matroska", target,
        "-dec", "0:0",
        "-filter_complex", f"[dec:0]{scoring_filter}[dis];[ref]{scoring_filter}[ref2];[dis][ref2]{libvmaf}[vmaf]",
        "-map", "[vmaf]", "-f", "null", "-",
    ]  # fmt: skip


def chunk_copy_argv(ffmpeg: str, source: str, target: str, *, seek: float, duration: float | None) -> list[str]:
    """A chunk's source packets for a cluster worker without the source: the video stream copied from the
    keyframe at or before `seek` (`-copypriorss 1` keeps the packets before the seek point) for `duration`
    seconds counted from `seek`, with the source's own timestamps (`-copyts`), so the copy's start time
    says where the chunk's seek and stop fall in it."""
    return [
        ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        *(["-ss", f"{seek:.6f}"] if seek > 0 else []), *(["-t", f"{duration:.6f}"] if duration is not None else []),
        "-i", source,
        "-map", "0:V:0", "-c", "copy", "-copyts", "-copypriorss", "1",
        "-an", "-sn", "-dn", "-map_metadata", "-1", "-map_chapters", "-1",
        "-f", "matroska", target,
    ]  # fmt: skip


def start_time_argv(ffmpeg: str, path: str) -> list[str]:
    """ffmpeg's description of a file, whose `start: S` is the time `-ss` counts from (exits 1: no output)."""
    return [ffmpeg, "-hide_banner", "-nostdin", "-i", path]


def concat_argv(ffmpeg: str, concat_list: str, target: str) -> list[str]:
    """Join the encoded chunks by stream copy. The list names chunks relative to its own folder, so no
    path with quotes or newlines is ever written into it; each entry carries its exact duration, which
    places the next chunk on the source's timeline."""
    return [
        ffmpeg, *_RUN_FLAGS,
        "-f", "concat", "-safe", "0", "-i", concat_list,
        "-map", "0:V:0", "-c", "copy",
        "-map_metadata", "-1", "-map_chapters", "-1",
        "-f", "matroska", target,
    ]  # fmt: skip


def packet_read_argv(ffmpeg: str, path: str, source_start: float | None = None) -> list[str]:
    """Read every packet of `path` by stream copy (no decode: it runs at disk speed), listing the first
    video stream's packets (time base, timestamps, durations) on stdout. The demuxer parses the whole
    file, so a cut or corrupt file shows as errors on stderr or as video that ends early. With
    `source_start` the times are on the file's clock (`source_clock`: the probe's read of a source). Like
    a decode, a stream copy starts at the first keyframe (a TS cut mid-GOP: as many packets as frames)."""
    return [
        ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-nostats",
        *source_clock(source_start), "-i", path, "-map", "0:V:0", "-c", "copy", "-f", "framecrc", "-",
    ]  # fmt: skip


def audio_starts_argv(ffmpeg: str, path: str, source_start: float | None = None) -> list[str]:
    """Decode the first frame of every audio stream of `path`, listing its time on the file's clock
    (`source_clock`): where each stream's sound starts. A packet's time is not that: a WMA stream's first
    packet sits at 0 and its first decoded sound at 0.086 s (the decoder drops its preroll), so the
    offset to the video is read from the decoded frames, as the Opus encode of the stream sees them."""
    return [
        ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-nostats",
        *source_clock(source_start), "-i", path, "-map", "0:a", "-vn", "-sn", "-dn",
        "-c:a", "pcm_s16le", "-frames:a", "1", "-f", "framecrc", "-",
    ]  # fmt: skip


def concat_list(entries: Sequence[tuple[str, float]]) -> str:
    """The concat demuxer's list: plain file names (no quoting needed) with their durations."""
    lines = ["ffconcat version 1.0"]
    for name, duration in entries:
        if not name.replace(".", "").replace("-", "").replace("_", "").isalnum():
            raise ValueError(f"concat entries must be plain file names, got {name!r}")
        lines += [f"file {name}", f"duration {duration:.6f}"]
    return "\n".join(lines) + "\n"


def dump_attachment_argv(ffmpeg: str, path: str, filename: str, target: str) -> list[str]:
    """Write the attachment called `filename` to `target`. ffmpeg dumps attachments while opening the
    input and then complains that no output was given; the caller judges by the file, not the exit code."""
    return [
        ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        f"-dump_attachment:m:filename:{filename}", target,
        "-i", path,
    ]  # fmt: skip


def _chunk_frames(
    skip: int, frames: int, picture: str | None, keep: tuple[int, int] | None = None, restart: bool = False
) -> str:
    """The chunk's frames out of those its seek decodes: `skip` dropped, then `frames` read (chunks.read_from),
    through the picture's filters; of the filtered frames [a, b) kept (`keep`), their clock restarted."""
    read = f"trim=start_frame={skip}:end_frame={skip + frames}" if skip else f"trim=end_frame={frames}"
    after = ([f"trim=start_frame={keep[0]}:end_frame={keep[1]}"] if keep else []) + ["setpts=PTS-STARTPTS"] * restart
    return ",".join([read, *([picture] if picture else []), *after])


def _chunk_window(seek: float, stop: float | None) -> list[str]:
    """The input options that read one chunk, as `chunk_encode_argv` reads it (see there)."""
    return (["-ss", f"{seek:.6f}"] if seek > 0 else []) + (["-t", f"{stop - seek:.6f}"] if stop is not None else [])


def chunk_cut_argv(
    ffmpeg: str,
    source: str,
    target: str,
    *,
    seek: float,
    stop: float | None,
    frames: int,
    skip: int = 0,
    picture: str | None,
    keep: tuple[int, int] | None = None,
    restart: bool = False,
    colour: Sequence[str] = (),
) -> list[str]:
    """The chunk's frames, read as `chunk_encode_argv` reads them, through the picture's filters, to a lossless 10-bit FFV1
    file: the input ab-av1 needs, as its search and encode run on a file. `-g 1` makes every frame a
    keyframe, so ab-av1's stream-copy samples start exactly where it asks; `colour` tags the file with
    the source's colour, which ab-av1's encode then inherits."""
    return [
        ffmpeg, *_RUN_FLAGS,
        *_chunk_window(seek, stop), "-i", source,
        "-map", "0:V:0",
        "-vf", _chunk_frames(skip, frames, picture, keep, restart),
        *KEEP_FRAME_TIMES,
        "-c:v", "ffv1", "-level", "3", "-g", "1",
        "-pix_fmt", "yuv420p10le",
        *colour,
        "-an", "-sn", "-dn",
        "-map_metadata", "-1", "-map_chapters", "-1",
        "-f", "matroska", target,
    ]  # fmt: skip


def abav1_argv(
    ab_av1: str,
    source: str,
    target: str,
    *,
    min_vmaf: float,
    preset: int,
    svt: str,
    keyint_seconds: int,
    samples: int,
    sample_seconds: int,
    vmaf: str,
    dolby_vision: bool = False,
) -> list[str]:
    """The seed's `ab-av1 auto-encode` of one chunk: search the CRF that reaches `min_vmaf` on `samples`
    samples of `sample_seconds` each, then encode the whole input at it. `svt` must not hold keyint
    (ab-av1 takes it as `--keyint`); `vmaf` holds extra libvmaf options, `k=v` joined by colons."""
    return [
        ab_av1, "auto-encode",
        "--input", source,
        "--output", target,
        "--encoder", "libsvtav1",
        "--min-vmaf", f"{min_vmaf:g}",
        "--preset", str(preset),
        *(["--svt", svt] if svt else []),
        "--keyint", f"{keyint_seconds}s",
        "--samples", str(samples),
        "--sample-duration", f"{sample_seconds}s",
        "--vmaf", vmaf,
        "--pix-format", "yuv420p10le",
        *(["--enc", "dolbyvision=true"] if dolby_vision else []),
    ]  # fmt: skip


def chunk_score_argv(
    ffmpeg: str,
    source: str,
    encoded: str,
    *,
    seek: float,
    stop: float | None,
    frames: int,
    skip: int = 0,
    picture: str | None,
    keep: tuple[int, int] | None = None,
    restart: bool = False,
    scoring_filter: str,
    libvmaf: str,
) -> list[str]:
    """Score an encoded chunk against the source's chunk (read and filtered as `chunk_encode_argv` reads
    it): distorted first, reference second. `libvmaf` names its per-frame log relative to the chunk's
    folder, where ffmpeg runs, as in `chunk_encode_argv`. `scoring_filter` retimes both sides from their
    frame index (vmaf.side_filter), so libvmaf pairs frames by position whatever clock each file kept."""
    return [
        ffmpeg, *_RUN_FLAGS,
        "-i", encoded,
        *_chunk_window(seek, stop), "-i", source,
        "-filter_complex",
        f"[0:V:0]{scoring_filter}[dis];"
        f"[1:V:0]{_chunk_frames(skip, frames, picture, keep, restart)},format=yuv420p10le,{scoring_filter}[ref];"
        f"[dis][ref]{libvmaf}[vmaf]",
        "-map", "[vmaf]", "-f", "null", "-",
    ]  # fmt: skip


def file_score_argv(
    ffmpeg: str, source: str, encoded: str, *, picture: str | None, scoring_filter: str, libvmaf: str
) -> list[str]:
    """Score a whole encoded file against its source, every frame (`drapto report --vmaf`): distorted first,
    reference second, the reference filtered (`picture`: field treatment, crop) and made 10-bit as the
    encode's input was, both retimed from their frame index (vmaf.side_filter) as `chunk_score_argv` does.
    `libvmaf` names its per-frame log relative to the folder ffmpeg runs in."""
    picture_filters = f"{picture}," if picture else ""
    return [
        ffmpeg, *_RUN_FLAGS,
        "-i", encoded,
        "-i", source,
        "-filter_complex",
        f"[0:V:0]{scoring_filter}[dis];"
        f"[1:v:0]{picture_filters}format=yuv420p10le,{scoring_filter}[ref];"
        f"[dis][ref]{libvmaf}[vmaf]",
        "-map", "[vmaf]", "-f", "null", "-",
    ]  # fmt: skip
