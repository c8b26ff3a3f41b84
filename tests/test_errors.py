"""Bad input: one clear message, a non-zero exit code, no traceback, the source untouched."""

from __future__ import annotations

import os

import pytest
from conftest import ClipSpec, run_drapto


def assert_clean_failure(result, *fragments: str, code: int = 2) -> None:
    assert result.returncode == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    for fragment in fragments:
        assert fragment in result.stderr


def test_missing_input(tmp_path):
    assert_clean_failure(run_drapto("encode", tmp_path / "nope.mkv", tmp_path / "out"), "Input not found")


def test_text_file_named_mkv(tmp_path):
    fake = tmp_path / "film.mkv"
    fake.write_text("hello\n")
    assert_clean_failure(run_drapto("encode", fake, tmp_path / "out"), "No video stream")
    assert fake.read_text() == "hello\n"


@pytest.mark.ffmpeg
def test_audio_only_file(clip_copy, tmp_path):
    source = clip_copy(ClipSpec(video=False, subtitles=False, chapters=False), name="album.mkv")
    before = source.read_bytes()
    assert_clean_failure(run_drapto("encode", source, tmp_path / "out"), "No video stream", "audio only")
    assert source.read_bytes() == before


@pytest.mark.ffmpeg
def test_unwritable_output_folder(clip_copy, tmp_path):
    source = clip_copy()
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert_clean_failure(run_drapto("encode", source, blocker / "out"), "Cannot write to output folder")


@pytest.mark.ffmpeg
@pytest.mark.skipif(os.geteuid() == 0, reason="root may write to a read-only folder")
def test_read_only_output_folder(clip_copy, tmp_path):
    source = clip_copy()
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    assert_clean_failure(run_drapto("encode", source, folder), "Cannot write to output folder")


@pytest.mark.ffmpeg
def test_output_equal_to_input(clip_copy):
    source = clip_copy()
    before = source.read_bytes()
    assert_clean_failure(run_drapto("encode", source, source), "is the input file")
    assert source.read_bytes() == before


def test_bad_option_value(tmp_path):
    assert_clean_failure(run_drapto("encode", tmp_path, tmp_path / "out", "--crf", "1,2"), "--crf")


def test_unknown_option_is_a_usage_error(tmp_path):
    result = run_drapto("encode", "--no-such-flag")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout


def test_missing_ffmpeg_named_clearly(tmp_path):
    env_result = _run_with_env({"DRAPTO_FFMPEG": str(tmp_path / "no-ffmpeg")}, "encode", tmp_path, tmp_path / "o")
    assert_clean_failure(env_result, "ffmpeg not found")


def _run_with_env(env: dict[str, str], *args):
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "drapto", *map(str, args)],
        capture_output=True, text=True, env={**os.environ, **env}, timeout=60,
    )  # fmt: skip


@pytest.mark.ffmpeg
@pytest.mark.parametrize("mode", ["--standard", "--chunked"])
def test_a_truncated_source_is_called_damaged(clip_copy, mode, tmp_path):
    source = clip_copy(ClipSpec(duration=6.0))
    whole = source.read_bytes()
    source.write_bytes(whole[: len(whole) // 2])  # the container still declares 4 s
    half = source.read_bytes()
    result = run_drapto("encode", source, tmp_path / "out", mode)
    assert_clean_failure(result, "The source is damaged", code=1)
    assert "validation" not in result.stderr
    assert source.read_bytes() == half
