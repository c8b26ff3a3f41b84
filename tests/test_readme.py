"""The examples README.md shows are run here, as written."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import json_events

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
EXAMPLES = [line[2:] for line in re.findall(r"^\$ drapto .*$", README, flags=re.M)]

pytestmark = pytest.mark.ffmpeg


def test_readme_has_examples():
    assert len(EXAMPLES) >= 3


def test_readme_examples_run(make_clip, tmp_path):
    (tmp_path / "film.mkv").write_bytes(make_clip().read_bytes())
    for example in EXAMPLES:
        argv = shlex.split(example)
        result = subprocess.run(
            [sys.executable, "-m", "drapto", *argv[1:]], cwd=tmp_path, capture_output=True, text=True
        )
        assert result.returncode == 0, (example, result.stdout, result.stderr)
    assert (tmp_path / "out" / "film.mkv").exists()
    assert (tmp_path / "out" / "film-av1.mkv").exists()
    assert (tmp_path / "out" / "film-nocrop.mkv").exists()


def test_doit_route_builds_the_same_graph(make_clip, tmp_path):
    source = tmp_path / "film.mkv"
    source.write_bytes(make_clip().read_bytes())
    doit = [sys.executable, "-m", "doit", "-f", str(ROOT / "dodo.py")]
    args = [f"input={source}", f"output={tmp_path / 'out'}"]
    first = subprocess.run([*doit, "encode", *args], capture_output=True, text=True)
    assert first.returncode == 0, first.stdout + first.stderr
    assert (tmp_path / "out" / "film.mkv").exists()
    listed = subprocess.run([*doit, "list", "--all", *args], capture_output=True, text=True).stdout
    assert {
        "probe", "crop", "scenes:scenes", "encode:chunk-0000", "encode:concat", "encode:audio-00", "encode:mux",
        "encode:validate",
    } <= {line.split()[0] for line in listed.splitlines() if line.strip()}  # fmt: skip
    again = subprocess.run([*doit, "encode", *args], capture_output=True, text=True)
    assert again.returncode == 0
    assert "chunk-0000: up to date, skipped" in again.stdout
    assert "concat: up to date, skipped" in again.stdout


def test_plan_prints_what_encode_runs(make_clip, tmp_path):
    source = tmp_path / "my film's cut.mkv"
    source.write_bytes(make_clip().read_bytes())
    plan = subprocess.run(
        [sys.executable, "-m", "drapto", "plan", str(source), str(tmp_path / "out")], capture_output=True, text=True
    )
    assert plan.returncode == 0, plan.stderr
    commands = [shlex.split(line) for line in plan.stdout.splitlines() if not line.startswith("#")]
    assert len(commands) == 5  # the one chunk's first try, concat, two audio streams, mux
    assert re.search(r"^#  0 +0:00:00.000 +0:00:02.00\d +48 +start +0.0 +38\* +-$", plan.stdout, flags=re.M)
    assert not (tmp_path / "out" / "film.mkv").exists()
    for argv in commands:  # shell quoting round-trips, even for the apostrophe
        assert str(source) in argv or any(str(tmp_path) in arg for arg in argv)
    encode = subprocess.run(
        [sys.executable, "-m", "drapto", "encode", str(source), str(tmp_path / "out"), "--json", "--keep"],
        capture_output=True, text=True,
    )  # fmt: skip
    events = json_events(encode.stdout)
    started = [e["step"] for e in events if e["event"] in ("step_started", "chunk_started")]
    assert started[:3] == ["probe", "crop", "scenes"] and started[-2:] == ["mux", "validate"]
    assert set(started[3:-2]) == {"chunk-0000", "concat", "audio-00", "audio-01"}
