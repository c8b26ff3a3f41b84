"""The NDJSON contract: docs/events.schema.json is generated from the event Structs, every event carries
the schema version, and real runs (success, skip, failure, chunked, interruption) emit only valid lines."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import msgspec
import pytest
from conftest import EVENT_SCHEMA, check_event_line, json_events, run_drapto

from drapto.core import events


def test_the_published_schema_is_generated_from_the_structs():
    published = json.loads(EVENT_SCHEMA.read_text())
    assert published == events.json_schema(), "regenerate: python -m drapto.core.events > docs/events.schema.json"


def test_every_event_carries_the_schema_version():
    line = msgspec.json.encode(events.Notice(file="f", level="info", message="m")).decode()
    assert check_event_line(line)["schema"] == events.SCHEMA_VERSION
    with pytest.raises(Exception):
        check_event_line(line.replace(f'"schema":{events.SCHEMA_VERSION}', '"schema":0'))


@pytest.mark.ffmpeg
def test_failure_and_skip_runs_emit_only_valid_lines(clip_copy, tmp_path):
    good = clip_copy(name="good.mkv")
    (good.parent / "broken.mkv").write_bytes(b"not a film")
    first = run_drapto("encode", good.parent, tmp_path / "out", "--standard", "--json")
    assert first.returncode == 1
    kinds = [e["event"] for e in json_events(first.stdout)]
    assert "file_failed" in kinds and "file_finished" in kinds and kinds[-1] == "batch_summary"
    again = run_drapto("encode", good, tmp_path / "out", "--standard", "--json")
    assert again.returncode == 0
    assert [e["event"] for e in json_events(again.stdout)] == ["file_skipped"]


@pytest.mark.ffmpeg
def test_an_interrupted_run_emits_only_valid_lines(clip_copy, tmp_path):
    source = clip_copy()
    child = subprocess.Popen(
        [sys.executable, "-m", "drapto", "encode", str(source), str(tmp_path / "out"), "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy(),
    )  # fmt: skip
    lines = []
    for line in child.stdout:
        lines.append(line)
        if '"step_started"' in line:
            child.send_signal(signal.SIGINT)
            break
    rest, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    json_events("".join(lines) + rest)
