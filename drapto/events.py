"""Events: the only way the graph and runner talk to a terminal, a log or a JSON consumer."""

from __future__ import annotations

import msgspec


class _Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="event"):
    file: str


class FileStarted(_Event, tag="file_started"):
    output: str
    resolution: str
    crf: int
    preset: int
    steps: tuple[str, ...]


class CropDecided(_Event, tag="crop_decided"):
    crop: str | None  # W:H:X:Y, or None for the full frame
    reason: str
    samples: int
    candidates: tuple[str, ...]  # "W:H:X:Y x N", most frequent first


class StepStarted(_Event, tag="step_started"):
    step: str
    duration: float | None = None


class StepProgress(_Event, tag="step_progress"):
    step: str
    seconds: float
    fraction: float | None = None


class StepFinished(_Event, tag="step_finished"):
    step: str
    elapsed: float


class StepSkipped(_Event, tag="step_skipped"):
    step: str
    reason: str = "up to date"


class Notice(_Event, tag="notice"):
    level: str  # "info" or "warning"
    message: str


class FileFinished(_Event, tag="file_finished"):
    output: str
    input_bytes: int
    output_bytes: int
    elapsed: float


class FileSkipped(_Event, tag="file_skipped"):
    output: str
    reason: str


class FileFailed(_Event, tag="file_failed"):
    message: str
    detail: str = ""


class BatchSummary(_Event, tag="batch_summary"):
    succeeded: int
    failed: int
    skipped: int
    input_bytes: int
    output_bytes: int
    elapsed: float


Event = (
    FileStarted | CropDecided | StepStarted | StepProgress | StepFinished | StepSkipped | Notice
    | FileFinished | FileSkipped | FileFailed | BatchSummary
)  # fmt: skip
