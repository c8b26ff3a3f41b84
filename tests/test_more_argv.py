"""Snapshots of the command lines added for history, the report's --vmaf and the cluster's copy mode."""

from __future__ import annotations

from drapto.core import commands
from drapto.core.vmaf import Scoring, libvmaf_filter, side_filter

FF = "FFMPEG"


def test_history_version_argv(snapshot):
    assert [commands.encoder_version_argv(FF), commands.ffmpeg_version_argv(FF)] == snapshot


def test_cluster_copy_mode_argv(snapshot):
    assert [
        commands.chunk_copy_argv(FF, "/films/a 'b'.mkv", "copy.mkv", seek=12.5, duration=14.0),
        commands.chunk_copy_argv(FF, "/films/a.mkv", "copy.mkv", seek=0.0, duration=None),
        commands.start_time_argv(FF, "copy.mkv"),
    ] == snapshot


def test_report_file_score_argv(snapshot):
    scoring = Scoring(model="vmaf_v0.6.1", scale=(1920, 1080), every=1, pool="mean", threads=2)
    argv = commands.file_score_argv(
        FF, "/films/a.mkv", "/out/a.mkv", picture="crop=1920:800:0:140", scoring_filter=side_filter(scoring),
        libvmaf=libvmaf_filter(scoring, "frames.json"),
    )  # fmt: skip
    assert argv == snapshot
