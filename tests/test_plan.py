"""The pure planner: snapshots pin every argv; properties pin the rules behind them."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drapto.core import commands
from drapto.core.audio import OPUS_LAYOUTS, opus_bitrate_kbps, opus_kbps_for, opus_layout
from drapto.core.config import Config
from drapto.core.media import AudioStream, Chapter, MediaInfo, TextStream, VideoStream
from drapto.core.plan import (
    crf_for,
    plan_standard,
    required_capabilities,
    resolution_class,
)
from drapto.errors import InputError

SIZES = {"SD": (720, 480), "HD": (1920, 1080), "UHD": (3840, 2160)}
AUDIO = {
    "mono": (AudioStream(index=0, codec="AC-3", channels=1, layout="M", language="eng"),),
    "stereo": (AudioStream(index=0, codec="AAC", channels=2, layout="L R", language="eng", default=True),),
    "5.1": (
        AudioStream(
            index=0,
            codec="E-AC-3",
            channels=6,
            layout="L R C LFE Ls Rs",
            language="eng",
            title="Surround 5.1",
            default=True,
        ),
    ),
    "7.1": (
        AudioStream(index=0, codec="TrueHD", channels=8, layout="L R C LFE Ls Rs Lb Rb", language="eng", default=True),
    ),
    "odd-2.1": (AudioStream(index=0, codec="DTS", channels=3, layout="L R LFE", language="ger", forced=True),),
    "mixed": (
        AudioStream(index=0, codec="TrueHD", channels=8, language="eng", title="Atmos", default=True),
        AudioStream(index=1, codec="AC-3", channels=6, language="eng", title="Commentary"),
        AudioStream(index=2, codec="AAC", channels=2, language="fre"),
    ),
}
TEXT = (
    TextStream(index=0, codec="UTF-8", codec_id="S_TEXT/UTF8", language="eng", default=True),
    TextStream(index=1, codec="PGS", codec_id="S_HDMV/PGS", language="fre", forced=True),
)
CHAPTERS = (Chapter(start=0.0, title="Opening"), Chapter(start=600.0, title="Middle"))


def media(
    size: str = "HD",
    audio: str = "stereo",
    subtitles: bool = False,
    chapters: bool = False,
    text: tuple[TextStream, ...] | None = None,
) -> MediaInfo:
    width, height = SIZES[size]
    return MediaInfo(
        path="/films/In the Mood for Love (2000).mkv",
        container="Matroska",
        duration=5880.5,
        video=(
            VideoStream(index=0, codec="AVC", width=width, height=height, frame_rate="24000/1001", duration=5880.0),
        ),
        audio=AUDIO[audio],
        text=(text if text is not None else TEXT) if subtitles else (),
        chapters=CHAPTERS if chapters else (),
        attachments=("font.ttf",) if subtitles else (),
    )


def argvs(info: MediaInfo, config: Config = Config()) -> dict[str, list[str]]:
    plan = plan_standard(info, config, ffmpeg="ffmpeg", output=Path("/out/In the Mood for Love (2000).mkv"))
    return {step.name: list(step.argv) for step in plan.steps}


@pytest.mark.parametrize("size", list(SIZES))
def test_video_argv_by_resolution_class(size, snapshot):
    assert argvs(media(size))["video"] == snapshot


@pytest.mark.parametrize("audio", list(AUDIO))
def test_audio_argv_by_channel_count(audio, snapshot):
    plan = argvs(media(audio=audio))
    assert {name: argv for name, argv in plan.items() if name.startswith("audio")} == snapshot


@pytest.mark.parametrize(("subtitles", "chapters"), [(False, False), (True, False), (False, True), (True, True)])
def test_mux_argv_with_and_without_subtitles_and_chapters(subtitles, chapters, snapshot):
    assert argvs(media(audio="mixed", subtitles=subtitles, chapters=chapters))["mux"] == snapshot


def test_mov_text_subtitles_become_srt_in_mkv(snapshot):
    text = (TextStream(index=0, codec="Timed Text", codec_id="tx3g", language="eng"),)
    assert argvs(media(subtitles=True, text=text))["mux"] == snapshot


def test_film_grain_and_preset_options(snapshot):
    config = Config(preset=4, film_grain=8, film_grain_denoise=True, crf_hd=27)
    assert argvs(media("HD"), config)["video"] == snapshot


def test_crop_is_a_plan_input(snapshot):
    plan = plan_standard(media("HD"), Config(), ffmpeg="ffmpeg", output=Path("/out/x.mkv"), crop="1920:800:0:140")
    assert list(plan.steps[0].argv) == snapshot
    assert (plan.expect.width, plan.expect.height) == (1920, 800)
    assert "crop" in required_capabilities(plan)["filters"]


def test_capability_check_and_snapshot_helpers(snapshot):
    assert commands.capabilities_argv("ffmpeg", "encoders") == snapshot
    assert commands.stream_summary_argv("ffmpeg", "/out/x.mkv") == snapshot
    assert commands.encoder_help_argv("ffmpeg", "libsvtav1") == snapshot


def test_no_video_is_an_input_error():
    info = MediaInfo(path="/a.flac", container="FLAC", duration=3.0, audio=AUDIO["stereo"])
    with pytest.raises(InputError, match="No video stream"):
        plan_standard(info, Config(), ffmpeg="ffmpeg", output=Path("/out/a.mkv"))


@given(st.integers(min_value=1, max_value=7680))
def test_resolution_class_is_by_width_only(width):
    expected = "UHD" if width >= 3840 else "HD" if width >= 1920 else "SD"
    assert resolution_class(width) == expected
    assert crf_for(width, Config()) == {"SD": 25, "HD": 25, "UHD": 29}[expected]


@given(st.integers(min_value=1, max_value=24))
def test_opus_bitrate_and_layout_keep_the_channel_count(channels):
    expected = {1: 64, 2: 128, 6: 256, 8: 384}.get(channels, 48 * channels)
    assert opus_bitrate_kbps(channels) == expected
    layout = opus_layout(channels)
    if channels <= 8:
        assert layout == OPUS_LAYOUTS[channels]
    else:
        assert layout is None


audio_streams = st.lists(
    st.builds(
        AudioStream,
        index=st.just(0),
        codec=st.sampled_from(["AAC", "AC-3", "DTS", "TrueHD", "FLAC"]),
        channels=st.integers(min_value=1, max_value=8),
        language=st.none() | st.sampled_from(["eng", "fre", "jpn"]),
        title=st.none() | st.text(min_size=1, max_size=20),
        default=st.booleans(),
        forced=st.booleans(),
    ),
    max_size=6,
)


@given(audio=audio_streams, width=st.integers(min_value=16, max_value=7680), preset=st.integers(-2, 13))
def test_plan_invariants(audio, width, preset):
    audio = tuple(AudioStream(**{**_fields(a), "index": i}) for i, a in enumerate(audio))
    info = MediaInfo(
        path="/in/-leading dash's film.mkv",
        container="Matroska",
        duration=10.0,
        video=(VideoStream(index=0, codec="HEVC", width=width, height=width // 2),),
        audio=audio,
    )
    plan = plan_standard(info, Config(preset=preset), ffmpeg="ffmpeg", output=Path("/out/film.mkv"))
    names = [step.name for step in plan.steps]
    assert names == ["video", *[f"audio-{i:02d}" for i in range(len(audio))], "mux"]
    for step in plan.steps:
        assert all(isinstance(arg, str) for arg in step.argv)
        assert step.argv[-1] == step.partial == step.target + ".partial"
        assert info.path in step.inputs
    assert plan.expect.audio_channels == tuple(a.channels for a in audio)
    mux = plan.steps[-1].argv
    assert mux.count("-map") == 1 + len(audio)
    for stream in audio:
        step = plan.steps[1 + stream.index]
        assert f"{opus_bitrate_kbps(stream.channels)}k" in step.argv
        assert f"0:a:{stream.index}" in step.argv


def _fields(struct) -> dict:
    import msgspec

    return msgspec.structs.asdict(struct)


@pytest.mark.parametrize("limit", ["0.0627451", "0.0977517"])
def test_cropdetect_argv(limit, snapshot):
    argv = commands.cropdetect_argv("ffmpeg", "/films/-odd name.mkv", start=1089.77, frames=10, limit=limit)
    assert argv == snapshot


def test_opus_never_spends_more_than_the_source_stream():
    def stream(channels: int, bit_rate: int | None) -> AudioStream:
        return AudioStream(index=0, codec="AAC", channels=channels, bit_rate=bit_rate)

    assert opus_kbps_for(stream(2, None)) == 128  # unknown: the table's
    assert opus_kbps_for(stream(2, 96_000)) == 96  # a web file's 96k stays 96k
    assert opus_kbps_for(stream(6, 640_000)) == 256  # a Blu-ray's AC-3 gets the table's
    assert opus_kbps_for(stream(2, 24_000)) == 32  # never under 16k per channel
