"""Ctrl-C and SIGTERM: every child stops (nothing is left in drapto's process group), drapto exits 130
saying how to resume, and the rerun completes. --responsive children run at low CPU and I/O priority."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ClipSpec, json_events, run_drapto

from drapto.graph import runner
from drapto.graph.probe import probe

pytestmark = pytest.mark.ffmpeg


def group_members(pgid: int) -> list[str]:
    """Command names of live processes in a process group (from /proc)."""
    names = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, _, rest = text.rpartition(")")
        fields = rest.split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            names.append(name.partition("(")[2])
    return names


def start_encode(source: Path, out: Path, *extra: str) -> subprocess.Popen:
    """drapto in its own session, as a terminal would run it, with events on stdout."""
    return subprocess.Popen(
        [sys.executable, "-m", "drapto", "encode", str(source), str(out), "--json", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip


def wait_for_encoding(child: subprocess.Popen, lines: list[str]) -> None:
    for line in child.stdout:
        lines.append(line)
        if '"step":"video"' in line or '"chunk_started"' in line:
            time.sleep(0.5)  # ffmpeg is running
            return
    pytest.fail("the encode never started: " + "".join(lines))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process groups read from /proc")
@pytest.mark.parametrize("how", ["ctrl-c", "sigterm", "ctrl-c twice"])
def test_interrupting_leaves_no_child_and_the_rerun_completes(clip_copy, tmp_path, how):
    source = clip_copy(ClipSpec(duration=8.0, width=640, height=360))
    out = tmp_path / "out"
    child = start_encode(source, out, "--standard", "--preset", "4")
    lines: list[str] = []
    wait_for_encoding(child, lines)
    assert any("ffmpeg" in name for name in group_members(child.pid)), group_members(child.pid)
    if how == "sigterm":
        child.send_signal(signal.SIGTERM)  # drapto alone, not its group
    else:
        os.killpg(child.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
        if how == "ctrl-c twice":
            time.sleep(0.05)
            os.killpg(child.pid, signal.SIGINT)
    rest, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    assert "run the same command again to resume" in err and "Traceback" not in err
    json_events("".join(lines) + rest)
    deadline = time.monotonic() + 5
    while group_members(child.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert group_members(child.pid) == [], "a child outlived drapto"
    assert not (out / "film.mkv").exists()

    rerun = run_drapto("encode", source, out, "--standard", "--preset", "4")
    assert rerun.returncode == 0, rerun.stderr
    assert probe(out / "film.mkv").video[0].codec == "AV1"


def test_responsive_children_run_at_low_cpu_and_io_priority():
    if not sys.platform.startswith("linux"):
        pytest.skip("priorities are set on Linux")
    check = "import ctypes,os;print(os.nice(0), ctypes.CDLL(None).syscall(252,1,0) >> 13)"
    runner.set_responsive(True)
    try:
        niceness, io_class = runner.run_capture([sys.executable, "-c", check]).stdout.split()
    finally:
        runner.set_responsive(False)
    assert int(niceness) >= 10
    if os.uname().machine == "x86_64":
        assert int(io_class) == 3  # idle
    normal = runner.run_capture([sys.executable, "-c", "import os;print(os.nice(0))"]).stdout
    assert int(normal) == os.nice(0)
