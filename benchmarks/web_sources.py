"""Web-shaped sources: does any output grow? The default run against `--size-ceiling 0`, side by side.

    python benchmarks/web_sources.py [--preset 12] [--seconds 10] [--keep DIR]

Makes the kind of files a library collects from downloads and phones, 640x360 to 1280x720 at 0.4-1.6 Mb/s
(VP9 WebM, Xvid AVI, WMV, 10-bit H.264 MKV, H.264 MP4; a moving picture with grain, pink-noise audio), then
runs `drapto encode` on each with the defaults and again with the size ceiling off, and prints the sizes:
the source, the output with the ceiling (and its chunks capped, with their VMAF), the output without.
The goal (issue 24): with the defaults, no output larger than its source.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from drapto.graph.ffmpeg import resolve_ffmpeg

PICTURE = "mandelbrot=s={size}:r=25,noise=alls=8:allf=t,hue=H=t/3"
AUDIO = "anoisesrc=c=pink:a=0.15"
# (file, size, video codec args, audio codec args)
SHAPES = [
    ("vp9.webm", "640x360", ["-c:v", "libvpx-vp9", "-b:v", "400k", "-deadline", "realtime", "-cpu-used", "8"],
     ["-c:a", "libopus", "-b:a", "96k"]),
    ("xvid.avi", "640x360", ["-c:v", "libxvid", "-b:v", "700k"], ["-c:a", "libmp3lame", "-b:a", "128k"]),
    ("wmv.wmv", "640x360", ["-c:v", "wmv2", "-b:v", "800k"], ["-c:a", "wmav2", "-b:a", "128k"]),
    ("h264-10bit.mkv", "1280x720", ["-c:v", "libx264", "-pix_fmt", "yuv420p10le", "-preset", "fast", "-b:v", "1200k"],
     ["-c:a", "aac", "-b:a", "128k"]),
    ("h264.mp4", "1280x720", ["-c:v", "libx264", "-preset", "fast", "-b:v", "1600k"], ["-c:a", "aac", "-b:a", "128k"]),
]  # fmt: skip


def make(ffmpeg: str, folder: Path, name: str, size: str, video: list[str], audio: list[str], seconds: int) -> Path:
    target = folder / name
    if not target.exists():
        subprocess.run([
            ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", PICTURE.format(size=size), "-f", "lavfi", "-i", AUDIO,
            "-t", str(seconds), *video, *audio, str(target),
        ], check=True)  # fmt: skip
    return target


def encode(source: Path, out: Path, preset: int, *extra: str) -> tuple[int, list[dict]]:
    """The output's size and its chunk results."""
    subprocess.run(["rm", "-rf", str(out)], check=True)
    argv = [sys.executable, "-m", "drapto", "encode", str(source), str(out), "--keep", "--no-log", "-q",
            "--preset", str(preset), *extra]  # fmt: skip
    subprocess.run(argv, check=True)
    output = out / f"{source.stem}.mkv"
    chunks = json.loads(next((out / ".drapto").glob("*/drapto-chunks.json")).read_text())["chunks"]
    return output.stat().st_size, chunks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", type=int, default=12)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep everything")
    args = parser.parse_args()
    ffmpeg = resolve_ffmpeg()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="drapto-web-"))
    folder.mkdir(parents=True, exist_ok=True)
    grew = 0
    print("source              size      capped (ceiling 100%)          ceiling off")
    for name, size, video, audio in SHAPES:
        source = make(ffmpeg, folder, name, size, video, audio, args.seconds)
        kept, chunks = encode(source, folder / "ceiling", args.preset)
        free, _ = encode(source, folder / "free", args.preset, "--size-ceiling", "0")
        capped = [c for c in chunks if c["capped"]]
        vmaf = f", VMAF {min(c['vmaf'] for c in capped):.1f}-{max(c['vmaf'] for c in capped):.1f}" if capped else ""
        source_bytes = source.stat().st_size
        grew += kept > source_bytes
        print(
            f"{name:18s}  {source_bytes / 1e6:6.2f} MB  {kept / source_bytes:5.2f}x, {len(capped)}/{len(chunks)} "
            f"capped{vmaf:18s}  {free / source_bytes:5.2f}x"
        )
    print(f"outputs larger than their source with the defaults: {grew} of {len(SHAPES)} (goal: 0)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
