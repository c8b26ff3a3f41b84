"""Faults, run for real: kill -9 at every stage of a chunked encode, a truncated output, two runs on one
output, a full disk, a source that vanishes, an output folder that turns read-only. Each ends in one clear
line, the right exit code, the source untouched and nothing lost that was finished."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import AudioSpec, ClipSpec, json_events, recurring_scene_graph, run_drapto, wait_for_no_process_using

from drapto.core.plan import Expectations
from drapto.graph.outputlock import output_lock
from drapto.graph.space import space_needs
from drapto.graph.validate import PacketRead, attached_results, packet_problems, parse_packets

# Shots that return: scouts run first and the other chunks start from them (the film model), so the kill
# table also shows that chunks predicted from others choose the same CRFs after any interruption.
MULTI = ClipSpec(
    duration=9.0,
    rate="24",
    video_graph=recurring_scene_graph(192, 108, "24", 1.5),
    audio=(AudioSpec("stereo", 2, "eng", "Stereo", True),),
)
CHUNK_ENV = {
    "DRAPTO_CHUNK_MIN_SECONDS": "1",
    "DRAPTO_CHUNK_MAX_SECONDS": "3",
    "DRAPTO_PROBE_SECONDS": "0.25",
    "DRAPTO_FILM_MODEL": "true",  # the experimental model too: its predicted chunks must resume the same
}
LONG = ClipSpec(duration=6.0, audio=(AudioSpec("stereo", 2, "eng"),), subtitles=False)


def assert_one_clear_line(result: subprocess.CompletedProcess[str] | tuple[int, str], code: int, *says: str) -> None:
    returncode, stderr = result if isinstance(result, tuple) else (result.returncode, result.stderr)
    assert returncode == code, stderr
    assert "Traceback" not in stderr and "PythonAction" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    for fragment in says:
        assert fragment in lines[0], stderr


# --- pure parts ---------------------------------------------------------------------------------------


LISTING = """#tb 0: 1/1000
#media_type 0: video
0,          0,          0,       42,     1200, 0x1
0,         42,        125,       42,      300, 0x2
0,         83,         83,       42,      310, 0x3
"""


def test_the_packet_listing_gives_frames_and_where_the_video_ends():
    assert parse_packets(LISTING) == PacketRead(frames=3, video_end=0.167, errors=(), last_frame=0.125)
    damaged = parse_packets(LISTING, "[in#0/matroska,webm @ 0x1] File ended prematurely\n")
    assert damaged.errors == ("File ended prematurely",)
    assert parse_packets("", "", 1).errors == ("ffmpeg stopped reading it with exit code 1",)


def test_packet_problems_name_a_cut_file_short_video_and_missing_frames():
    expect = Expectations(
        width=320, height=180, duration=10.0, video_duration=10.0, audio_channels=(2,), subtitles=0, chapters=0,
        attachments=0, frames=240,
    )  # fmt: skip
    assert packet_problems(PacketRead(frames=240, video_end=10.0, errors=()), expect) == []
    assert packet_problems(PacketRead(frames=240, video_end=9.2, errors=()), expect) == []  # within a second
    cut = packet_problems(PacketRead(frames=40, video_end=1.7, errors=("File ended prematurely",)), expect)
    assert cut == [
        "the file is damaged: File ended prematurely",
        "its video ends at 1.700s, the source's runs to 10.000s",
        "40 video frames, the source has 240",
    ]


def test_space_needs_count_the_video_copies_and_what_is_already_written():
    assert space_needs(1000, "chunked", 0, same_filesystem=True) == (3000, 0)
    assert space_needs(1000, "standard", 500, same_filesystem=True) == (1500, 0)
    assert space_needs(1000, "chunked", 5000, same_filesystem=False) == (0, 1000)


# --- helpers for the real runs ------------------------------------------------------------------------


def drapto_child(*args: str | os.PathLike[str], env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "drapto", *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env={**os.environ, **(env or {})},
    )  # fmt: skip


def run_until(child: subprocess.Popen[str], when: Callable[[dict], bool], then: Callable[[], None]) -> tuple[int, str]:
    """Read the child's events; call `then` at the first one `when` accepts. Returns its exit code and
    what it said of a failure: its stderr, and the message of each `file_failed` event."""
    assert child.stdout is not None and child.stderr is not None
    done, failures = False, []
    for line in child.stdout:
        event = json.loads(line)
        if event["event"] == "file_failed":
            failures.append(event["message"] + "\n")
        if not done and when(event):
            then()
            done = True
    child.wait(timeout=120)
    return child.returncode, child.stderr.read() + "".join(failures)


def video_packets(ffmpeg: str, path: Path) -> list[str]:
    """The video stream's packets (timestamps, sizes and checksums), for comparing two encodes."""
    listing = subprocess.run(
        [ffmpeg, "-hide_banner", "-loglevel", "error", "-i", str(path), "-map", "0:v:0", "-c", "copy", "-f", "framecrc", "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return [line for line in listing.splitlines() if not line.startswith("#")]


@contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    """A small tmpfs mounted at `path` (root on Linux only; skipped elsewhere)."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode(errors='replace').strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def fill(folder: Path) -> Path:
    """Fill the filesystem of `folder` to the last byte; returns the filler file."""
    filler = folder / "filler"
    block = b"\0" * (1 << 16)
    with open(filler, "wb", buffering=0) as out:
        try:
            while True:
                out.write(block)
        except OSError:
            pass
        try:
            while True:
                out.write(b"\0")
        except OSError:
            pass
    return filler


# --- the table ----------------------------------------------------------------------------------------


def stage(name: str) -> Callable[[dict], bool]:
    return lambda event: event["event"] == "step_started" and event["step"] == name


KILL_POINTS = {
    "probe": stage("probe"),
    "scan": stage("scenes"),
    "mid-chunk": lambda e: e["event"] == "step_progress" and e["step"].startswith("chunk-"),
    "between chunks": lambda e: e["event"] == "chunk_finished",
    "concat": stage("concat"),
    "mux": stage("mux"),
}


@pytest.mark.ffmpeg
def test_kill_9_at_every_stage_then_rerun_ends_as_an_uninterrupted_run(clip_copy, tmp_path, ffmpeg):
    source = clip_copy(MULTI)
    before = source.read_bytes()
    out = tmp_path / "out"
    flags = ("--json", "--workers", "1", "--vmaf-scale", "none")
    reached = []
    for point, when in KILL_POINTS.items():
        child = drapto_child("encode", source, out, *flags, env=CHUNK_ENV)
        code, _stderr = run_until(child, when, lambda: os.kill(child.pid, signal.SIGKILL))
        assert wait_for_no_process_using(source), f"an ffmpeg outlived drapto killed at {point}"
        if code == -signal.SIGKILL:
            reached.append(point)
        assert not (out / "film.mkv").exists() or code == 0
    assert reached == list(KILL_POINTS), reached  # every stage was reached and killed in turn
    resumed = run_drapto("encode", source, out, *flags, env=CHUNK_ENV)
    assert resumed.returncode == 0, resumed.stderr
    ran = {e["step"] for e in json_events(resumed.stdout) if e["event"] == "step_started"}
    assert not any(step.startswith("chunk-") for step in ran), ran  # every chunk survived the kills

    fresh = tmp_path / "fresh"
    uninterrupted = run_drapto("encode", source, fresh, *flags, env=CHUNK_ENV)
    assert uninterrupted.returncode == 0, uninterrupted.stderr
    crfs = [r.crf for r in attached_results(ffmpeg, out / "film.mkv").chunks]
    assert crfs == [r.crf for r in attached_results(ffmpeg, fresh / "film.mkv").chunks]
    assert video_packets(ffmpeg, out / "film.mkv") == video_packets(ffmpeg, fresh / "film.mkv")
    assert source.read_bytes() == before


@pytest.mark.ffmpeg
def test_a_truncated_output_is_reported_and_left_alone_and_force_replaces_it(clip_copy, tmp_path):
    source = clip_copy()
    before = source.read_bytes()
    out = tmp_path / "out"
    assert run_drapto("encode", source, out, "--standard").returncode == 0
    output = out / "film.mkv"
    cut = output.read_bytes()[: output.stat().st_size // 3]
    output.write_bytes(cut)

    again = run_drapto("encode", source, out, "--standard")
    assert_one_clear_line(again, 1, "exists but is not a valid encode", "--force")
    assert "video ends at" in again.stderr or "damaged" in again.stderr
    assert output.read_bytes() == cut and source.read_bytes() == before

    forced = run_drapto("encode", source, out, "--standard", "--force")
    assert forced.returncode == 0, forced.stderr
    assert output.stat().st_size > len(cut)
    assert run_drapto("encode", source, out, "--standard").returncode == 0  # now it validates and is skipped


@pytest.mark.ffmpeg
def test_a_second_run_on_the_same_output_is_refused_while_the_first_finishes(clip_copy, tmp_path):
    source = clip_copy(LONG)
    out = tmp_path / "out"
    first = drapto_child("encode", source, out, "--standard", "--json")
    second: list[subprocess.CompletedProcess[str]] = []
    code, stderr = run_until(
        first, stage("video"), lambda: second.append(run_drapto("encode", source, out, "--standard"))
    )
    assert code == 0, stderr
    assert_one_clear_line(second[0], 2, "is being encoded by another drapto (process ", str(first.pid))
    assert (out / "film.mkv").exists() and not (out / ".drapto").exists()


@pytest.mark.ffmpeg
def test_a_batch_skips_a_file_another_run_holds_and_goes_on(clip_copy, tmp_path):
    source = clip_copy(LONG)
    other = clip_copy(ClipSpec(duration=1.0, audio=(), subtitles=False, chapters=False), name="other.mkv")
    out = tmp_path / "out"
    with output_lock(out / "film.mkv"):  # as a run in another process holds it
        batch = run_drapto("encode", source.parent, out, "--standard", "--json")
    assert batch.returncode == 0, batch.stderr
    summary = json_events(batch.stdout)[-1]
    assert summary["event"] == "batch_summary" and (summary["succeeded"], summary["skipped"]) == (1, 1)
    held = next(f for f in summary["files"] if f["file"] == str(source))
    assert held["status"] == "skipped" and f"being encoded by another drapto (process {os.getpid()})" in held["detail"]
    assert (out / "other.mkv").exists() and not (out / "film.mkv").exists() and other.exists()


@pytest.mark.ffmpeg
def test_a_disk_that_is_clearly_too_small_is_refused_before_encoding(clip_copy, tmp_path):
    source = clip_copy(LONG)
    with tmpfs(tmp_path / "small", f"{source.stat().st_size // 2}") as small:
        result = run_drapto("encode", source, small, "--standard")
        assert_one_clear_line(result, 1, "Not enough space for film.mkv", "free")
        assert not list(small.rglob("*.mkv*"))


@pytest.mark.ffmpeg
def test_a_disk_that_fills_up_mid_run_is_one_line_and_the_partial_is_removed(clip_copy, tmp_path):
    source = clip_copy(LONG)
    before = source.read_bytes()
    with tmpfs(tmp_path / "disk", "16m") as disk:
        out = disk / "out"
        filler: list[Path] = []
        child = drapto_child("encode", source, out, "--standard", "--json")
        code, stderr = run_until(child, stage("video"), lambda: filler.append(fill(disk)))
        assert_one_clear_line((code, stderr), 1, "No space left on device in ", "free", "run the same command again")
        assert not list(out.rglob("*.partial")), list(out.rglob("*"))
        filler[0].unlink()
        resumed = run_drapto("encode", source, out, "--standard")
        assert resumed.returncode == 0, resumed.stderr
        assert (out / "film.mkv").exists() and source.read_bytes() == before


@pytest.mark.ffmpeg
def test_a_source_that_disappears_mid_run_is_one_line_and_finished_steps_are_kept(clip_copy, tmp_path):
    source = clip_copy(LONG)
    before = source.read_bytes()
    out = tmp_path / "out"
    child = drapto_child("encode", source, out, "--standard", "--json", "--keep")
    code, stderr = run_until(child, stage("video"), source.unlink)
    assert_one_clear_line((code, stderr), 1, "The source disappeared", str(source))
    source.write_bytes(before)
    resumed = run_drapto("encode", source, out, "--standard", "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert (out / "film.mkv").exists()


@pytest.mark.ffmpeg
def test_an_output_folder_that_turns_read_only_is_one_line_and_resumes(clip_copy, tmp_path):
    source = clip_copy(LONG)
    out = tmp_path / "out"
    work = out / ".drapto" / "film"
    with tmpfs(out, "16m"), tmpfs(work, "16m"):  # the work folder stays writable, the output's folder does not
        child = drapto_child("encode", source, out, "--standard", "--json", "--keep")

        def read_only() -> None:
            subprocess.run(["mount", "-o", "remount,ro", str(out)], check=True)

        code, stderr = run_until(child, stage("mux"), read_only)
        assert_one_clear_line((code, stderr), 1, f"Cannot write to {out}", "Read-only file system")
        subprocess.run(["mount", "-o", "remount,rw", str(out)], check=True)
        resumed = run_drapto("encode", source, out, "--standard", "--json", "--keep")
        assert resumed.returncode == 0, resumed.stderr
        ran = [e["step"] for e in json_events(resumed.stdout) if e["event"] == "step_started"]
        assert ran == ["validate"], ran  # everything else was finished and kept
