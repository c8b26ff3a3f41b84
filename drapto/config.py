"""Settings: defaults, then a TOML file, then `DRAPTO_*` environment variables, then flags (flags win)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import msgspec
import platformdirs

from drapto.crop import check_crop_setting
from drapto.errors import InputError
from drapto.vmaf import check_pool

CONFIG_ENV = "DRAPTO_CONFIG"


class Config(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Every setting a user may change. Field names are the TOML keys and, upper-cased, the env suffixes."""

    mode: Literal["auto", "chunked", "standard"] = "auto"  # auto: chunked, but standard for Dolby Vision
    crf_sd: int = 25
    crf_hd: int = 25
    crf_uhd: int = 29
    preset: int = 6
    keyint_seconds: int = 10
    crop: str = "auto"  # auto (detect black bars), none, or W:H:X:Y
    film_grain: int = 0
    film_grain_denoise: bool = False
    ffmpeg: str | None = None
    keep: bool = False
    # chunked mode
    target_vmaf: float | None = None  # None: 93, or 95 for HDR sources
    vmaf_pool: str = "mean"  # mean, harmonic or pN (a low percentile of the frame scores)
    vmaf_every: int = 10  # score consecutive frame pairs every N frames of a chunk; 1 scores all frames
    crf_min: float = 10.0
    crf_max: float = 55.0
    max_tries: int = 4  # full encodes per chunk at most
    probe_seconds: float = 1.0  # a chunk at least 4× this long first probes a window this long; 0: never
    scene_threshold: float = 8.0  # scdet score (0-100, on the 160 px scan) that counts as a scene cut
    chunk_min_seconds: float = 5.0
    chunk_max_seconds: float = 15.0
    workers: int = 0  # chunk units at once; 0 decides from cores and memory
    search_engine: Literal["builtin", "ab-av1"] = "builtin"

    def __post_init__(self) -> None:
        for name in ("crf_sd", "crf_hd", "crf_uhd"):
            if not 0 <= getattr(self, name) <= 63:
                raise InputError(f"{name} must be between 0 and 63, got {getattr(self, name)}")
        if not -2 <= self.preset <= 13:
            raise InputError(f"preset must be between -2 and 13, got {self.preset}")
        if not 0 <= self.film_grain <= 50:
            raise InputError(f"film_grain must be between 0 and 50, got {self.film_grain}")
        # stored normalised ("AUTO" → "auto"), so every reader may compare with "auto" and "none"
        msgspec.structs.force_setattr(self, "crop", check_crop_setting(self.crop))
        if self.keyint_seconds < 1:
            raise InputError(f"keyint_seconds must be at least 1, got {self.keyint_seconds}")
        if self.target_vmaf is not None and not 0 < self.target_vmaf < 100:
            raise InputError(f"target_vmaf must be between 0 and 100, got {self.target_vmaf:g}")
        try:
            msgspec.structs.force_setattr(self, "vmaf_pool", check_pool(self.vmaf_pool))
        except ValueError as exc:
            raise InputError(str(exc)) from None
        if self.vmaf_every < 1:
            raise InputError(f"vmaf_every must be at least 1, got {self.vmaf_every}")
        if not 1 <= self.crf_min <= self.crf_max <= 63:
            raise InputError(f"the CRF range must satisfy 1 <= crf_min <= crf_max <= 63, got {self.crf_min:g}-{self.crf_max:g}")
        if self.probe_seconds < 0:
            raise InputError(f"probe_seconds must be 0 (no probes) or more, got {self.probe_seconds:g}")
        if self.max_tries < 1:
            raise InputError(f"max_tries must be at least 1, got {self.max_tries}")
        if not 0 < self.scene_threshold <= 100:
            raise InputError(f"scene_threshold must be between 0 and 100, got {self.scene_threshold:g}")
        if not 0 < self.chunk_min_seconds <= self.chunk_max_seconds:
            raise InputError(
                f"chunk lengths must satisfy 0 < chunk_min_seconds <= chunk_max_seconds, got "
                f"{self.chunk_min_seconds:g} and {self.chunk_max_seconds:g}"
            )
        if self.workers < 0:
            raise InputError(f"workers must be 0 (automatic) or more, got {self.workers}")


def default_config_path() -> Path:
    return Path(os.environ.get(CONFIG_ENV) or Path(platformdirs.user_config_dir("drapto")) / "config.toml")


def _from_env(environ: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for field in msgspec.structs.fields(Config):
        raw = environ.get(f"DRAPTO_{field.name.upper()}")
        if raw is not None:
            values[field.name] = raw
    return values


def load_config(
    overrides: dict[str, Any] | None = None,
    *,
    path: Path | None = None,
    environ: dict[str, str] | None = None,
) -> Config:
    """Merge the layers and validate once; a bad value anywhere is one clear InputError."""
    path = path or default_config_path()
    merged: dict[str, Any] = {}
    if path.is_file():
        try:
            merged.update(msgspec.toml.decode(path.read_bytes()))
        except msgspec.DecodeError as exc:
            raise InputError(f"Config file {path} is not valid TOML: {exc}") from exc
    merged.update(_from_env(dict(os.environ) if environ is None else environ))
    merged.update({k: v for k, v in (overrides or {}).items() if v is not None})
    try:
        # strict=False lets environment strings ("28", "true") stand for numbers and booleans.
        return msgspec.convert(merged, Config, strict=False)
    except msgspec.ValidationError as exc:
        raise InputError(f"Invalid setting: {exc}") from exc


def show_config(config: Config) -> str:
    """The effective settings as TOML, ready to paste into a config file (JSON scalars are TOML scalars)."""
    return "".join(
        f"{name} = {msgspec.json.encode(value).decode()}\n"
        for name, value in msgspec.structs.asdict(config).items()
        if value is not None
    )
