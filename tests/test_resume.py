"""Resume: a rerun does no work, a changed option reruns only what it affects, a killed run resumes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
from conftest import AudioSpec, ClipSpec, json_events, run_drapto

from drapto.graph.probe import probe

pytestmark = pytest.mark.ffmpeg


def ran(stdout: str) -> list[str]:
    return [e["step"] for e in json_events(stdout) if e["event"] == "step_started"]


def skipped(stdout: str) -> list[str]:
    return [e["step"] for e in json_events(stdout) if e["event"] == "step_skipped"]


def test_rerun_does_no_work_and_a_changed_option_reruns_only_its_steps(clip_copy, tmp_path):
    source = clip_copy()
    out = tmp_path / "out"
    first = run_drapto("encode", source, out, "--standard", "--keep", "--json")
    assert first.returncode == 0, first.stderr
    # video and audio run side by side, so only the sets are fixed, and the order around them
    steps = ran(first.stdout)
    assert steps[:2] == ["probe", "crop"] and steps[-2:] == ["mux", "validate"]
    assert set(steps) == {"probe", "crop", "video", "audio-00", "audio-01", "mux", "validate"}

    again = run_drapto("encode", source, out, "--standard", "--keep", "--json")
    assert again.returncode == 0, again.stderr
    assert ran(again.stdout) == []
    assert set(skipped(again.stdout)) == {"probe", "crop", "video", "audio-00", "audio-01", "mux", "validate"}

    preset = run_drapto("encode", source, out, "--standard", "--keep", "--json", "--preset", "8")
    assert preset.returncode == 0, preset.stderr
    assert ran(preset.stdout) == ["video", "mux", "validate"]
    assert set(skipped(preset.stdout)) == {"probe", "crop", "audio-00", "audio-01"}


LONG_AUDIO = ClipSpec(
    duration=6.0,
    audio=tuple(AudioSpec("7.1", 8, "eng") for _ in range(3)),
    subtitles=False,
    chapters=False,
)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killed_after_video_resumes_without_reencoding_video(clip_copy, tmp_path, sig):
    source = clip_copy(LONG_AUDIO)
    out = tmp_path / "out"
    child = subprocess.Popen(
        [sys.executable, "-m", "drapto", "encode", str(source), str(out), "--standard", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    for line in child.stdout:
        event = json.loads(line)
        if event["event"] == "step_finished" and event["step"] == "video":
            os.kill(child.pid, sig)
            break
    child.wait(timeout=60)
    assert child.returncode != 0, "the run was stopped before it finished"
    if sig == signal.SIGTERM:
        assert child.returncode == 130
        stderr = child.stderr.read()
        assert "Traceback" not in stderr
        assert "drapto: interrupted; run the same command again to resume" in stderr
    assert not (out / "film.mkv").exists()
    video = out / ".drapto" / "film" / "video.mkv"
    stamp = video.stat().st_mtime_ns

    resumed = run_drapto("encode", source, out, "--standard", "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert "video" in skipped(resumed.stdout)
    assert "video" not in ran(resumed.stdout)
    assert [a.channels for a in probe(out / "film.mkv").audio] == [8, 8, 8]
    assert not video.exists() or video.stat().st_mtime_ns == stamp
