"""The bad-input table: each case gives one clear line on stderr, the documented exit code and no
traceback, and every source's bytes are unchanged (checksummed before and after)."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import ClipSpec, run_drapto


@dataclass
class Case:
    """What a case runs: argv, extra environment, and the files whose bytes must not change."""

    args: list[str | os.PathLike[str]]
    env: dict[str, str] = field(default_factory=dict)
    sources: list[Path] = field(default_factory=list)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "-"


def _film(tmp: Path, clip: Path, name: str = "film.mkv") -> Path:
    target = tmp / "in" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(clip, target)
    return target


def _text(tmp: Path, name: str, text: str = "") -> Path:
    target = tmp / "in" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    return target


def _truncated(tmp: Path, clip: Path) -> Path:
    film = _film(tmp, clip)
    film.write_bytes(film.read_bytes()[:2000])  # the header survives, the media does not
    return film


def _config(tmp: Path, text: str) -> Path:
    path = tmp / "config.toml"
    path.write_text(text)
    return path


def _encode(*extra: str | os.PathLike[str]) -> Callable[[Path, Path], Case]:
    def make(tmp: Path, clip: Path) -> Case:
        film = _film(tmp, clip)
        return Case(["encode", film, tmp / "out", *extra], sources=[film])

    return make


def _with_env(**env: str) -> Callable[[Path, Path], Case]:
    def make(tmp: Path, clip: Path) -> Case:
        film = _film(tmp, clip)
        return Case(["encode", film, tmp / "out"], env=env, sources=[film])

    return make


def _with_config(text: str) -> Callable[[Path, Path], Case]:
    def make(tmp: Path, clip: Path) -> Case:
        film = _film(tmp, clip)
        return Case(["encode", film, tmp / "out", "--config", _config(tmp, text)], sources=[film])

    return make


def _parent_is_a_file(tmp: Path, clip: Path) -> Case:
    film = _film(tmp, clip)
    (tmp / "a-file").write_text("")
    return Case(["encode", film, tmp / "a-file" / "out.mkv"], sources=[film])


def _read_only_output(tmp: Path, clip: Path) -> Case:
    film = _film(tmp, clip)
    folder = tmp / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    return Case(["encode", film, folder], sources=[film])


def _unreadable(tmp: Path, clip: Path) -> Case:
    film = _film(tmp, clip)
    film.chmod(0)
    return Case(["encode", film, tmp / "out"])


def _empty_folder(tmp: Path, clip: Path) -> Case:
    (tmp / "in").mkdir()
    return Case(["encode", tmp / "in", tmp / "out"])


def _no_videos(tmp: Path, clip: Path) -> Case:
    notes = _text(tmp, "notes.txt", "no films here")
    return Case(["encode", tmp / "in", tmp / "out"], sources=[notes])


def _mkv_output_for_folder(tmp: Path, clip: Path) -> Case:
    film = _film(tmp, clip)
    return Case(["encode", film.parent, tmp / "all.mkv"], sources=[film])


def _output_is_input(tmp: Path, clip: Path) -> Case:
    film = _film(tmp, clip)
    return Case(["encode", film, film], sources=[film])


def _output_inside_recursive_input(tmp: Path, clip: Path) -> Case:
    film = _film(tmp, clip)
    return Case(["encode", film.parent, film.parent / "av1", "--recursive"], sources=[film])


def _one_file(make: Callable[[Path], Path]) -> Callable[[Path, Path], Case]:
    def case(tmp: Path, clip: Path) -> Case:
        source = make(tmp)
        return Case(["encode", source, tmp / "out"], sources=[source])

    return case


ROOT = os.geteuid() == 0
# (id, build the case, exit code, what the one line says)
CASES: list[tuple[str, Callable[[Path, Path], Case], int, str]] = [
    ("missing path", lambda t, c: Case(["encode", t / "nope.mkv", t / "out"]), 2, "Input not found"),
    ("empty folder", _empty_folder, 2, "No video files in"),
    ("folder without films", _no_videos, 2, "No video files in"),
    ("zero-length file", _one_file(lambda t: _text(t, "empty.mkv")), 2, "empty"),
    ("text file named .mkv", _one_file(lambda t: _text(t, "film.mkv", "hello\n")), 2, "No video stream"),
    (
        "truncated media",
        lambda t, c: Case(["encode", (f := _truncated(t, c)), t / "out"], sources=[f]),
        1,
        "The source is damaged",
    ),
    ("audio-only", "audio-only", 2, "audio only"),
    ("unreadable file", _unreadable, 2, "Cannot read"),
    ("output parent is a file", _parent_is_a_file, 2, "Cannot write to output folder"),
    ("read-only output folder", _read_only_output, 2, "Cannot write to output folder"),
    ("output equal to the input", _output_is_input, 2, "is the input file"),
    ("output inside a recursive input", _output_inside_recursive_input, 2, "inside the input folder"),
    (".mkv output for a folder", _mkv_output_for_folder, 2, "names a file, but the input is a folder"),
    ("bad value in config", _with_config("preset = 99\n"), 2, "preset must be between"),
    ("unknown key in config", _with_config("presett = 6\n"), 2, "unknown setting 'presett'"),
    ("not TOML", _with_config("preset = = 6\n"), 2, "not valid TOML"),
    ("missing --config file", _encode("--config", "/nonexistent/drapto.toml"), 2, "Config file not found"),
    ("bad environment value", _with_env(DRAPTO_PRESET="abc"), 2, "DRAPTO_PRESET"),
    ("environment out of range", _with_env(DRAPTO_WORKERS="-1"), 2, "DRAPTO_WORKERS"),
    ("ffmpeg missing", _with_env(DRAPTO_FFMPEG="/nonexistent/ffmpeg"), 2, "ffmpeg not found"),
    ("flag of the wrong type", _encode("--preset", "fast"), 2, "--preset"),
    ("flag out of range", _encode("--target-vmaf", "150"), 2, "target_vmaf must be between"),
    ("bad --crf-range", _encode("--crf-range", "40"), 2, "--crf-range takes MIN-MAX"),
    ("bad --crf", _encode("--crf", "1,2"), 2, "--crf takes one value or three"),
    ("bad --vmaf-pool", _encode("--vmaf-pool", "median"), 2, "pool"),
    ("conflicting flags", _encode("--standard", "--chunked"), 2, "--standard and --chunked exclude each other"),
    ("unknown flag", _encode("--no-such-flag"), 2, "Unknown option: --no-such-flag"),
    ("unknown command", lambda t, c: Case(["encodee", t]), 2, 'Unknown command "encodee"'),
    ("missing argument", lambda t, c: Case(["encode"]), 2, "drapto"),
]


@pytest.fixture(scope="module")
def clip(make_clip) -> Path:
    return make_clip(ClipSpec(duration=1.0, subtitles=False, chapters=False))


@pytest.mark.ffmpeg
@pytest.mark.parametrize(("build", "code", "says"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_gets_one_clear_line(build, code, says, clip, make_clip, tmp_path):
    if build == "audio-only":
        audio = make_clip(ClipSpec(video=False, subtitles=False, chapters=False, duration=1.0))
        build = _one_file(lambda t: _film(t, audio, "album.mkv"))
    if ROOT and build in (_read_only_output, _unreadable):
        pytest.skip("root reads and writes regardless of permissions")
    case = build(tmp_path, clip)
    before = {path: digest(path) for path in case.sources}
    result = run_drapto(*case.args, env=case.env)
    assert result.returncode == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("drapto: ") or ": FAILED: " in lines[0], lines[0]
    assert says in lines[0], lines[0]
    assert {path: digest(path) for path in case.sources} == before, "a source changed"
    for path in case.sources:
        path.chmod(0o644)


@pytest.mark.ffmpeg
@pytest.mark.parametrize("name", ["a film.mkv", 'it\'s "quoted".mkv', "ünïcødé 映画.mkv", "new\nline.mkv", "-dash.mkv"])
def test_awkward_names_encode(name, clip, tmp_path):
    film = _film(tmp_path, clip, name)
    before = digest(film)
    result = run_drapto("encode", film, tmp_path / "out", "--standard", "--preset", "12", "--crop", "none")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / (Path(name).stem + ".mkv")).is_file()
    assert digest(film) == before
