"""The encode history: one JSON line per finished file, appended to `history.jsonl` in the platform's user
data folder ($DRAPTO_HISTORY names another file). drapto only writes it and `drapto history` shows it;
nothing reads it to decide anything."""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
import platformdirs

from drapto.core.sizes import human_bytes
from drapto.shell.progress import size_change

HISTORY_ENV = "DRAPTO_HISTORY"


class HistoryRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One finished encode. New fields get defaults, so older lines still read."""

    finished: str  # local time with its UTC offset, ISO 8601
    source: str
    output: str
    input_bytes: int
    output_bytes: int
    reduction: float  # percent smaller than the source (negative: larger)
    seconds: float  # wall time of this run's work on the file (a resumed encode counts only its last run)
    duration: float | None = None  # the source's running time, seconds
    speed: float | None = None  # duration / seconds: × realtime
    mode: str = "standard"
    preset: int | None = None
    crf: int | None = None  # standard mode
    crf_range: tuple[float, float] | None = None  # chunked: lowest and highest chunk CRF
    target_vmaf: float | None = None  # chunked
    vmaf: tuple[float, float, float] | None = None  # chunked: min, mean, max of the chunks' VMAF
    capped: int | None = None  # chunked: chunks kept under the band by the size ceiling
    drapto_version: str = ""
    ffmpeg_version: str | None = None
    encoder_version: str | None = None  # SVT-AV1's library version, e.g. v2.3.0


def history_path() -> Path:
    """$DRAPTO_HISTORY, else history.jsonl in the platform's user data folder (e.g. ~/.local/share/drapto)."""
    return Path(os.environ.get(HISTORY_ENV) or platformdirs.user_data_path("drapto") / "history.jsonl")


def now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def reduction(input_bytes: int, output_bytes: int) -> float:
    return (input_bytes - output_bytes) / input_bytes * 100 if input_bytes else 0.0


def append(record: HistoryRecord, path: Path | None = None) -> Path:
    """Add one line (one write, so concurrent drapto runs do not interleave). OSError if impossible."""
    path = path or history_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as handle:
        handle.write(msgspec.json.encode(record) + b"\n")
    return path


_decoder = msgspec.json.Decoder(HistoryRecord)


def read(path: Path | None = None) -> list[HistoryRecord]:
    """Every record, oldest first; lines that do not parse (a torn write) are passed over."""
    path = path or history_path()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    records = []
    for line in data.splitlines():
        try:
            records.append(_decoder.decode(line))
        except msgspec.DecodeError:
            continue
    return records


def clock(seconds: float) -> str:
    """1:02:03, 2:03, or 4.2s under a minute."""
    if seconds < 59.95:
        return f"{seconds:.1f}s"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def quality(record: HistoryRecord) -> str:
    """`CRF 25`, or `CRF 28-41, VMAF 92.1/93.4/94.8` (min/mean/max of the chunks)."""
    if record.mode == "chunked":
        crfs = f"CRF {record.crf_range[0]:g}-{record.crf_range[1]:g}" if record.crf_range else "CRF ?"
        if record.vmaf:
            low, mean, high = record.vmaf
            capped = f", {record.capped} capped by size" if record.capped else ""
            return f"{crfs}, VMAF {low:.1f}/{mean:.1f}/{high:.1f}{capped}"
        return crfs
    return f"CRF {record.crf}" if record.crf is not None else ""


def columns(record: HistoryRecord) -> list[str]:
    """date, file, in, out, change, time, speed, mode, quality."""
    return [
        record.finished[:16].replace("T", " "),
        Path(record.source).name,
        human_bytes(record.input_bytes),
        human_bytes(record.output_bytes),
        size_change(record.input_bytes, record.output_bytes),
        clock(record.seconds),
        f"{record.speed:.2f}x" if record.speed is not None else "-",
        record.mode,
        quality(record),
    ]


HEADERS = ["finished", "source", "in", "out", "change", "time", "speed", "mode", "CRF / VMAF min/mean/max"]


def totals(records: Iterable[HistoryRecord]) -> str:
    records = list(records)
    bytes_in = sum(r.input_bytes for r in records)
    bytes_out = sum(r.output_bytes for r in records)
    seconds = sum(r.seconds for r in records)
    files = f"{len(records)} file{'' if len(records) == 1 else 's'}"
    return (
        f"{files}: {human_bytes(bytes_in)} -> {human_bytes(bytes_out)} ({size_change(bytes_in, bytes_out)}), "
        f"{clock(seconds)} encoding"
    )


def render_plain(records: list[HistoryRecord]) -> str:
    """Aligned columns, then the totals line."""
    rows = [HEADERS, *(columns(r) for r in records)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS) - 1)]
    lines = [
        "  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]]).rstrip() for row in rows
    ]
    return "\n".join([*lines, totals(records)]) + "\n"


def render_rich(records: list[HistoryRecord]) -> Any:  # a rich.table.Table (rich imported only here)
    from rich.table import Table

    table = Table(*HEADERS, caption=totals(records), caption_justify="left")
    for column in (2, 3, 4, 5, 6):
        table.columns[column].justify = "right"
    for record in records:
        table.add_row(*columns(record))
    return table
