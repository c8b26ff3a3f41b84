"""Library batches: recursive folders mirrored under the output, outputs claimed twice, outputs inside inputs."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import json_events, run_drapto

from drapto.errors import InputError
from drapto.graph.jobs import check_outside, discover, output_for


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def test_recursive_discovery_walks_subfolders_but_not_dot_folders(tmp_path):
    films = [touch(tmp_path / "B.mkv"), touch(tmp_path / "a" / "x.mp4"), touch(tmp_path / "a" / "b" / "y.m2ts")]
    touch(tmp_path / ".drapto" / "work.mkv")
    touch(tmp_path / "a" / "notes.txt")
    assert discover(tmp_path) == [films[0]]
    assert discover(tmp_path, recursive=True) == [films[2], films[1], films[0]]  # by path, case-blind


def test_a_recursive_batch_mirrors_subfolders(tmp_path):
    source = tmp_path / "in" / "season 1" / "e01.mp4"
    out = output_for(source, tmp_path / "out", batch=True, root=tmp_path / "in")
    assert out == tmp_path / "out" / "season 1" / "e01.mkv"


def test_an_output_folder_inside_the_input_is_refused(tmp_path):
    with pytest.raises(InputError, match="inside the input folder"):
        check_outside(tmp_path, tmp_path / "av1")
    check_outside(tmp_path / "in", tmp_path / "out")


@pytest.mark.ffmpeg
def test_recursive_encode_mirrors_folders_and_skips_validated_outputs(clip_copy, tmp_path):
    top = clip_copy(name="top.mkv")
    nested = clip_copy(name="season 1/e01.mkv")
    clip_copy(name="season 1/e01.mp4")  # same name, another container: its output would clash
    result = run_drapto("encode", top.parent, tmp_path / "out", "--recursive", "--standard", "--json")
    assert result.returncode == 1, result.stderr
    failed = [e for e in json_events(result.stdout) if e["event"] == "file_failed"]
    assert len(failed) == 1 and "e01.mkv" in failed[0]["message"], failed
    assert (tmp_path / "out" / "top.mkv").exists()
    assert (tmp_path / "out" / "season 1" / "e01.mkv").exists()
    assert nested.exists()

    nested.with_suffix(".mp4").unlink()
    again = run_drapto("encode", top.parent, tmp_path / "out", "--recursive", "--standard", "--json")
    assert again.returncode == 0, again.stderr
    skipped = [e for e in json_events(again.stdout) if e["event"] == "file_skipped"]
    assert len(skipped) == 2


def test_recursive_output_inside_input_is_one_clear_error(clip_copy, tmp_path):
    top = clip_copy(name="top.mkv")
    result = run_drapto("encode", top.parent, top.parent / "av1", "--recursive")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "inside the input folder" in result.stderr


@pytest.mark.ffmpeg
def test_the_summary_says_what_was_written_and_the_batch_lists_every_file(clip_copy, tmp_path):
    good = clip_copy(name="good.mkv")
    (good.parent / "bad.mkv").write_text("not a film")
    result = run_drapto("encode", good.parent, tmp_path / "out", "--standard")
    assert result.returncode == 1
    text = result.stdout
    assert "x realtime" in text
    assert "video: AV1 320x180 10-bit, CRF 25" in text
    assert "audio: Opus 5.1 256k, Opus 2.0 128k" in text
    assert "validation passed: AV1 10-bit 320x180" in text
    assert "1 encoded, 1 failed, 0 skipped" in text
    assert f"  encoded  {good}: " in text and f"  failed   {good.parent / 'bad.mkv'}: No video stream" in text
