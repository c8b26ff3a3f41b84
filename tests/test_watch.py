"""`drapto watch`: a file is encoded once it has settled (never while it is still being copied), once."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import AudioSpec, ClipSpec, check_event_line, processes_using, run_drapto

from drapto.shell.folderwatch import Seen, observe, settled, watch_folder

# --- the settle rule, without sleeping -------------------------------------------------------------


def test_a_first_stat_starts_the_settle_period_and_only_a_change_restarts_it():
    first = observe(None, 100, 5, now=10.0)
    assert first == Seen(100, 5, 10.0)
    assert observe(first, 100, 5, now=99.0) is first
    assert observe(first, 200, 5, now=11.0) == Seen(200, 5, 11.0)  # grew
    assert observe(first, 100, 6, now=11.0) == Seen(100, 6, 11.0)  # rewritten in place


def test_settled_files_are_those_unchanged_for_the_period_in_batch_order(tmp_path):
    pending = {
        tmp_path / "b.mkv": Seen(1, 1, 0.0),
        tmp_path / "A" / "z.mkv": Seen(1, 1, 5.0),
        tmp_path / "c.mkv": Seen(1, 1, 8.5),  # changed 1.5 s ago
        tmp_path / "empty.mkv": Seen(0, 1, 0.0),  # created, not yet written
    }
    assert settled(pending, now=10.0, settle=2.0) == [tmp_path / "A" / "z.mkv", tmp_path / "b.mkv"]
    assert settled(pending, now=10.5, settle=2.0)[-1] == tmp_path / "c.mkv"
    assert settled({}, now=10.0, settle=0.0) == []


def test_a_slow_copy_settles_only_a_full_period_after_its_last_write():
    """Written a part a second (each gap shorter than the 2 s period, the copy longer), stat'ed every
    quarter second: it settles 2 s after the last write, never before."""
    settle, seen, size, first_settled = 2.0, None, 0, None
    for tick in range(40):
        now = tick * 0.25
        if now in (0.0, 1.0, 2.0, 3.0):
            size += 1000  # a part written
        seen = observe(seen, size, mtime_ns=int(size), now=now)
        if settled({Path("film.mkv"): seen}, now, settle) and first_settled is None:
            first_settled = now
    assert first_settled == 5.0


# --- the loop, with a stand-in for the encode ----------------------------------------------------------


def wait_until(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_the_loop_hands_over_existing_new_and_moved_in_files_once(tmp_path):
    watched, staging = tmp_path / "in", tmp_path / "staging"
    (watched / "old").mkdir(parents=True)
    (watched / "old" / "a.mkv").write_bytes(b"a")
    (watched / "notes.txt").write_bytes(b"not a film")
    handled: list[tuple[float, Path]] = []
    stop = threading.Event()
    loop = threading.Thread(
        target=watch_folder, args=(watched, 0.3, lambda p: handled.append((time.monotonic(), p))), kwargs={"stop": stop}
    )
    loop.start()
    try:
        assert wait_until(lambda: len(handled) == 1)
        (watched / "new.mp4").write_bytes(b"n")
        (watched / ".hidden").mkdir()
        (watched / ".hidden" / "h.mkv").write_bytes(b"h")
        (staging / "season" / "deep").mkdir(parents=True)  # a whole folder moved in: one event for it
        (staging / "season" / "deep" / "e01.mkv").write_bytes(b"e")
        (staging / "season").rename(watched / "season")
        assert wait_until(lambda: len(handled) == 3)
        os.utime(watched / "new.mp4")  # a handled file that changes is not handed over again
        (watched / "old" / "a.mkv").write_bytes(b"aa")
        time.sleep(1.0)
    finally:
        stop.set()
        loop.join(timeout=10)
    assert not loop.is_alive()
    names = [p.relative_to(watched).as_posix() for _, p in handled]
    assert names[0] == "old/a.mkv" and sorted(names[1:]) == ["new.mp4", "season/deep/e01.mkv"]


# --- the real command ---------------------------------------------------------------------------------

TINY = ClipSpec(duration=1.0, audio=(AudioSpec("stereo", 2, "eng"),), subtitles=False, chapters=False)
LONGER = ClipSpec(duration=20.0, audio=(), subtitles=False, chapters=False)


class Events:
    """The child's --json lines as they arrive, each with the time it was read."""

    def __init__(self, child: subprocess.Popen[str]) -> None:
        self.lines: queue.Queue[tuple[float, dict]] = queue.Queue()
        self.seen: list[tuple[float, dict]] = []
        threading.Thread(target=self._read, args=(child,), daemon=True).start()

    def _read(self, child: subprocess.Popen[str]) -> None:
        for line in child.stdout:
            self.lines.put((time.monotonic(), check_event_line(line)))

    def wait_for(self, kind: str, seconds: float = 30.0, **fields: str) -> tuple[float, dict]:
        """The first event of this kind with these field values, and when it was read."""
        deadline = time.monotonic() + seconds
        while True:
            for at, event in self.seen:
                if event["event"] == kind and all(event.get(k) == v for k, v in fields.items()):
                    return at, event
            try:
                self.seen.append(self.lines.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                raise AssertionError(f"no {kind} {fields} in {seconds} s; got {self.seen}") from None

    def drain(self, seconds: float) -> list[dict]:
        time.sleep(seconds)
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return [event for _, event in self.seen]


@pytest.mark.ffmpeg
def test_watch_encodes_a_slowly_copied_file_once_after_the_copy_and_stops_on_ctrl_c(make_clip, tmp_path):
    watched, out, staging = tmp_path / "in", tmp_path / "out", tmp_path / "staging"
    watched.mkdir()
    staging.mkdir()
    settle = 2.0
    child = subprocess.Popen(
        [sys.executable, "-m", "drapto", "watch", str(watched), str(out), "--standard", "--settle", str(settle), "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        events = Events(child)
        events.wait_for("notice")

        # A copy in four parts, 0.8 s apart: each gap is shorter than the settle period, the copy longer.
        data = make_clip(TINY).read_bytes()
        source = watched / "season 1" / "e01.mkv"
        source.parent.mkdir()
        with source.open("wb") as copy:
            for i in range(4):
                copy.write(data[i * len(data) // 4 : (i + 1) * len(data) // 4])
                copy.flush()
                if i < 3:
                    time.sleep(0.8)
        copy_end = time.monotonic()

        started_at, started = events.wait_for("file_started", file=str(source))
        events.wait_for("file_finished", file=str(source))
        assert started_at >= copy_end + settle, "encoding started before the copy had settled"
        output = out / "season 1" / "e01.mkv"
        assert started["output"] == str(output) and output.exists()

        os.utime(source)  # touched after its encode: still not encoded twice
        later = events.drain(settle + 1.5)
        assert [e["event"] for e in later].count("file_started") == 1, later

        # A longer film moved in; Ctrl-C while it encodes stops everything, ffmpeg included.
        longer = staging / "longer.mkv"
        longer.write_bytes(make_clip(LONGER).read_bytes())
        longer.rename(watched / "longer.mkv")
        events.wait_for("step_started", file=str(watched / "longer.mkv"), step="video")
        child.send_signal(signal.SIGINT)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    stderr = child.stderr.read()
    assert child.returncode == 130 and "interrupted" in stderr, stderr
    assert wait_until(lambda: not processes_using(watched), 5.0), "an ffmpeg outlived drapto watch"
    assert not (out / "longer.mkv").exists()
    summary = events.drain(0.5)[-1]
    assert summary["event"] == "batch_summary" and summary["succeeded"] == 1, summary


def test_watch_needs_an_output_folder_outside_the_watched_folder(tmp_path):
    (tmp_path / "in").mkdir()
    inside = run_drapto("watch", tmp_path / "in", tmp_path / "in" / "av1")
    assert inside.returncode == 2 and "inside the input folder" in inside.stderr
    named = run_drapto("watch", tmp_path / "in", tmp_path / "out.mkv")
    assert named.returncode == 2 and "give an output folder" in named.stderr
    missing = run_drapto("watch", tmp_path / "nowhere", tmp_path / "out")
    assert missing.returncode == 2 and "Input not found" in missing.stderr
    negative = run_drapto("watch", tmp_path / "in", tmp_path / "out", "--settle", "-1")
    assert negative.returncode == 2 and "--settle" in negative.stderr
