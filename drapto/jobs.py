"""Which files to encode and where each output goes, with the input checks that must pass first."""

from __future__ import annotations

import os
from pathlib import Path

from drapto.errors import InputError

VIDEO_EXTENSIONS = frozenset(
    ".mkv .mp4 .m4v .mov .avi .wmv .ts .m2ts .mts .mpg .mpeg .vob .webm .flv .ogv".split()
)


def discover(input_path: Path) -> list[Path]:
    """A file is taken as given; a folder gives its video files (not recursive, no dotfiles), sorted."""
    if not input_path.exists():
        raise InputError(f"Input not found: {input_path}")
    if input_path.is_file():
        return [input_path]
    found = sorted(
        (p for p in input_path.iterdir() if p.is_file() and not p.name.startswith(".")
         and p.suffix.lower() in VIDEO_EXTENSIONS),
        key=lambda p: p.name.lower(),
    )  # fmt: skip
    if not found:
        raise InputError(f"No video files in {input_path} (looked for {', '.join(sorted(VIDEO_EXTENSIONS))})")
    return found


def output_for(source: Path, output: Path, *, batch: bool) -> Path:
    """`OUTPUT` ending in .mkv names the file (single input only); anything else is a folder."""
    if output.suffix.lower() == ".mkv" and not batch:
        return output
    if output.suffix.lower() == ".mkv":
        raise InputError(f"{output} names a file, but the input is a folder: give an output folder")
    return output / f"{source.stem}.mkv"


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
