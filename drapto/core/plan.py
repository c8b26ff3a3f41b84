"""Pure planning: probe data + settings → an immutable EncodePlan of steps with their argv.

Reason: over 450 lines while the issue-23 branches merge (the timeline's rules move to core/timeline.py).

`drapto plan` prints this plan; the doit graph (drapto.graph.taskgraph) carries it out. Nothing here runs a process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import msgspec

from drapto.core import commands, picture
from drapto.core.audio import opus_kbps_for, opus_layout
from drapto.core.carry import Carry, carried_attachments, carry, dropped_notice
from drapto.core.chunks import plan_chunks, with_neighbours
from drapto.core.config import Config
from drapto.core.filmmodel import choose_scouts, chunk_features
from drapto.core.hdr import ColourInfo, classify, colour_args
from drapto.core.media import AudioStream, MediaInfo, VideoStream
from drapto.core.picture import Fields, Treatment
from drapto.core.prediction import start_point
from drapto.core.reach import first_scouts, may_settle
from drapto.core.scenes import SceneScan
from drapto.core.search import SearchSettings
from drapto.core.timeline import audio_offsets, frame_expectations, source_start
from drapto.core.units import ChunkUnit, EncodeSettings
from drapto.core.vmaf import scoring_for, small_picture_note
from drapto.core.workers import Budget
from drapto.core.workpaths import WorkPaths, partial_name, work_paths
from drapto.errors import InputError

Resolution = Literal["SD", "HD", "UHD"]
Mode = Literal["standard", "chunked"]
# VMAF targets when none is configured (ab-av1's scale; the seed's Python era used 95 for HDR).
TARGET_VMAF_SDR = 93.0
TARGET_VMAF_HDR = 95.0


class Step(msgspec.Struct, frozen=True, kw_only=True):
    name: str  # doit sub-task name, also shown to users
    stage: Literal["video", "audio", "mux"]  # a cover's extraction is part of the mux stage
    argv: tuple[str, ...]
    inputs: tuple[str, ...]  # files whose content the result depends on
    target: str  # the finished file
    partial: str  # where argv writes; renamed to `target` only on success
    duration: float | None = None  # seconds of media processed, for progress


class Expectations(msgspec.Struct, frozen=True, kw_only=True):
    """What the muxed output must show, derived from the source and the plan."""

    width: int
    height: int
    bit_depth: int = 10
    duration: float | None
    duration_tolerance: float = 1.0
    video_duration: float | None = None  # the source's video stream, where the output's video must end
    audio_channels: tuple[int, ...]
    subtitles: int
    chapters: int
    attachments: int
    dynamic: str = "SDR"  # SDR, HDR10, PQ or HLG (drapto.core.hdr)
    dolby_vision: bool = False
    colour: tuple[str | None, str | None, str | None] = (None, None, None)  # MediaInfo primaries, transfer, matrix
    frames: int | None = None  # the frames the output's video must have (frame_expectations); None: unknown
    last_frame: float | None = None  # where its last frame must be: seconds after its first (frame_expectations)
    audio_offsets: tuple[float, ...] = ()  # timeline.audio_offsets: each audio's start minus the video's


def source_expectations(
    media: MediaInfo,
    *,
    width: int,
    height: int,
    attachments: int,
    dolby_vision: bool = False,
    treatment: Treatment = "none",
) -> Expectations:
    """What an output of `media` must show: its streams, duration and colour, at the given picture size
    and attachment count (a plan knows them; a finished output's check infers them). The subtitles and
    chapters are those the output carries (drapto.core.carry)."""
    video = media.video[0]
    carried = carry(media)
    frames, last_frame = frame_expectations(media, treatment=treatment)
    return Expectations(
        width=width,
        height=height,
        duration=media.duration,
        video_duration=video.duration or media.duration,
        audio_channels=tuple(s.channels for s in media.audio),
        subtitles=len(carried.subtitles),
        chapters=carried.chapters,
        attachments=attachments,
        dynamic=classify(video).dynamic,
        dolby_vision=dolby_vision,
        colour=(video.color_primaries, video.transfer, video.matrix),
        frames=frames,
        last_frame=last_frame,
        audio_offsets=audio_offsets(media),
    )


class EncodePlan(msgspec.Struct, frozen=True, kw_only=True):
    source: str
    paths: WorkPaths
    mode: Mode = "standard"
    resolution: Resolution
    crf: int  # the standard path's CRF (by width class)
    preset: int
    crop: str | None
    steps: tuple[Step, ...]
    expect: Expectations
    dynamic: str = "SDR"
    dolby_vision: str | None = None  # the source's profile
    notices: tuple[str, ...] = ()  # things the user must be told before encoding
    rotation: int = 0  # the source's display rotation, which ffmpeg's autorotate turns the pixels by
    fields: Fields | None = None  # the interlace verdict and its treatment (None: not judged)
    target_vmaf: float | None = None  # chunked: the per-chunk VMAF target
    chunks: tuple[ChunkUnit, ...] = ()  # chunked: one work unit per chunk, in source order
    workers: int = 1  # chunked: chunk units run at once
    vmaf_scale: str = "auto"  # chunked: the vmaf_scale setting the chunks' scoring came from
    audio_kbps: tuple[int, ...] = ()  # each audio stream's Opus bitrate


def resolution_class(width: int) -> Resolution:
    """By width only, so letterboxed and cropped films keep their class."""
    if width >= 3840:
        return "UHD"
    if width >= 1920:
        return "HD"
    return "SD"


def crf_for(width: int, config: Config) -> int:
    return {"SD": config.crf_sd, "HD": config.crf_hd, "UHD": config.crf_uhd}[resolution_class(width)]


def _disposition(default: bool, forced: bool) -> str:
    return "+".join(flag for flag, on in (("default", default), ("forced", forced)) if on) or "0"


def _audio_tags(stream: AudioStream) -> commands.StreamTags:
    return commands.StreamTags(
        language=stream.language, title=stream.title, disposition=_disposition(stream.default, stream.forced)
    )


def _crop_size(crop: str | None, width: int, height: int) -> tuple[int, int]:
    if not crop:
        return width, height
    w, h, _x, _y = (int(v) for v in crop.split(":"))
    return w, h


def effective_mode(config: Config, colour: ColourInfo) -> Mode:
    """`auto` is chunked, except for Dolby Vision, which takes the standard path unless asked for."""
    if config.mode != "auto":
        return config.mode
    return "standard" if colour.dolby_vision is not None else "chunked"


def target_vmaf(config: Config, colour: ColourInfo) -> float:
    if config.target_vmaf is not None:
        return config.target_vmaf
    return TARGET_VMAF_HDR if colour.is_hdr else TARGET_VMAF_SDR


class _Common(msgspec.Struct, frozen=True, kw_only=True):
    """What both modes share: the audio and cover steps, the expectations, the notices."""

    video: VideoStream
    colour: ColourInfo
    keep_rpu: bool
    audio_steps: tuple[Step, ...]
    cover_steps: tuple[Step, ...]  # each attached picture extracted, for the mux to attach
    carry: Carry
    expect: Expectations
    notices: tuple[str, ...]


def _common(
    media: MediaInfo,
    paths: WorkPaths,
    ffmpeg: str,
    crop: str | None,
    dolby_vision_rpu: bool,
    treatment: Treatment = "none",
) -> _Common:
    if not media.video:
        raise InputError(f"No video stream in {media.path}")
    video = media.video[0]
    for stream in media.audio:
        if stream.channels < 1:
            raise InputError(f"Audio stream {stream.index} of {media.path} reports no channel count")
    colour = classify(video)
    keep_rpu = colour.dolby_vision is not None and dolby_vision_rpu
    notices = []
    if colour.dolby_vision is not None and not keep_rpu:
        notices.append(
            f"Dolby Vision (profile {colour.dolby_vision}) will be LOST: this ffmpeg's libsvtav1 has no "
            "-dolbyvision option, so only the base layer" + (" (HDR10)" if colour.is_hdr else "") + " is encoded."
        )
    audio_steps = []
    for stream in media.audio:
        target = paths.audio(stream.index)
        audio_steps.append(
            Step(
                name=f"audio-{stream.index:02d}",
                stage="audio",
                argv=tuple(
                    commands.audio_encode_argv(
                        ffmpeg,
                        media.path,
                        partial_name(target),
                        index=stream.index,
                        bitrate_kbps=opus_kbps_for(stream),
                        layout=opus_layout(stream.channels),
                        source_start=source_start(media),
                    )
                ),
                inputs=(media.path,),
                target=target,
                partial=partial_name(target),
                duration=stream.duration or media.duration,
            )
        )
    carried = carry(media)
    cover_steps = []
    for cover in carried.covers:
        target = paths.cover(cover.index, cover.filename)
        argv = commands.cover_argv(ffmpeg, media.path, cover.index, partial_name(target))
        step = Step(name=f"cover-{cover.index:02d}", stage="mux", argv=tuple(argv), inputs=(media.path,),
                    target=target, partial=partial_name(target))  # fmt: skip
        cover_steps.append(step)
    if notice := dropped_notice(carried):
        notices.append(notice)
    width, height = _crop_size(crop, *picture.displayed_size(media))
    expect = source_expectations(
        media,
        width=width,
        height=height,
        attachments=carried_attachments(carried),
        dolby_vision=keep_rpu,
        treatment=treatment,
    )
    return _Common(
        video=video, colour=colour, keep_rpu=keep_rpu, audio_steps=tuple(audio_steps),
        cover_steps=tuple(cover_steps), carry=carried,
        expect=expect, notices=tuple(notices),
    )  # fmt: skip


def _mux_step(
    media: MediaInfo,
    paths: WorkPaths,
    ffmpeg: str,
    carried: Carry,
    attach: str | None = None,
    video_start: float | None = None,
) -> Step:
    """`video_start`: where the source's first frame is on its file's clock, for a video that starts at 0."""
    video = media.video[0]
    start = source_start(media)
    audio_targets = [paths.audio(s.index) for s in media.audio]
    covers = [paths.cover(c.index, c.filename) for c in carried.covers]
    return Step(
        name="mux",
        stage="mux",
        argv=tuple(
            commands.mux_argv(
                ffmpeg,
                media.path,
                paths.video,
                audio_targets,
                partial_name(paths.muxed),
                video_tags=commands.StreamTags(language=video.language, title=video.title, disposition="default"),
                audio_tags=[_audio_tags(s) for s in media.audio],
                carry=carried,
                cover_files=covers,
                attach_json=attach,
                source_start=start,
                video_start=video_start if start is not None else None,
            )
        ),
        inputs=(media.path, paths.video, *audio_targets, *covers, *([attach] if attach else [])),
        target=paths.muxed,
        partial=partial_name(paths.muxed),
        duration=media.duration,
    )


def plan_standard(
    media: MediaInfo,
    config: Config,
    *,
    ffmpeg: str,
    output: Path,
    crop: str | None = None,
    dolby_vision_rpu: bool = True,
    fields: Fields | None = None,
) -> EncodePlan:
    """One CRF encode of the whole video (CRF by width class), one Opus step per audio stream, one mux.
    `dolby_vision_rpu` says whether this ffmpeg's libsvtav1 can carry a Dolby Vision RPU; `fields` is the
    crop step's verdict on interlacing (None: progressive)."""
    paths = work_paths(output)
    common = _common(media, paths, ffmpeg, crop, dolby_vision_rpu, fields.treatment if fields else "none")
    video = common.video
    crf = crf_for(video.width, config)
    video_step = Step(
        name="video",
        stage="video",
        argv=tuple(
            commands.video_encode_argv(
                ffmpeg,
                media.path,
                partial_name(paths.video),
                crf=crf,
                preset=config.preset,
                keyint_seconds=config.keyint_seconds,
                film_grain=config.film_grain,
                film_grain_denoise=config.film_grain_denoise,
                picture=picture.video_filters(crop, fields),
                colour=colour_args(common.colour),
                dolby_vision=common.keep_rpu,
                source_start=source_start(media),
            )
        ),
        inputs=(media.path,),
        target=paths.video,
        partial=partial_name(paths.video),
        duration=video.duration or media.duration,
    )
    return EncodePlan(
        source=media.path,
        paths=paths,
        mode="standard",
        resolution=resolution_class(video.width),
        crf=crf,
        preset=config.preset,
        crop=crop,
        steps=(video_step, *common.audio_steps, *common.cover_steps, _mux_step(media, paths, ffmpeg, common.carry)),
        expect=common.expect,
        dynamic=common.colour.dynamic,
        dolby_vision=common.colour.dolby_vision,
        notices=common.notices,
        audio_kbps=tuple(opus_kbps_for(s) for s in media.audio),
        rotation=picture.rotation_of(media),
        fields=fields,
    )


def size_ceiling(frame_bytes: tuple[int, ...], start: int, end: int, percent: float) -> int | None:
    """The most bytes chunk [start, end) may keep: `percent` of the source's packets for those frames
    (the scan lists them); None when the ceiling is off or the scan holds no packet sizes."""
    if percent <= 0 or len(frame_bytes) < end:
        return None
    return round(sum(frame_bytes[start:end]) * percent / 100)


def search_settings(config: Config, target: float) -> SearchSettings:
    return SearchSettings(
        target=target,
        crf_min=config.crf_min,
        crf_max=config.crf_max,
        max_tries=config.max_tries,
        film_model=config.film_model,
    )


def plan_chunked(
    media: MediaInfo,
    config: Config,
    *,
    ffmpeg: str,
    output: Path,
    scan: SceneScan,
    budget: Budget,
    crop: str | None = None,
    dolby_vision_rpu: bool = True,
    fields: Fields | None = None,
) -> EncodePlan:
    """Scene chunks, each a work unit that searches its CRF to the VMAF target; a concat step joins the
    kept encodes; audio and mux as in the standard path, plus the chunk results attached to the output.
    Chunks are source frame ranges; inverse telecine's start on whole decimate cycles (`plan_chunks`)."""
    paths = work_paths(output)
    treatment = fields.treatment if fields is not None else "none"
    common = _common(media, paths, ffmpeg, crop, dolby_vision_rpu, treatment)
    video = common.video
    target = target_vmaf(config, common.colour)
    neighbours, cycle = picture.chunk_reading(treatment)  # what the field filter needs around each chunk
    chunks = plan_chunks(
        scan, min_seconds=config.chunk_min_seconds, max_seconds=config.chunk_max_seconds,
        threshold=config.scene_threshold, probe_seconds=config.probe_seconds, cycle=cycle,
    )  # fmt: skip
    chunks = with_neighbours(scan, chunks, neighbours)
    workers, threads = budget.split(video.width, video.height, len(chunks))
    width, height = common.expect.width, common.expect.height
    encode = EncodeSettings(
        preset=config.preset,
        svt=commands.svt_params(
            keyint_seconds=config.keyint_seconds,
            film_grain=config.film_grain,
            film_grain_denoise=config.film_grain_denoise,
            threads=threads,
        ),
        crop=crop,
        picture=picture.video_filters(crop, fields),
        colour=tuple(colour_args(common.colour)),
        dolby_vision=common.keep_rpu,
    )
    scoring = scoring_for(
        width, height, every=config.vmaf_every, pool=config.vmaf_pool, threads=threads, scale=config.vmaf_scale
    )
    search = search_settings(config, target)
    features = [
        chunk_features(scan.frame_bytes, scan.scores, chunk.start, chunk.end, video.width * video.height)
        for chunk in chunks
    ]
    small = small_picture_note(scoring, width, height, target) is not None
    settle = may_settle(search, small)
    scouts = set(choose_scouts(features) if config.film_model else first_scouts(len(chunks), settle))
    units = []
    for chunk, chunk_feats in zip(chunks, features, strict=True):
        crf, predicted = start_point(search, width, height)
        ceiling = size_ceiling(scan.frame_bytes, chunk.start, chunk.end, config.size_ceiling)
        units.append(
            ChunkUnit(
                ffmpeg=ffmpeg,
                source=media.path,
                chunk=chunk,
                encode=encode,
                scoring=scoring,
                search=search,
                start_crf=crf,
                predicted_vmaf=predicted,
                folder=paths.chunk_folder(chunk.index),
                target=paths.chunk_encode(chunk.index),
                result=paths.chunk_result(chunk.index),
                engine=config.search_engine,
                features=chunk_feats,
                scout=chunk.index in scouts,
                ceiling=ceiling,
            )
        )
    concat = Step(
        name="concat",
        stage="video",
        argv=tuple(commands.concat_argv(ffmpeg, paths.concat_list, partial_name(paths.video))),
        inputs=tuple(u.target for u in units),
        target=paths.video,
        partial=partial_name(paths.video),
        duration=scan.duration,
    )
    mux = _mux_step(media, paths, ffmpeg, common.carry, attach=paths.chunk_results, video_start=scan.times[0])
    frames, last_frame = frame_expectations(media, scan, treatment)
    expect = msgspec.structs.replace(
        common.expect, frames=frames, last_frame=last_frame, attachments=common.expect.attachments + 1,
        audio_offsets=audio_offsets(media, scan.times[0]),
    )  # fmt: skip
    return EncodePlan(
        source=media.path,
        paths=paths,
        mode="chunked",
        resolution=resolution_class(video.width),
        crf=crf_for(video.width, config),
        preset=config.preset,
        crop=crop,
        steps=(concat, *common.audio_steps, *common.cover_steps, mux),
        expect=expect,
        dynamic=common.colour.dynamic,
        dolby_vision=common.colour.dolby_vision,
        notices=common.notices,
        audio_kbps=tuple(opus_kbps_for(s) for s in media.audio),
        rotation=picture.rotation_of(media),
        fields=fields,
        target_vmaf=target,
        chunks=tuple(units),
        workers=workers,
        vmaf_scale=config.vmaf_scale,
    )


def required_capabilities(
    plan: EncodePlan, crop_setting: str = "none", *, chunked: bool = False, deinterlace: str = "off"
) -> dict[str, set[str]]:
    """The ffmpeg encoders and filters this plan's commands use, for the start-up check; `crop_setting`
    and `deinterlace` what crop and field detection and a crop or treatment still to be decided will need,
    `chunked` what the scene scan and the chunk encodes will (before the scan, the plan is the standard one)."""
    encoders, filters = {"libsvtav1"}, set()
    if chunked or plan.mode == "chunked":
        filters |= {"scdet", "select", "metadata", "libvmaf", "scale", "split", "trim", "format", "settb", "setpts"}
    if any(step.stage == "audio" for step in plan.steps):
        encoders.add("libopus")
        filters.add("aformat")
    if plan.crop or crop_setting != "none":
        filters.add("crop")
    if crop_setting == "auto":
        filters.add("cropdetect")
    filters |= picture.field_capabilities(plan.fields, deinterlace)
    return {"encoders": encoders, "filters": filters}
