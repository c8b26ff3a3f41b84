"""Real encodes with the embedded ffmpeg on generated clips, checked with drapto's own probe."""

from __future__ import annotations

import re
import subprocess

import pytest
from conftest import AudioSpec, ClipSpec, json_events, run_drapto

from drapto.core import commands
from drapto.graph.probe import probe
from drapto.graph.validate import parse_pixel_format

pytestmark = pytest.mark.ffmpeg


def audio_kbps(ffmpeg: str, path, index: int, duration: float) -> float:
    """Payload bitrate of one audio stream, from a stream copy's byte count."""
    result = subprocess.run(
        [ffmpeg, "-hide_banner", "-nostdin", "-i", str(path), "-map", f"0:a:{index}", "-c", "copy", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    kib = float(re.search(r"audio:\s*([\d.]+)KiB", result.stderr)[1])
    return kib * 1024 * 8 / duration / 1000


def test_standard_encode_keeps_everything(clip_copy, tmp_path, ffmpeg):
    source = clip_copy()
    before = source.read_bytes()
    result = run_drapto("encode", source, tmp_path / "out", "--json")
    assert result.returncode == 0, result.stderr
    output = tmp_path / "out" / "film.mkv"
    assert output.exists()
    assert not (tmp_path / "out" / ".drapto").exists(), "work folder is removed after success"
    assert source.read_bytes() == before, "the source is never modified"

    info = probe(output)
    video = info.video[0]
    assert (video.codec, video.width, video.height) == ("AV1", 320, 180)
    listing = subprocess.run(commands.stream_summary_argv(ffmpeg, str(output)), capture_output=True, text=True).stderr
    assert parse_pixel_format(listing) == "yuv420p10le"

    assert [(a.codec, a.channels, a.language, a.title, a.default) for a in info.audio] == [
        ("Opus", 6, "eng", "Surround", True),
        ("Opus", 2, "fra", None, False),
    ]
    duration = info.audio[0].duration
    assert 256 * 0.7 < audio_kbps(ffmpeg, output, 0, duration) < 256 * 1.3
    assert 128 * 0.7 < audio_kbps(ffmpeg, output, 1, duration) < 128 * 1.3

    assert [(t.language, t.forced) for t in info.text] == [("eng", True)]
    assert [c.title for c in info.chapters] == ["Opening", "Ending"]
    assert info.title == "Test Movie"

    kinds = [event["event"] for event in json_events(result.stdout)]
    assert kinds[0] == "file_started" and kinds[-1] == "file_finished"


ODD_LAYOUTS = ClipSpec(
    audio=(
        AudioSpec("2.1", 3, "eng", default=True),
        AudioSpec("4.0", 4, "spa"),
        AudioSpec("mono", 1, "jpn"),
        AudioSpec("7.1", 8, "eng"),
    ),
    subtitles=False,
    chapters=False,
)


def test_odd_channel_layouts_keep_their_channel_count(clip_copy, tmp_path):
    source = clip_copy(ODD_LAYOUTS)
    result = run_drapto("encode", source, tmp_path / "film.mkv")
    assert result.returncode == 0, result.stderr
    info = probe(tmp_path / "film.mkv")
    assert [(a.codec, a.channels, a.language) for a in info.audio] == [
        ("Opus", 3, "eng"), ("Opus", 4, "spa"), ("Opus", 1, "jpn"), ("Opus", 8, "eng"),
    ]  # fmt: skip
    assert info.text == () and info.chapters == ()


def test_folder_input_encodes_every_film_and_summarises(clip_copy, tmp_path):
    first = clip_copy(name="a film.mkv")
    clip_copy(name="b'film.mkv")
    (first.parent / "notes.txt").write_text("not a film")
    result = run_drapto("encode", first.parent, tmp_path / "out", "--json")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a film.mkv", "b'film.mkv"]
    summary = json_events(result.stdout)[-1]
    assert (summary["event"], summary["succeeded"], summary["failed"]) == ("batch_summary", 2, 0)


def test_an_existing_output_that_does_not_validate_is_left_alone_unless_forced(clip_copy, tmp_path):
    source = clip_copy()
    output = tmp_path / "out" / "film.mkv"
    output.parent.mkdir()
    output.write_bytes(b"keep me")
    result = run_drapto("encode", source, tmp_path / "out", "--standard")
    assert result.returncode == 1
    assert "not a valid encode" in result.stdout + result.stderr and "--force" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert output.read_bytes() == b"keep me"

    forced = run_drapto("encode", source, tmp_path / "out", "--standard", "--force", "--json")
    assert forced.returncode == 0, forced.stderr
    assert probe(output).video[0].codec == "AV1"

    again = run_drapto("encode", source, tmp_path / "out", "--standard", "--json")
    assert again.returncode == 0, again.stderr
    skipped = [e for e in json_events(again.stdout) if e["event"] == "file_skipped"]
    assert skipped and skipped[0]["reason"] == "output exists and validates"
