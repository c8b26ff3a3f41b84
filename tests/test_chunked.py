"""Chunked mode with the real ffmpeg on a generated three-scene clip: boundaries at the scene changes,
every chunk's measured VMAF in the band, everything the source carries kept, and kill -9 resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import (
    SHARED_DATA,
    AudioSpec,
    ClipSpec,
    json_events,
    multi_scene_graph,
    run_drapto,
    wait_for_no_process_using,
)

from drapto.graph.probe import probe
from drapto.graph.validate import attached_results, count_frames

pytestmark = pytest.mark.ffmpeg

MULTI = ClipSpec(
    duration=6.0,
    rate="24",
    video_graph=multi_scene_graph(320, 180, "24", 2.0),
    audio=(AudioSpec("stereo", 2, "eng", "Stereo", True),),
)
FRAMES = 144
CHUNK_ENV = {"DRAPTO_CHUNK_MIN_SECONDS": "1", "DRAPTO_CHUNK_MAX_SECONDS": "3"}
# 2 s chunks are too short for the default 1 s probe window; a 0.25 s one (8 frames) makes every chunk probe
PROBING = {"DRAPTO_PROBE_SECONDS": "0.25"}


def encode(source: Path, out: Path, *flags: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = run_drapto("encode", source, out, "--json", *flags, env={**CHUNK_ENV, **(env or {})})
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_chunked_encode_meets_the_target_and_keeps_everything(clip_copy, tmp_path, ffmpeg):
    source = clip_copy(MULTI)
    out = tmp_path / "out"
    # the search's own promise, without the size ceiling: the x264 ultrafast test clip spends less on its
    # mandelbrot than the band needs (tests/test_size_ceiling.py covers the ceiling)
    result = encode(source, out, env={**PROBING, "DRAPTO_SIZE_CEILING": "0"})
    events = json_events(result.stdout)
    started = {e["index"]: e for e in events if e["event"] == "chunk_started"}
    finished = {e["index"]: e for e in events if e["event"] == "chunk_finished"}
    # the scene changes at 2 s and 4 s (frames 48 and 96) are the boundaries
    assert sorted((e["start"], e["end"]) for e in started.values()) == [(0, 48), (48, 96), (96, 144)]
    assert sorted(finished) == [0, 1, 2]
    for chunk in finished.values():
        assert chunk["in_band"] and 92.0 <= chunk["vmaf"] <= 95.0, chunk
        assert 1 <= chunk["tries"] <= 4
    summary = next(e for e in events if e["event"] == "file_finished")
    assert summary["mode"] == "chunked"
    assert summary["vmaf"][0] >= 92.0 and summary["crf_range"][0] <= summary["crf_range"][1]

    output = out / "film.mkv"
    assert count_frames(ffmpeg, str(output)) == FRAMES
    info = probe(output)
    assert [a.channels for a in info.audio] == [2]
    assert info.audio[0].codec == "Opus"
    assert len(info.text) == 1 and len(info.chapters) == 2
    assert abs(info.duration - 6.0) < 0.1
    results = attached_results(ffmpeg, output)
    assert results is not None and results.frames == FRAMES and results.target_vmaf == 93.0
    assert [(r.crf, r.vmaf) for r in results.chunks] == [(finished[i]["crf"], finished[i]["vmaf"]) for i in range(3)]
    assert all(r.tries and r.tries[-1].frames_scored > 0 for r in results.chunks)
    assert all(1 <= len(r.probes) <= 2 and r.probes[0].frames_scored == 4 for r in results.chunks)  # pairs 0-1, 5-6
    assert all(r.predicted_vmaf is not None for r in results.chunks)
    assert not (out / ".drapto").exists()


def test_kill_9_while_chunks_encode_resumes_with_what_was_measured(clip_copy, tmp_path, ffmpeg):
    source = clip_copy(MULTI)
    out = tmp_path / "out 'quoted'\nand ü"  # the concat list and every argv must cope
    child = subprocess.Popen(
        [sys.executable, "-m", "drapto", "encode", str(source), str(out), "--json", "--workers", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env={**os.environ, **CHUNK_ENV},
    )  # fmt: skip
    for line in child.stdout:
        if json.loads(line)["event"] == "chunk_finished":
            os.kill(child.pid, signal.SIGKILL)
            break
    child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL
    assert wait_for_no_process_using(source), "an ffmpeg outlived drapto"
    work = out / ".drapto" / "film"
    kept = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in (work / "encoded").glob("*.mkv")}
    tries = {  # the try records (a killed try may have left its frame scores, never its record)
        p: p.stat().st_mtime_ns for p in (work / "chunks").glob("*/crf*.json") if not p.name.endswith(".vmaf.json")
    }
    assert kept and tries

    resumed = encode(source, out, "--keep", "--workers", "2")
    for path, (mtime, data) in kept.items():  # finished chunks: same bytes, same mtime
        assert path.stat().st_mtime_ns == mtime and path.read_bytes() == data
    for path, mtime in tries.items():  # every measured try was reused, not encoded again
        assert path.stat().st_mtime_ns == mtime
    resumed_crfs = [r.crf for r in attached_results(ffmpeg, out / "film.mkv").chunks]

    fresh = tmp_path / "fresh"
    encode(source, fresh)
    assert resumed_crfs == [r.crf for r in attached_results(ffmpeg, fresh / "film.mkv").chunks]
    assert count_frames(ffmpeg, str(out / "film.mkv")) == FRAMES
    assert json_events(resumed.stdout)[-1]["event"] == "file_finished"


DV_SAMPLE = SHARED_DATA / "dolby-vision-p8.1-hdr10-256x144.mkv"


@pytest.mark.skipif(not DV_SAMPLE.exists(), reason="../shared/data is not beside the project")
def test_dolby_vision_is_standard_unless_chunked_is_asked_for_and_survives_the_concat(tmp_path):
    auto = run_drapto("encode", DV_SAMPLE, tmp_path / "auto", "--json", "--crop", "none")
    assert auto.returncode == 0, auto.stderr
    assert next(e for e in json_events(auto.stdout) if e["event"] == "file_started")["mode"] == "standard"

    forced = encode(DV_SAMPLE, tmp_path / "forced", "--chunked", "--crop", "none",
                    env={"DRAPTO_CHUNK_MIN_SECONDS": "2", "DRAPTO_CHUNK_MAX_SECONDS": "5"})  # fmt: skip
    events = json_events(forced.stdout)
    started = next(e for e in events if e["event"] == "file_started")
    assert (started["mode"], started["target_vmaf"]) == ("chunked", 95.0)  # HDR: target 95
    assert len([e for e in events if e["event"] == "chunk_finished"]) == 3
    video = probe(tmp_path / "forced" / DV_SAMPLE.name).video[0]
    assert "Dolby Vision" in (video.hdr_format or "")
