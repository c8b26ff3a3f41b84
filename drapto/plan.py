"""Pure planning: probe data + settings → an immutable EncodePlan of steps with their argv.

`drapto plan` prints this plan; the doit graph (drapto.graph) carries it out. Nothing here runs a process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import msgspec

from drapto import commands
from drapto.config import Config
from drapto.errors import InputError
from drapto.hdr import classify, colour_args
from drapto.media import AudioStream, MediaInfo, TextStream

Resolution = Literal["SD", "HD", "UHD"]

# libopus (mapping family -1/1) accepts exactly these layouts; any other layout is remapped to the one
# with the same channel count, so the count is always kept.
OPUS_LAYOUTS = {1: "mono", 2: "stereo", 3: "3.0", 4: "quad", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}
OPUS_BITRATES_KBPS = {1: 64, 2: 128, 6: 256, 8: 384}
# Matroska cannot hold these subtitle formats as they are; they are converted to the codec named.
MKV_SUBTITLE_CONVERSIONS = {"Timed Text": "srt"}


class Step(msgspec.Struct, frozen=True, kw_only=True):
    name: str  # doit sub-task name, also shown to users
    stage: Literal["video", "audio", "mux"]
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
    audio_channels: tuple[int, ...]
    subtitles: int
    chapters: int
    attachments: int
    dynamic: str = "SDR"  # SDR, HDR10, PQ or HLG (drapto.hdr)
    dolby_vision: bool = False
    colour: tuple[str | None, str | None, str | None] = (None, None, None)  # MediaInfo primaries, transfer, matrix


class WorkPaths(msgspec.Struct, frozen=True, kw_only=True):
    """Every file one job writes: the work directory beside the output, and the output itself."""

    output: str
    workdir: str
    probe: str
    crop: str
    video: str
    muxed: str
    dep_file: str

    def audio(self, index: int) -> str:
        return str(Path(self.workdir) / "audio" / f"{index:02d}.mka")


class EncodePlan(msgspec.Struct, frozen=True, kw_only=True):
    source: str
    paths: WorkPaths
    resolution: Resolution
    crf: int
    preset: int
    crop: str | None
    steps: tuple[Step, ...]
    expect: Expectations
    dynamic: str = "SDR"
    dolby_vision: str | None = None  # the source's profile
    notices: tuple[str, ...] = ()  # things the user must be told before encoding


def work_paths(output: Path) -> WorkPaths:
    workdir = output.parent / ".drapto" / output.stem
    return WorkPaths(
        output=str(output),
        workdir=str(workdir),
        probe=str(workdir / "probe.json"),
        crop=str(workdir / "crop.json"),
        video=str(workdir / "video.mkv"),
        muxed=str(workdir / "muxed.mkv"),
        dep_file=str(workdir / "doit.sqlite3"),
    )


def partial_name(target: str) -> str:
    return f"{target}.partial"


def resolution_class(width: int) -> Resolution:
    """By width only, so letterboxed and cropped films keep their class."""
    if width >= 3840:
        return "UHD"
    if width >= 1920:
        return "HD"
    return "SD"


def crf_for(width: int, config: Config) -> int:
    return {"SD": config.crf_sd, "HD": config.crf_hd, "UHD": config.crf_uhd}[resolution_class(width)]


def opus_bitrate_kbps(channels: int) -> int:
    return OPUS_BITRATES_KBPS.get(channels, 48 * channels)


def opus_layout(channels: int) -> str | None:
    return OPUS_LAYOUTS.get(channels)


def _disposition(default: bool, forced: bool) -> str:
    return "+".join(flag for flag, on in (("default", default), ("forced", forced)) if on) or "0"


def _audio_tags(stream: AudioStream) -> commands.StreamTags:
    return commands.StreamTags(
        language=stream.language, title=stream.title, disposition=_disposition(stream.default, stream.forced)
    )


def _subtitle_codec(stream: TextStream) -> str:
    return MKV_SUBTITLE_CONVERSIONS.get(stream.codec, "copy")


def _crop_size(crop: str | None, width: int, height: int) -> tuple[int, int]:
    if not crop:
        return width, height
    w, h, _x, _y = (int(v) for v in crop.split(":"))
    return w, h


def plan_standard(
    media: MediaInfo,
    config: Config,
    *,
    ffmpeg: str,
    output: Path,
    crop: str | None = None,
    dolby_vision_rpu: bool = True,
) -> EncodePlan:
    """One CRF encode of the whole video (CRF by width class), one Opus step per audio stream, one mux.
    `dolby_vision_rpu` says whether this ffmpeg's libsvtav1 can carry a Dolby Vision RPU."""
    if not media.video:
        raise InputError(f"No video stream in {media.path}")
    video = media.video[0]
    for stream in media.audio:
        if stream.channels < 1:
            raise InputError(f"Audio stream {stream.index} of {media.path} reports no channel count")
    paths = work_paths(output)
    source = media.path
    crf = crf_for(video.width, config)
    colour = classify(video)
    keep_rpu = colour.dolby_vision is not None and dolby_vision_rpu
    notices = []
    if colour.dolby_vision is not None and not keep_rpu:
        notices.append(
            f"Dolby Vision (profile {colour.dolby_vision}) will be LOST: this ffmpeg's libsvtav1 has no "
            "-dolbyvision option, so only the base layer"
            + (" (HDR10)" if colour.is_hdr else "") + " is encoded."
        )
    steps = [
        Step(
            name="video",
            stage="video",
            argv=tuple(
                commands.video_encode_argv(
                    ffmpeg,
                    source,
                    partial_name(paths.video),
                    crf=crf,
                    preset=config.preset,
                    keyint_seconds=config.keyint_seconds,
                    film_grain=config.film_grain,
                    film_grain_denoise=config.film_grain_denoise,
                    crop=crop,
                    colour=colour_args(colour),
                    dolby_vision=keep_rpu,
                )
            ),
            inputs=(source,),
            target=paths.video,
            partial=partial_name(paths.video),
            duration=video.duration or media.duration,
        )
    ]
    for stream in media.audio:
        target = paths.audio(stream.index)
        steps.append(
            Step(
                name=f"audio-{stream.index:02d}",
                stage="audio",
                argv=tuple(
                    commands.audio_encode_argv(
                        ffmpeg,
                        source,
                        partial_name(target),
                        index=stream.index,
                        bitrate_kbps=opus_bitrate_kbps(stream.channels),
                        layout=opus_layout(stream.channels),
                    )
                ),
                inputs=(source,),
                target=target,
                partial=partial_name(target),
                duration=stream.duration or media.duration,
            )
        )
    audio_targets = [paths.audio(s.index) for s in media.audio]
    steps.append(
        Step(
            name="mux",
            stage="mux",
            argv=tuple(
                commands.mux_argv(
                    ffmpeg,
                    source,
                    paths.video,
                    audio_targets,
                    partial_name(paths.muxed),
                    video_tags=commands.StreamTags(language=video.language, title=video.title, disposition="default"),
                    audio_tags=[_audio_tags(s) for s in media.audio],
                    subtitle_codecs=[_subtitle_codec(s) for s in media.text],
                    attachments=bool(media.attachments),
                )
            ),
            inputs=(source, paths.video, *audio_targets),
            target=paths.muxed,
            partial=partial_name(paths.muxed),
            duration=media.duration,
        )
    )
    width, height = _crop_size(crop, video.width, video.height)
    return EncodePlan(
        source=source,
        paths=paths,
        resolution=resolution_class(video.width),
        crf=crf,
        preset=config.preset,
        crop=crop,
        steps=tuple(steps),
        expect=Expectations(
            width=width,
            height=height,
            duration=media.duration,
            audio_channels=tuple(s.channels for s in media.audio),
            subtitles=len(media.text),
            chapters=len(media.chapters),
            attachments=len(media.attachments),
            dynamic=colour.dynamic,
            dolby_vision=keep_rpu,
            colour=(video.color_primaries, video.transfer, video.matrix),
        ),
        dynamic=colour.dynamic,
        dolby_vision=colour.dolby_vision,
        notices=tuple(notices),
    )


def required_capabilities(plan: EncodePlan, crop_setting: str = "none") -> dict[str, set[str]]:
    """The ffmpeg encoders and filters this plan's commands use, for the start-up check; `crop_setting`
    adds what crop detection and a crop still to be decided will need."""
    encoders, filters = {"libsvtav1"}, set()
    if any(step.stage == "audio" for step in plan.steps):
        encoders.add("libopus")
        filters.add("aformat")
    if plan.crop or crop_setting != "none":
        filters.add("crop")
    if crop_setting == "auto":
        filters.add("cropdetect")
    return {"encoders": encoders, "filters": filters}
