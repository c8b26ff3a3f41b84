"""The ab-av1 search engine: snapshots of its argv (the ab-av1 attempts, the FFV1 cut, the scoring), its
pure rules, the missing-program error, and the unit's plumbing end to end with a fake `ab-av1` that
encodes with the real ffmpeg at a fixed CRF."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import msgspec
import pytest
from conftest import AudioSpec, ClipSpec, json_events, run_drapto
from test_chunked_plan import DV, HDR10, chunked, media

from drapto.core import commands
from drapto.core.chunks import Chunk
from drapto.core.config import Config
from drapto.core.search import SearchSettings
from drapto.core.units import ChunkUnit, EncodeSettings, load_result
from drapto.core.vmaf import scoring_for
from drapto.errors import DependencyError, ProcessError
from drapto.graph import abav1
from drapto.graph import engines as chunkwork  # the engines are dispatched from engines.run_unit
from drapto.graph.abav1 import Attempt, attempts, chosen_crf, split_keyint, vmaf_options
from drapto.graph.validate import attached_results, count_frames

FAKE_CRF = 35


def argvs(unit: ChunkUnit) -> list[list[str]]:
    tries = enumerate(attempts(unit.search.target), start=1)
    return [abav1.attempt_argv(unit, "ab-av1", attempt, f"abav1-{n}.mkv") for n, attempt in tries]


# --- argv snapshots (pure) ---


def test_abav1_argv_for_every_attempt(snapshot):
    plan = chunked(media(), Config(search_engine="ab-av1"))
    assert argvs(plan.chunks[1]) == snapshot


def test_abav1_argv_dolby_vision_hdr_harmonic(snapshot):
    plan = chunked(media(**DV), Config(mode="chunked", search_engine="ab-av1", vmaf_pool="harmonic"))
    assert plan.chunks[0].encode.dolby_vision
    assert argvs(plan.chunks[0]) == snapshot


def test_chunk_cut_argv(snapshot):
    plain = chunked(media(), Config(search_engine="ab-av1"))
    hdr = chunked(media(3840, 2160, **HDR10), Config(search_engine="ab-av1"), crop="3840:1600:0:280")
    # first chunk (no seek), middle chunk (seek and stop), last chunk (no stop), a cropped HDR chunk
    cuts = [abav1.cut_argv(u, abav1.CUT_NAME) for u in (plain.chunks[0], plain.chunks[1], plain.chunks[-1])]
    assert [*cuts, abav1.cut_argv(hdr.chunks[1], abav1.CUT_NAME)] == snapshot


def test_chunk_score_argv(snapshot):
    plain = chunked(media(1280, 720), Config(search_engine="ab-av1"))
    hdr = chunked(media(3840, 2160, **HDR10), Config(search_engine="ab-av1", vmaf_every=1, vmaf_pool="p5"),
                  crop="3840:1600:0:280")  # fmt: skip
    assert [
        abav1.score_argv(plain.chunks[0], "abav1-1.mkv"),
        abav1.score_argv(hdr.chunks[1], "abav1-2.mkv"),
    ] == snapshot


# --- pure rules ---


def test_attempts_follow_the_seed():
    assert attempts(93.0) == (
        Attempt(strategy="default", samples=3, sample_seconds=1, min_vmaf=93.0),
        Attempt(strategy="more_samples", samples=6, sample_seconds=2, min_vmaf=93.0),
        Attempt(strategy="lower_target", samples=6, sample_seconds=2, min_vmaf=91.0),
    )


def test_keyint_moves_out_of_the_svt_params():
    svt = commands.svt_params(keyint_seconds=8, film_grain=4, film_grain_denoise=True, threads=3)
    assert split_keyint(svt) == ("tune=0:film-grain=4:film-grain-denoise=1:lp=3", 8)
    assert split_keyint("tune=0") == ("tune=0", 10)


def test_vmaf_options_carry_threads_and_a_harmonic_pool():
    assert vmaf_options(scoring_for(1920, 1080, every=10, pool="mean", threads=4)) == "n_threads=4"
    assert (
        vmaf_options(scoring_for(1920, 1080, every=10, pool="harmonic", threads=2)) == "n_threads=2:pool=harmonic_mean"
    )
    assert vmaf_options(scoring_for(1920, 1080, every=10, pool="p5")) == "n_threads=1"


def test_chosen_crf_comes_from_the_ab_av1_tag():
    listing = "  Metadata:\n    AB_AV1_FFMPEG_ARGS: -c:v libsvtav1 -crf 29.25 -preset 6\n    ENCODER: Lavf61\n"
    assert chosen_crf(listing) == 29.25
    assert chosen_crf("    AB_AV1_FFMPEG_ARGS : -c:v libsvtav1 -crf 33 -preset 8") == 33.0
    assert chosen_crf("  Metadata:\n    ENCODER: Lavf61\n") == 0.0


def test_the_plan_names_the_engine_on_every_unit():
    assert {u.engine for u in chunked(media()).chunks} == {"builtin"}
    assert {u.engine for u in chunked(media(), Config(search_engine="ab-av1")).chunks} == {"ab-av1"}


def test_run_unit_dispatches_on_the_engine(monkeypatch):
    calls = []
    monkeypatch.setattr(abav1, "run_abav1_unit", lambda *args: calls.append(("ab-av1", *args)))
    monkeypatch.setattr(chunkwork, "run_chunk_unit", lambda *args: calls.append(("builtin", *args)))
    builtin = chunked(media()).chunks[0]
    other = msgspec.structs.replace(builtin, engine="ab-av1")
    chunkwork.run_unit(builtin, None, None, "w1")
    chunkwork.run_unit(other, None, None, "w2")
    assert calls == [("builtin", builtin, None, None, "w1", None), ("ab-av1", other, None, None, "w2")]
    with pytest.raises(ValueError, match="unknown search engine"):
        chunkwork.run_unit(msgspec.structs.replace(builtin, engine="av1an"))


def test_require_ab_av1_without_it_on_path(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(DependencyError, match="ab-av1") as caught:
        abav1.require_ab_av1()
    assert caught.value.exit_code == 2


# --- real runs ---


def path_without_ab_av1(tmp_path: Path) -> str:
    kept = [d for d in os.environ.get("PATH", "").split(os.pathsep) if d and not (Path(d) / "ab-av1").exists()]
    return os.pathsep.join([str(tmp_path / "empty"), *kept])


@pytest.mark.ffmpeg
def test_cli_without_ab_av1_fails_cleanly(clip_copy, tmp_path):
    source = clip_copy(ClipSpec(audio=()))
    result = run_drapto("encode", source, tmp_path / "out", "--search-engine", "ab-av1",
                        env={"PATH": path_without_ab_av1(tmp_path)})  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "ab-av1" in lines[0], result.stderr
    assert not (tmp_path / "out" / "film.mkv").exists()


FAKE = '''\
#!{python}
"""A stand-in for ab-av1: encodes --input with the real ffmpeg at CRF {crf} and writes --output with
ab-av1's AB_AV1_FFMPEG_ARGS tag; logs its argv; fails (like a search that found no CRF) when --samples
is listed in FAKE_AB_AV1_FAIL_SAMPLES."""
import json, os, subprocess, sys

args = sys.argv[1:]
value = lambda flag: args[args.index(flag) + 1]
with open({log!r}, "a") as log:
    log.write(json.dumps({{"argv": args, "cwd": os.getcwd()}}) + "\\n")
if value("--samples") in os.environ.get("FAKE_AB_AV1_FAIL_SAMPLES", "").split(","):
    sys.exit("Error: Failed to find a suitable crf")
output = value("--output")
temporary = os.path.join(os.path.dirname(output), ".tmp.ab-av1-encoding." + os.path.basename(output))
subprocess.run(
    [{ffmpeg!r}, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", value("--input"),
     "-c:v", "libsvtav1", "-preset", value("--preset"), "-svtav1-params", value("--svt") + ":crf={crf}",
     "-pix_fmt", value("--pix-format"),
     "-metadata", "AB_AV1_FFMPEG_ARGS=-c:v libsvtav1 -crf {crf} -preset " + value("--preset"),
     "-f", "matroska", temporary],
    check=True,
)
os.replace(temporary, output)
'''


@pytest.fixture
def fake_ab_av1(tmp_path, ffmpeg, monkeypatch):
    """A fake `ab-av1` first on PATH; returns the path of its argv log."""
    folder = tmp_path / "bin"
    folder.mkdir()
    log = tmp_path / "ab-av1.log"
    script = folder / "ab-av1"
    script.write_text(FAKE.format(python=sys.executable, crf=FAKE_CRF, log=str(log), ffmpeg=ffmpeg))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ.get('PATH', '')}")
    return log


def calls(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


RATE = 24000 / 1001


def middle_unit(source: Path, ffmpeg: str, work: Path) -> ChunkUnit:
    """Frames 12-35 of a 48-frame clip, cropped: a chunk that needs both the seek and the trim."""
    start, end = 12, 36
    chunk = Chunk(
        index=1, start=start, end=end, start_time=start / RATE, end_time=end / RATE, cut="split", score=0.0,
        seek=(start - 0.5) / RATE, stop=(end - 0.5) / RATE,
    )  # fmt: skip
    return ChunkUnit(
        ffmpeg=ffmpeg, source=str(source), chunk=chunk,
        encode=EncodeSettings(
            preset=12, svt=commands.svt_params(keyint_seconds=10, film_grain=0, film_grain_denoise=False, threads=1),
            crop="320:160:0:10",
        ),
        scoring=scoring_for(320, 160, every=1, pool="mean"), search=SearchSettings(target=93.0),
        start_crf=30.0, predicted_vmaf=None, folder=str(work / "chunks" / "0001"),
        target=str(work / "encoded" / "0001.mkv"), result=str(work / "results" / "0001.json"), engine="ab-av1",
    )  # fmt: skip


@pytest.mark.ffmpeg
def test_unit_cuts_retries_scores_and_keeps(clip_copy, ffmpeg, tmp_path, fake_ab_av1, monkeypatch):
    monkeypatch.setenv("FAKE_AB_AV1_FAIL_SAMPLES", "3")  # the first attempt fails, the second succeeds
    unit = middle_unit(clip_copy(ClipSpec(audio=(), subtitles=False)), ffmpeg, tmp_path / "work")
    started = []
    result = chunkwork.run_unit(unit, None, lambda crf, number: started.append(number), "test")

    made = calls(fake_ab_av1)
    assert [(c["argv"][c["argv"].index("--samples") + 1], c["argv"][c["argv"].index("--sample-duration") + 1])
            for c in made] == [("3", "1s"), ("6", "2s")]  # fmt: skip
    assert all(c["cwd"] == unit.folder and c["argv"][2] == abav1.CUT_NAME for c in made)
    assert started == [1, 2]

    folder = Path(unit.folder)
    assert not (folder / abav1.CUT_NAME).exists()  # the FFV1 cut lives only while the unit runs
    target = Path(unit.target)
    assert count_frames(ffmpeg, str(target)) == 24
    assert not list(target.parent.glob("*.partial")) and not list(Path(unit.result).parent.glob("*.partial"))
    (record,) = result.tries
    assert record.crf == FAKE_CRF and record.frames_scored == 24 and record.bytes == target.stat().st_size
    # the right frames, paired right: an off-by-one chunk of testsrc2 scores near 40 at this CRF
    assert 70 < result.vmaf == record.vmaf < 100
    assert result.crf == FAKE_CRF and result.in_band is False and result.worker == "test"
    assert (result.start, result.end) == (12, 36) and result.predicted_vmaf is None
    assert load_result(unit.result) == result


@pytest.mark.ffmpeg
def test_unit_fails_in_one_line_when_every_attempt_fails(clip_copy, ffmpeg, tmp_path, fake_ab_av1, monkeypatch):
    monkeypatch.setenv("FAKE_AB_AV1_FAIL_SAMPLES", "3,6")
    unit = middle_unit(clip_copy(ClipSpec(audio=(), subtitles=False)), ffmpeg, tmp_path / "work")
    with pytest.raises(ProcessError) as caught:
        chunkwork.run_unit(unit)
    message = caught.value.message
    assert "\n" not in message and "ab-av1" in message and "3 attempts" in message and "suitable crf" in message
    assert [c["argv"][c["argv"].index("--min-vmaf") + 1] for c in calls(fake_ab_av1)] == ["93", "93", "91"]
    assert not (Path(unit.folder) / abav1.CUT_NAME).exists()
    assert not Path(unit.result).exists() and not Path(unit.target).exists()


@pytest.mark.ffmpeg
def test_cli_encode_with_the_fake_ab_av1(clip_copy, ffmpeg, tmp_path, fake_ab_av1):
    source = clip_copy(ClipSpec(audio=(AudioSpec("stereo", 2, "eng", None, True),)))
    env = {"DRAPTO_CHUNK_MIN_SECONDS": "0.5", "DRAPTO_CHUNK_MAX_SECONDS": "1"}  # two chunks
    result = run_drapto("encode", source, tmp_path / "out", "--json", "--search-engine", "ab-av1", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    finished = [e for e in json_events(result.stdout) if e["event"] == "chunk_finished"]
    assert len(finished) == 2 and {e["crf"] for e in finished} == {FAKE_CRF}
    output = tmp_path / "out" / "film.mkv"
    assert count_frames(ffmpeg, str(output)) == 48
    results = attached_results(ffmpeg, output)
    assert results is not None and [len(c.tries) for c in results.chunks] == [1, 1]
    assert all(c.vmaf > 70 for c in results.chunks)
    assert len(calls(fake_ab_av1)) == 2
