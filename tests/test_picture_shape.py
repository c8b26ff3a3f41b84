"""The picture's shape end to end, with the real ffmpeg on small generated sources, checked with readers
independent of drapto (pymediainfo, ffmpeg's framecrc listing, idet): a rotated phone video displays as
the source does, interlaced video is deinterlaced frame for frame (both modes, several chunks), telecined
film is inverse-telecined to 23.976 fps (standard mode, also when chunked mode was asked for), and
progressive controls are left alone."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path

import pytest
from conftest import json_events, run_drapto
from pymediainfo import MediaInfo as PyMediaInfo

pytestmark = pytest.mark.ffmpeg

# Moving, natural-ish detail that idet reads as real footage (testsrc2 alone fools it): turned and noisy.
MOTION = "testsrc2=s=320x240:r=50:d=3,rotate=a=0.3*t:c=black,noise=alls=12:allf=t"
SMALL_CHUNKS = {"DRAPTO_CHUNK_MIN_SECONDS": "0.5", "DRAPTO_CHUNK_MAX_SECONDS": "1", "DRAPTO_PROBE_SECONDS": "0"}
X264 = ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "14"]
INTERLACED_X264 = [*X264, "-flags", "+ilme+ildct"]


def _make(ffmpeg: str, target: Path, video: str, codec: list[str], audio: bool = True) -> Path:
    argv = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", video]
    if audio:
        argv += ["-f", "lavfi", "-i", "sine=d=3", "-c:a", "aac", "-shortest"]
    subprocess.run([*argv, *codec, str(target)], check=True)
    return target


@pytest.fixture(scope="module")
def sources(ffmpeg, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("shapes")
    plain = _make(ffmpeg, folder / "plain.mp4", "testsrc2=s=320x140:r=24:d=3,pad=320:180:0:20", X264)
    rotated = folder / "rotated.mp4"  # displayed turned 90°: 180x320 with 20 px bars left and right
    subprocess.run(
        [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-display_rotation", "90", "-i", str(plain),
         "-c", "copy", str(rotated)], check=True,
    )  # fmt: skip
    anamorphic = _make(ffmpeg, folder / "ana.mp4", "testsrc2=s=352x240:r=24:d=2,setsar=40/33", X264, audio=False)
    turned_anamorphic = folder / "ana90.mp4"  # 352x240 at SAR 40:33 (DAR 16:9), displayed turned: 9:16
    subprocess.run(
        [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-display_rotation", "90", "-i", str(anamorphic),
         "-c", "copy", str(turned_anamorphic)], check=True,
    )  # fmt: skip
    woven = f"{MOTION},tinterlace=mode=interleave_top"
    telecined = f"{MOTION},fps=24000/1001,telecine=first_field=top:pattern=23,setfield=tff"
    return {
        "rotated": rotated,
        "rotated_anamorphic": turned_anamorphic,
        "interlaced": _make(ffmpeg, folder / "i25.mkv", f"{woven},setfield=tff", INTERLACED_X264),
        "woven_unflagged": _make(ffmpeg, folder / "woven.mkv", f"{woven},setfield=prog", X264, audio=False),
        "telecined": _make(ffmpeg, folder / "tc.mkv", telecined, INTERLACED_X264),
        "progressive": _make(ffmpeg, folder / "p25.mkv", f"{MOTION},fps=25", X264, audio=False),
        "testsrc2": _make(ffmpeg, folder / "t160.mkv", "testsrc2=s=160x120:r=24:d=3", X264, audio=False),
    }


def packets(ffmpeg: str, path: Path) -> list[tuple[int, int]]:
    """(pts, duration) of every video packet, in milliseconds (Matroska's time base), by stream copy."""
    listing = subprocess.run(
        [ffmpeg, "-hide_banner", "-loglevel", "error", "-i", str(path), "-map", "0:v:0", "-c", "copy",
         "-f", "framecrc", "-"], capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "#tb 0: 1/1000" in listing
    rows = [line.split(",") for line in listing.splitlines() if line and not line.startswith("#")]
    return [(int(row[2]), int(row[3])) for row in rows]


def idet(ffmpeg: str, path: Path) -> dict[str, int]:
    """idet's multi-frame verdicts over the whole of `path`'s video."""
    stderr = subprocess.run(
        [ffmpeg, "-hide_banner", "-nostdin", "-i", str(path), "-map", "0:v:0", "-vf", "idet", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    ).stderr  # fmt: skip
    line = re.findall(r"Multi frame detection: (.*)", stderr)[-1]
    return {k.strip().lower(): int(v) for k, v in re.findall(r"(\w+):\s*(\d+)", line)}


def video_track(path: Path) -> dict:
    tracks = json.loads(PyMediaInfo.parse(path, output="JSON"))["media"]["track"]
    return next(t for t in tracks if t["@type"] == "Video")


def analysed(path: Path, *args: str) -> dict:
    done = run_drapto("analyze", path, "--json", *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def encode(source: Path, output: Path, *args: str, env: dict[str, str] | None = None):
    done = run_drapto("encode", source, output, "--preset", "12", "--json", *args, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_a_rotated_phone_video_is_turned_cropped_scored_and_validated_as_displayed(sources, ffmpeg, tmp_path):
    source = sources["rotated"]
    report = analysed(source)
    assert report["rotation"] == 90 and report["displayed"] == [180, 320]
    assert report["crop"]["crop"] == "140:320:20:0"  # cropdetect saw the turned picture
    plan = run_drapto("plan", source, tmp_path / "plan.mkv", "--chunked")
    assert "# rotation: rotated 90°: pixels turned (ffmpeg's autorotate), encoded 140x320" in plan.stdout
    assert "scale=840:1920:flags=bicubic" in plan.stdout  # portrait, scored as the landscape one turned
    for mode in ("standard", "chunked"):
        output = tmp_path / f"{mode}.mkv"
        encode(source, output, f"--{mode}")
        track = video_track(output)
        assert (int(track["Width"]), int(track["Height"])) == (140, 320)
        assert float(track.get("Rotation", 0)) == 0  # the pixels turned, no matrix left to turn them again
        assert len(packets(ffmpeg, output)) == 72


def test_a_rotated_anamorphic_video_keeps_its_display_aspect(sources, tmp_path):
    output = tmp_path / "out.mkv"
    encode(sources["rotated_anamorphic"], output, "--standard")
    track = video_track(output)
    assert (int(track["Width"]), int(track["Height"])) == (240, 352)
    assert float(track["DisplayAspectRatio"]) == pytest.approx(9 / 16, abs=0.01)  # the source's 16:9, turned
    assert float(track.get("Rotation", 0)) == 0


def test_interlaced_video_is_deinterlaced_frame_for_frame_in_both_modes(sources, ffmpeg, tmp_path):
    source = sources["interlaced"]
    fields = analysed(source)["fields"]
    assert (fields["flag"], fields["found"], fields["treatment"]) == ("tff", "interlaced", "bwdif")
    timeline = packets(ffmpeg, source)
    assert len(timeline) == 75
    plan = run_drapto("plan", source, tmp_path / "plan.mkv", "--chunked", env=SMALL_CHUNKS)
    assert "# fields: interlaced (field flag TFF" in plan.stdout
    # the chunk's encode and its VMAF reference both come from the same deinterlaced split (the middle
    # chunk reads a neighbour frame either side for bwdif and drops them after it; it is read from the
    # source's one keyframe, frame 0, skipping the 24 frames before its first neighbour: chunks.read_from)
    bwdif = "bwdif=mode=send_frame:parity=auto:deint=all"
    kept = "trim=start_frame=1:end_frame=26,format=yuv420p10le,split[enc][ref]"
    assert f"trim=start_frame=24:end_frame=51,{bwdif},{kept}" in (plan.stdout)
    for mode in ("standard", "chunked"):
        output = tmp_path / f"{mode}.mkv"
        done = encode(source, output, f"--{mode}", env=SMALL_CHUNKS)
        if mode == "chunked":
            assert sum(e["event"] == "chunk_finished" for e in json_events(done.stdout)) == 3
        assert packets(ffmpeg, output) == timeline  # every frame, at the source's times
        verdicts = idet(ffmpeg, output)
        assert verdicts["progressive"] >= 0.9 * 75, verdicts  # the source: TFF on every frame


def frame_md5s(ffmpeg: str, *args: str) -> list[str]:
    """The MD5 of every decoded frame's pixels (framemd5), for `ffmpeg ARGS -f framemd5 -`."""
    listing = subprocess.run(
        [ffmpeg, "-hide_banner", "-loglevel", "error", *args, "-f", "framemd5", "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return [line.split(",")[-1].strip() for line in listing.splitlines() if line and not line.startswith("#")]


BWDIF = "bwdif=mode=send_frame:parity=auto:deint=all"
IVTC = "fieldmatch=order=tff:combmatch=full,bwdif=mode=send_frame:parity=auto:deint=interlaced,decimate"


@pytest.mark.parametrize(("name", "whole_file", "cycle"), [("interlaced", BWDIF, 0), ("telecined", IVTC, 5)])
def test_each_chunk_filters_its_frames_as_a_whole_file_pass_does(sources, ffmpeg, tmp_path, name, whole_file, cycle):
    """bwdif looks at a frame's neighbours: each chunk reads one frame either side and drops them again
    (without: 30 dB PSNR at a chunk's start). Inverse telecine drops one frame in 5: chunks start on
    multiples of 5 source frames and read a whole cycle either side, so decimate's cycles are the
    whole-file pass's. Either way each chunk's filtered frames are the whole-file pass's, byte for byte."""
    source = sources[name]
    whole = frame_md5s(ffmpeg, "-i", str(source), "-map", "0:v:0", "-vf", whole_file)
    plan = run_drapto("plan", source, tmp_path / "plan.mkv", "--chunked", env=SMALL_CHUNKS)
    assert plan.returncode == 0, plan.stderr
    table = re.findall(r"^#  (\d+) +\S+ +\S+ +(\d+) ", plan.stdout, re.M)
    commands = [shlex.split(line) for line in plan.stdout.splitlines() if "split[enc][ref]" in line]
    assert len(table) == len(commands) == 3
    start, out = 0, 0
    for (_, frames), argv in zip(table, commands, strict=True):
        if cycle:
            assert start % cycle == 0  # every chunk starts a decimate cycle
        kept = int(frames) - int(frames) // cycle if cycle else int(frames)
        window = argv[argv.index("-y") + 1 : argv.index("-i")]  # the chunk's -ss/-t
        chain = argv[argv.index("-filter_complex") + 1].removeprefix("[0:V:0]").split(",format=")[0]
        got = frame_md5s(ffmpeg, *window, "-i", str(source), "-map", "0:v:0", "-vf", chain)
        assert got == whole[out : out + kept], f"chunk from source frame {start}"
        start, out = start + int(frames), out + kept
    assert out == len(whole)


def test_telecined_film_is_inverse_telecined_in_both_modes_to_the_same_timeline(sources, ffmpeg, tmp_path):
    source = sources["telecined"]
    fields = analysed(source)["fields"]
    assert (fields["found"], fields["treatment"]) == ("telecined", "ivtc")
    frames = len(packets(ffmpeg, source))
    assert 88 <= frames <= 90  # 3 s at 30000/1001 (`-shortest` may end it a frame early)
    standard = tmp_path / "standard.mkv"
    encode(source, standard, "--standard")
    timeline = packets(ffmpeg, standard)
    assert len(timeline) == frames - frames // 5 == 72  # one of every 5, a last partial cycle kept
    assert {duration for _, duration in timeline} <= {41, 42}  # 1001/24000 s per frame
    assert timeline[-1][0] == round(71 * 1001 / 24)  # frame n at n × 1001/24000 s, from 0
    assert video_track(standard)["FrameRate"].startswith("23.97")
    assert idet(ffmpeg, standard)["progressive"] >= 0.9 * 72
    chunked = tmp_path / "chunked.mkv"
    done = encode(source, chunked, "--chunked", env=SMALL_CHUNKS)
    assert sum(e["event"] == "chunk_finished" for e in json_events(done.stdout)) == 3
    assert packets(ffmpeg, chunked) == timeline  # the chunks' concat: the same frames at the same times
    assert idet(ffmpeg, chunked)["progressive"] >= 0.9 * 72


def test_progressive_controls_and_synthetic_pictures_are_left_alone(sources):
    for name in ("progressive", "testsrc2"):
        fields = analysed(sources[name])["fields"]
        assert (fields["found"], fields["treatment"]) == ("progressive", "none"), (name, fields)
    assert analysed(sources["testsrc2"])["fields"]["idet"]["tff"] == 22  # what a looser rule would believe
    # woven but flagged progressive: idet reads it as it reads testsrc2 (TFF on every frame), so auto keeps
    # it; --deinterlace bwdif is the way to treat it
    woven = analysed(sources["woven_unflagged"])["fields"]
    assert (woven["flag"], woven["found"], woven["idet"]["tff"]) == ("progressive", "progressive", 22)
    forced = analysed(sources["woven_unflagged"], "--deinterlace", "bwdif")["fields"]
    assert forced["treatment"] == "bwdif"
    off = analysed(sources["interlaced"], "--deinterlace", "off")["fields"]
    assert (off["found"], off["treatment"]) == ("interlaced", "none")


def test_the_reports_whole_file_score_treats_the_reference_as_the_encode_did(sources, ffmpeg):
    """`drapto report --vmaf` judges the fields again (measured on the 25i clip's standard encode: mean VMAF
    37.9 against the combed source, 73.8 against the deinterlaced one)."""
    from drapto.graph.probe import probe
    from drapto.shell.report.inputs import vmaf_fields

    fields = vmaf_fields(ffmpeg, probe(sources["interlaced"], ffmpeg))
    assert fields is not None and fields.treatment == "bwdif"
    fields = vmaf_fields(ffmpeg, probe(sources["telecined"], ffmpeg))
    assert fields is not None and fields.treatment == "ivtc"
