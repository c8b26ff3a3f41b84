"""What `drapto analyze` reports: the source as drapto sees it and what it plans for each stream. Pure:
built from the probe, the crop analysis and the settings; printed as text or JSON."""

from __future__ import annotations

import msgspec

from drapto.core.audio import opus_kbps_for
from drapto.core.config import Config
from drapto.core.crop import CropAnalysis, CropDecision, crop_filter_size, crop_summary
from drapto.core.hdr import classify
from drapto.core.media import Chapter, MediaInfo, TextStream
from drapto.core.picture import Fields, displayed_size, fields_text, rotation_of, rotation_text
from drapto.core.plan import Resolution, crf_for, resolution_class, target_vmaf
from drapto.core.plantext import clock
from drapto.core.vmaf import describe_scoring, scoring_for, small_picture_note


class VideoSummary(msgspec.Struct, frozen=True, kw_only=True):
    codec: str
    width: int
    height: int
    frame_rate: str | None
    bit_depth: int | None
    resolution: Resolution
    crf: int
    dynamic: str  # SDR, HDR10, PQ, HLG
    dolby_vision: str | None  # profile, e.g. "8.1"
    primaries: str | None
    transfer: str | None
    matrix: str | None
    range: str | None
    mastering_display: str | None  # MediaInfo's primaries and luminance, when present
    max_cll: str | None
    max_fall: str | None


class AudioSummary(msgspec.Struct, frozen=True, kw_only=True):
    index: int
    codec: str
    channels: int
    layout: str | None
    language: str | None
    title: str | None
    default: bool
    opus_kbps: int  # the planned Opus bitrate


class Analysis(msgspec.Struct, frozen=True, kw_only=True):
    file: str
    container: str | None
    duration: float | None
    size: int | None
    video: VideoSummary
    crop_setting: str
    crop: CropDecision
    audio: tuple[AudioSummary, ...]
    subtitles: tuple[TextStream, ...]  # as probed: nothing about them is re-planned
    chapters: tuple[Chapter, ...]
    attachments: int
    vmaf: str = ""  # how chunked mode scores this picture: model, size and the vmaf_scale setting
    vmaf_note: str | None = None  # what scoring a picture below 720p at 1080p means for its CRFs
    rotation: int = 0  # the display rotation ffmpeg turns the pixels by (0, 90, 180, 270)
    displayed: tuple[int, int] | None = None  # width, height as displayed (and encoded, before the crop)
    fields: Fields | None = None  # progressive, interlaced or telecined, and what will be done


def _scoring_text(width: int, height: int, config: Config, target: float) -> tuple[str, str | None]:
    """How chunked mode would score a picture of this size (after crop), and the note for small ones."""
    scoring = scoring_for(width, height, every=config.vmaf_every, pool=config.vmaf_pool, scale=config.vmaf_scale)
    return describe_scoring(scoring, width, height, config.vmaf_scale), small_picture_note(
        scoring, width, height, target
    )


def analyse(media: MediaInfo, crop: CropAnalysis, config: Config) -> Analysis:
    """`media` must have a video stream (the probe's `require_video`)."""
    video = media.video[0]
    colour = classify(video)
    displayed = displayed_size(media)
    size = crop_filter_size(crop.decision.crop) if crop.decision.crop else displayed
    vmaf, vmaf_note = _scoring_text(*size, config, target_vmaf(config, colour))
    mastering = " / ".join(
        part for part in (video.mastering_display_primaries, video.mastering_display_luminance) if part
    )
    return Analysis(
        file=media.path,
        container=media.container,
        duration=media.duration,
        size=media.size,
        video=VideoSummary(
            codec=video.codec,
            width=video.width,
            height=video.height,
            frame_rate=video.frame_rate,
            bit_depth=video.bit_depth,
            resolution=resolution_class(video.width),
            crf=crf_for(video.width, config),
            dynamic=colour.dynamic,
            dolby_vision=colour.dolby_vision,
            primaries=video.color_primaries,
            transfer=video.transfer,
            matrix=video.matrix,
            range=video.color_range,
            mastering_display=mastering or None,
            max_cll=video.max_cll,
            max_fall=video.max_fall,
        ),
        crop_setting=crop.setting,
        crop=crop.decision,
        audio=tuple(
            AudioSummary(
                index=a.index,
                codec=a.codec,
                channels=a.channels,
                layout=a.layout,
                language=a.language,
                title=a.title,
                default=a.default,
                opus_kbps=opus_kbps_for(a),
            )
            for a in media.audio
        ),
        subtitles=media.text,
        chapters=media.chapters,
        attachments=len(media.attachments),
        vmaf=vmaf,
        vmaf_note=vmaf_note,
        rotation=rotation_of(media),
        displayed=displayed,
        fields=crop.fields,
    )


def _clock(seconds: float | None) -> str:
    return "unknown" if seconds is None else clock(seconds)


def _flags(*pairs: tuple[str, bool]) -> str:
    on = [name for name, flag in pairs if flag]
    return f" [{', '.join(on)}]" if on else ""


def _named(language: str | None, title: str | None) -> str:
    return ", ".join(part for part in (language or "und", f'"{title}"' if title else None) if part)


def render_text(analysis: Analysis) -> str:
    """The human-readable report, one fact per line."""
    v, crop = analysis.video, analysis.crop
    colour = ", ".join(f"{k} {val}" for k, val in (("primaries", v.primaries), ("transfer", v.transfer),
                                                    ("matrix", v.matrix), ("range", v.range)) if val)  # fmt: skip
    lines = [
        f"{analysis.file}",
        f"  container:  {analysis.container or 'unknown'}, {_clock(analysis.duration)}",
        f"  video:      {v.codec} {v.width}x{v.height}"
        + (f" @ {v.frame_rate} fps" if v.frame_rate else "")
        + (f", {v.bit_depth}-bit" if v.bit_depth else "")
        + f", {v.resolution} (CRF {v.crf})",
        f"  dynamic:    {v.dynamic}" + (f", Dolby Vision profile {v.dolby_vision}" if v.dolby_vision else ""),
    ]
    turned = rotation_text(analysis.rotation)
    if turned and analysis.displayed:
        lines.append(f"  rotation:   {turned}, displayed {analysis.displayed[0]}x{analysis.displayed[1]}")
    fields = fields_text(analysis.fields)
    if fields:
        lines.append(f"  fields:     {fields}")
    if colour:
        lines.append(f"  colour:     {colour}")
    if v.mastering_display:
        lines.append(f"  mastering:  {v.mastering_display}")
    if v.max_cll or v.max_fall:
        lines.append(f"  light:      MaxCLL {v.max_cll or '?'}, MaxFALL {v.max_fall or '?'}")
    if analysis.vmaf:
        lines.append(f"  vmaf:       {analysis.vmaf}")
    if analysis.vmaf_note:
        lines.append(f"              note: {analysis.vmaf_note}")
    lines.append(f"  crop:       {crop_summary(crop.crop, crop.reason, crop.samples)}, setting {analysis.crop_setting}")
    for candidate in crop.candidates:
        lines.append(f"              candidate {candidate.crop} x {candidate.count}")
    for a in analysis.audio:
        lines.append(
            f"  audio {a.index}:    {a.codec} {a.channels} ch ({a.layout or 'no layout'}), {_named(a.language, a.title)}"
            f"{_flags(('default', a.default))} -> Opus {a.opus_kbps} kb/s"
        )
    for t in analysis.subtitles:
        lines.append(
            f"  subtitle {t.index}: {t.codec}, {_named(t.language, t.title)}"
            f"{_flags(('default', t.default), ('forced', t.forced))}"
        )
    lines.append(f"  chapters:   {len(analysis.chapters)}")
    for chapter in analysis.chapters:
        lines.append(f"              {_clock(chapter.start)} {chapter.title}")
    if analysis.attachments:
        lines.append(f"  attachments: {analysis.attachments}")
    return "\n".join(lines) + "\n"
