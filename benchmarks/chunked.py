"""Chunked VMAF mode against one plain encode, side by side in one run.

    python benchmarks/chunked.py                 # generates a 60 s multi-scene 720p clip
    python benchmarks/chunked.py --keep DIR      # keep the clip and outputs in DIR (reused on the next run)

Prints, for the same clip and preset:
- wall time of `drapto encode` (chunked, default settings) ÷ one plain ffmpeg encode of the whole clip at
  the median chosen CRF (all threads), and tries per chunk;
- CPU time of both, and the work by kind (kept tries, other tries, probes): the kept tries alone are the
  floor of any search that measures every chunk it keeps;
- each chunk's VMAF on all its frames (from one every-frame scoring of the whole output; the search
  scores the middles of frame triples every 15 frames) against the target band;
- whole-file VMAF (all frames) and size of the chunked output against the plain encode;
- size against the fixed CRF whose worst chunk just reaches target − 1 (estimated from each chunk's tries,
  then encoded and checked);
- the share of worker-seconds idle in the chunk phase and how long the last chunk ran alone (as film.py).
The goal (issue 18): ≤ 1.6× the plain encode, every reachable chunk within target −1/+2.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from common import S, compare, idle_share, workspace  # this folder is the script's: on sys.path

from drapto.graph.ffmpeg import resolve_ffmpeg

# (name, lavfi source, seconds): motion, fine detail, grain, static, clean edges, noisy, repeats
SCENES = [
    ("testsrc2", f"testsrc2={S}", 8),
    ("mandelbrot", f"mandelbrot={S}", 8),
    ("grain", f"gradients={S}:speed=0.02,noise=alls=20:allf=t+u", 8),
    ("static", f"mandelbrot={S}:end_scale=0.3,trim=end_frame=1,loop=loop=-1:size=1,noise=alls=4:allf=t", 6),
    (
        "life",
        "life=s=320x180:r=25:mold=10:ratio=0.1:death_color=#C83232:life_color=#00ff00,scale=1280:720:flags=neighbor",
        8,
    ),
    ("noisy-testsrc2", f"testsrc2={S},noise=alls=10:allf=t+u", 10),
    ("sierpinski", f"sierpinski={S}", 6),
    ("mandelbrot-2", f"mandelbrot={S}:start_scale=1.5", 6),
]


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep everything")
    parser.add_argument("--preset", type=int, default=6)
    args = parser.parse_args()
    ffmpeg = resolve_ffmpeg()
    folder = workspace(args.keep, "drapto-bench-")
    source = folder / "multi-scene-720p.mkv"
    if not source.exists():
        print(
            f"generating {sum(s[2] for s in SCENES)} s of 720p ({', '.join(s[0] for s in SCENES)}) ...", file=sys.stderr
        )
        make_clip(ffmpeg, source)
    run = compare(ffmpeg, source, folder, args.preset, goal=1.6)
    idle_share(run)
    if args.keep is None:
        subprocess.run(["rm", "-rf", str(folder)], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
