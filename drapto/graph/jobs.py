"""Which files to encode and where each output goes, with the input checks that must pass first."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from drapto.errors import InputError

VIDEO_EXTENSIONS = frozenset(
    [
        ".mkv",
        ".mp4",
        ".m4v",
        ".mov",
        ".avi",
        ".wmv",
        ".ts",
        ".m2ts",
        ".mts",
        ".mpg",
        ".mpeg",
        ".vob",
        ".webm",
        ".flv",
        ".ogv",
    ]
)


def is_video(path: Path) -> bool:
    return path.is_file() and not path.name.startswith(".") and path.suffix.lower() in VIDEO_EXTENSIONS


def _walk(folder: Path) -> Iterator[Path]:
    for root, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        yield from (Path(root) / name for name in names)


def by_path(paths: Iterable[Path]) -> list[Path]:
    """Paths in the order a batch takes them: by path, case-insensitively."""
    return sorted(paths, key=lambda p: [part.lower() for part in p.parts])


def video_files(folder: Path, *, recursive: bool = False) -> list[Path]:
    """The video files of `folder` (no dotfiles), sorted; `recursive` also walks its subfolders (skipping
    dot-folders such as drapto's own `.drapto` work folders). May be empty."""
    candidates = _walk(folder) if recursive else folder.iterdir()
    return by_path(p for p in candidates if is_video(p))


def discover(input_path: Path, *, recursive: bool = False) -> list[Path]:
    """A file is taken as given; a folder gives its video files (see `video_files`), at least one."""
    if not input_path.exists():
        raise InputError(f"Input not found: {input_path}")
    if input_path.is_file():
        return [input_path]
    if not os.access(input_path, os.R_OK | os.X_OK):
        raise InputError(f"Cannot read folder {input_path}")
    found = video_files(input_path, recursive=recursive)
    if not found:
        where = f"{input_path} or its subfolders" if recursive else str(input_path)
        raise InputError(f"No video files in {where} (looked for {', '.join(sorted(VIDEO_EXTENSIONS))})")
    return found


def output_for(source: Path, output: Path, *, batch: bool, root: Path | None = None) -> Path:
    """`OUTPUT` ending in .mkv names the file (single input only); anything else is a folder. With `root`
    (a recursive batch) the source's subfolders under `root` are mirrored under the output folder."""
    if output.suffix.lower() == ".mkv" and not batch:
        return output
    check_output_folder(output)
    folder = output / source.parent.relative_to(root) if root is not None else output
    return folder / f"{source.stem}.mkv"


def check_output_folder(output: Path) -> None:
    """A folder input needs an output folder, not a .mkv file name."""
    if output.suffix.lower() == ".mkv":
        raise InputError(f"{output} names a file, but the input is a folder: give an output folder")


def check_outside(input_folder: Path, output: Path) -> None:
    """A recursive batch whose output folder lies inside its input would pick up its own outputs."""
    if output.resolve().is_relative_to(input_folder.resolve()):
        raise InputError(
            f"Output folder {output} is inside the input folder {input_folder}: a recursive batch would "
            "encode its own outputs; choose an output folder outside it"
        )


def prepare_output_dir(output: Path) -> None:
    """Create the output's folder and prove it is writable before any encoding starts."""
    folder = output.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".drapto-write-test-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise InputError(f"Cannot write to output folder {folder}: {exc.strerror or exc}") from exc


def check_not_source(source: Path, output: Path) -> None:
    if output.resolve() == source.resolve() or output.with_name(output.name + ".partial").resolve() == source.resolve():
        raise InputError(f"Output {output} is the input file; drapto never overwrites its source")
