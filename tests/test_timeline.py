"""The clock: every frame keeps its time (VFR included) and every stream its offset to the video, in both
modes. The real tests encode small generated sources and read the outputs with ffmpeg's framecrc (every
packet's or decoded frame's timestamp) and pymediainfo, never with the code under test."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import msgspec
import pytest
from conftest import run_drapto
from pymediainfo import MediaInfo as LibMediaInfo

from drapto.core import commands
from drapto.core.carry import Carry, SubtitleMap
from drapto.core.config import Config
from drapto.core.framecrc import PacketSpan
from drapto.core.listing import ListedStream, Listing
from drapto.core.media import MediaInfo, VideoStream
from drapto.core.plan import Expectations, plan_standard
from drapto.core.scenes import SceneScan
from drapto.core.timeline import frame_expectations
from drapto.graph.probe import probe, read_video_packets
from drapto.graph.validate import PacketRead, packet_problems, timeline_problems

# --- pure parts ---------------------------------------------------------------------------------------


def _listing(video_start: float | None, audio_starts: tuple[float | None, ...], start: float = 1.4) -> Listing:
    streams = [ListedStream(index=0, kind="video", codec="h264", start=video_start)]
    streams += [ListedStream(index=1 + i, kind="audio", codec="aac", start=s) for i, s in enumerate(audio_starts)]
    return Listing(start=start, streams=tuple(streams))


def test_audio_offsets_are_each_audio_start_minus_the_videos():
    assert _listing(1.423222, (1.4, 1.7)).audio_offsets() == (-0.023222, 0.276778)
    assert _listing(None, (None, 1.9)).audio_offsets() == (0.0, 0.5)  # no start printed: the file's
    assert Listing(start=None, streams=_listing(0.0, (0.5,)).streams).audio_offsets() is None
    assert Listing(start=0.0).audio_offsets() is None  # no video


def test_the_sources_audio_offsets_count_from_its_first_frame():
    from drapto.core.media import AudioStream
    from drapto.core.timeline import audio_offsets

    media = MediaInfo(
        path="/films/rec.ts", container="MPEG-TS", duration=3.0, listing=_listing(0.8, (0.358644,), start=0.358644),
        audio=(AudioStream(index=0, codec="AAC", channels=2),),
    )  # fmt: skip
    assert audio_offsets(media) == ()  # the listed video start is the first packet's: not trusted alone
    assert audio_offsets(media, 1.08) == (pytest.approx(-1.08 + 0.0),)  # the scan's first frame
    packets = PacketSpan(count=75, first=1.08, last=3.0)
    assert audio_offsets(msgspec.structs.replace(media, video_packets=packets)) == (pytest.approx(-1.08),)


def test_the_source_clock_counts_from_the_files_start():
    assert commands.source_clock(None) == []
    assert commands.source_clock(0.0) == ["-copyts"]
    assert commands.source_clock(1.4) == ["-copyts", "-itsoffset", "-1.400000"]


def _media(packets: PacketSpan | None, field_order: str | None = "progressive", codec: str = "h264") -> MediaInfo:
    listing = Listing(start=0.0, streams=(ListedStream(index=0, kind="video", codec=codec, field_order=field_order),))  # type: ignore[arg-type]
    return MediaInfo(
        path="/films/a.mkv", container="Matroska", duration=10.0,
        video=(VideoStream(index=0, codec="AVC", width=320, height=180, frame_rate="25"),), listing=listing,
        video_packets=packets,
    )  # fmt: skip


def test_frame_expectations_come_from_the_scan_or_the_sources_packets():
    scan = SceneScan(frames=3, duration=0.1, times=(0.023, 0.064, 0.081), scores=(0, 0, 0), keyframes=(0,))
    span = PacketSpan(count=252, first=1.4, last=7.383)
    assert frame_expectations(_media(span), scan) == (3, pytest.approx(0.058))
    frames, last = frame_expectations(_media(span))
    assert (frames, last) == (252, pytest.approx(5.983))
    assert frame_expectations(_media(None)) == (None, None)
    # a field per packet is possible (H.264/HEVC PAFF): the packets count frames only at the frame rate
    assert frame_expectations(_media(span, field_order="tff")) == (None, None)  # 252 over 5.983 s: not 25/s
    assert frame_expectations(_media(span, field_order="tff", codec="mpeg2video")) == (252, pytest.approx(5.983))
    mbaff = PacketSpan(count=50, first=1.4, last=3.36)  # measured: an MBAFF 25i TS, one packet per frame
    assert frame_expectations(_media(mbaff, field_order="tff")) == (50, pytest.approx(1.96))
    paff = PacketSpan(count=100, first=1.4, last=3.38)  # two fields per 1/25 s
    assert frame_expectations(_media(paff, field_order="tff")) == (None, None)


EXPECT = Expectations(
    width=320, height=180, duration=6.0, video_duration=6.0, audio_channels=(1, 1), subtitles=0, chapters=0,
    attachments=0, frames=252, last_frame=5.983, audio_offsets=(-0.023, 0.277),
)  # fmt: skip


def test_packet_problems_check_the_last_frames_time_within_a_millisecond():
    assert packet_problems(PacketRead(frames=252, video_end=6.0, errors=(), last_frame=5.9835), EXPECT) == []
    assert packet_problems(PacketRead(frames=252, video_end=6.0, errors=(), last_frame=5.984), EXPECT) == []
    late = packet_problems(PacketRead(frames=252, video_end=6.0, errors=(), last_frame=6.0), EXPECT)
    assert late == ["its last frame is 6.000s after the first, the source's is 5.983s after its first"]
    dropped = packet_problems(PacketRead(frames=145, video_end=6.0, errors=(), last_frame=5.983), EXPECT)
    assert dropped == ["145 video frames, the source has 252"]


def test_timeline_problems_name_an_audio_stream_that_moved():
    assert timeline_problems(EXPECT, _listing(0.023, (None, 0.3015), start=0.0)) == []
    moved = timeline_problems(EXPECT, _listing(0.023, (None, None), start=0.0))  # the late one at the start
    assert moved == ["audio stream 1 starts -23 ms from the video, the source's +277 ms"]
    assert timeline_problems(EXPECT, None) == []
    assert timeline_problems(EXPECT, _listing(0.0, (0.0,), start=0.0)) == []  # a stream less: the counts say so


def test_the_timestamp_options_of_every_command(snapshot):
    """Snapshot: a TS-like source starting at 1.4 s, whose video starts 23 ms after its audio."""
    video = commands.video_encode_argv(
        "ffmpeg", "/films/rec.ts", "video.mkv", crf=27, preset=6, keyint_seconds=10, film_grain=0,
        film_grain_denoise=False, picture=None, source_start=1.4,
    )  # fmt: skip
    audio = commands.audio_encode_argv(
        "ffmpeg", "/films/rec.ts", "a.mka", index=1, bitrate_kbps=128, layout="stereo", source_start=1.4
    )
    mux = commands.mux_argv(
        "ffmpeg", "/films/rec.ts", "video.mkv", ["a0.mka"], "muxed.mkv",
        video_tags=commands.StreamTags(disposition="default"), audio_tags=[commands.StreamTags()],
        carry=Carry(subtitles=(SubtitleMap(stream="2", codec="copy"),)), source_start=1.4, video_start=0.023222,
    )  # fmt: skip
    scan = commands.scene_scan_argv(
        "ffmpeg", "/films/rec.ts", crop=None, scan_width=160, frames_log="f.txt", keyframes_log="k.txt",
        packets_log="p.txt", source_start=1.4,
    )  # fmt: skip
    assert {"video": video, "audio": audio, "mux": mux, "scan": scan} == snapshot


# --- real encodes -------------------------------------------------------------------------------------

SMALL = "160x90"
ENV = {"DRAPTO_CHUNK_MIN_SECONDS": "0.5", "DRAPTO_CHUNK_MAX_SECONDS": "0.8", "DRAPTO_PROBE_SECONDS": "0"}


def _run(ffmpeg: str, *args: str) -> None:
    subprocess.run([ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args], check=True)


def _times(ffmpeg: str, path: Path, stream: str, *, decode: bool = False) -> list[float]:
    """Every packet's (or, decoded, every frame's) presentation time of one stream, in seconds, as stored
    (`-copyts`), sorted."""
    argv = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-copyts", "-i", str(path), "-map", stream]
    argv += ([] if decode else ["-c", "copy"]) + ["-f", "framecrc", "-"]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    base = next(line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("#tb 0"))
    num, den = (int(v) for v in base.split("/"))
    return sorted(int(line.split(",")[2]) * num / den for line in out.splitlines() if line.startswith("0,"))


def _encode(source: Path, output: Path, mode: str) -> None:
    flags = ["--standard"] if mode == "standard" else ["--chunked"]
    result = run_drapto("encode", source, output, *flags, "--preset", "12", env=ENV)
    assert result.returncode == 0, result.stderr + result.stdout


@pytest.fixture(scope="module")
def vfr_source(ffmpeg, tmp_path_factory) -> Path:
    """1 s at 24 fps (2 of every 5 frames of a 60 fps source) then 1 s at 60 fps, in one H.264 stream."""
    target = tmp_path_factory.mktemp("vfr") / "vfr.mkv"
    _run(
        ffmpeg, "-f", "lavfi", "-i", f"testsrc2=s={SMALL}:r=60:d=2", "-f", "lavfi", "-i", "sine=d=2",
        "-vf", r"select='if(lt(t\,1)\,lt(mod(n\,5)\,2)\,1)'", "-fps_mode", "passthrough", "-enc_time_base", "demux",
        "-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-c:a", "aac", str(target),
    )  # fmt: skip
    return target


@pytest.mark.ffmpeg
@pytest.mark.parametrize("mode", ["standard", "chunked"])
def test_a_variable_frame_rate_keeps_every_frame_at_its_time(vfr_source, ffmpeg, tmp_path, mode):
    source_times = _times(ffmpeg, vfr_source, "0:v:0")
    gaps = {round(b - a, 3) for a, b in zip(source_times, source_times[1:], strict=False)}
    assert max(gaps) > 3 * min(gaps), "the source really is VFR (gaps of 1/60 s and 4/60 s)"
    output = tmp_path / "out.mkv"
    _encode(vfr_source, output, mode)
    out_times = _times(ffmpeg, output, "0:v:0")
    assert len(out_times) == len(source_times) == 84
    assert max(abs(a - b) for a, b in zip(out_times, source_times, strict=True)) <= 0.001


def _first(ffmpeg: str, path: Path, stream: str) -> float:
    """The first decoded frame's (audio: sample's, after the encoder's priming is skipped) time."""
    return _times(ffmpeg, path, stream, decode=True)[0]


@pytest.fixture(scope="module")
def ts_source(ffmpeg, tmp_path_factory) -> Path:
    """An MPEG-TS (starts at 1.4 s): video, audio, and a second audio 0.3 s late; the video starts a
    little after the first audio (as ffmpeg's muxer places them, 23 ms)."""
    folder = tmp_path_factory.mktemp("ts")
    late = folder / "late.m4a"
    _run(ffmpeg, "-f", "lavfi", "-i", "sine=f=300:d=2.5", "-c:a", "aac", str(late))
    target = folder / "rec.ts"
    _run(
        ffmpeg, "-f", "lavfi", "-i", f"testsrc2=s={SMALL}:r=25:d=3", "-f", "lavfi", "-i", "sine=d=3",
        "-itsoffset", "0.3", "-i", str(late), "-map", "0", "-map", "1", "-map", "2",
        "-c:v", "libx264", "-preset", "ultrafast", "-g", "12", "-c:a", "aac", str(target),
    )  # fmt: skip
    return target


@pytest.mark.ffmpeg
@pytest.mark.parametrize("mode", ["standard", "chunked"])
def test_an_mpeg_ts_keeps_each_streams_offset_to_the_video(ts_source, ffmpeg, tmp_path, mode):
    streams = ("0:v:0", "0:a:0", "0:a:1")
    source = [_first(ffmpeg, ts_source, s) for s in streams]
    assert source[1] < source[0] - 0.015, "the source's video starts after its audio"
    output = tmp_path / "out.mkv"
    _encode(ts_source, output, mode)
    out = [_first(ffmpeg, output, s) for s in streams]
    for i in (1, 2):
        assert abs((out[i] - out[0]) - (source[i] - source[0])) <= 0.020, (source, out)
    assert len(_times(ffmpeg, output, "0:v:0")) == len(_times(ffmpeg, ts_source, "0:v:0"))
    assert all(abs(a - b) <= 20 for a, b in zip(_audio_delays(output), _audio_delays(ts_source), strict=True))


@pytest.mark.ffmpeg
@pytest.mark.parametrize("mode", ["standard", "chunked"])
def test_a_ts_cut_mid_gop_keeps_its_offsets(ffmpeg, tmp_path, mode):
    """A recording that begins mid-GOP: ffmpeg lists the video's start at its first packet, but no decoder
    shows a frame before the first keyframe (nor does a stream copy write one); the offsets that count are
    the first frame's."""
    whole = tmp_path / "whole.ts"
    _run(
        ffmpeg, "-f", "lavfi", "-i", f"testsrc2=s={SMALL}:r=25:d=4", "-f", "lavfi", "-i", "sine=d=4",
        "-c:v", "libx264", "-preset", "fast", "-g", "25", "-bf", "2", "-c:a", "aac", str(whole),
    )  # fmt: skip
    source = tmp_path / "cut.ts"
    source.write_bytes(whole.read_bytes()[188 * 100 :])  # whole TS packets, from mid-GOP
    listed = subprocess.run([ffmpeg, "-hide_banner", "-i", str(source)], capture_output=True, text=True).stderr
    video_listed = float(re.search(r"Video: .*start ([\d.]+)", listed)[1])
    first_frame = _times(ffmpeg, source, "0:v:0", decode=True)[0]
    assert first_frame > video_listed + 0.03, "the cut really begins before a keyframe"
    output = tmp_path / "out.mkv"
    _encode(source, output, mode)
    want = _first(ffmpeg, source, "0:a:0") - first_frame
    have = _first(ffmpeg, output, "0:a:0") - _first(ffmpeg, output, "0:v:0")
    assert abs(have - want) <= 0.020, (want, have)
    assert len(_times(ffmpeg, output, "0:v:0")) == len(_times(ffmpeg, source, "0:v:0", decode=True))


def _audio_delays(path: Path) -> list[float]:
    """MediaInfo's delay of each audio stream relative to the video (ms): `Delay_Relative_To_Video`, or an
    MP4's edit-list `Source_Delay` (its video starts at 0)."""
    tracks = [t for t in LibMediaInfo.parse(path).tracks if t.track_type == "Audio"]
    return [
        float(t.delay_relative_to_video if t.delay_relative_to_video is not None else t.source_delay) for t in tracks
    ]


@pytest.mark.ffmpeg
@pytest.mark.parametrize("container", ["mkv", "mp4"])
def test_delayed_audio_and_subtitles_stay_delayed(ffmpeg, tmp_path, container):
    """Audio 0.5 s after the video (MP4: an edit list), subtitles 0.4 s later than written (MKV)."""
    late = tmp_path / "late.m4a"
    _run(ffmpeg, "-f", "lavfi", "-i", "sine=d=1.5", "-c:a", "aac", str(late))
    srt = tmp_path / "s.srt"
    srt.write_text("1\n00:00:00,500 --> 00:00:01,000\nhello\n")
    source = tmp_path / f"delayed.{container}"
    chapters = tmp_path / "chapters.txt"
    chapters.write_text(
        ";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=700\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=700\nEND=2000\n"
    )
    subs = ["-itsoffset", "0.4", "-i", str(srt), "-map", "3", "-c:s", "srt"] if container == "mkv" else []
    _run(
        ffmpeg, "-f", "lavfi", "-i", f"testsrc2=s={SMALL}:r=25:d=2", "-itsoffset", "0.5", "-i", str(late),
        "-i", str(chapters), *subs, "-map", "0", "-map", "1", "-map_chapters", "2",
        "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "copy", str(source),
    )  # fmt: skip
    output = tmp_path / "out.mkv"
    _encode(source, output, "standard")
    want = _first(ffmpeg, source, "0:a:0") - _first(ffmpeg, source, "0:v:0")
    have = _first(ffmpeg, output, "0:a:0") - _first(ffmpeg, output, "0:v:0")
    assert want > 0.45 and abs(have - want) <= 0.020, (want, have)
    assert abs(_audio_delays(output)[0] - _audio_delays(source)[0]) <= 20
    if container == "mkv":
        assert _times(ffmpeg, output, "0:s:0") == _times(ffmpeg, source, "0:s:0") == [0.9]
    assert _chapter_starts(ffmpeg, output) == _chapter_starts(ffmpeg, source) == [0.0, 0.7]


def _chapter_starts(ffmpeg: str, path: Path) -> list[float]:
    listing = subprocess.run([ffmpeg, "-hide_banner", "-nostdin", "-i", str(path)], capture_output=True, text=True)
    return [float(m) for m in re.findall(r"Chapter #\d+:\d+: start (-?[\d.]+)", listing.stderr)]


@pytest.mark.ffmpeg
def test_a_standard_plan_expects_the_sources_frames_from_the_probes_packet_read(vfr_source, ffmpeg, tmp_path):
    """What the probe step stores (MediaInfo, ffmpeg's listing, the video packets) makes the standard plan
    expect every frame and the last one's time; framecrc counts the same independently."""
    media = probe(vfr_source, ffmpeg)
    media = msgspec.structs.replace(media, video_packets=read_video_packets(ffmpeg, vfr_source, media.listing.start))
    plan = plan_standard(media, Config(), ffmpeg=ffmpeg, output=tmp_path / "out.mkv")
    times = _times(ffmpeg, vfr_source, "0:v:0")
    assert plan.expect.frames == len(times) == 84
    assert plan.expect.last_frame == pytest.approx(times[-1] - times[0], abs=1e-6)
    assert plan.expect.audio_offsets == (pytest.approx(0.0, abs=0.001),)
