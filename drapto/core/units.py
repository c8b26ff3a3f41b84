"""The chunk work unit's data: what goes in (`ChunkUnit`) and what comes out (`ChunkResult`). Pure.

Plain msgspec Structs, so a unit can be printed, hashed, pickled to a cluster worker and its result
read back from JSON by anyone (`drapto plan`, a report).
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from drapto.core.chunks import Chunk
from drapto.core.filmmodel import Features
from drapto.core.search import SearchSettings
from drapto.core.shots import ShotScore, judged, reading_floor
from drapto.core.vmaf import Scoring


class EncodeSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Everything about a chunk's encode except its CRF."""

    preset: int
    svt: str  # -svtav1-params without crf
    crop: str | None
    picture: str | None = None  # the video filter chain every read of the chunk applies (picture.video_filters)
    colour: tuple[str, ...] = ()
    dolby_vision: bool = False


class ChunkUnit(msgspec.Struct, frozen=True, kw_only=True):
    ffmpeg: str
    source: str
    chunk: Chunk
    encode: EncodeSettings
    scoring: Scoring
    search: SearchSettings
    start_crf: float
    predicted_vmaf: float | None  # what the start CRF is expected to score (before any probe)
    folder: str  # the chunk's own folder for tries
    target: str  # the kept encode
    result: str  # the ChunkResult JSON
    engine: str = "builtin"  # the CRF search that runs the unit: "builtin" or "ab-av1"
    features: Features | None = None  # what the scene scan says of the chunk (the film model's input)
    scout: bool = True  # searched from the prior; the others start from the scouts (core.scouting)
    slope: float | None = None  # the VMAF per CRF the search starts from (None: the prior)
    ceiling: int | None = None  # the most bytes the kept encode may hold (core.driver; None: no ceiling)


class Confirmation(msgspec.Struct, frozen=True, kw_only=True):
    """A try scored again on all its frames, because its subset reading was within its error of the band's
    lower edge: the chunk's VMAF and each shot's, and what the scoring cost."""

    vmaf: float
    shots: tuple[ShotScore, ...] = ()
    seconds: float = 0.0


class TryRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One cached try (crf<CRF>.json): its key, what it measured and what it cost."""

    key: str
    crf: float
    vmaf: float  # the chunk's VMAF on the frames scored
    frames_scored: int
    bytes: int
    seconds: float
    shots: tuple[ShotScore, ...] = ()  # each shot's VMAF on the frames counted (one shot: none)
    exact: bool = False  # every frame was scored (a short chunk), so the reading has no sampling error
    confirmed: Confirmation | None = None  # scored again on all frames

    @property
    def reading(self) -> float:
        """What the search judges the try by: its worst shot (core.shots.judged), on all frames once confirmed."""
        if self.confirmed is not None:
            return judged(self.confirmed.vmaf, self.confirmed.shots)
        return judged(self.vmaf, self.shots)

    @property
    def floor(self) -> float | None:
        """The lowest its worst shot may score on all frames; None once the reading is exact (every frame
        scored, or confirmed)."""
        if self.confirmed is not None or self.exact:
            return None
        return reading_floor(self.vmaf, self.frames_scored, self.shots)


class ChunkResult(msgspec.Struct, frozen=True, kw_only=True):
    index: int
    start: int
    end: int
    start_time: float
    end_time: float
    crf: float
    predicted_vmaf: float | None  # what the search expected the kept try to score, just before encoding it
    vmaf: float
    in_band: bool
    bytes: int
    seconds: float  # encode time of all probes and tries, cached ones included
    tries: tuple[TryRecord, ...]  # full encodes of the chunk, in the order made
    probes: tuple[TryRecord, ...] = ()  # window probes that aimed the first full encode
    worker: str = ""
    cut: str | None = None  # why the chunk starts where it does: start, scene or split (None: not recorded)
    scout: bool | None = None  # searched from the prior (True) or started from the scouts (None: not recorded)
    capped: bool = False  # kept under the band: the band's CRF would have broken the chunk's size ceiling
    ceiling: int | None = None  # that ceiling in bytes (None: none applied)
    shots: tuple[ShotScore, ...] = ()  # the kept try's shots and their VMAF (all frames when confirmed)
    worst: float | None = None  # what the search judged the kept try by: its worst shot (None: not recorded)
    confirmed: bool = False  # `vmaf`, `shots` and `worst` come from all the chunk's frames

    @property
    def judged(self) -> float:
        """The chunk's worst shot, or its VMAF where no shots were recorded."""
        return self.vmaf if self.worst is None else self.worst


class ChunkResults(msgspec.Struct, frozen=True, kw_only=True):
    """Every chunk's result, attached to the output as drapto-chunks.json for reports."""

    version: int = 1
    target_vmaf: float
    frames: int
    chunks: tuple[ChunkResult, ...]
    # Optional, for a report made from the output alone (None: not recorded by the encode that made it)
    source: str | None = None  # the source's path
    crop: str | None = None  # the crop the encode applied, W:H:X:Y ("" for none)
    vmaf_scale: str | None = None  # the vmaf_scale setting: auto, none or WxH
    scoring: Scoring | None = None  # how every chunk was scored: model, the size scaled to, subset, pooling


def load_result(path: str) -> ChunkResult:
    return msgspec.json.decode(Path(path).read_bytes(), type=ChunkResult)
