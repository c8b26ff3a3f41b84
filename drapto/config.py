"""Settings: defaults, then a TOML file, then `DRAPTO_*` environment variables, then flags (flags win)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import msgspec
import platformdirs

from drapto.crop import check_crop_setting
from drapto.errors import InputError

CONFIG_ENV = "DRAPTO_CONFIG"


class Config(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Every setting a user may change. Field names are the TOML keys and, upper-cased, the env suffixes."""

    mode: Literal["standard"] = "standard"
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
