"""A chunk's shots (core.shots) and the search judging a chunk by its worst shot, confirmed on all frames
at the band's lower edge (core.driver.Confirm). Property-tested on synthetic scores and curves."""

from __future__ import annotations

import json
import math
import statistics
import subprocess
from pathlib import Path

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drapto.core.chunks import plan_chunks
from drapto.core.config import Config
from drapto.core.driver import Confirm, Driver, Keep, Probe, Try, next_action
from drapto.core.scenes import SceneScan
from drapto.core.search import SearchSettings, Trial
from drapto.core.shots import FRAME_SPREAD, READING_SIGMAS, judged, reading_floor, shot_scores, shot_starts
from drapto.core.tries import confirm_argv
from drapto.core.units import TryRecord
from drapto.core.vmaf import Scoring, counted_frames, pool_scores
from drapto.graph.chunkwork import run_confirm
from drapto.graph.planning import Job, work_plan
from tests.conftest import chunk_unit, run_drapto

THRESHOLD = 8.0
SEARCH = SearchSettings(target=93.0, crf_min=10.0, crf_max=55.0, max_tries=4)

scene_scores = st.lists(st.sampled_from([0.0, 1.0, 3.0, 9.0, 15.0, 40.0]), min_size=1, max_size=400)


@given(scene_scores, st.integers(1, 80))
def test_every_shot_is_long_enough_and_starts_on_a_cut(scores, min_frames):
    starts = shot_starts(scores, 0, len(scores), THRESHOLD, min_frames)
    edges = [0, *starts, len(scores)]
    assert list(starts) == sorted(set(starts)), "inside the chunk, in order"
    assert all(0 < f < len(scores) and scores[f] >= THRESHOLD for f in starts), "each on a scene cut"
    if starts:
        assert all(b - a >= min_frames for a, b in zip(edges, edges[1:], strict=False)), "short shots pooled"


def test_a_short_shot_pools_across_its_weaker_cut():
    scores = [0.0] * 300
    scores[100], scores[130] = 40.0, 12.0  # a 30-frame shot: its cut at 130 is the weaker
    assert shot_starts(scores, 0, 300, THRESHOLD, 50) == (100,)
    scores[100], scores[130] = 12.0, 40.0
    assert shot_starts(scores, 0, 300, THRESHOLD, 50) == (130,)


frame_values = st.lists(st.floats(40.0, 100.0), min_size=2, max_size=300)


@given(frame_values, st.data(), st.sampled_from(["mean", "harmonic", "p5"]))
def test_judging_by_the_worst_shot_never_reads_higher_than_the_chunk(values, data, pool):
    cuts = data.draw(st.lists(st.integers(1, len(values) - 1), unique=True, max_size=5).map(sorted))
    frames = list(range(len(values)))
    chunk = pool_scores(values, pool)
    shots = shot_scores(values, frames, 0, len(values), cuts, pool)
    assert judged(chunk, shots) <= chunk
    assert sum(s.frames for s in shots) == len(values)
    if pool == "mean":  # the worst shot is never above the chunk's mean: no min needed
        assert min(s.vmaf for s in shots) <= chunk + 1e-4  # shots are recorded to 4 decimals


def test_shot_scores_group_the_counted_frames_of_a_subset():
    scoring = Scoring(model="vmaf_v0.6.1", scale=None, every=10, pool="mean")
    frames = counted_frames(100, scoring)
    assert frames == [9, 24, 39, 54, 69, 84, 99]
    values = [90.0 if f < 50 else 96.0 for f in frames]
    shots = shot_scores(values, frames, 1000, 1100, [1050], "mean")
    assert [(s.start, s.end, s.vmaf, s.frames) for s in shots] == [(1000, 1050, 90.0, 3), (1050, 1100, 96.0, 4)]


def test_a_reading_on_few_frames_has_a_lower_floor():
    assert reading_floor(93.0, 4, ()) == 93.0 - READING_SIGMAS * FRAME_SPREAD / 2
    shots = shot_scores([93.0] * 12, list(range(0, 120, 10)), 0, 120, [90], "mean")
    assert reading_floor(93.0, 12, shots) == 93.0 - READING_SIGMAS * FRAME_SPREAD / math.sqrt(3)


def test_confirmation_argv(snapshot):
    assert confirm_argv(chunk_unit(), 30.0) == snapshot


def drive(driver: Driver, true_vmaf, noise, counted: int):
    """The driver against a chunk whose subset reading is its all-frames VMAF plus `noise` (within the
    floor's model); a confirmation reads the all-frames VMAF."""
    tries: list[Trial] = []
    for _ in range(40):
        action = next_action(driver, [], tries)
        if isinstance(action, Keep):
            return tries, action
        assert not isinstance(action, Probe)
        if isinstance(action, Confirm):
            at = next(i for i, t in enumerate(tries) if t.crf == action.crf)
            assert not tries[at].confirmed, "a try is confirmed once"
            tries[at] = Trial(crf=action.crf, vmaf=true_vmaf(action.crf), confirmed=True)
            continue
        assert isinstance(action, Try)
        reading = true_vmaf(action.crf) + noise(action.crf)
        tries.append(Trial(crf=action.crf, vmaf=reading, floor=reading_floor(reading, counted, ())))
    raise AssertionError(f"the driver did not stop: {tries}")


@settings(max_examples=400, deadline=None)
@given(
    st.floats(20, 50),  # the CRF whose worst shot scores 93.5 on all frames
    st.floats(0.3, 1.5),  # VMAF per CRF
    st.integers(3, 30),  # frames counted
    st.floats(-1.0, 1.0),  # the subset's error, as a share of its floor's margin
    st.integers(120, 180).map(lambda q: q / 4),
)
def test_no_kept_chunk_is_below_the_band_on_all_frames_when_an_in_band_crf_was_measured(
    crf_at_aim, slope, counted, share, start
):
    def true_vmaf(crf: float) -> float:
        return min(100.0, 93.5 - slope * (crf - crf_at_aim))

    margin = READING_SIGMAS * FRAME_SPREAD / math.sqrt(counted)

    def noise(crf: float) -> float:
        return share * margin * math.cos(crf)  # a different error at each CRF, within the floor's model

    tries, keep = drive(Driver(settings=SEARCH, start_crf=start), true_vmaf, noise, counted)
    kept = next(t for t in tries if t.crf == keep.crf)
    measured_in_band = any(SEARCH.in_band(true_vmaf(t.crf)) for t in tries if t.confirmed)
    if measured_in_band or SEARCH.in_band(kept.vmaf):
        assert true_vmaf(keep.crf) >= SEARCH.target - SEARCH.below, (tries, keep)
    if kept.confirmed:
        assert kept.vmaf == true_vmaf(keep.crf), "the recorded reading is the confirmed one"


def test_a_reading_near_the_edge_is_confirmed_and_a_misreading_searches_on():
    driver = Driver(settings=SEARCH, start_crf=36.0)
    reading = 92.3
    tries = [Trial(crf=36.0, vmaf=reading, floor=reading_floor(reading, 8, ()))]
    assert next_action(driver, [], tries) == Confirm(36.0)
    tries = [Trial(crf=36.0, vmaf=91.6, confirmed=True)]  # on all frames it is under the band
    action = next_action(driver, [], tries)
    assert isinstance(action, Try) and action.crf < 36.0
    tries = [Trial(crf=36.0, vmaf=93.6, floor=reading_floor(93.6, 8, ()))]  # far enough inside
    assert next_action(driver, [], tries) == Keep(36.0)


def test_by_default_every_shot_of_two_seconds_is_a_chunk_of_its_own():
    scores = [0.0] * 250
    scores[63], scores[150], scores[170] = 30.0, 12.0, 9.0  # shots of 2.5, 3.5, 0.8 and 3.2 s at 25 fps
    scan = SceneScan(frames=250, duration=10.0, times=tuple(i / 25 for i in range(250)), scores=tuple(scores),
                     keyframes=(0,))  # fmt: skip
    config = Config()
    chunks = plan_chunks(scan, min_seconds=config.chunk_min_seconds, max_seconds=config.chunk_max_seconds,
                         threshold=config.scene_threshold)  # fmt: skip
    assert [(c.start, c.end, c.shots) for c in chunks] == [(0, 63, ()), (63, 150, ()), (150, 250, ())]


# --- with the real ffmpeg: a chunk of an easy and a hard shot -------------------------------------------

FIVE_SECOND_CHUNKS = {"DRAPTO_CHUNK_MIN_SECONDS": "5"}


@pytest.fixture(scope="module")
def two_shots(ffmpeg, tmp_path_factory) -> Path:
    """5 s at 25 fps, 320x180: 2.5 s of clean testsrc2, then 2.5 s of grainy mandelbrot, H.264 at high
    quality. The tests run it with chunks of at least 5 s (`FIVE_SECOND_CHUNKS`), so the cut lies inside the
    one chunk."""
    target = tmp_path_factory.mktemp("shots") / "two shots.mkv"
    graph = (
        "testsrc2=s=320x180:r=25:d=2.5,format=yuv420p[a];"
        "mandelbrot=s=320x180:r=25,trim=duration=2.5,noise=alls=30:allf=t,format=yuv420p[b];"
        "[a][b]concat=n=2:v=1:a=0"
    )
    subprocess.run([ffmpeg, "-v", "error", "-y", "-filter_complex", graph, "-c:v", "libx264", "-crf", "12",
                    "-g", "25", str(target)], check=True)  # fmt: skip
    return target


def shot_vmaf(ffmpeg: str, source: Path, output: Path, folder: Path, shots) -> list[float]:
    """Each shot's VMAF on all frames of the output, with ffmpeg's libvmaf alone (not drapto's scoring)."""
    log = folder / "all.json"
    subprocess.run([ffmpeg, "-v", "error", "-i", str(output), "-i", str(source), "-filter_complex",
                    "[0:v]setpts=N,format=yuv420p10le[d];[1:v]setpts=N,format=yuv420p10le[r];"
                    f"[d][r]libvmaf=model=version=vmaf_v0.6.1:log_fmt=json:log_path={log.name}",
                    "-f", "null", "-"], cwd=folder, check=True)  # fmt: skip
    frames = [f["metrics"]["vmaf"] for f in json.loads(log.read_text())["frames"]]
    return [statistics.mean(frames[s["start"] : s["end"]]) for s in shots]


@pytest.mark.ffmpeg
def test_a_chunk_is_judged_by_its_worst_shot_and_no_shot_is_left_below_the_band(two_shots, ffmpeg, tmp_path):
    out = tmp_path / "out"
    result = run_drapto("encode", two_shots, out, "--preset", "12", "--vmaf-scale", "none", "--size-ceiling", "0",
                        "--keep", "--no-log", env=FIVE_SECOND_CHUNKS)  # fmt: skip
    assert result.returncode == 0, result.stderr
    chunks = json.loads(next((out / ".drapto").glob("*/drapto-chunks.json")).read_text())["chunks"]
    assert len(chunks) == 1, "the cut at 2.5 s is inside the one chunk"
    chunk = chunks[0]
    shots = chunk["shots"]
    assert [(s["start"], s["end"]) for s in shots] == [(0, 63), (63, 126)], shots
    kept = next(t for t in chunk["tries"] if t["crf"] == chunk["crf"])
    reading = kept["confirmed"] or kept
    assert chunk["worst"] == min(s["vmaf"] for s in reading["shots"]) <= reading["vmaf"] + 1e-4
    assert chunk["in_band"] and 92.0 <= chunk["worst"] <= 95.0
    # the promise, read independently: no shot of the output below target - 1 on all its frames
    scored = shot_vmaf(ffmpeg, two_shots, out / "two shots.mkv", tmp_path, shots)
    assert min(scored) >= 92.0 - 0.05, scored
    assert max(scored) - min(scored) > 1.0, "the easy shot reads above the hard one: the mean would hide it"


@pytest.mark.ffmpeg
def test_a_confirmation_scores_every_frame_of_the_kept_try(two_shots, ffmpeg, tmp_path):
    out = tmp_path / "out"
    config = Config(preset=12, vmaf_scale="none", size_ceiling=0, chunk_min_seconds=5)
    assert run_drapto("encode", two_shots, out, "--preset", "12", "--vmaf-scale", "none", "--size-ceiling", "0",
                      "--keep", "--no-log", env=FIVE_SECOND_CHUNKS).returncode == 0  # fmt: skip
    plan = work_plan(Job(source=str(two_shots), output=str(out / "two shots.mkv"), config=config, ffmpeg=ffmpeg))
    assert plan is not None and len(plan.chunks) == 1
    unit = plan.chunks[0]
    record = next(
        msgspec.json.decode(p.read_bytes(), type=TryRecord) for p in Path(unit.folder).glob("crf*.json")
        if not p.name.endswith(".vmaf.json")
    )  # fmt: skip
    confirmed = run_confirm(unit, msgspec.structs.replace(record, confirmed=None)).confirmed
    assert confirmed is not None
    frames = unit.chunk.encoded
    assert sum(s.frames for s in confirmed.shots) == frames == 126  # 2.5 s twice: 63 frames each
    weighted = sum(s.vmaf * s.frames for s in confirmed.shots) / frames
    assert confirmed.vmaf == pytest.approx(weighted, abs=1e-3)  # the mean over every frame, shot by shot
    scored = shot_vmaf(ffmpeg, two_shots, Path(unit.folder) / f"crf{record.crf:06.2f}.mkv", tmp_path,
                       [{"start": s.start, "end": s.end} for s in confirmed.shots])  # fmt: skip
    assert [s.vmaf for s in confirmed.shots] == pytest.approx(scored, abs=0.01)
