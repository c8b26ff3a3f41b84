"""Crop detection with the real ffmpeg on generated clips: letterbox, pillarbox, a film that changes
framing, 10-bit PQ, and what `--crop` does to an encode and its resume."""

from __future__ import annotations

import json
import subprocess

import pytest
from conftest import AudioSpec, ClipSpec, json_events, run_drapto

from drapto.graph.probe import probe

pytestmark = pytest.mark.ffmpeg

BARE = {"audio": (), "subtitles": False, "chapters": False, "duration": 6.0}
# 2.39:1 picture (640x268) letterboxed into a 16:9 frame: 46 black rows above and below.
LETTERBOX = ClipSpec(width=640, height=268, video_filter="pad=640:360:0:46:black", **BARE)
# 4:3 picture (480x360) pillarboxed into a 16:9 frame: 80 black columns left and right.
PILLARBOX = ClipSpec(width=480, height=360, video_filter="pad=640:360:80:0:black", **BARE)
# Letterboxed for the first half, full frame for the second (like IMAX scenes in a scope film).
_BARS = "drawbox=x=0:y={y}:w=iw:h=46:color=black:t=fill:enable='lt(t,3)'"
MIXED = ClipSpec(width=640, height=360, video_filter=f"{_BARS.format(y=0)},{_BARS.format(y=314)}", **BARE)


def analyze(path, *args: str) -> dict:
    result = run_drapto("analyze", path, "--json", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_letterbox_is_cropped_exactly(make_clip):
    crop = analyze(make_clip(LETTERBOX))["crop"]
    assert (crop["crop"], crop["reason"], crop["samples"]) == ("640:268:0:46", "black bars detected", 3)
    assert crop["candidates"] == [{"crop": "640:268:0:46", "count": 3}]


def test_pillarbox_is_cropped_exactly(make_clip):
    assert analyze(make_clip(PILLARBOX))["crop"]["crop"] == "480:360:80:0"


def test_changing_framing_is_not_cropped(make_clip):
    crop = analyze(make_clip(MIXED))["crop"]
    assert crop["crop"] is None
    assert crop["reason"] == "multiple aspect ratios detected, not cropping"
    assert {c["crop"] for c in crop["candidates"]} == {"640:268:0:46", "640:360:0:0"}


def test_10bit_pq_letterbox_is_cropped_exactly(ffmpeg, tmp_path):
    """PQ black is code 64 of 1023: a raw 8-bit limit like 16 would see no black at all."""
    source = tmp_path / "pq.mkv"
    subprocess.run(
        [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", "testsrc2=size=640x268:rate=24:duration=6", "-vf", "pad=640:360:0:46:black",
         "-c:v", "libx265", "-preset", "ultrafast", "-pix_fmt", "yuv420p10le",
         "-x265-params", "log-level=error:keyint=24:colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc",
         "-color_primaries", "bt2020", "-color_trc", "smpte2084", "-colorspace", "bt2020nc", str(source)],
        check=True,
    )  # fmt: skip
    report = analyze(source)
    assert (report["video"]["dynamic"], report["video"]["bit_depth"]) == ("PQ", 10)
    assert report["crop"]["crop"] == "640:268:0:46"


def test_crop_none_and_explicit_crop(make_clip):
    assert analyze(make_clip(LETTERBOX), "--crop", "none")["crop"] == {
        "crop": None, "reason": "cropping disabled by the crop setting", "candidates": [], "samples": 0,
    }  # fmt: skip
    report = analyze(make_clip(LETTERBOX), "--crop", "640:272:0:44")
    assert (report["crop_setting"], report["crop"]["crop"]) == ("640:272:0:44", "640:272:0:44")


@pytest.mark.parametrize(
    "value, message",
    [
        ("wide", "crop must be auto, none or W:H:X:Y"),
        ("640:400:0:0", "does not fit the 640x360 frame"),
        ("640:267:0:46", "must use even numbers"),
    ],
)
def test_bad_crop_is_one_clear_error(make_clip, value, message):
    result = run_drapto("analyze", make_clip(LETTERBOX), "--crop", value)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


LETTERBOX_WITH_AUDIO = ClipSpec(
    width=640, height=268, video_filter="pad=640:360:0:46:black", duration=6.0,
    audio=(AudioSpec("stereo", 2, "eng"),), subtitles=False, chapters=False,
)  # fmt: skip


def test_encode_crops_and_a_new_crop_setting_redoes_only_video(clip_copy, tmp_path):
    source = clip_copy(LETTERBOX_WITH_AUDIO)
    out = tmp_path / "out"
    first = run_drapto("encode", source, out, "--standard", "--json", "--keep", "--preset", "12")
    assert first.returncode == 0, first.stderr
    decided = [e for e in json_events(first.stdout) if e["event"] == "crop_decided"]
    assert [(e["crop"], e["samples"], e["candidates"]) for e in decided] == [("640:268:0:46", 3, ["640:268:0:46 x 3"])]
    video = probe(out / "film.mkv").video[0]
    assert (video.width, video.height) == (640, 268)
    saved = json.loads((out / ".drapto" / "film" / "crop.json").read_text())
    assert saved["setting"] == "auto" and len(saved["samples"]) == 3

    again = run_drapto("encode", source, out, "--standard", "--json", "--keep", "--preset", "12", "--crop", "none")
    assert again.returncode == 0, again.stderr
    events = json_events(again.stdout)
    assert [e["step"] for e in events if e["event"] == "step_started"] == ["crop", "video", "mux", "validate"]
    assert [e["step"] for e in events if e["event"] == "step_skipped"] == ["probe", "audio-00"]
    video = probe(out / "film.mkv").video[0]
    assert (video.width, video.height) == (640, 360)


def _media(duration):
    from drapto.core.media import MediaInfo, VideoStream

    video = VideoStream(index=0, codec="AVC", width=640, height=360, duration=duration)
    return MediaInfo(path="/films/x.mkv", container="Matroska", duration=duration, video=(video,))


def test_no_duration_asks_for_crop_none():
    from drapto.errors import InputError
    from drapto.graph.cropdetect import analyse_crop

    with pytest.raises(InputError, match=r"no duration \(try --crop none\)"):
        analyse_crop("ffmpeg", _media(None), "auto")
    assert analyse_crop("ffmpeg", _media(None), "none").decision.crop is None  # runs nothing


def test_every_sample_failing_is_a_process_error():
    from drapto.errors import ProcessError
    from drapto.graph.cropdetect import analyse_crop

    with pytest.raises(ProcessError, match=r"false failed \(exit code 1\)"):
        analyse_crop("/bin/false", _media(60.0), "auto")
