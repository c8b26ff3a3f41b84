"""A damaged source still finishes, with one warning that says where it is damaged (drapto.core.damage,
drapto.graph.damage). The locator is read from a fixture of the locating decode of a damaged MKV (64 KB of
random bytes over its middle, made with the embedded ffmpeg); the real runs damage a generated MKV the same
way and encode it in both modes."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest

from drapto.core.damage import Damage, DamageLocator, damage_message, is_source_error
from tests.conftest import json_events, run_drapto

FIXTURE = Path(__file__).parent / "fixtures" / "damage" / "damaged.mkv.debug_ts.txt"


def test_the_locator_places_a_lost_cluster_and_a_concealed_slice():
    locator = DamageLocator()
    for line in FIXTURE.read_text().splitlines():
        locator.feed(line)
    damage = locator.result()
    # the demuxer lost the packets from 2.667 s to 4.0 s; the decoder concealed a slice of the frame at 2.667 s
    assert damage.errors == 3
    assert damage.start == pytest.approx(2.625) and damage.end == pytest.approx(4.0)
    assert damage.first.startswith("Element at 0x38129")


def test_only_complaints_about_the_input_count():
    assert is_source_error("[in#0/matroska,webm @ 0x55] Element at 0x38129 exceeds containing master element")
    assert is_source_error("[h264 @ 0x55] error while decoding MB 15 5")
    assert not is_source_error("[out#0/matroska @ 0x55] Error muxing a packet")
    assert not is_source_error("[libsvtav1 @ 0x55] something")
    assert not is_source_error("Svt[error]: something")
    assert not is_source_error("[Parsed_bwdif_0 @ 0x55] something")
    assert not is_source_error("   ")


def test_the_warning_names_the_source_the_times_and_the_count():
    span = Damage(errors=12, start=1.2, end=1.9)
    assert damage_message("/films/a.mkv", span) == (
        "The source /films/a.mkv is damaged: decode errors at 1.2 s–1.9 s (12 errors); "
        "the output conceals them as the source's decoder did"
    )
    assert "at 1:02:03.5 (1 error)" in damage_message("a.mkv", Damage(errors=1, start=3723.5, end=3723.52))
    unplaced = damage_message("a.mkv", Damage(errors=2, first="cbp too large (49) at 15 5"))
    assert "ffmpeg reported 2 errors reading it (first: cbp too large (49) at 15 5)" in unplaced


@pytest.fixture(scope="module")
def damaged(ffmpeg, tmp_path_factory) -> tuple[Path, Path]:
    """A 6 s 320x180 MKV (a keyframe every 2 s) and its copy with 64 KB of (seeded) random
    bytes written over its middle."""
    folder = tmp_path_factory.mktemp("damage")
    clean = folder / "clean.mkv"
    subprocess.run(
        [ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=320x180:r=24:d=6", "-f", "lavfi", "-i",
         "sine=d=6", "-c:v", "libx264", "-preset", "ultrafast", "-g", "48", "-c:a", "aac", str(clean)],
        check=True,
    )  # fmt: skip
    data = bytearray(clean.read_bytes())
    middle = len(data) // 2 - 32768
    data[middle : middle + 65536] = random.Random(23).randbytes(65536)
    broken = folder / "damaged.mkv"
    broken.write_bytes(bytes(data))
    return clean, broken


def _damage_warnings(stdout: str) -> list[str]:
    return [e["message"] for e in json_events(stdout) if e["event"] == "notice" and "is damaged" in e["message"]]


@pytest.mark.parametrize("mode", ["--standard", "--chunked"])
def test_a_damaged_source_finishes_with_one_warning(damaged, ffmpeg, tmp_path, mode):
    clean, broken = damaged
    before = broken.read_bytes()
    done = run_drapto("encode", broken, tmp_path / "out", mode, "--preset", "12", "--json")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    [warning] = _damage_warnings(done.stdout)
    assert warning.startswith(f"The source {broken} is damaged: decode errors at ")
    assert broken.read_bytes() == before  # the source is never modified
    output = tmp_path / "out" / "damaged.mkv"
    read = subprocess.run(
        [ffmpeg, "-v", "error", "-i", str(output), "-map", "0", "-c", "copy", "-f", "framecrc", "-"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert read.returncode == 0 and read.stderr == ""  # the output itself reads cleanly
    clean_run = run_drapto("encode", clean, tmp_path / "clean", mode, "--preset", "12", "--json")
    assert clean_run.returncode == 0 and _damage_warnings(clean_run.stdout) == []
