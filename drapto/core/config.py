"""Settings: defaults, then a TOML file, then `DRAPTO_*` environment variables, then flags (flags win)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import msgspec
import platformdirs

from drapto.core.crop import check_crop_setting
from drapto.core.picture import check_deinterlace_setting
from drapto.core.vmaf import check_pool, check_scale
from drapto.errors import InputError

CONFIG_ENV = "DRAPTO_CONFIG"
DEFAULT = "default"  # the source label of a setting no layer sets


class SettingError(InputError):
    """A value out of range; `fields` lets `load_settings` say which layer the bad values came from."""

    def __init__(self, message: str, *fields: str) -> None:
        super().__init__(message)
        self.fields = fields


class Config(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Every setting a user may change. Field names are the TOML keys and, upper-cased, the env suffixes."""

    mode: Literal["auto", "chunked", "standard"] = "auto"  # auto: chunked, but standard for Dolby Vision
    crf_sd: int = 25
    crf_hd: int = 25
    crf_uhd: int = 29
    preset: int = 6
    keyint_seconds: int = 10
    crop: str = "auto"  # auto (detect black bars), none, or W:H:X:Y
    deinterlace: str = "auto"  # auto (detect), off, bwdif (always deinterlace) or ivtc (always inverse telecine)
    film_grain: int = 0
    film_grain_denoise: bool = False
    ffmpeg: str | None = None
    keep: bool = False
    min_saving: float | None = None  # percent: an output that saves less is discarded (None: always kept)
    reencode_av1: bool = False  # a source whose video is already AV1 is skipped unless this is set
    # chunked mode
    target_vmaf: float | None = None  # None: 93, or 95 for HDR sources
    vmaf_pool: str = "mean"  # mean, harmonic or pN (a low percentile of the frame scores)
    vmaf_scale: str = "auto"  # auto (fit 1080p, or 2160p above 2560x1440), none (own size), or WxH
    vmaf_every: int = 10  # score about 2 frames in N of a chunk (triples' middles, see vmaf.py); 1 scores all
    crf_min: float = 10.0
    crf_max: float = 55.0
    max_tries: int = 4  # full encodes per chunk at most
    # percent of the source's video bytes for the same frames a chunk's kept encode may hold (0: no ceiling)
    size_ceiling: float = 100.0
    probe_seconds: float = 1.0  # a chunk at least 4× this long first probes a window this long; 0: never
    scene_threshold: float = 8.0  # scdet score (0-100, on the 160 px scan) that counts as a scene cut
    # 2 s: a chunk per shot (shots are judged one by one, core.shots). On benchmarks/film.py, cutting at
    # every shot of 2 s or more cost 3.38x the plain encode's CPU against 4.00x for 5 s chunks judged by
    # their worst shot, for a 7 % smaller output, with no shot below the band in either (issue 26).
    chunk_min_seconds: float = 2.0
    chunk_max_seconds: float = 15.0
    workers: int = 0  # chunk units at once; 0 decides from cores and memory
    search_engine: Literal["builtin", "ab-av1"] = "builtin"
    # experimental: start chunks from a fifth of them, placed by the scan's features (filmmodel.py); measured no
    # better than the prior on benchmarks/film.py, so off by default
    film_model: bool = False
    # chunked mode on a Dask cluster
    cluster: str | None = None  # tcp://HOST:PORT, tls://HOST:PORT, or local[:N] (a LocalCluster of N processes)
    path_map: str | None = None  # LOCAL=REMOTE: the source's path prefix as the cluster's workers see it
    cluster_data: Literal["auto", "shared", "copy"] = "auto"  # how workers get frames; auto: shared if readable
    cluster_security: str | None = None  # a TOML file naming the CA, certificate and key for a tls:// cluster

    def __post_init__(self) -> None:
        for name in ("crf_sd", "crf_hd", "crf_uhd"):
            if not 0 <= getattr(self, name) <= 63:
                raise SettingError(f"{name} must be between 0 and 63, got {getattr(self, name)}", name)
        if not -2 <= self.preset <= 13:
            raise SettingError(f"preset must be between -2 and 13, got {self.preset}", "preset")
        if not 0 <= self.film_grain <= 50:
            raise SettingError(f"film_grain must be between 0 and 50, got {self.film_grain}", "film_grain")
        try:
            # stored normalised ("AUTO" → "auto"), so every reader may compare with "auto" and "none"
            msgspec.structs.force_setattr(self, "crop", check_crop_setting(self.crop))
        except InputError as exc:
            raise SettingError(exc.message, "crop") from None
        try:
            msgspec.structs.force_setattr(self, "deinterlace", check_deinterlace_setting(self.deinterlace))
        except InputError as exc:
            raise SettingError(exc.message, "deinterlace") from None
        if self.keyint_seconds < 1:
            raise SettingError(f"keyint_seconds must be at least 1, got {self.keyint_seconds}", "keyint_seconds")
        if self.target_vmaf is not None and not 0 < self.target_vmaf < 100:
            raise SettingError(f"target_vmaf must be between 0 and 100, got {self.target_vmaf:g}", "target_vmaf")
        try:
            msgspec.structs.force_setattr(self, "vmaf_pool", check_pool(self.vmaf_pool))
        except ValueError as exc:
            raise SettingError(str(exc), "vmaf_pool") from None
        try:
            msgspec.structs.force_setattr(self, "vmaf_scale", check_scale(self.vmaf_scale))
        except ValueError as exc:
            raise SettingError(str(exc), "vmaf_scale") from None
        if self.min_saving is not None and not 0 <= self.min_saving < 100:
            raise SettingError(f"min_saving must be a percentage from 0 to 99, got {self.min_saving:g}", "min_saving")
        if self.size_ceiling < 0:
            raise SettingError(
                f"size_ceiling must be a percentage above 0, or 0 for none, got {self.size_ceiling:g}", "size_ceiling"
            )
        if self.vmaf_every < 1:
            raise SettingError(f"vmaf_every must be at least 1, got {self.vmaf_every}", "vmaf_every")
        if not 1 <= self.crf_min <= self.crf_max <= 63:
            raise SettingError(
                f"the CRF range must satisfy 1 <= crf_min <= crf_max <= 63, got {self.crf_min:g}-{self.crf_max:g}",
                "crf_min",
                "crf_max",
            )
        if self.probe_seconds < 0:
            raise SettingError(
                f"probe_seconds must be 0 (no probes) or more, got {self.probe_seconds:g}", "probe_seconds"
            )
        if self.max_tries < 1:
            raise SettingError(f"max_tries must be at least 1, got {self.max_tries}", "max_tries")
        if not 0 < self.scene_threshold <= 100:
            raise SettingError(
                f"scene_threshold must be between 0 and 100, got {self.scene_threshold:g}", "scene_threshold"
            )
        if not 0 < self.chunk_min_seconds <= self.chunk_max_seconds:
            raise SettingError(
                f"chunk lengths must satisfy 0 < chunk_min_seconds <= chunk_max_seconds, got "
                f"{self.chunk_min_seconds:g} and {self.chunk_max_seconds:g}",
                "chunk_min_seconds",
                "chunk_max_seconds",
            )
        if self.workers < 0:
            raise SettingError(f"workers must be 0 (automatic) or more, got {self.workers}", "workers")
        if self.cluster is not None and not _cluster_address_ok(self.cluster):
            raise SettingError(
                f"cluster must be tcp://HOST:PORT, tls://HOST:PORT or local[:N], got {self.cluster!r}", "cluster"
            )
        if self.cluster_security and (self.cluster or "").startswith("tcp://"):
            raise SettingError(
                f"cluster_security needs a tls:// cluster address, got {self.cluster!r} (plain TCP)",
                "cluster", "cluster_security",
            )  # fmt: skip
        if self.path_map is not None and not all(self.path_map.partition("=")[::2]):
            raise SettingError(f"path_map must be LOCAL=REMOTE, got {self.path_map!r}", "path_map")


def _cluster_address_ok(address: str) -> bool:
    if address.startswith(("tcp://", "tls://")):
        return len(address) > len("tcp://")
    name, colon, count = address.partition(":")
    return name == "local" and (not colon or (count.isdigit() and int(count) >= 1))


FIELDS = {field.name: field.type for field in msgspec.structs.fields(Config)}


def default_config_path(environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    return Path(environ.get(CONFIG_ENV) or Path(platformdirs.user_config_dir("drapto")) / "config.toml")


def _expected(kind: Any) -> str:
    """A field's type in words, for a message about a value typed by hand."""
    if get_origin(kind) is Literal:
        return "one of " + ", ".join(get_args(kind))
    kind = next((arg for arg in get_args(kind) if arg is not type(None)), kind)  # str | None → str
    return {bool: "true or false", int: "an integer", float: "a number", str: "a string"}[kind]


def _read_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        settings: dict[str, Any] = msgspec.toml.decode(path.read_bytes())
        return settings
    except msgspec.DecodeError as exc:
        raise InputError(f"Config file {path} is not valid TOML: {exc}") from None


def load_settings(
    overrides: dict[str, Any] | None = None,
    *,
    flag_names: dict[str, str] | None = None,
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[Config, dict[str, str]]:
    """The merged Config and where each field came from: "default", the file's path, the variable or the flag.

    Each value is typed as its layer is merged, so a bad value names its source. `path` names a file that
    must exist (`--config`); without it the default file is read if present. A flag's name is its field's
    with dashes unless `flag_names` says otherwise (`--crf` sets three fields).
    """
    environ = os.environ if environ is None else environ
    if path is not None and not path.is_file():
        raise InputError(f"Config file not found: {path}")
    path = path or default_config_path(environ)
    merged: dict[str, Any] = {}
    sources = dict.fromkeys(FIELDS, DEFAULT)

    def put(name: str, value: Any, source: str, where: str) -> None:
        try:
            # strict=False lets environment strings ("28", "true") stand for numbers and booleans.
            merged[name] = msgspec.convert(value, FIELDS[name], strict=False)
        except msgspec.ValidationError:
            raise InputError(f"{where}: expected {_expected(FIELDS[name])}, got {value!r}") from None
        sources[name] = source

    for name, value in _read_file(path).items():
        if name not in FIELDS:
            raise InputError(f"unknown setting {name!r} in {path}")
        put(name, value, str(path), f"{name} in {path}")
    for name in FIELDS:
        variable = f"DRAPTO_{name.upper()}"
        if variable in environ:
            put(name, environ[variable], variable, variable)
    for name, value in (overrides or {}).items():
        if value is not None:
            flag = (flag_names or {}).get(name, "--" + name.replace("_", "-"))
            put(name, value, flag, flag)
    try:
        return Config(**merged), sources
    except SettingError as exc:
        blamed = dict.fromkeys(sources[name] for name in exc.fields if sources[name] != DEFAULT)
        raise InputError(f"{exc.message} (from {' and '.join(blamed)})") from None


def load_config(
    overrides: dict[str, Any] | None = None,
    *,
    flag_names: dict[str, str] | None = None,
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """The merged Config alone; see `load_settings`."""
    return load_settings(overrides, flag_names=flag_names, path=path, environ=environ)[0]


def _toml_value(value: Any) -> str:
    return msgspec.json.encode(value).decode()  # JSON scalars are TOML scalars


def show_config(config: Config) -> str:
    """The effective settings as TOML, ready to paste into a config file; unset ones as comments."""
    return "".join(
        f"{name} = {_toml_value(value)}\n" if value is not None else f"# {name} = (automatic)\n"
        for name, value in msgspec.structs.asdict(config).items()
    )


def show_sources(config: Config, sources: dict[str, str], path: Path) -> str:
    """The file read (or looked for), then each effective setting with where it came from, for `drapto config`."""
    values = {
        name: "(automatic)" if value is None else _toml_value(value)
        for name, value in msgspec.structs.asdict(config).items()
    }
    name_width = max(map(len, values))
    value_width = max(map(len, values.values()))
    lines = [f"{name:<{name_width}}  {value:<{value_width}}  {sources[name]}" for name, value in values.items()]
    return "\n".join([f"config file: {path}{'' if path.is_file() else ' (not found)'}", *lines, ""])
