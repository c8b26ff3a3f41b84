"""Small pictures and outputs that don't pay, with the real ffmpeg on tiny generated clips: the portrait
scale, the knee kept when the target is out of reach (and the one warning), and --min-saving."""

from __future__ import annotations

import json
import re

import pytest
from conftest import ClipSpec, json_events, run_drapto

from drapto.core.search import KNEE_MARGIN

pytestmark = pytest.mark.ffmpeg

BARE = dict(audio=(), subtitles=False, chapters=False)
# fine detail zooming: at 160x90 scored upscaled to 1080p it stays under 91 even at CRF 10
DETAIL = "mandelbrot=size=160x90:rate=25,trim=duration=4,format=yuv420p[out0]"


def scales(plan_text: str) -> set[str]:
    return set(re.findall(r"scale=(\d+:\d+):flags=bicubic", plan_text))


def test_a_portrait_clip_is_scored_as_the_landscape_one_turned(make_clip, tmp_path):
    wide = run_drapto("plan", make_clip(ClipSpec(width=320, height=180, **BARE)), tmp_path / "a", "--crop", "none")
    tall = run_drapto("plan", make_clip(ClipSpec(width=180, height=320, **BARE)), tmp_path / "b", "--crop", "none")
    assert wide.returncode == 0 and tall.returncode == 0, wide.stderr + tall.stderr
    assert scales(wide.stdout) == {"1920:1080"} and scales(tall.stdout) == {"1080:1920"}
    assert "# VMAF: vmaf_v0.6.1 at 1080x1920 (upscaled from 180x320, vmaf-scale auto)" in tall.stdout
    assert "# NOTE: a 180x320 picture is scored upscaled to 1080x1920" in tall.stdout
    own = run_drapto("plan", make_clip(ClipSpec(width=180, height=320, **BARE)), tmp_path / "c", "--crop", "none",
                     "--vmaf-scale", "none")  # fmt: skip
    assert own.returncode == 0 and scales(own.stdout) == set() and "NOTE" not in own.stdout


def test_out_of_reach_keeps_the_knee_warns_once_and_settles_later_chunks(make_clip, tmp_path):
    source = make_clip(ClipSpec(video_graph=DETAIL, **BARE))
    out = tmp_path / "out"
    env = {
        "DRAPTO_CHUNK_MIN_SECONDS": "0.5",
        "DRAPTO_CHUNK_MAX_SECONDS": "1",
        "DRAPTO_PROBE_SECONDS": "0",
        "DRAPTO_SIZE_CEILING": "0",
    }  # the knee itself (fine detail at CRF 17 outgrows the source)
    result = run_drapto("encode", source, out, "--target-vmaf", "95", "--preset", "12", "--workers", "2", "--keep",
                        "--json", env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    found = json_events(result.stdout)
    warnings = [e["message"] for e in found if e["event"] == "notice" and "out of reach" in e["message"]]
    assert len(warnings) == 1 and warnings[0].startswith("VMAF 95 is out of reach for "), warnings
    assert "--target-vmaf" in warnings[0] and "--vmaf-scale none" in warnings[0]
    results = json.loads(next((out / ".drapto").glob("*/drapto-chunks.json")).read_text())
    assert results["vmaf_scale"] == "auto" and results["scoring"]["scale"] == [1920, 1080]
    chunks = results["chunks"]
    assert len(chunks) >= 4
    for chunk in chunks:
        best = max(t["vmaf"] for t in chunk["tries"])
        near = [t["crf"] for t in chunk["tries"] if t["vmaf"] >= best - KNEE_MARGIN]
        assert chunk["crf"] == max(near), chunk  # the knee, not the most expensive try
    waited = [c for c in chunks if not c["scout"]]  # the scouts span the film's difficulty (core.scouting)
    assert waited and all(len(c["tries"]) == 1 for c in waited), [(c["scout"], len(c["tries"])) for c in chunks]


def test_min_saving_writes_nothing_and_exits_0(clip_copy, tmp_path):
    source = clip_copy(ClipSpec(**BARE))
    before = source.read_bytes()
    out = tmp_path / "out"
    result = run_drapto("encode", source, out, "--standard", "--min-saving", "99")
    assert result.returncode == 0, result.stderr
    assert "not worth it: " in result.stdout and "saves less than --min-saving 99%" in result.stdout
    assert not (out / "film.mkv").exists() and not (out / "film.mkv.partial").exists()
    assert source.read_bytes() == before
    batch = run_drapto("encode", source.parent, out, "--standard", "--min-saving", "99", "--json")
    assert batch.returncode == 0, batch.stderr
    summary = json_events(batch.stdout)[-1]
    assert summary["event"] == "batch_summary" and summary["discarded"] == 1 and summary["succeeded"] == 0
