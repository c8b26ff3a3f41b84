"""Chunked VMAF mode against one plain encode, side by side in one run.

    python benchmarks/chunked.py                 # generates a 60 s multi-scene 720p clip
    python benchmarks/chunked.py --keep DIR      # keep the clip and outputs in DIR (reused on the next run)

Prints, for the same clip and preset:
- wall time of `drapto encode` (chunked, default settings) ÷ one plain ffmpeg encode of the whole clip at
  the median chosen CRF (all threads), and tries per chunk;
- CPU time of both, and the work by kind (kept tries, other tries, probes): the kept tries alone are the
  floor of any search that measures every chunk it keeps;
- each chunk's VMAF on all its frames (from one every-frame scoring of the whole output; the search
  scores frame pairs every 10 frames) against the target band;
- whole-file VMAF (all frames) and size of the chunked output against the plain encode;
- size against the fixed CRF whose worst chunk just reaches target − 1 (estimated from each chunk's tries,
  then encoded and checked).
The goal (issue 8): ≤ 1.3× the plain encode, every chunk within target −1/+2.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import msgspec

from drapto.core import commands
from drapto.graph.ffmpeg import resolve_ffmpeg
from drapto.graph.runner import CHILD_ENV
from drapto.core.units import ChunkResults
from drapto.core.vmaf import frame_scores, libvmaf_filter, pool_scores, scoring_for, side_filter

WIDTH, HEIGHT, RATE = 1280, 720, 25
S = f"size={WIDTH}x{HEIGHT}:rate={RATE}"
# (name, lavfi source, seconds): motion, fine detail, grain, static, clean edges, noisy, repeats
SCENES = [
    ("testsrc2", f"testsrc2={S}", 8),
    ("mandelbrot", f"mandelbrot={S}", 8),
    ("grain", f"gradients={S}:speed=0.02,noise=alls=20:allf=t+u", 8),
    ("static", f"mandelbrot={S}:end_scale=0.3,trim=end_frame=1,loop=loop=-1:size=1,noise=alls=4:allf=t", 6),
    ("life", f"life=s={WIDTH // 4}x{HEIGHT // 4}:r={RATE}:mold=10:ratio=0.1:death_color=#C83232:life_color=#00ff00,"
             f"scale={WIDTH}:{HEIGHT}:flags=neighbor", 8),
    ("noisy-testsrc2", f"testsrc2={S},noise=alls=10:allf=t+u", 10),
    ("sierpinski", f"sierpinski={S}", 6),
    ("mandelbrot-2", f"mandelbrot={S}:start_scale=1.5", 6),
]
ENV = {**os.environ, **CHILD_ENV}


def make_clip(ffmpeg: str, target: Path) -> None:
    """The scenes back to back, H.264 at a Blu-ray-like quality with 2 s GOPs: CRF 18 held to Blu-ray's
    40 Mbit/s video ceiling (uncapped, the grain scenes ran far above it and the clip averaged 27 Mbit/s;
    capped, 16 Mbit/s)."""
    argv = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    for _name, source, seconds in SCENES:
        argv += ["-f", "lavfi", "-i", f"{source},trim=duration={seconds},setpts=PTS-STARTPTS,format=yuv420p"]
    inputs = "".join(f"[{i}:v]" for i in range(len(SCENES)))
    argv += ["-filter_complex", f"{inputs}concat=n={len(SCENES)}:v=1:a=0[v]", "-map", "[v]",
             "-c:v", "libx264", "-preset", "medium", "-crf", "18", "-maxrate", "40M", "-bufsize", "60M",
             "-g", "50", str(target)]  # fmt: skip
    subprocess.run(argv, check=True)


def cpu_seconds() -> float:
    """CPU time of every finished child process so far (their own children included)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: list[str], **kwargs) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, env=ENV, **kwargs)
    return time.perf_counter() - started


def plain_encode(ffmpeg: str, source: Path, target: Path, crf: float, preset: int) -> float:
    svt = commands.svt_params(keyint_seconds=10, film_grain=0, film_grain_denoise=False)
    return timed([
        ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", str(source), "-map", "0:v:0",
        "-c:v", "libsvtav1", "-pix_fmt", "yuv420p10le", "-preset", str(preset), "-svtav1-params", f"{svt}:crf={crf:g}",
        str(target),
    ])  # fmt: skip


def frame_vmaf(ffmpeg: str, source: Path, encoded: Path, folder: Path) -> list[float]:
    """VMAF of every frame of a whole encode against the source, drapto's convention; a chunk's score is
    the mean of its frames' (an earlier version scored each chunk's window of the source against the
    start of a whole-file encode, which made the fixed CRF's "worst chunk" meaningless)."""
    scoring = scoring_for(WIDTH, HEIGHT, every=1, pool="mean", threads=2)
    argv = commands.file_score_argv(
        ffmpeg, str(source), str(encoded), crop=None, scoring_filter=side_filter(scoring),
        libvmaf=libvmaf_filter(scoring, "score.json"),
    )  # fmt: skip
    subprocess.run(argv, check=True, env=ENV, cwd=folder, stdout=subprocess.DEVNULL)
    return frame_scores((folder / "score.json").read_bytes())


def chunk_vmaf(frames: list[float], result) -> float:
    return pool_scores(frames[result.start : result.end], "mean")


def crf_reaching(tries, level: float) -> float:
    """Where a chunk's tries put VMAF = level (linear between the two nearest, slope 0.6 from one)."""
    points = sorted((t.crf, t.vmaf) for t in tries)
    above = [p for p in points if p[1] >= level]
    below = [p for p in points if p[1] < level]
    if above and below:
        (c1, v1), (c2, v2) = max(above), min(below)
        if c2 > c1:
            return c1 + (v1 - level) / (v1 - v2) * (c2 - c1)
    crf, vmaf = min(points, key=lambda p: abs(p[1] - level))
    return crf + (vmaf - level) / 0.6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep everything")
    parser.add_argument("--preset", type=int, default=6)
    args = parser.parse_args()
    ffmpeg = resolve_ffmpeg()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="drapto-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "multi-scene-720p.mkv"
    if not source.exists():
        print(f"generating {sum(s[2] for s in SCENES)} s of 720p ({', '.join(s[0] for s in SCENES)}) ...", file=sys.stderr)
        make_clip(ffmpeg, source)
    out = folder / "chunked"
    subprocess.run(["rm", "-rf", str(out)], check=True)

    drapto = [sys.executable, "-m", "drapto", "encode", str(source), str(out), "--keep", "--json", "--crop", "none",
              "--preset", str(args.preset)]  # fmt: skip
    started, cpu_before = time.perf_counter(), cpu_seconds()
    run = subprocess.run(drapto, check=True, capture_output=True, text=True)
    chunked_seconds, chunked_cpu = time.perf_counter() - started, cpu_seconds() - cpu_before
    events = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    steps = {e["step"]: e["elapsed"] for e in events if e["event"] == "step_finished"}
    work = out / ".drapto" / source.stem
    results = msgspec.json.decode((work / "drapto-chunks.json").read_bytes(), type=ChunkResults)
    chunks = results.chunks
    target = results.target_vmaf
    median_crf = statistics.median(r.crf for r in chunks)

    plain = folder / "plain.mkv"
    cpu_before = cpu_seconds()
    plain_seconds = plain_encode(ffmpeg, source, plain, median_crf, args.preset)
    plain_cpu = cpu_seconds() - cpu_before

    print(f"clip: {source} ({results.frames} frames), preset {args.preset}, target VMAF {target:g} (band "
          f"{target - 1:g}-{target + 2:g})")
    print(f"scene scan: {steps.get('scenes', 0):.1f} s = {steps.get('scenes', 0) / plain_seconds:.1%} of the plain encode")
    print(f"chunked: {chunked_seconds:.1f} s wall; plain encode at the median CRF {median_crf:g}: {plain_seconds:.1f} s; "
          f"ratio {chunked_seconds / plain_seconds:.2f}x (goal <= 1.3x)")
    print(f"CPU time: chunked {chunked_cpu:.1f} s, plain {plain_cpu:.1f} s; ratio {chunked_cpu / plain_cpu:.2f}x")
    kept = sum(next(t.seconds for t in r.tries if t.crf == r.crf) for r in chunks)
    other = sum(t.seconds for r in chunks for t in r.tries) - kept
    probing = sum(p.seconds for r in chunks for p in r.probes)
    print(f"work (each try's wall time, one encoder thread each): kept tries {kept:.1f} s, other tries {other:.1f} s, "
          f"probes {probing:.1f} s; the kept tries alone (every chunk encoded and scored once, no search) are "
          f"{kept / plain_cpu:.2f}x the plain encode's CPU time")
    tries = [len(r.tries) for r in chunks]
    probes = [len(r.probes) for r in chunks]
    print(f"full encodes per chunk: mean {statistics.mean(tries):.2f}, max {max(tries)}, total {sum(tries)} for "
          f"{len(chunks)} chunks; window probes: {sum(probes)} ({statistics.mean(probes):.2f} per chunk)")

    print("chunk  frames        CRF    probes  tries  search VMAF  all-frames VMAF  in band")
    within = 0
    scratch = folder / "scores"
    scratch.mkdir(exist_ok=True)
    output = out / f"{source.stem}.mkv"
    chunked_frames = frame_vmaf(ffmpeg, source, output, scratch)
    for r in chunks:
        full = chunk_vmaf(chunked_frames, r)
        ok = target - 1 <= full <= target + 2
        within += ok
        print(f"{r.index:<6} {r.start:>5}-{r.end - 1:<6} {r.crf:6.2f}  {len(r.probes):>6}  {len(r.tries):>5}  "
              f"{r.vmaf:11.2f}  {full:15.2f}  {'yes' if ok else 'NO'}")
    print(f"chunks within target -1/+2 on all frames: {within} of {len(chunks)}")

    chunked_vmaf = pool_scores(chunked_frames, "mean")
    plain_vmaf = pool_scores(frame_vmaf(ffmpeg, source, plain, scratch), "mean")
    chunked_bytes, plain_bytes = output.stat().st_size, plain.stat().st_size
    print(f"whole file: chunked VMAF {chunked_vmaf:.2f}, {chunked_bytes / 1e6:.1f} MB; plain CRF {median_crf:g} VMAF "
          f"{plain_vmaf:.2f}, {plain_bytes / 1e6:.1f} MB; size ratio {chunked_bytes / plain_bytes:.2f}")

    fixed_crf = min(crf_reaching(r.tries, target - 1) for r in chunks)
    fixed_crf = round(fixed_crf * 4) / 4
    fixed = folder / "fixed.mkv"
    plain_encode(ffmpeg, source, fixed, fixed_crf, args.preset)
    fixed_frames = frame_vmaf(ffmpeg, source, fixed, scratch)
    worst = min(chunk_vmaf(fixed_frames, r) for r in chunks)
    fixed_bytes = fixed.stat().st_size
    print(f"fixed CRF {fixed_crf:g} (worst chunk {worst:.2f}, aimed at {target - 1:g}): {fixed_bytes / 1e6:.1f} MB; "
          f"chunked is {chunked_bytes / fixed_bytes:.2f}x its size")
    if args.keep is None:
        subprocess.run(["rm", "-rf", str(folder)], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
