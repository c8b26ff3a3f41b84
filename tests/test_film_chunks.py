"""The film model in a real chunked encode: shots that return (testsrc2, mandelbrot, grain, then again)
give five or six chunks; the three scouts span them and run first, and the other three start where their
nearest scout's curve meets the aim, with no window probe where the model is sure."""

from __future__ import annotations

import pytest
from conftest import AudioSpec, ClipSpec, json_events, recurring_scene_graph, run_drapto

from drapto.graph.validate import attached_results

pytestmark = pytest.mark.ffmpeg

RECURRING = ClipSpec(
    duration=9.0,
    rate="24",
    video_graph=recurring_scene_graph(192, 108, "24", 1.5),
    audio=(AudioSpec("stereo", 2, "eng"),),
    subtitles=False,
    chapters=False,
)
ENV = {
    "DRAPTO_CHUNK_MIN_SECONDS": "1",
    "DRAPTO_CHUNK_MAX_SECONDS": "3",
    "DRAPTO_PROBE_SECONDS": "0.25",
    "DRAPTO_FILM_MODEL": "true",  # experimental, off by default
}


def test_scouts_run_first_and_the_rest_start_from_them(clip_copy, tmp_path, ffmpeg):
    source = clip_copy(RECURRING)
    out = tmp_path / "out"
    result = run_drapto("encode", source, out, "--json", "--workers", "1", "--vmaf-scale", "none", env=ENV)
    assert result.returncode == 0, result.stderr
    events = json_events(result.stdout)
    started = [e["index"] for e in events if e["event"] == "chunk_started"]
    assert len(started) >= 5 and sorted(started) == list(range(len(started)))  # scdet may miss a cut
    results = {r.index: r for r in attached_results(ffmpeg, out / "film.mkv").chunks}
    scouts, others = started[:3], started[3:]
    # every scout probes its window; a chunk the model is sure of probes nothing
    table = [
        (i, i in scouts, len(results[i].probes), len(results[i].tries), results[i].crf, results[i].vmaf)
        for i in started
    ]
    assert all(results[i].probes for i in scouts), table
    sure = [i for i in others if not results[i].probes]
    assert sure, table
    for i in others:
        assert results[i].predicted_vmaf is not None and 0 <= results[i].predicted_vmaf <= 100
    # the returning shots land in the band, as their scouts did
    assert sum(r.in_band for r in results.values()) >= len(results) - 1, [
        (r.index, r.crf, r.vmaf) for r in results.values()
    ]
