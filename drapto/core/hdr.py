"""Colour and HDR from MediaInfo's names: what the source is, and the ffmpeg flags that keep it so. Pure."""

from __future__ import annotations

import re
from typing import Literal

import msgspec

from drapto.core.media import VideoStream

Dynamic = Literal["SDR", "HDR10", "PQ", "HLG"]

# MediaInfo's spelling → ffmpeg's option value. Unknown names get no flag (ffmpeg then passes the
# decoder's own tags through, which it does for every name it knows).
PRIMARIES = {
    "BT.709": "bt709", "BT.2020": "bt2020", "BT.601 NTSC": "smpte170m", "BT.601 PAL": "bt470bg",
    "BT.470 System M": "bt470m", "SMPTE 240M": "smpte240m", "DCI P3": "smpte431", "Display P3": "smpte432",
}  # fmt: skip
TRANSFERS = {
    "BT.709": "bt709", "PQ": "smpte2084", "HLG": "arib-std-b67", "BT.601": "smpte170m",
    "BT.2020 (10-bit)": "bt2020-10", "BT.2020 (12-bit)": "bt2020-12", "sRGB/sYCC": "iec61966-2-1",
    "SMPTE 240M": "smpte240m", "Linear": "linear",
}  # fmt: skip
MATRICES = {
    "BT.709": "bt709", "BT.2020 non-constant": "bt2020nc", "BT.2020 constant": "bt2020c",
    "BT.601": "smpte170m", "BT.470 System B/G": "bt470bg", "SMPTE 240M": "smpte240m", "YCgCo": "ycgco",
    "ICtCp": "ictcp",
}  # fmt: skip
RANGES = {"Limited": "tv", "Full": "pc"}


class ColourInfo(msgspec.Struct, frozen=True, kw_only=True):
    dynamic: Dynamic
    dolby_vision: str | None = None  # profile as MediaInfo gives it, e.g. "8.1", "5"
    primaries: str | None = None  # ffmpeg names
    transfer: str | None = None
    matrix: str | None = None
    range: str | None = None
    mastering_display: bool = False
    content_light: bool = False

    @property
    def is_hdr(self) -> bool:
        return self.dynamic != "SDR"


def dolby_vision_profile(hdr_format: str | None) -> str | None:
    """`Dolby Vision, Version 1.0, Profile 8.1, dvhe.08.01, …` → "8.1"; any Dolby Vision without a
    readable profile → "unknown"; no Dolby Vision → None."""
    if not hdr_format or "dolby vision" not in hdr_format.lower():
        return None
    match = re.search(r"Profile (\d+(?:\.\d+)?)", hdr_format)
    if match:
        return match[1]
    match = re.search(r"d[va][hva][e1v]\.(\d+)\.(\d+)", hdr_format)
    return f"{int(match[1])}.{int(match[2])}" if match else "unknown"


def hdr_transfer(transfer: str | None) -> Literal["PQ", "HLG"] | None:
    """PQ or HLG from a transfer name in MediaInfo's spelling ("PQ", "HLG", "SMPTE ST 2084", "ARIB
    STD-B67", lists like "HLG / BT.2020 (10-bit)") or ffmpeg's ("smpte2084", "arib-std-b67"); else None."""
    name = re.sub(r"[\s._-]", "", transfer or "").upper()
    if "HLG" in name or "ARIBSTDB67" in name:
        return "HLG"
    if "PQ" in name or "2084" in name:
        return "PQ"
    return None


def classify(video: VideoStream) -> ColourInfo:
    mastering = bool(video.mastering_display_luminance or video.mastering_display_primaries)
    content_light = bool(video.max_cll or video.max_fall)
    transfer = hdr_transfer(video.transfer)
    if transfer == "HLG":
        dynamic: Dynamic = "HLG"
    elif transfer == "PQ":
        dynamic = "HDR10" if mastering or content_light else "PQ"
    else:
        dynamic = "SDR"
    return ColourInfo(
        dynamic=dynamic,
        dolby_vision=dolby_vision_profile(video.hdr_format),
        primaries=PRIMARIES.get(video.color_primaries or ""),
        transfer=TRANSFERS.get(video.transfer or ""),
        matrix=MATRICES.get(video.matrix or ""),
        range=RANGES.get(video.color_range or ""),
        mastering_display=mastering,
        content_light=content_light,
    )


def colour_args(colour: ColourInfo) -> list[str]:
    """Explicit output tags, so the AV1 stream says what the source said even when only the container
    carried it. Mastering display and content light travel as frame side data, which ffmpeg's libsvtav1
    wrapper writes into the AV1 stream by itself."""
    args: list[str] = []
    for flag, value in (
        ("-color_primaries", colour.primaries),
        ("-color_trc", colour.transfer),
        ("-colorspace", colour.matrix),
        ("-color_range", colour.range),
    ):
        if value:
            args += [flag, value]
    return args
