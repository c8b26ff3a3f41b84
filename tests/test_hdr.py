"""HDR, HLG and Dolby Vision: classification from MediaInfo fixtures, and real encodes that keep them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import SHARED_DATA, run_drapto

from drapto.core.config import Config
from drapto.core.hdr import classify, dolby_vision_profile
from drapto.core.media import parse_mediainfo_json
from drapto.core.plan import plan_standard

FIXTURES = Path(__file__).parent / "fixtures" / "mediainfo"
DV_SAMPLE = SHARED_DATA / "dolby-vision-p8.1-hdr10-256x144.mkv"


def fixture(name: str):
    return parse_mediainfo_json((FIXTURES / f"{name}.json").read_bytes(), f"/films/{name}.mkv")


@pytest.mark.parametrize(
    ("name", "dynamic", "dv", "tags"),
    [
        ("sdr-1080p", "SDR", None, ("bt709", "bt709", "bt709", "tv")),
        ("hdr10-pq", "HDR10", None, ("bt2020", "smpte2084", "bt2020nc", "tv")),
        ("hlg", "HLG", None, ("bt2020", "arib-std-b67", "bt2020nc", "tv")),
        ("dv-8.1", "HDR10", "8.1", ("bt2020", "smpte2084", "bt2020nc", "tv")),
        ("dv-5", "SDR", "5", (None, None, None, "tv")),
    ],
)
def test_classification(name, dynamic, dv, tags):
    colour = classify(fixture(name).video[0])
    assert (colour.dynamic, colour.dolby_vision) == (dynamic, dv)
    assert (colour.primaries, colour.transfer, colour.matrix, colour.range) == tags


def test_audio_only_fixture_has_no_video():
    info = fixture("audio-only")
    assert info.video == () and [a.channels for a in info.audio] == [2]


def test_dolby_vision_profile_strings():
    assert dolby_vision_profile("Dolby Vision, Version 1.0, dvhe.08.01, BL+RPU") == "8.1"
    assert dolby_vision_profile("Dolby Vision") == "unknown"
    assert dolby_vision_profile("SMPTE ST 2086, HDR10 compatible") is None


@pytest.mark.parametrize("name", ["sdr-1080p", "hdr10-pq", "hlg", "dv-8.1"])
def test_video_argv_keeps_colour(name, snapshot):
    plan = plan_standard(fixture(name), Config(), ffmpeg="ffmpeg", output=Path("/out/film.mkv"))
    assert list(plan.steps[0].argv) == snapshot


def test_dolby_vision_without_rpu_support_is_said_loudly():
    plan = plan_standard(fixture("dv-8.1"), Config(), ffmpeg="ffmpeg", output=Path("/o/f.mkv"), dolby_vision_rpu=False)
    assert "-dolbyvision" not in plan.steps[0].argv
    assert plan.notices and "LOST" in plan.notices[0]
    assert plan.expect.dolby_vision is False and plan.expect.dynamic == "HDR10"


def _numbers(text: str | None) -> list[float]:
    import re

    return [float(n) for n in re.findall(r"[\d.]+", (text or "").replace("cd/m2", ""))]


@pytest.mark.ffmpeg
def test_real_dolby_vision_sample_stays_dolby_vision(tmp_path):
    if not DV_SAMPLE.exists():
        pytest.skip("../shared/data is not beside the repository")
    from drapto.graph.probe import probe

    result = run_drapto("encode", DV_SAMPLE, tmp_path / "out", "--preset", "10")
    assert result.returncode == 0, result.stderr
    source = probe(DV_SAMPLE).video[0]
    out = probe(tmp_path / "out" / DV_SAMPLE.with_suffix(".mkv").name).video[0]
    assert out.codec == "AV1"
    assert classify(out).dolby_vision == "10.1"
    assert (out.color_primaries, out.transfer, out.matrix) == ("BT.2020", "PQ", "BT.2020 non-constant")
    assert out.mastering_display_primaries == source.mastering_display_primaries
    assert _numbers(out.mastering_display_luminance) == _numbers(source.mastering_display_luminance)
    assert (_numbers(out.max_cll), _numbers(out.max_fall)) == (_numbers(source.max_cll), _numbers(source.max_fall))


@pytest.mark.ffmpeg
def test_generated_hdr10_clip_keeps_tags_and_metadata(ffmpeg, tmp_path):
    from drapto.graph.probe import probe

    source = tmp_path / "hdr10.mkv"
    x265 = (
        "hdr10=1:colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc:log-level=error:"
        "master-display=G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,50):max-cll=1000,400"
    )
    subprocess.run(
        [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=24:duration=1",
         "-c:v", "libx265", "-preset", "ultrafast", "-pix_fmt", "yuv420p10le", "-x265-params", x265,
         "-color_primaries", "bt2020", "-color_trc", "smpte2084", "-colorspace", "bt2020nc", str(source)],
        check=True,
    )  # fmt: skip
    before = probe(source).video[0]
    assert classify(before).dynamic == "HDR10"
    result = run_drapto("encode", source, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    after = probe(tmp_path / "out" / "hdr10.mkv").video[0]
    assert classify(after).dynamic == "HDR10"
    assert (after.color_primaries, after.transfer, after.matrix) == (
        before.color_primaries,
        before.transfer,
        before.matrix,
    )
    assert after.mastering_display_primaries == before.mastering_display_primaries
    assert _numbers(after.mastering_display_luminance) == _numbers(before.mastering_display_luminance)
    assert (_numbers(after.max_cll), _numbers(after.max_fall)) == ([1000.0], [400.0])
