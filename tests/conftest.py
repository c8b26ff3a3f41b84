"""Shared fixtures: the real ffmpeg, and small clips generated with lavfi (never checked in)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from drapto.core import commands
from drapto.core.chunks import Chunk
from drapto.core.search import SearchSettings
from drapto.core.units import ChunkUnit, EncodeSettings
from drapto.core.vmaf import scoring_for
from drapto.graph.ffmpeg import resolve_ffmpeg

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@dataclass(frozen=True)
class AudioSpec:
    layout: str
    channels: int
    language: str | None = None
    title: str | None = None
    default: bool = False


@dataclass(frozen=True)
class ClipSpec:
    width: int = 320
    height: int = 180
    duration: float = 2.0
    rate: str = "24000/1001"
    video: bool = True
    audio: tuple[AudioSpec, ...] = (
        AudioSpec("5.1(side)", 6, "eng", "Surround", True),
        AudioSpec("stereo", 2, "fra", None, False),
    )
    subtitles: bool = True
    chapters: bool = True
    title: str = "Test Movie"
    video_filter: str | None = None  # applied to testsrc2, e.g. `pad` for black bars
    video_graph: str | None = None  # a whole lavfi graph (output [out0]) instead of testsrc2


SRT = "1\n00:00:00,500 --> 00:00:01,200\nHello\n\n2\n00:00:01,300 --> 00:00:01,900\nWorld\n"


def clip_argv(ffmpeg: str, spec: ClipSpec, folder: Path, target: Path) -> list[str]:
    """The ffmpeg command that makes a test clip: testsrc2 video, tone-and-noise audio per layout, an SRT
    subtitle and two chapters."""
    argv = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    maps: list[str] = []
    inputs = 0
    if spec.video:
        graph = (
            spec.video_graph or f"testsrc2=size={spec.width}x{spec.height}:rate={spec.rate}:duration={spec.duration}"
        )
        argv += ["-f", "lavfi", "-i", graph]
        maps += ["-map", f"{inputs}:v"]
        inputs += 1
    for audio in spec.audio:
        # A wavering tone plus noise, different in every channel: Opus VBR lands near its target on
        # this (on pure noise or identical channels it undershoots a lot).
        exprs = "|".join(
            f"0.3*sin(2*PI*{220 + 55 * i}*t*(1+0.01*sin(3*t)))+0.1*(2*random({i})-1)" for i in range(audio.channels)
        )
        source = f"aevalsrc=exprs={exprs}:c={audio.layout}:s=48000:d={spec.duration}"
        argv += ["-f", "lavfi", "-i", source]
        maps += ["-map", f"{inputs}:a"]
        inputs += 1
    if spec.subtitles:
        srt = folder / "subs.srt"
        srt.write_text(SRT)
        argv += ["-i", str(srt)]
        maps += ["-map", f"{inputs}:s"]
        inputs += 1
    meta_input = None
    if spec.chapters:
        chapters = folder / "chapters.txt"
        chapters.write_text(
            ";FFMETADATA1\n"
            f"title={spec.title}\n"
            "[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=1000\ntitle=Opening\n"
            f"[CHAPTER]\nTIMEBASE=1/1000\nSTART=1000\nEND={int(spec.duration * 1000)}\ntitle=Ending\n"
        )
        argv += ["-i", str(chapters)]
        meta_input = inputs
        inputs += 1
    argv += maps
    if meta_input is not None:
        argv += ["-map_metadata", str(meta_input), "-map_chapters", str(meta_input)]
    else:
        argv += ["-metadata", f"title={spec.title}"]
    if spec.video:
        if spec.video_filter:
            argv += ["-vf", spec.video_filter]
        # a keyframe a second, so crop samples land near where they were asked for
        argv += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "24"]
    argv += ["-c:a", "pcm_s16le", "-c:s", "srt"]
    for i, audio in enumerate(spec.audio):
        if audio.language:
            argv += [f"-metadata:s:a:{i}", f"language={audio.language}"]
        if audio.title:
            argv += [f"-metadata:s:a:{i}", f"title={audio.title}"]
        argv += [f"-disposition:a:{i}", "default" if audio.default else "0"]
    if spec.subtitles:
        argv += ["-metadata:s:s:0", "language=eng", "-disposition:s:0", "forced"]
    return argv + [str(target)]


@pytest.fixture(scope="session")
def ffmpeg() -> str:
    return resolve_ffmpeg()


@pytest.fixture(scope="session", autouse=True)
def user_folders(tmp_path_factory):
    """Run logs and the encode history go to a session folder (in-process and in every drapto child),
    never into the user's real folders. Tests that inspect them point these variables at their own."""
    folder = tmp_path_factory.mktemp("user-folders")
    names = {"DRAPTO_LOG_DIR": folder / "log", "DRAPTO_HISTORY": folder / "history.jsonl"}
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update({name: str(path) for name, path in names.items()})
    yield folder
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def make_clip(ffmpeg, tmp_path_factory):
    """Build (once per session) the clip a spec describes; returns its path."""
    cache: dict[ClipSpec, Path] = {}

    def _make(spec: ClipSpec = ClipSpec(), name: str = "clip.mkv") -> Path:
        if spec not in cache:
            folder = tmp_path_factory.mktemp("clip")
            target = folder / name
            subprocess.run(clip_argv(ffmpeg, spec, folder, target), check=True)
            cache[spec] = target
        return cache[spec]

    return _make


@pytest.fixture
def clip_copy(make_clip, tmp_path):
    """A private copy of a clip in this test's folder (tests may check the source is untouched)."""

    def _copy(spec: ClipSpec = ClipSpec(), name: str = "film.mkv") -> Path:
        target = tmp_path / "in" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(make_clip(spec).read_bytes())
        return target

    return _copy


def run_drapto(
    *args: str | os.PathLike[str], timeout: float = 300, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The real command line, in a child process, as a user runs it (`env` adds variables)."""
    return subprocess.run(
        [sys.executable, "-m", "drapto", *map(str, args)], capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


def multi_scene_graph(width: int, height: int, rate: str, seconds: float) -> str:
    """Three scenes of different difficulty, `seconds` each: testsrc2 (clean motion), mandelbrot (fine
    detail zooming), and a slow gradient under strong temporal noise (grain)."""
    scenes = [
        f"testsrc2=size={width}x{height}:rate={rate}",
        f"mandelbrot=size={width}x{height}:rate={rate}",
        f"gradients=size={width}x{height}:rate={rate}:speed=0.05,noise=alls=20:allf=t+u",
    ]
    labels = "abc"
    parts = [
        f"{src},trim=duration={seconds},setpts=PTS-STARTPTS,format=yuv420p[{labels[i]}]" for i, src in enumerate(scenes)
    ]
    return ";".join(parts) + ";[a][b][c]concat=n=3:v=1:a=0[out0]"


def recurring_scene_graph(width: int, height: int, rate: str, seconds: float, order: str = "abcabc") -> str:
    """Shots that return, as a film's do: the three scenes of `multi_scene_graph` (a: testsrc2, b:
    mandelbrot, c: grain), `seconds` each in `order`, each return a later stretch of its scene."""
    sources = {
        "a": f"testsrc2=size={width}x{height}:rate={rate}",
        "b": f"mandelbrot=size={width}x{height}:rate={rate}",
        "c": f"gradients=size={width}x{height}:rate={rate}:speed=0.05,noise=alls=20:allf=t+u",
    }
    seen = {key: 0 for key in sources}
    parts = []
    for i, key in enumerate(order):
        start = seen[key] * seconds
        seen[key] += 1
        parts.append(f"{sources[key]},trim=start={start}:duration={seconds},setpts=PTS-STARTPTS,format=yuv420p[s{i}]")
    labels = "".join(f"[s{i}]" for i in range(len(order)))
    return ";".join(parts) + f";{labels}concat=n={len(order)}:v=1:a=0[out0]"


EVENT_SCHEMA = Path(__file__).resolve().parents[1] / "docs" / "events.schema.json"
_validator = None


def check_event_line(line: str) -> dict:
    """One NDJSON line, checked against the published schema (docs/events.schema.json)."""
    global _validator
    if _validator is None:
        import jsonschema

        _validator = jsonschema.Draft202012Validator(json.loads(EVENT_SCHEMA.read_text()))
    event = json.loads(line)
    _validator.validate(event)
    return event


def json_events(stdout: str) -> list[dict]:
    """Every line of a --json run: each must be an event that validates against the schema."""
    return [check_event_line(line) for line in stdout.splitlines() if line.strip()]


def processes_using(path: Path) -> list[int]:
    """Processes whose command line names `path`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if str(path).encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def wait_for_no_process_using(path: Path, seconds: float = 5.0) -> bool:
    """Wait until no process names `path` (an ffmpeg outliving a killed drapto would); False if one still does."""
    deadline = time.monotonic() + seconds
    while processes_using(path):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def chunk_unit(threads: int = 1) -> ChunkUnit:
    """A 48-frame chunk unit of a 320x180 source at preset 6, with `threads` threads: for argv and key tests."""
    chunk = Chunk(index=0, start=0, end=48, start_time=0.0, end_time=2.0, cut="start", score=0.0, seek=0.0, stop=None)
    return ChunkUnit(
        ffmpeg="ffmpeg", source="in.mkv", chunk=chunk,
        encode=EncodeSettings(
            preset=6, crop=None,
            svt=commands.svt_params(keyint_seconds=10, film_grain=0, film_grain_denoise=False, threads=threads),
        ),
        scoring=scoring_for(320, 180, every=10, pool="mean", threads=threads), search=SearchSettings(target=93.0),
        start_crf=38.0, predicted_vmaf=None, folder="chunks/0000", target="encoded/0000.mkv",
        result="results/0000.json",
    )  # fmt: skip
