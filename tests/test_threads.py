"""A chunk alone at the tail takes the idle cores (issue 25): SVT-AV1 writes the same packets at any `lp`,
so a try's threads are chosen as it starts and left out of its cache key."""

from __future__ import annotations

import hashlib
import subprocess
import threading

import pytest

from drapto.core import commands
from drapto.core.tries import try_argv, try_key, with_threads
from drapto.graph import engines
from drapto.graph.executor import LocalExecutor
from tests.conftest import chunk_unit

CONTENT = {
    "clean": "testsrc2=s=320x180:r=25:d=2",
    "grain": "mandelbrot=s=320x180:r=25,trim=duration=2,noise=alls=25:allf=t",
    "life": "life=s=320x180:r=25:mold=10:ratio=0.1:seed=7:life_color=#00ff00,trim=duration=2",
}


def packets(ffmpeg: str, graph: str, threads: int) -> str:
    """A digest of every packet SVT-AV1 writes for `graph` at `lp=threads`, read by ffmpeg's framecrc."""
    svt = commands.svt_params(keyint_seconds=10, film_grain=0, film_grain_denoise=False, threads=threads)
    listing = subprocess.run(
        [ffmpeg, "-v", "error", "-f", "lavfi", "-i", graph, "-c:v", "libsvtav1", "-pix_fmt", "yuv420p10le",
         "-preset", "8", "-svtav1-params", f"{svt}:crf=35", "-f", "framecrc", "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return hashlib.sha256(
        "".join(line for line in listing.splitlines() if not line.startswith("#")).encode()
    ).hexdigest()


@pytest.mark.ffmpeg
@pytest.mark.parametrize("content", sorted(CONTENT))
def test_svt_av1_writes_the_same_packets_at_any_thread_count(ffmpeg, content):
    assert len({packets(ffmpeg, CONTENT[content], threads) for threads in (1, 2, 4)}) == 1


def test_a_tries_threads_change_its_command_but_not_its_cache_key():
    one, two = chunk_unit(1), with_threads(chunk_unit(1), 2)
    assert two.encode.svt.endswith(":lp=2") and two.scoring.threads == 2 and two.encode.svt.count("lp=") == 1
    assert try_key(one, 30.0) == try_key(two, 30.0) == try_key(chunk_unit(4), 30.0)
    assert try_argv(one, 30.0, "t.mkv") != try_argv(two, 30.0, "t.mkv")
    assert try_argv(two, 30.0, "t.mkv") == try_argv(chunk_unit(2), 30.0, "t.mkv")


def test_a_unit_running_alone_takes_the_other_workers_threads(monkeypatch):
    executor = LocalExecutor(workers=2)
    seen: list[int] = []
    both_inside = threading.Barrier(2)

    def alone(*args, threads, **kwargs):
        seen.append(threads())

    def together(*args, threads, **kwargs):
        both_inside.wait(timeout=10)
        seen.append(threads())
        both_inside.wait(timeout=10)

    monkeypatch.setattr(engines, "run_unit", alone)
    executor.run(chunk_unit(1), print, print)
    assert seen == [2]  # alone: both workers' threads
    monkeypatch.setattr(engines, "run_unit", together)
    runs = [threading.Thread(target=executor.run, args=(chunk_unit(1), print, print)) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join(timeout=20)
    assert seen[1:] == [1, 1]  # side by side: each its own share
