"""The flags several commands share, as dataclasses cyclopts flattens (`Parameter(name="*")`): what to
encode and how (`EncodeFlags`), the run log (`LogFlags`), how a run reports (`RunFlags`), and `--config`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from cyclopts import Parameter

from drapto.core.config import Config, load_config
from drapto.errors import InputError
from drapto.graph.runner import set_responsive
from drapto.shell.progress import make_reporter
from drapto.shell.runlogs import logged, start_log


def parse_crf(value: str) -> dict[str, int]:
    """`25` sets every class; `24,26,26` sets SD, HD, UHD."""
    try:
        numbers = [int(part) for part in value.split(",")]
    except ValueError:
        raise InputError(f"--crf takes a number or SD,HD,UHD numbers, got {value!r}") from None
    if len(numbers) == 1:
        numbers *= 3
    if len(numbers) != 3:
        raise InputError(f"--crf takes one value or three (SD,HD,UHD), got {len(numbers)}")
    return dict(zip(("crf_sd", "crf_hd", "crf_uhd"), numbers, strict=True))


def parse_crf_range(value: str) -> dict[str, float]:
    """`20-45` → crf_min 20, crf_max 45."""
    low, sep, high = value.partition("-")
    try:
        if not sep:
            raise ValueError
        return {"crf_min": float(low), "crf_max": float(high)}
    except ValueError:
        raise InputError(f"--crf-range takes MIN-MAX, e.g. 20-45, got {value!r}") from None


ConfigFile = Annotated[
    Path | None,
    Parameter(
        name="--config",
        help="The TOML settings file to read (default: $DRAPTO_CONFIG, or config.toml in the user config folder).",
    ),
]
"""The `--config FILE` option every command takes, so each reads its settings from the same place."""


@dataclass(frozen=True)
class EncodeFlags:
    """Flags shared by `encode` and `plan`; each overrides the config file and environment.

    Parameters
    ----------
    standard
        One CRF encode of the whole film, CRF by width class (the default for Dolby Vision sources).
    chunked
        Scene chunks, each encoded at the CRF that reaches the VMAF target (the default, except for Dolby
        Vision sources).
    target_vmaf
        The VMAF every chunk must reach, on ab-av1's scale (default 93; 95 for HDR sources).
    vmaf_pool
        How a chunk's frame scores are pooled: mean (default), harmonic, or pN (the N-th percentile).
    vmaf_scale
        The size VMAF scores at: auto (default: pictures smaller than 1080p upscaled to fit 1920x1080 by
        their limiting side, portrait turned; the 4k model and 2160p above 2560x1440), none (the picture's
        own size), or WxH.
    min_saving
        Discard an output that saves less than this percentage of its source's size (default: keep every
        output); the source is never touched.
    size_ceiling
        The most bytes a chunk's kept encode may hold, as a percentage of what the source spent on the
        same frames (default 100: no chunk grows); 0 turns the ceiling off. A chunk that would need more
        to reach the target keeps the best CRF under it, counted as capped by size.
    reencode_av1
        Encode sources whose video is already AV1 (default: skip them, said as "already AV1").
    crf_range
        The CRFs the chunk search may use, MIN-MAX (default 10-55; quarter steps).
    workers
        Chunks encoded at once (default: from cores and memory).
    search_engine
        builtin (default) or ab-av1 (needs the ab-av1 program on PATH).
    cluster
        Run the chunks on a Dask cluster: tcp://HOST:8786 or tls://HOST:8786 (a running `dask scheduler`),
        or local[:N] for N worker processes on this machine (default 2). Needs drapto[cluster].
    cluster_security
        A TOML file naming the certificate authority, drapto's certificate and its key (ca_file, cert,
        key) for a tls:// cluster; without it, Dask's own TLS settings. local[:N] makes its own.
    path_map
        LOCAL=REMOTE: the source's folder as the cluster's workers mount it (shared storage).
    crf
        CRF for every class (25) or per class as SD,HD,UHD (25,25,29).
    preset
        SVT-AV1 preset, -2 (slowest) to 13 (fastest); default 6.
    film_grain
        SVT-AV1 film-grain synthesis level, 0 (off) to 50.
    film_grain_denoise
        Denoise the source before grain synthesis.
    crop
        auto (detect black bars, the default), none, or an explicit W:H:X:Y crop.
    deinterlace
        auto (detect interlaced and telecined video, the default), off, bwdif (always deinterlace) or
        ivtc (always inverse telecine to 23.976 fps).
    """

    standard: bool = False
    chunked: bool = False
    target_vmaf: float | None = None
    vmaf_pool: str | None = None
    vmaf_scale: str | None = None
    min_saving: float | None = None
    size_ceiling: float | None = None
    reencode_av1: bool | None = None
    crf_range: str | None = None
    workers: int | None = None
    search_engine: str | None = None
    cluster: str | None = None
    cluster_security: str | None = None
    path_map: str | None = None
    crf: str | None = None
    preset: int | None = None
    film_grain: int | None = None
    film_grain_denoise: bool | None = None
    crop: str | None = None
    deinterlace: str | None = None

    def config(self, keep: bool | None = None, path: Path | None = None) -> Config:
        overrides: dict[str, Any] = {
            "crop": self.crop,
            "deinterlace": self.deinterlace,
            "preset": self.preset,
            "film_grain": self.film_grain,
            "film_grain_denoise": self.film_grain_denoise,
            "keep": keep,
            "target_vmaf": self.target_vmaf,
            "vmaf_pool": self.vmaf_pool,
            "vmaf_scale": self.vmaf_scale,
            "min_saving": self.min_saving,
            "size_ceiling": self.size_ceiling,
            "reencode_av1": self.reencode_av1,
            "workers": self.workers,
            "search_engine": self.search_engine,
            "cluster": self.cluster,
            "cluster_security": self.cluster_security,
            "path_map": self.path_map,
        }
        names: dict[str, str] = {}  # the flags not named after their field, for error messages
        if self.standard and self.chunked:
            raise InputError("--standard and --chunked exclude each other")
        if self.standard or self.chunked:
            overrides["mode"] = "standard" if self.standard else "chunked"
            names["mode"] = f"--{overrides['mode']}"
        if self.crf is not None:
            overrides.update(parse_crf(self.crf))
            names.update(dict.fromkeys(("crf_sd", "crf_hd", "crf_uhd"), "--crf"))
        if self.crf_range is not None:
            overrides.update(parse_crf_range(self.crf_range))
            names.update(crf_min="--crf-range", crf_max="--crf-range")
        return load_config(overrides, flag_names=names, path=path)


NO_FLAGS = EncodeFlags()


@dataclass(frozen=True)
class LogFlags:
    """The run log, for the commands that run ffmpeg.

    Parameters
    ----------
    log_dir
        Folder for this run's log file (default: $DRAPTO_LOG_DIR, else the user log folder).
    log
        Write the run log: every command with its exit code, duration and stderr tail (--no-log: none).
    verbose
        Also print each command to stderr, shell-quoted, as it starts.
    """

    log_dir: Path | None = None
    log: bool = True
    verbose: Annotated[bool, Parameter(name=["--verbose", "-v"])] = False

    def start(self) -> None:
        """Open this run's log as the flags say."""
        start_log(self.log_dir, enabled=self.log, verbose=self.verbose)


NO_LOG = LogFlags()


@dataclass(frozen=True)
class RunFlags:
    """How `encode` and `watch` run and report.

    Parameters
    ----------
    keep
        Keep the work folder (OUTPUT/.drapto/STEM) after success.
    json
        Print events as JSON lines instead of text.
    quiet
        Print errors only.
    responsive
        Run the encoders at low CPU and I/O priority, so the machine stays usable.
    report
        Write each finished file's report page (OUTPUT.report.html, as `drapto report` does) beside it.
    """

    keep: bool | None = None
    json: bool = False
    quiet: Annotated[bool, Parameter(name=["--quiet", "-q"])] = False
    responsive: bool = False
    report: bool = False

    def start(self, log_flags: LogFlags) -> Any:
        """Open the run log, set the children's priority, and return where events go."""
        log_flags.start()
        set_responsive(self.responsive)
        return logged(make_reporter(self.json, self.quiet))


NO_RUN = RunFlags()
