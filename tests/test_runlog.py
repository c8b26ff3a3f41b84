"""The per-run log: every command with its exit code, duration and stderr tail; failures with their detail;
-v echoes commands; a log that cannot be written never stops the work. And one real encode, end to end:
run log, history record, `drapto history --json`."""

from __future__ import annotations

import shlex
import sys
import threading
from pathlib import Path

import msgspec
import pytest
from conftest import AudioSpec, ClipSpec

from drapto.errors import DependencyError, ProcessError
from drapto.graph import runlog
from drapto.graph.runner import run_capture, run_concurrently, run_with_progress
from drapto.shell import history
from drapto.shell.cli import main


@pytest.fixture(autouse=True)
def no_open_log():
    yield
    runlog.finish(None)  # a test that fails half-way must not leave its log open for the next


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def log_text(folder: Path) -> str:
    (log,) = folder.iterdir()
    assert log.name.startswith("drapto-") and log.suffix == ".log"
    return log.read_text()


def test_commands_are_logged_with_exit_code_duration_and_stderr_tail(tmp_path):
    log = runlog.start(["encode", "a b.mkv", "out"], folder=tmp_path / "logs")
    assert log is not None and log.path.parent == tmp_path / "logs"
    run_capture(python("import sys; print('to stdout'); sys.stderr.write('l1\\nl2\\n')"))
    with pytest.raises(ProcessError):
        run_with_progress(
            python("import sys; sys.stderr.write(''.join(f'line {i}\\n' for i in range(60))); sys.exit(3)")
        )
    runlog.finish(0)
    text = log_text(tmp_path / "logs")
    lines = text.splitlines()
    assert "drapto 0.1.0 started" in lines[0] and lines[1] == "    argv: drapto encode 'a b.mkv' out"
    assert "[1] run: " in text and "[1] exit code 0 in " in text
    assert "    l1\n    l2\n" in text and "    to stdout\n" not in text  # stderr only
    assert "[2] exit code 3 in " in text
    assert "    line 20\n" in text and "    line 59\n" in text and "    line 19\n" not in text  # the last 40
    assert "drapto finished: exit code 0 in " in lines[-1]
    assert runlog.current() is None


def test_success_keeps_a_short_tail(tmp_path):
    runlog.start([], folder=tmp_path)
    run_capture(python("import sys; sys.stderr.write(''.join(f'info {i}\\n' for i in range(30)))"))
    runlog.finish(0)
    text = log_text(tmp_path)
    assert "    info 29\n" in text and f"    info {29 - runlog.SUCCESS_TAIL_LINES}\n" not in text


def test_a_command_that_cannot_start_is_logged(tmp_path):
    runlog.start([], folder=tmp_path)
    with pytest.raises(DependencyError):
        run_capture([str(tmp_path / "no-such-program"), "-x"])
    runlog.finish(2)
    assert "[1] did not finish in " in log_text(tmp_path) and "(not found)" in log_text(tmp_path)


def test_commands_from_many_threads_each_get_their_start_and_end(tmp_path):
    runlog.start([], folder=tmp_path)
    codes = list(range(12))
    threads = [
        threading.Thread(target=run_capture, args=(python(f"import sys; sys.exit({c})"),), kwargs={"check": False})
        for c in codes
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run_concurrently([python("pass")] * 4, workers=2)
    runlog.finish(0)
    text = log_text(tmp_path)
    ids = {}
    for line in text.splitlines():
        parts = line.split(" ", 3)
        if len(parts) > 2 and parts[1].startswith("["):
            ids.setdefault(parts[1], []).append(parts[2])
    assert len(ids) == 16 and all(events[0] == "run:" and events[1] in ("exit", "did") for events in ids.values())
    exits = sorted(int(line.split("exit code ")[1].split()[0]) for line in text.splitlines() if "] exit code" in line)
    assert exits == sorted(codes + [0] * 4)


def test_verbose_echoes_each_command_shell_quoted_even_without_a_log(tmp_path, capsys):
    runlog.start([], folder=tmp_path / "logs", enabled=False, verbose=True)
    argv = python("print('it''s')")
    run_capture(argv)
    run_with_progress(python("pass"), cwd=str(tmp_path))
    runlog.finish(0)
    err = capsys.readouterr().err.splitlines()
    assert err == [shlex.join(argv), f"(cd {shlex.quote(str(tmp_path))} && {shlex.join(python('pass'))})"]
    assert not (tmp_path / "logs").exists()


def test_a_log_that_breaks_midway_never_stops_the_work(tmp_path, capsys):
    log = runlog.start([], folder=tmp_path)
    log._handle.close()  # as if the disk went away: every later write fails
    assert run_capture(python("print('still runs')")).stdout.strip() == b"still runs"
    run_capture(python("pass"))
    assert runlog.failure("film.mkv", "boom", "detail") is None  # nothing to point the user at
    runlog.finish(1)
    warnings = [line for line in capsys.readouterr().err.splitlines() if "cannot write the run log" in line]
    assert len(warnings) == 1


def test_a_log_folder_that_cannot_be_made_is_a_warning(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert runlog.start([], folder=blocker / "logs") is None
    assert "cannot write a run log in" in capsys.readouterr().err
    run_capture(python("pass"))


def test_default_folder_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(runlog.LOG_DIR_ENV, str(tmp_path / "state"))
    assert runlog.default_log_dir() == tmp_path / "state"
    log = runlog.start(["config"])
    assert log is not None and log.path.parent == tmp_path / "state"


TINY = ClipSpec(
    width=160, height=90, duration=1.0, rate="24", audio=(AudioSpec("stereo", 2),), subtitles=False, chapters=False
)


@pytest.mark.ffmpeg
def test_encode_writes_run_log_and_history(make_clip, tmp_path, monkeypatch, capsys, ffmpeg):
    source = tmp_path / "in" / "tiny film.mkv"
    source.parent.mkdir()
    source.write_bytes(make_clip(TINY, "tiny.mkv").read_bytes())
    monkeypatch.setenv(history.HISTORY_ENV, str(tmp_path / "history.jsonl"))
    logs = tmp_path / "logs"
    out = tmp_path / "out"
    assert main(["encode", str(source), str(out), "--standard", "--log-dir", str(logs), "-v", "--json"]) == 0
    echoed = capsys.readouterr().err

    text = log_text(logs)
    assert f"argv: drapto encode {shlex.quote(str(source))} {out} --standard --log-dir {logs} -v --json" in text
    runs = {line.split()[1]: shlex.split(line.split(" run: ", 1)[1]) for line in text.splitlines() if " run: " in line}
    video = [(key, argv) for key, argv in runs.items() if "libsvtav1" in argv and str(source) in argv]
    (video_id, video_argv), = video  # fmt: skip
    assert video_argv[0] == ffmpeg and video_argv[-1].endswith("video.mkv.partial")
    assert f"{video_id} exit code 0 in " in text
    assert sum(f"{key} exit code " in text for key in runs) == len(runs) >= 6  # every command's end
    assert "finished: " in text and "drapto finished: exit code 0" in text.splitlines()[-1]
    assert shlex.join(video_argv) in echoed.splitlines()  # -v

    (record,) = history.read()
    output = out / "tiny film.mkv"
    assert (record.source, record.output) == (str(source), str(output))
    assert (record.input_bytes, record.output_bytes) == (source.stat().st_size, output.stat().st_size)
    assert record.reduction == pytest.approx((1 - record.output_bytes / record.input_bytes) * 100, abs=0.01)
    assert (record.mode, record.crf, record.crf_range, record.vmaf, record.preset) == ("standard", 25, None, None, 6)
    assert record.duration == pytest.approx(1.0, abs=0.1)
    assert record.speed == pytest.approx(record.duration / record.seconds, rel=0.01)
    assert record.encoder_version and record.encoder_version.startswith("v")
    assert record.ffmpeg_version and record.drapto_version == "0.1.0"
    assert f"history: appended to {tmp_path / 'history.jsonl'}" in text

    assert main(["history", "--json"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert msgspec.json.decode(line, type=history.HistoryRecord) == record


@pytest.mark.ffmpeg
def test_no_log_writes_no_file(make_clip, tmp_path):
    logs = tmp_path / "logs"
    assert main(["analyze", str(make_clip(TINY, "tiny.mkv")), "--no-log", "--log-dir", str(logs)]) == 0
    assert not logs.exists()


def test_a_failing_command_goes_to_the_log_and_the_error_names_it(make_clip, tmp_path, monkeypatch, capsys):
    fake = tmp_path / "ffmpeg"
    fake.write_text('#!/bin/sh\necho "boom: $*" >&2\nexit 3\n')
    fake.chmod(0o755)
    monkeypatch.setenv("DRAPTO_FFMPEG", str(fake))
    source = tmp_path / "film.mkv"
    source.write_bytes(make_clip(TINY, "tiny.mkv").read_bytes())
    logs = tmp_path / "logs"
    assert main(["encode", str(source), str(tmp_path / "out"), "--log-dir", str(logs)]) == 1
    (log,) = logs.iterdir()
    err = capsys.readouterr().err
    assert f"FAILED: ffmpeg failed (exit code 3): boom: -hide_banner -nostdin -encoders (details in {log})" in err
    text = log.read_text()
    assert "[1] exit code 3 in " in text and "    boom: -hide_banner -nostdin -encoders\n" in text
    assert f"FAILED {source}: ffmpeg failed (exit code 3)" in text and f"argv: ['{fake}', '-hide_banner'" in text
    assert "drapto finished: exit code 1" in text.splitlines()[-1]


def test_an_error_before_any_file_is_logged_too(tmp_path, capsys):
    logs = tmp_path / "logs"
    assert main(["encode", str(tmp_path / "missing.mkv"), str(tmp_path / "out"), "--log-dir", str(logs)]) == 2
    assert capsys.readouterr().err.strip() == f"drapto: Input not found: {tmp_path / 'missing.mkv'}"  # no detail
    text = log_text(logs)
    assert f"FAILED Input not found: {tmp_path / 'missing.mkv'}" in text and "exit code 2" in text.splitlines()[-1]
