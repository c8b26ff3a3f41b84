"""Outputs that never grow unasked (issue 24), with the real ffmpeg: a web-shaped low-bit-rate source keeps
its chunks under the source's own bytes (capped by size, said), and a source already in AV1 is skipped."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import json_events, run_drapto

pytestmark = pytest.mark.ffmpeg


def stream_bytes(ffmpeg: str, path: Path) -> dict[int, int]:
    """Every packet's size summed per stream, read by ffmpeg's framecrc (not by drapto)."""
    listing = subprocess.run([ffmpeg, "-v", "error", "-i", str(path), "-map", "0", "-c", "copy", "-f", "framecrc", "-"],
                             capture_output=True, text=True, check=True).stdout  # fmt: skip
    sizes: dict[int, int] = {}
    for line in listing.splitlines():
        if line and not line.startswith("#"):
            fields = [f.strip() for f in line.split(",")]
            sizes[int(fields[0])] = sizes.get(int(fields[0]), 0) + int(fields[4])
    return sizes


@pytest.fixture(scope="module")
def web_source(ffmpeg, tmp_path_factory) -> Path:
    """An MP4 as a library collects from the web: 4 s of grainy 320x180 at 120 kb/s H.264, AAC at 64 kb/s."""
    target = tmp_path_factory.mktemp("web") / "web.mp4"
    subprocess.run([
        ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=4,noise=alls=12:allf=t",
        "-f", "lavfi", "-i", "anoisesrc=c=pink:a=0.2:d=4", "-c:v", "libx264", "-preset", "fast", "-b:v", "120k",
        "-c:a", "aac", "-b:a", "64k", str(target),
    ], check=True)  # fmt: skip
    return target


def test_a_low_bit_rate_source_is_capped_and_never_grows(web_source, ffmpeg, tmp_path):
    out = tmp_path / "out"
    result = run_drapto(
        "encode", web_source, out, "--preset", "12", "--keep", "--json", "--no-log", "--vmaf-scale", "none"
    )
    assert result.returncode == 0, result.stderr
    output = out / "web.mkv"
    source_video, output_video = stream_bytes(ffmpeg, web_source)[0], stream_bytes(ffmpeg, output)[0]
    assert output_video <= source_video, (output_video, source_video)
    chunks = json.loads(next((out / ".drapto").glob("*/drapto-chunks.json")).read_text())["chunks"]
    capped = [c for c in chunks if c["capped"]]
    assert capped, chunks  # VMAF 93 against a grainy 120 kb/s source would take more bytes than it has
    for chunk in chunks:
        assert chunk["ceiling"] and chunk["bytes"] <= chunk["ceiling"]
        assert any(t["bytes"] > chunk["ceiling"] for t in chunk["tries"]) or not chunk["capped"]
    events = json_events(result.stdout)
    finished = next(e for e in events if e["event"] == "file_finished")
    assert finished["capped"] == len(capped) and finished["output_bytes"] <= finished["input_bytes"]
    notices = [e["message"] for e in events if e["event"] == "notice" and "capped by size" in e["message"]]
    assert len(notices) == 1 and notices[0].startswith(f"{len(capped)} of {len(chunks)} chunks capped by size")
    audio = next(e for e in events if e["event"] == "file_finished")["audio"]
    assert audio == ["Opus mono 64k"]  # never more than the source's own 64 kb/s


def test_the_ceiling_can_be_turned_off(web_source, tmp_path):
    out = tmp_path / "out"
    result = run_drapto("encode", web_source, out, "--preset", "12", "--keep", "--size-ceiling", "0", "--no-log")
    assert result.returncode == 0, result.stderr
    chunks = json.loads(next((out / ".drapto").glob("*/drapto-chunks.json")).read_text())["chunks"]
    assert not any(c["capped"] for c in chunks) and all(c["ceiling"] is None for c in chunks)


def test_a_source_already_in_av1_is_skipped(ffmpeg, tmp_path, make_clip):
    av1 = tmp_path / "av1.mkv"
    subprocess.run([ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=160x90:r=25:d=1",
                    "-c:v", "libsvtav1", "-preset", "12", str(av1)], check=True)  # fmt: skip
    result = run_drapto("encode", av1, tmp_path / "out", "--no-log")
    assert result.returncode == 0, result.stderr
    assert "skipped, already AV1" in result.stdout and not (tmp_path / "out" / "av1.mkv").exists()
    folder = tmp_path / "library"
    folder.mkdir()
    av1.rename(folder / "av1.mkv")
    (folder / "film.mkv").write_bytes(make_clip().read_bytes())
    batch = run_drapto("encode", folder, tmp_path / "batch", "--standard", "--preset", "12", "--no-log")
    assert batch.returncode == 0, batch.stderr
    assert "1 encoded, 0 failed, 1 skipped" in batch.stdout
    assert (tmp_path / "batch" / "film.mkv").is_file() and not (tmp_path / "batch" / "av1.mkv").exists()
    again = run_drapto("encode", folder / "av1.mkv", tmp_path / "forced", "--standard", "--preset", "12",
                       "--reencode-av1", "--no-log")  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "forced" / "av1.mkv").is_file()
