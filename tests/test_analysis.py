"""`drapto analyze`'s report, built purely from MediaInfo fixtures and a crop analysis."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
from conftest import ClipSpec, run_drapto

from drapto.core.analysis import Analysis, analyse, render_text
from drapto.core.config import Config
from drapto.core.crop import CropAnalysis, CropSample, decide_crop, fixed_decision
from drapto.core.media import parse_mediainfo_json

FIXTURES = Path(__file__).parent / "fixtures" / "mediainfo"


def fixture(name: str):
    return parse_mediainfo_json((FIXTURES / f"{name}.json").read_bytes(), f"/films/{name}.mkv")


def sampled(width: int, height: int, crops: list[str | None]) -> CropAnalysis:
    samples = tuple(CropSample(time=float(i), crop=c) for i, c in enumerate(crops))
    return CropAnalysis(setting="auto", limit="0.0627451", samples=samples, decision=decide_crop(width, height, crops))


@pytest.mark.parametrize("name", ["sdr-2audio-srt-chapters-attachment", "hdr10-pq", "dv-8.1", "hlg"])
def test_report_text_and_json(name, snapshot):
    media = fixture(name)
    video = media.video[0]
    bar = video.height // 8 // 2 * 2
    bars = f"{video.width}:{video.height - 2 * bar}:0:{bar}"
    full = [] if name == "hdr10-pq" else [f"{video.width}:{video.height}:0:0"]  # one cropped, three not
    crop = sampled(video.width, video.height, [bars] * 20 + full)
    report = analyse(media, crop, Config())
    assert render_text(report) == snapshot
    assert msgspec.json.decode(msgspec.json.encode(report), type=Analysis) == report


def test_report_plans_opus_per_channel_count():
    media = fixture("sdr-2audio-srt-chapters-attachment")
    report = analyse(
        media, CropAnalysis(setting="none", limit=None, samples=(), decision=fixed_decision("none", 1, 1)), Config()
    )
    assert [(a.channels, a.opus_kbps) for a in report.audio] == [
        (a.channels, {1: 64, 2: 128, 6: 256, 8: 384}.get(a.channels)) for a in media.audio
    ]
    assert len(report.subtitles) == len(media.text) and len(report.chapters) == len(media.chapters)


@pytest.mark.ffmpeg
def test_analyze_command_text(make_clip):
    result = run_drapto("analyze", make_clip(ClipSpec()))
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "AVC 320x180 @ 24000/1001 fps, 8-bit, SD (CRF 25)" in text
    assert "crop:       none (no black bars, 1 sample), setting auto" in text
    assert "audio 0:    PCM 6 ch" in text and "-> Opus 256 kb/s" in text
    assert "subtitle 0: UTF-8, eng [forced]" in text
    assert "chapters:   2" in text and "0:00:01.000 Ending" in text
