"""Events: the only way the graph and runner talk to a terminal, a log or a JSON consumer."""

from __future__ import annotations

import sys
from typing import Any

import msgspec

# Bumped when a field is removed, renamed or changes meaning (adding an optional field does not): a JSON
# consumer checks it. The JSON Schema in docs/events.schema.json is generated from these Structs.
SCHEMA_VERSION = 1
SCHEMA_PATH = "docs/events.schema.json"


class _Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="event"):
    schema: int = SCHEMA_VERSION
    file: str


class FileStarted(_Event, tag="file_started", frozen=True):
    output: str
    resolution: str
    crf: int | None  # standard mode's CRF; None in chunked mode
    preset: int
    steps: tuple[str, ...]
    mode: str = "standard"
    target_vmaf: float | None = None
    index: int | None = None  # this file's place in the batch (1-based) …
    count: int | None = None  # … of this many files
    duration: float | None = None  # seconds of video, for the file's overall progress


class CropDecided(_Event, tag="crop_decided", frozen=True):
    crop: str | None  # W:H:X:Y, or None for the full frame
    reason: str
    samples: int
    candidates: tuple[str, ...]  # "W:H:X:Y x N", most frequent first


class StepStarted(_Event, tag="step_started", frozen=True):
    step: str
    duration: float | None = None


class StepProgress(_Event, tag="step_progress", frozen=True):
    step: str
    seconds: float  # media seconds done
    fraction: float | None = None
    fps: float | None = None  # frames per second, as ffmpeg reports them
    speed: float | None = None  # × realtime
    bytes: int | None = None  # written so far (encode and scoring outputs together)
    worker: str | None = None  # the cluster worker running a chunk (its address); None on this machine


class StepFinished(_Event, tag="step_finished", frozen=True):
    step: str
    elapsed: float


class ChunkStarted(_Event, tag="chunk_started", frozen=True):
    step: str  # chunk-NNNN, as in the task graph
    index: int
    start: int  # first frame
    end: int  # one past the last frame
    duration: float
    crf: float  # the first CRF tried


class ChunkRetry(_Event, tag="chunk_retry", frozen=True):
    step: str
    index: int
    crf: float
    attempt: int  # 2 for the first retry


class ChunkFinished(_Event, tag="chunk_finished", frozen=True):
    step: str
    index: int
    crf: float
    predicted_vmaf: float | None
    vmaf: float
    in_band: bool
    bytes: int
    tries: int
    elapsed: float
    worker: str = "local"
    capped: bool = False  # kept under the band: the band's CRF would break the chunk's size ceiling
    worst_shot: float | None = None  # the VMAF of its worst shot, which the search judged it by (None: one shot)
    confirmed: bool = False  # its VMAF (and its shots') scored on every frame, not a subset


class StepSkipped(_Event, tag="step_skipped", frozen=True):
    step: str
    reason: str = "up to date"


class Notice(_Event, tag="notice", frozen=True):
    level: str  # "info" or "warning"
    message: str


class FileFinished(_Event, tag="file_finished", frozen=True):
    output: str
    input_bytes: int
    output_bytes: int
    elapsed: float
    mode: str = "standard"
    crf_range: tuple[float, float] | None = None  # chunked: lowest and highest chunk CRF
    vmaf: tuple[float, float, float] | None = None  # chunked: min, mean, max of the chunks' VMAF
    crf: int | None = None  # standard: the CRF
    duration: float | None = None  # the source's seconds, for speed × realtime
    video: str = ""  # what was written: "AV1 1280x720 10-bit"
    audio: tuple[str, ...] = ()  # "Opus 5.1 256k", one per stream
    validation: str = ""  # what validation checked and found
    capped: int = 0  # chunked: chunks kept under the band by the size ceiling
    capped_vmaf: tuple[float, float] | None = None  # their lowest and highest VMAF


class FileSkipped(_Event, tag="file_skipped", frozen=True):
    output: str
    reason: str


class FileDiscarded(_Event, tag="file_discarded", frozen=True):
    """An encode that validated but saved less than `min_saving`: not written; the source is untouched."""

    output: str  # the path it would have had
    input_bytes: int
    output_bytes: int
    min_saving: float  # percent
    elapsed: float


class FileFailed(_Event, tag="file_failed", frozen=True):
    message: str
    detail: str = ""


class BatchFile(msgspec.Struct, frozen=True, kw_only=True):
    """One line of a batch summary: a file, what happened to it, and why or how much."""

    file: str
    status: str  # encoded, skipped, discarded (saved less than min_saving) or failed
    detail: str = ""  # the size change, the skip reason or the failure message
    input_bytes: int = 0
    output_bytes: int = 0


class BatchSummary(_Event, tag="batch_summary", frozen=True):
    succeeded: int
    failed: int
    skipped: int
    input_bytes: int
    output_bytes: int
    elapsed: float
    files: tuple[BatchFile, ...] = ()
    discarded: int = 0  # encoded, but saved less than min_saving: not written


Event = (
    FileStarted | CropDecided | StepStarted | StepProgress | StepFinished | StepSkipped | Notice
    | ChunkStarted | ChunkRetry | ChunkFinished
    | FileFinished | FileSkipped | FileDiscarded | FileFailed | BatchSummary
)  # fmt: skip


def json_schema() -> dict[str, Any]:
    """The JSON Schema of one NDJSON line: any event, with the schema version it was written under."""
    schema = msgspec.json.schema(Event)
    for definition in schema["$defs"].values():
        if "schema" in definition.get("properties", {}):
            definition["properties"]["schema"] = {"const": SCHEMA_VERSION}
            definition["required"] = sorted({*definition.get("required", ()), "schema"})
    document = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"drapto events, schema {SCHEMA_VERSION}",
        "description": "One line of `drapto encode --json` output (NDJSON): tagged by `event`.",
        **schema,
    }
    plain: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(document))  # tuple defaults → lists
    return plain


if __name__ == "__main__":  # python -m drapto.core.events > docs/events.schema.json
    sys.stdout.write(msgspec.json.format(msgspec.json.encode(json_schema()), indent=2).decode() + "\n")
