"""Progress: ffmpeg's -progress blocks become events with fps, speed and bytes; a terminal shows live
bars with them (driven under a real pseudo-terminal), a pipe gets periodic lines, -q only errors."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time

import pytest
from conftest import ClipSpec, run_drapto

from drapto.core import events
from drapto.graph.runner import Progress, parse_progress_block
from drapto.shell.progress import rates


def test_a_progress_block_gives_time_fps_speed_and_size():
    block = {"frame": "120", "fps": "48.25", "total_size": "123456", "out_time_us": "5005000",
             "speed": "2.01x", "progress": "continue"}  # fmt: skip
    assert parse_progress_block(block) == Progress(seconds=5.005, fps=48.25, speed=2.01, bytes=123456)


def test_ffmpeg_not_knowing_yet_is_not_an_error():
    assert parse_progress_block({"out_time_us": "N/A", "progress": "continue"}) is None
    assert parse_progress_block({"out_time_us": "0", "fps": "0.00", "speed": "N/A", "total_size": "N/A"}) == Progress(
        seconds=0.0, fps=0.0, speed=None, bytes=None
    )


def test_rates_extrapolate_the_output_size():
    event = events.StepProgress(
        file="f", step="video", seconds=5, fraction=0.25, fps=48.2, speed=2.0, bytes=1024 * 1024
    )
    assert rates(event) == "48.2 fps, 2.00x, ~4.00 MiB"
    assert rates(events.StepProgress(file="f", step="video", seconds=0)) == ""


@pytest.mark.ffmpeg
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pseudo-terminal test")
def test_a_terminal_sees_live_bars_with_fps_and_eta(clip_copy, tmp_path):
    # long enough for several progress blocks on an idle machine (10 s at preset 8 encoded in 1.8 s: one
    # block, and no ETA yet)
    source = clip_copy(ClipSpec(duration=20.0, width=640, height=360))
    controller, terminal = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-m", "drapto", "encode", str(source), str(tmp_path / "out"), "--standard", "--preset", "6"],
        stdin=terminal, stdout=terminal, stderr=terminal, close_fds=True,
        env={**os.environ, "COLUMNS": "160", "LINES": "40", "TERM": "xterm-256color"},
    )  # fmt: skip
    os.close(terminal)
    screen = b""
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 0.5)
        if ready:
            try:
                data = os.read(controller, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            screen += data
        elif child.poll() is not None:
            break
    child.wait(timeout=30)
    os.close(controller)
    text = re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", screen).decode(errors="replace")
    assert child.returncode == 0, text[-2000:]
    assert re.search(r"\[1/1\] film\.mkv", text), "the file's overall bar"
    assert re.search(r"video .*\d+% .*\d:\d\d:\d\d .*\d+\.\d fps, \d+\.\d\dx, ~[\d.]+ (KiB|MiB)", text), text[-3000:]
    assert "finished:" in text


@pytest.mark.ffmpeg
def test_a_pipe_gets_progress_lines_with_rates_and_quiet_gets_nothing(clip_copy, tmp_path):
    source = clip_copy(ClipSpec(duration=8.0))  # long enough for ffmpeg's half-second progress blocks
    plain = run_drapto("encode", source, tmp_path / "out", "--standard")
    assert plain.returncode == 0, plain.stderr
    assert re.search(r"  video: \d+0% \(.*\d\.\d\dx", plain.stdout), plain.stdout
    quiet = run_drapto("encode", source, tmp_path / "out2", "--standard", "-q")
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == ""


def test_a_chunk_bar_names_the_cluster_worker_running_it():
    from io import StringIO

    from rich.console import Console

    from drapto.shell.progress import RichReporter

    reporter = RichReporter(Console(file=StringIO(), force_terminal=True, width=100))
    reporter(events.FileStarted(file="f", output="o", resolution="HD", crf=None, preset=6, steps=(), duration=10.0))
    reporter(events.ChunkStarted(file="f", step="chunk-0001", index=1, start=0, end=50, duration=2.0, crf=38.0))
    reporter(events.StepProgress(file="f", step="chunk-0001", seconds=1.0, fraction=0.5, fps=20.0,
                                 worker="tcp://127.0.0.1:40123"))  # fmt: skip
    assert "chunk-0001 on 127.0.0.1:40123" in [task.description for task in reporter.progress.tasks]
    reporter.progress.stop()
