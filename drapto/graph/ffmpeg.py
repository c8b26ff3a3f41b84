"""Which ffmpeg drapto runs, and whether it can do what a plan needs."""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path

from drapto.core import commands
from drapto.errors import DependencyError, DraptoError
from drapto.graph.runner import run_capture

FFMPEG_ENV = "DRAPTO_FFMPEG"
_FIX = (
    "Unset DRAPTO_FFMPEG (and `ffmpeg` in the config file) to use the ffmpeg shipped with drapto's "
    "imageio-ffmpeg dependency, or point it at an ffmpeg built with libsvtav1, libopus and libvmaf."
)


def resolve_ffmpeg(configured: str | None = None) -> str:
    """DRAPTO_FFMPEG, else the configured path, else the static ffmpeg inside imageio-ffmpeg's wheel."""
    chosen = os.environ.get(FFMPEG_ENV) or configured
    if chosen:
        path = Path(chosen).expanduser()
        if not path.is_file() or not os.access(path, os.X_OK):
            raise DependencyError(f"ffmpeg not found or not executable: {chosen}. {_FIX}")
        return str(path)
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except Exception as exc:  # imageio-ffmpeg raises RuntimeError when its binary is missing
        raise DependencyError(f"No ffmpeg available: {exc}. Reinstall drapto (pip install drapto).") from exc


def parse_listing(text: str) -> set[str]:
    """Names from `ffmpeg -encoders` / `-filters`: the second column of each flag-led row."""
    names = set()
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and re.fullmatch(r"[A-Z.|]{2,6}", parts[0]):
            names.add(parts[1])
    return names


@cache
def capabilities(ffmpeg: str) -> dict[str, frozenset[str]]:
    return {
        listing: frozenset(parse_listing(run_capture(commands.capabilities_argv(ffmpeg, listing)).stdout.decode()))
        for listing in ("encoders", "filters")
    }


@cache
def encoder_has_option(ffmpeg: str, encoder: str, option: str) -> bool:
    help_text = run_capture(commands.encoder_help_argv(ffmpeg, encoder), check=False).stdout.decode(errors="replace")
    return re.search(rf"^\s*-{re.escape(option)}\s", help_text, flags=re.M) is not None


@cache
def versions(ffmpeg: str) -> tuple[str | None, str | None]:
    """(ffmpeg's version, SVT-AV1's library version), e.g. ("n7.1", "v2.3.0"); None where not found. Asked
    once per ffmpeg per process, for the encode history; never raises."""
    try:
        line = run_capture(commands.ffmpeg_version_argv(ffmpeg), check=False).stdout.decode(errors="replace")
        banner = run_capture(commands.encoder_version_argv(ffmpeg), check=False, env={"SVT_LOG": "3"})
    except DraptoError:
        return None, None
    ffmpeg_version = re.search(r"^ffmpeg version (\S+)", line, flags=re.M)
    svt = re.search(r"SVT-AV1 Encoder Lib (\S+)", (banner.stderr + banner.stdout).decode(errors="replace"))
    return (ffmpeg_version[1] if ffmpeg_version else None), (svt[1] if svt else None)


def check_capabilities(ffmpeg: str, needed: dict[str, set[str]]) -> None:
    """One clear error naming everything missing, before any work starts."""
    have = capabilities(ffmpeg)
    missing = [f"{kind[:-1]} {name}" for kind, names in needed.items() for name in sorted(names - have[kind])]
    if missing:
        raise DependencyError(f"{ffmpeg} lacks: {', '.join(missing)}. {_FIX}")
