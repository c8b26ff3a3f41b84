"""The cluster executor's overhead, and what the no-shared-storage mode moves per chunk.

    python benchmarks/cluster.py                  # a generated 1080p clip, 4 scenes x 5 s
    python benchmarks/cluster.py --keep DIR       # keep the clip and outputs in DIR (the clip is reused)

Runs the same chunked `drapto encode` four times (same settings, 2 chunks at once, so the same SVT-AV1 `lp`):
with the local executor (`--workers 2`), on a 2-worker loopback LocalCluster with shared storage
(`--cluster local:2`, TLS with the run's throwaway certificates), the same cluster in copy mode
(DRAPTO_CLUSTER_DATA=copy), and the same cluster over plain TCP (`PLAIN`: drapto with Dask's LocalCluster and
Client stripped of their TLS arguments, as before issue 19, to measure what TLS costs). Prints the wall times
and their ratio (the executor's overhead, LocalCluster start included; goal <= 1.05), checks the chunks are
the same packets, and per chunk: the stream copy sent to the worker (bytes), the encode sent back, the
chunk's encode time, and the source's bitrate (for scaling the transfer to other sources).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import h264_argv, workspace  # this folder is the script's: on sys.path

from drapto.core import commands
from drapto.core.units import load_result
from drapto.graph.ffmpeg import resolve_ffmpeg

WIDTH, HEIGHT, RATE = 1920, 1080, 24
S = f"size={WIDTH}x{HEIGHT}:rate={RATE}"
SCENES = [
    f"testsrc2={S}",
    f"mandelbrot={S}",
    f"gradients={S}:speed=0.05,noise=alls=20:allf=t+u",
    f"life={S}:mold=10:ratio=0.5:death_color=#C83232:life_color=#00ff00",
]
ENV = {
    "DRAPTO_CHUNK_MIN_SECONDS": "3",
    "DRAPTO_CHUNK_MAX_SECONDS": "6",
    "DRAPTO_PRESET": "10",
    "DRAPTO_PROBE_SECONDS": "0",
}


def make_clip(ffmpeg: str, target: Path, seconds: float) -> None:
    labels = "abcd"
    parts = [
        f"{src},trim=duration={seconds},setpts=PTS-STARTPTS,format=yuv420p[{labels[i]}]" for i, src in enumerate(SCENES)
    ]
    graph = ";".join(parts) + ";[a][b][c][d]concat=n=4:v=1:a=0[out0]"
    subprocess.run(h264_argv(ffmpeg, graph, target, gop=RATE), check=True)


# drapto's CLI with the LocalCluster and its client over plain TCP: the TLS arguments dropped before Dask sees them
PLAIN = """
import distributed
from drapto.shell.cli import program
cluster, client = distributed.LocalCluster, distributed.Client
distributed.LocalCluster = lambda *a, security=None, protocol=None, **k: cluster(*a, **k)
distributed.Client = lambda *a, security=None, **k: client(*a, **k)
program()  # reads sys.argv: ["-c", "encode", ...]
"""


def cpu_seconds() -> float:
    """User + system CPU of every finished child of this process and the children they waited for (drapto,
    its Dask worker processes, every ffmpeg): on a shared machine a steadier figure than the wall time."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def encode(source: Path, out: Path, *flags: str, env: dict[str, str] | None = None, plain: bool = False) -> float:
    started = time.monotonic()
    drapto = [sys.executable, "-c", PLAIN] if plain else [sys.executable, "-m", "drapto"]
    done = subprocess.run([*drapto, "encode", str(source), str(out), "--keep", "-q", *flags],
                          env={**os.environ, **ENV, **(env or {})}, capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        sys.exit(f"drapto failed: {done.stderr}")
    return time.monotonic() - started


def packets(ffmpeg: str, path: Path) -> str:
    argv = [ffmpeg, "-loglevel", "error", "-i", str(path), "-map", "0:v", "-c", "copy", "-f", "framemd5", "-"]
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keep", type=Path)
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per scene (4 scenes)")
    parser.add_argument("--runs", type=int, default=1, help="rounds of the three runs, interleaved; the ratios "
                        "use each mode's fastest and median run (equal-length chunks start in a racy order, "
                        "worth +-5 %% on this clip)")  # fmt: skip
    args = parser.parse_args()
    ffmpeg = resolve_ffmpeg()
    folder = workspace(args.keep, "drapto-bench-cluster-")
    source = folder / "film.mkv"
    if not source.exists():
        make_clip(ffmpeg, source, args.seconds)
    duration = 4 * args.seconds
    bitrate = source.stat().st_size * 8 / duration / 1e6
    runs: dict[str, tuple[float, Path]] = {}
    times: dict[str, list[float]] = {}
    cpus: dict[str, list[float]] = {}
    for _round in range(args.runs):
        for name, flags, env in [
            ("local", ["--workers", "2"], {}),
            ("cluster", ["--cluster", "local:2"], {}),
            ("copy", ["--cluster", "local:2"], {"DRAPTO_CLUSTER_DATA": "copy"}),
            ("plain", ["--cluster", "local:2"], {}),
        ]:
            out = folder / f"out-{name}"
            subprocess.run(["rm", "-rf", str(out)], check=True)
            cpu = cpu_seconds()
            runs[name] = (encode(source, out, *flags, env=env, plain=name == "plain"), out / ".drapto" / "film")
            cpu = cpu_seconds() - cpu
            times.setdefault(name, []).append(runs[name][0])
            cpus.setdefault(name, []).append(cpu)
            print(f"{name:8} {runs[name][0]:7.1f} s  {cpu:7.1f} CPU-s", flush=True)
    for pick, label in ((min, "fastest"), (statistics.median, "median")):
        local, cluster, copy, plain = (pick(times[n]) for n in ("local", "cluster", "copy", "plain"))
        print(
            f"ratio cluster/local, {label} of {args.runs}: {cluster / local:.3f} (shared storage), "
            f"{copy / local:.3f} (copy mode), {plain / local:.3f} (plain TCP); goal <= 1.05; "
            f"TLS/plain TCP {cluster / plain:.3f}"
        )
        local, cluster, copy, plain = (pick(cpus[n]) for n in ("local", "cluster", "copy", "plain"))
        print(
            f"CPU-s cluster/local, {label} of {args.runs}: {cluster / local:.3f} (shared storage), "
            f"{copy / local:.3f} (copy mode), {plain / local:.3f} (plain TCP); TLS/plain TCP {cluster / plain:.3f}"
        )

    work = runs["copy"][1]
    results = sorted((work / "results").glob("*.json"))
    same = all(
        packets(ffmpeg, runs["local"][1] / "encoded" / f"{r.stem}.mkv")
        == packets(ffmpeg, work / "encoded" / f"{r.stem}.mkv")
        for r in results
    )
    print(f"chunks identical to the local run's: {same}")
    print(f"source: {WIDTH}x{HEIGHT} {RATE} fps, {bitrate:.1f} Mb/s, {len(results)} chunks")
    print("chunk  seconds  sent (copy)  returned  encode s  sent/encode-s")
    from drapto.graph.workfiles import load_scan  # the scan the run saved: the chunks' seeks and stops

    scan = load_scan(str(work / "scenes.json"))
    from drapto.core.chunks import plan_chunks

    chunks = plan_chunks(scan, min_seconds=3, max_seconds=6, threshold=8.0)
    total_sent = total_back = 0
    with tempfile.TemporaryDirectory() as scratch:
        for chunk, path in zip(chunks, results):
            result = load_result(str(path))
            target = Path(scratch) / "copy.mkv"
            duration_read = None if chunk.stop is None else chunk.stop - chunk.seek + 2.0
            subprocess.run(
                commands.chunk_copy_argv(ffmpeg, str(source), str(target), seek=chunk.seek, duration=duration_read),
                check=True,
            )
            sent, back = target.stat().st_size, result.bytes
            total_sent += sent
            total_back += back
            print(
                f"{result.index:5}  {chunk.duration:7.2f}  {sent / 1e6:8.2f} MB  {back / 1e6:5.2f} MB  {result.seconds:8.1f}  {sent / 1e6 / max(result.seconds, 1e-6):6.2f} MB/s"
            )
    print(
        f"total sent {total_sent / 1e6:.1f} MB for {duration:.0f} s of video ({total_sent / duration / 1e6:.2f} MB per second of video); returned {total_back / 1e6:.1f} MB"
    )


if __name__ == "__main__":
    main()
