"""The source table (issue 23): drapto encodes each shape of source a film and TV library holds, and the
output is checked as a user would check it, with readers that are not drapto's own (pymediainfo directly,
ffmpeg's framecrc, ffmetadata and idet listings). Each shape's expectations are data (`Shape`); a check
drapto fails today carries a strict xfail naming the issue item, so whoever fixes it sees it pass."""

from __future__ import annotations

import fnmatch
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import run_drapto
from pymediainfo import MediaInfo
from sources import MAKERS

pytestmark = pytest.mark.ffmpeg

STANDARD = "standard"
CHUNKED = "chunked"
FAST = ("--preset", "12")
# two chunks or more even on 1-2 s sources (so the concat is crossed), scored at their own size against a
# target they reach, few tries
CHUNKED_FLAGS = ("--chunked", "--vmaf-scale", "none", "--target-vmaf", "90")
CHUNK_ENV = {"DRAPTO_CHUNK_MIN_SECONDS": "0.5", "DRAPTO_CHUNK_MAX_SECONDS": "1.2", "DRAPTO_MAX_TRIES": "2"}
FRAME_TOLERANCE = 0.001  # s: a frame's presentation time, output against source
OFFSET_TOLERANCE = 0.020  # s: a stream's start relative to the video
# the checks every shape gets; each needs the output, so a shape whose encode fails today fails them all
ALL = ("exit", "display", "frames", "offsets", "chapters", "attachments", "subtitles")


@dataclass(frozen=True)
class Shape:
    """One source shape and what its output must show. `broken` maps a check (or `check@mode`) to why it
    fails today (the issue item fixing it, or a finding of this table): a strict xfail until it is fixed."""

    name: str
    chunked: bool = False  # also run the chunked mode (where its path differs from standard's)
    flags: tuple[str, ...] = ("--crop", "none")
    shown: tuple[int, int, float] | None = None  # width, height and aspect as displayed; None: the source's
    frames: str = "same"  # "same": every frame at its time; "ivtc": 4 of 5 at 23.976 fps; "any": no check
    subtitles: tuple[str, ...] = ()  # the output's subtitle formats, as MediaInfo names them
    attachments: tuple[str, ...] = ()  # the output's attachment names (fnmatch patterns), besides drapto's
    progressive: bool = False  # the source is interlaced or telecined: idet must find no combing
    damaged: bool = False  # exit 0 with one warning naming the source as damaged, with times
    broken: dict[str, str] = field(default_factory=dict)

    def checks(self) -> list[str]:
        names = [name for name in ALL if name != "frames" or self.frames != "any"]
        if self.progressive:
            names.append("combing")
        if self.damaged:
            names.append("warning")
        return names


def broken(item: int, what: str, *checks: str) -> dict[str, str]:
    """The strict-xfail reasons for the checks an issue item is fixing."""
    return {check: f"issue 23 item {item}: {what}" for check in checks}


def found(what: str, *checks: str) -> dict[str, str]:
    """The strict-xfail reasons for what this table found broken beyond the issue's seven items."""
    return {check: f"issue 23, found by the source table (not among items 1-7): {what}" for check in checks}


SHAPES = [
    Shape("dvd-anamorphic", chunked=True),
    Shape("dvd-letterboxed", flags=("--crop", "auto"), shown=(720, 432, 16 / 9)),
    Shape("interlaced-576i", chunked=True, progressive=True),  # frames: 25 a second, as the source's
    Shape("telecined-ntsc", chunked=True, progressive=True, frames="ivtc"),
    Shape("phone-rotated", chunked=True),
    Shape("vfr", chunked=True),
    Shape("mp4-chapters", subtitles=("UTF-8",)),
    Shape("mp4-cover", attachments=("cover.[jp][pn]g",)),
    Shape("ass-font", subtitles=("ASS",), attachments=("DraptoTest.ttf",)),
    Shape("mpeg-ts", chunked=True),
    Shape("delayed-audio", chunked=True),
    Shape("corrupt", frames="any", damaged=True),
    Shape("h264-10bit", chunked=True),
    Shape("one-second"),
    Shape("truehd"),
    Shape("xvid-avi"),
    Shape("wmv"),
    Shape("prores-mov", chunked=True),
    Shape("vp9-webm"),
]  # fmt: skip
assert sorted(s.name for s in SHAPES) == sorted(MAKERS), "one row per source shape"


def params() -> list:
    rows = []
    for shape in SHAPES:
        for mode in (STANDARD, CHUNKED) if shape.chunked else (STANDARD,):
            for check in shape.checks():
                reason = shape.broken.get(f"{check}@{mode}") or shape.broken.get(check)
                marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
                rows.append(pytest.param(shape, mode, check, id=f"{shape.name}-{mode}-{check}", marks=marks))
    return rows


# ---- independent readers ----


@dataclass(frozen=True)
class Listing:
    """What a file presents: its video frames' times, and each audio and subtitle stream's start relative
    to the video's first frame (in stream order: audio, then subtitles)."""

    video: tuple[float, ...]
    starts: tuple[tuple[str, float], ...]


NO_PTS = -(2**63)


def framecrc(ffmpeg: str, path: Path, *args: str) -> list[tuple[str, list[float]]]:
    """ffmpeg's framecrc listing of `path` on the file's own clock (`-copyts`), with output options `args`:
    per output stream, its kind and each packet's or frame's time in seconds. Where the container gives no
    pts to some packets (AVI: every packet is one frame slot), every packet counts at its dts. A subtitle
    packet of 2 bytes or fewer is an empty cue (an MP4 timed-text track fills its gaps with them; SRT has
    none), not a subtitle, and is left out."""
    argv = [ffmpeg, "-hide_banner", "-nostdin", "-copyts", "-i", str(path), *args, "-f", "framecrc", "-"]
    out = subprocess.run(argv, capture_output=True, text=True).stdout
    bases: dict[int, float] = {}
    kinds: dict[int, str] = {}
    rows: dict[int, list[tuple[int, int]]] = {}
    for line in out.splitlines():
        if m := re.match(r"#tb (\d+): (\d+)/(\d+)", line):
            bases[int(m[1])] = int(m[2]) / int(m[3])
        elif m := re.match(r"#media_type (\d+): (\w+)", line):
            kinds[int(m[1])] = m[2]
        elif line and not line.startswith("#"):
            stream, dts, pts, _duration, size = (int(v) for v in line.split(",")[:5])
            if kinds.get(stream) == "subtitle" and size <= 2:
                continue
            rows.setdefault(stream, []).append((dts, pts))
    streams = []
    for i in sorted(kinds):
        stamps = rows.get(i, [])
        column = 0 if any(pts == NO_PTS for _, pts in stamps) else 1
        streams.append((kinds[i], sorted(row[column] * bases[i] for row in stamps)))
    return streams


def read_listing(ffmpeg: str, path: Path) -> Listing:
    """Starts: the video and subtitles from their packets, audio decoded, so a codec's priming samples
    (AAC's, Opus's, WMA's), which the decoder drops, are not taken for a delay. Frames: decoded."""
    packets = framecrc(ffmpeg, path, "-map", "0:V:0", "-map", "0:s?", "-c", "copy")  # 0:V: not a cover picture
    audio = framecrc(ffmpeg, path, "-map", "0:a?")
    first = packets[0][1][0]
    starts = [(kind, times[0] - first) for kind, times in audio + packets[1:] if times]
    # the frames as decoded, at the times the decoder gives them (AVI's packets are slots, not frames)
    decoded = framecrc(ffmpeg, path, "-map", "0:V:0", "-fps_mode", "passthrough", "-enc_time_base", "demux",
                       "-vf", "scale=16:16", "-c:v", "rawvideo")  # fmt: skip
    return Listing(tuple(decoded[0][1]), tuple(starts))


def read_chapters(ffmpeg: str, path: Path) -> list[tuple[float, str]]:
    """Each chapter's start (s) and title, as ffmpeg's ffmetadata writer lists them."""
    argv = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(path), "-f", "ffmetadata", "-"]
    text = subprocess.run(argv, capture_output=True, text=True).stdout
    chapters = []
    for block in text.split("[CHAPTER]")[1:]:
        fields = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        num, den = (int(v) for v in fields["TIMEBASE"].split("/"))
        chapters.append((int(fields["START"]) * num / den, fields.get("title", "")))
    return chapters


def shown_size(ffmpeg: str, path: Path) -> tuple[int, int, float]:
    """The picture as a player shows it: MediaInfo's width × height and display aspect, turned by the
    rotation. MediaInfo reads an MP4's rotation but not Matroska's (its Projection element), so ffmpeg's
    display matrix is read too: a fix may turn the pixels or keep the rotation as metadata."""
    video = MediaInfo.parse(path).video_tracks[0]
    width, height, aspect = video.width, video.height, float(video.display_aspect_ratio)
    argv = [ffmpeg, "-hide_banner", "-nostdin", "-i", str(path)]
    said = subprocess.run(argv, capture_output=True, text=True).stderr
    matrix = re.search(r"Display Matrix: rotation of (-?[\d.]+) degrees", said)
    rotation = float(video.rotation or (matrix[1] if matrix else 0))
    if round(rotation) % 180 == 90:
        return height, width, 1 / aspect
    return width, height, aspect


def combed_share(ffmpeg: str, path: Path) -> float:
    """The share of frames idet's multi-frame detection calls interlaced (TFF or BFF)."""
    argv = [ffmpeg, "-hide_banner", "-nostdin", "-i", str(path), "-map", "0:V", "-vf", "idet", "-f", "null", "-"]
    err = subprocess.run(argv, capture_output=True, text=True).stderr
    # the last summary: ffmpeg configures the graph twice and the first idet reports nothing
    counts = re.findall(
        r"Multi frame detection: TFF:\s*(\d+) BFF:\s*(\d+) Progressive:\s*(\d+) Undetermined:\s*(\d+)", err
    )
    tff, bff, progressive, undetermined = (int(v) for v in counts[-1])
    return (tff + bff) / max(1, tff + bff + progressive + undetermined)


# ---- one encode per shape and mode, once per session ----


@dataclass(frozen=True)
class Encode:
    source: Path
    output: Path
    result: subprocess.CompletedProcess[str]
    seconds: float


@pytest.fixture(scope="session")
def source_of(ffmpeg, tmp_path_factory):
    """Each shape's source, made once per session."""
    made: dict[str, Path] = {}

    def _source(name: str) -> Path:
        if name not in made:
            made[name] = MAKERS[name](ffmpeg, tmp_path_factory.mktemp(f"source-{name}"))
        return made[name]

    return _source


@pytest.fixture(scope="session")
def encoded(source_of, tmp_path_factory):
    """`drapto encode` on a shape in a mode, run once per session and shared by all its checks."""
    done: dict[tuple[str, str], Encode] = {}

    def _encode(shape: Shape, mode: str) -> Encode:
        key = (shape.name, mode)
        if key not in done:
            source = source_of(shape.name)
            output = tmp_path_factory.mktemp("out") / f"{shape.name}-{mode}.mkv"
            flags = (*FAST, *shape.flags, *(CHUNKED_FLAGS if mode == CHUNKED else ("--standard",)))
            start = time.monotonic()
            result = run_drapto("encode", source, output, *flags, env=CHUNK_ENV if mode == CHUNKED else None)
            done[key] = Encode(source, output, result, time.monotonic() - start)
        return done[key]

    return _encode


@pytest.fixture(scope="session")
def listing(ffmpeg):
    cache: dict[Path, Listing] = {}

    def _listing(path: Path) -> Listing:
        if path not in cache:
            cache[path] = read_listing(ffmpeg, path)
        return cache[path]

    return _listing


# ---- the table ----


@pytest.mark.parametrize(("shape", "mode", "check"), params())
def test_source(shape: Shape, mode: str, check: str, encoded, listing, ffmpeg):
    run = encoded(shape, mode)
    said = run.result.stdout + run.result.stderr
    if check == "exit":
        assert run.result.returncode == 0, said[-2000:]
        assert run.output.exists()
        if mode == CHUNKED:  # the chunked path was taken, in two chunks or more, and the concat crossed
            assert "chunk-0001" in run.result.stdout
            assert "drapto-chunks.json" in (MediaInfo.parse(run.output).general_tracks[0].attachments or "")
        return
    assert run.output.exists(), f"no output: {said[-600:]}"
    source, output = run.source, run.output

    if check == "display":
        width, height, aspect = shown_size(ffmpeg, output)
        want_w, want_h, want_aspect = shown_size(ffmpeg, source)
        if shape.shown:
            want_w, want_h, want_aspect = shape.shown
        assert (width, height) == (want_w, want_h)
        assert aspect == pytest.approx(want_aspect, rel=0.01)

    elif check == "frames":
        got = listing(output).video
        want = listing(source).video
        got = [t - got[0] for t in got]
        if shape.frames == "ivtc":  # 3:2 pulldown removed: 4 of every 5 frames, at 24000/1001
            want = [i * 1001 / 24000 for i in range(len(want) * 4 // 5)]
        else:
            want = [t - want[0] for t in want]
        assert len(got) == len(want)
        worst = max((abs(a - b), i) for i, (a, b) in enumerate(zip(got, want, strict=True)))
        assert worst[0] <= FRAME_TOLERANCE + 1e-9, (
            f"frame {worst[1]}: {got[worst[1]]:.4f} s, source {want[worst[1]]:.4f} s"
        )

    elif check == "offsets":
        got = listing(output).starts
        want = listing(source).starts
        assert [k for k, _ in got] == [k for k, _ in want]
        for (kind, a), (_, b) in zip(got, want, strict=True):
            assert abs(a - b) <= OFFSET_TOLERANCE, f"{kind} starts {a:+.3f} s from the video, source {b:+.3f} s"

    elif check == "chapters":
        got = read_chapters(ffmpeg, output)
        want = read_chapters(ffmpeg, source)
        assert [title for _, title in got] == [title for _, title in want]
        assert [t for t, _ in got] == pytest.approx([t for t, _ in want], abs=0.001)

    elif check == "attachments":
        names = MediaInfo.parse(output).general_tracks[0].attachments
        got = sorted(n for n in (names.split(" / ") if names else []) if n != "drapto-chunks.json")
        assert len(got) == len(shape.attachments), got
        assert all(any(fnmatch.fnmatch(n, p) for p in shape.attachments) for n in got), got

    elif check == "subtitles":
        assert tuple(t.format for t in MediaInfo.parse(output).text_tracks) == shape.subtitles

    elif check == "combing":
        assert combed_share(ffmpeg, output) <= 0.25  # measured: bwdif output 0.08, kept combs 0.97-1.0

    elif check == "warning":
        assert run.result.returncode == 0
        # paths and names may hold digits: the time must be in the words around them
        words = said.replace(str(source), "SOURCE").replace(str(output), "OUTPUT").replace(source.name, "SOURCE")
        lines = [line for line in words.splitlines() if re.search(r"\bdamaged\b", line, re.IGNORECASE)]
        assert len(lines) == 1, lines
        assert "SOURCE" in lines[0] and re.search(r"\d:\d\d|\d+(\.\d+)? ?s\b", lines[0]), lines[0]


def test_source_table_timing(encoded):
    """Not a check: prints each encode's wall time (run with -s) so the table's cost stays visible."""
    for shape in SHAPES:
        for mode in (STANDARD, CHUNKED) if shape.chunked else (STANDARD,):
            print(f"{shape.name:16} {mode:8} {encoded(shape, mode).seconds:5.1f} s")
