"""What the work folder's JSON files hold and how to read them back (probe.json, crop.json, scenes.json),
with the version each step's up-to-date check carries, so a changed parser rebuilds its file."""

from __future__ import annotations

from pathlib import Path

import msgspec

from drapto.core.crop import CropAnalysis
from drapto.core.media import MediaInfo
from drapto.core.scenes import SceneScan
from drapto.core.workpaths import work_paths

# Bump when the probe's Struct or parser changes, so old probe.json files are rebuilt.
# probe-3: ffmpeg's listing's tags and names; probe-4: the video packets' count and span, the audio's decoded starts
PROBE_VERSION = "probe-4"


# Bump when crop sampling or the decision rules change, so old crop.json files are rebuilt.
CROP_VERSION = "crop-2"  # crop-2: the samples also run idet; crop.json holds the fields' verdict


# Bump when the scene scan's command or parsing changes, so old scenes.json files are rebuilt.
SCENES_VERSION = "scenes-3"  # scenes-3: frame times on the source file's clock


class ScanFile(msgspec.Struct, frozen=True, kw_only=True):
    """scenes.json: the scan and the crop it was made with."""

    version: str
    crop: str | None
    scan: SceneScan


def load_probe(path: str) -> MediaInfo:
    return msgspec.json.decode(Path(path).read_bytes(), type=MediaInfo)


def load_crop(path: str) -> CropAnalysis:
    return msgspec.json.decode(Path(path).read_bytes(), type=CropAnalysis)


def load_scan(path: str) -> SceneScan:
    return msgspec.json.decode(Path(path).read_bytes(), type=ScanFile).scan


def reusable_scan(output: str, crop: str | None) -> SceneScan | None:
    """The work folder's scenes.json, when an earlier run left one made with the same crop."""
    try:
        saved = msgspec.json.decode(Path(work_paths(Path(output)).scenes).read_bytes(), type=ScanFile)
    except (OSError, msgspec.DecodeError):
        return None
    return saved.scan if saved.version == SCENES_VERSION and saved.crop == crop else None
