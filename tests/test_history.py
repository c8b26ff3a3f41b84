"""The encode history: the record, the file (append-only, torn lines passed over) and `drapto history`."""

from __future__ import annotations

import io
import json

import msgspec
import pytest

from drapto.shell import history
from drapto.shell.cli import main
from drapto.shell.history import HistoryRecord


def record(**changes) -> HistoryRecord:
    fields = dict(
        finished="2026-03-01T21:15:00+01:00",
        source="/films/In the Mood for Love (2000).mkv",
        output="/out/In the Mood for Love (2000).mkv",
        input_bytes=8 * 1024**3,
        output_bytes=2 * 1024**3,
        reduction=75.0,
        seconds=3600.0,
        duration=5880.0,
        speed=1.633,
        mode="chunked",
        preset=6,
        crf_range=(24.0, 41.5),
        target_vmaf=93.0,
        vmaf=(92.04, 93.51, 94.9),
        drapto_version="0.1.0",
        ffmpeg_version="n7.1",
        encoder_version="v2.3.0",
    )
    return HistoryRecord(**{**fields, **changes})


@pytest.fixture
def history_file(tmp_path, monkeypatch):
    path = tmp_path / "data" / "history.jsonl"
    monkeypatch.setenv(history.HISTORY_ENV, str(path))
    return path


def test_path_follows_the_environment(history_file):
    assert history.history_path() == history_file


def test_append_makes_the_folder_and_adds_one_line_each(history_file):
    first, second = record(), record(mode="standard", crf=25, crf_range=None, vmaf=None, target_vmaf=None)
    history.append(first)
    history.append(second)
    assert history_file.read_text().count("\n") == 2
    assert history.read() == [first, second]


def test_read_passes_over_torn_and_foreign_lines(history_file):
    history.append(record())
    with history_file.open("ab") as handle:
        handle.write(b'{"finished": "2026-03-0\n')  # a write cut short
        handle.write(b"not json\n\n")
    history.append(record(source="/films/b.mkv"))
    assert [r.source for r in history.read()] == ["/films/In the Mood for Love (2000).mkv", "/films/b.mkv"]


def test_older_lines_without_newer_fields_still_read(history_file):
    history_file.parent.mkdir(parents=True)
    minimal = {
        "finished": "2026-01-01T00:00:00+00:00", "source": "a.mkv", "output": "o/a.mkv", "input_bytes": 100,
        "output_bytes": 40, "reduction": 60.0, "seconds": 10.0, "some_future_field": [1, 2],
    }  # fmt: skip
    history_file.write_text(json.dumps(minimal) + "\n")
    (only,) = history.read()
    assert (only.mode, only.speed, only.vmaf, only.encoder_version) == ("standard", None, None, None)


def test_missing_history_reads_empty(history_file):
    assert history.read() == []


def test_quality_column():
    assert history.quality(record()) == "CRF 24-41.5, VMAF 92.0/93.5/94.9"
    assert history.quality(record(mode="standard", crf=27, crf_range=None, vmaf=None)) == "CRF 27"
    assert history.quality(record(vmaf=None)) == "CRF 24-41.5"


def test_clock():
    assert [history.clock(s) for s in (0.44, 59.9, 60, 125, 3723)] == ["0.4s", "59.9s", "1:00", "2:05", "1:02:03"]


def test_plain_listing_has_a_row_per_file_and_totals():
    text = history.render_plain([record(), record(source="/films/b.mkv", input_bytes=2 * 1024**3, seconds=1800)])
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["finished", "source", "in"]
    assert lines[1].startswith("2026-03-01 21:15  In the Mood for Love (2000).mkv  8.00 GiB  2.00 GiB  75.0% smaller")
    assert "1.63x" in lines[1] and "chunked" in lines[1] and lines[1].endswith("CRF 24-41.5, VMAF 92.0/93.5/94.9")
    assert lines[-1] == "2 files: 10.00 GiB -> 4.00 GiB (60.0% smaller), 1:30:00 encoding"


def test_rich_table_renders():
    from rich.console import Console

    console = Console(record=True, width=200, file=io.StringIO())
    console.print(history.render_rich([record()]))
    text = console.export_text()
    assert "In the Mood for Love (2000).mkv" in text and "CRF 24-41.5, VMAF 92.0/93.5/94.9" in text
    assert "1 file: 8.00 GiB -> 2.00 GiB (75.0% smaller), 1:00:00 encoding" in text


def test_history_command_without_history(history_file, capsys):
    assert main(["history"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("No finished encodes yet") and str(history_file) in out
    assert main(["history", "--json"]) == 0
    assert capsys.readouterr().out == ""
    assert not history_file.exists()


def test_history_command_lists_and_round_trips(history_file, capsys):
    records = [record(), record(mode="standard", crf=25, crf_range=None, vmaf=None, target_vmaf=None)]
    for item in records:
        history.append(item)
    assert main(["history"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 4 and out[-1].startswith("2 files: 16.00 GiB -> 4.00 GiB (75.0% smaller)")
    assert main(["history", "--json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [msgspec.json.decode(line, type=HistoryRecord) for line in lines] == records


def test_unreadable_history_is_one_clean_error(history_file, capsys):
    history_file.mkdir(parents=True)  # a folder where the file should be
    assert main(["history"]) == 2
    assert "Cannot read the encode history" in capsys.readouterr().err
