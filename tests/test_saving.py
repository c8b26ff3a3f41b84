"""Outputs that don't pay: the min_saving rule, and an output larger than its source said loudly. Pure."""

from __future__ import annotations

from drapto.core import events
from drapto.core.saving import discard, grew, saving_percent
from drapto.shell.progress import describe, size_change

MB = 1_000_000


def test_min_saving_discards_an_output_that_saves_less():
    assert saving_percent(100 * MB, 75 * MB) == 25.0
    assert not discard(100 * MB, 121 * MB, None)  # default: every output is kept
    assert discard(100 * MB, 121 * MB, 0) and not discard(100 * MB, 100 * MB, 0)
    assert discard(100 * MB, 91 * MB, 10) and not discard(100 * MB, 90 * MB, 10)


def test_an_output_larger_than_its_source_is_said_loudly():
    assert grew(241 * MB, 292 * MB) and not grew(292 * MB, 241 * MB)
    assert size_change(241 * MB, 292 * MB) == "21.2% LARGER"
    finished = events.FileFinished(
        file="a.mkv", output="out/a.mkv", input_bytes=241 * MB, output_bytes=292 * MB, elapsed=1.0
    )
    assert "WARNING: the output is 21.2% LARGER than its source" in describe(finished)
    smaller = events.FileFinished(
        file="a.mkv", output="out/a.mkv", input_bytes=292 * MB, output_bytes=241 * MB, elapsed=1.0
    )
    assert "WARNING" not in describe(smaller)


def test_not_worth_it_names_the_sizes():
    event = events.FileDiscarded(file="a.mkv", output="out/a.mkv", input_bytes=100 * MB, output_bytes=95 * MB,
                                 min_saving=10, elapsed=1.0)  # fmt: skip
    assert describe(event) == (
        "a.mkv: not worth it: 95.37 MiB -> 90.60 MiB (5.0% smaller) saves less than --min-saving 10%; "
        "out/a.mkv not written, the source untouched"
    )
