"""What crop detection costs next to the standard encode it saves work for.

    python benchmarks/crop_cost.py             # generates a 60 s 1080p letterboxed clip
    python benchmarks/crop_cost.py FILM.mkv    # or measures a real film (the encode takes a while)

Prints the wall time of crop analysis (probe excluded, as the graph's crop step runs it), of the standard
video encode (the plan's own argv, crop applied), and their ratio. The issue's budget is 3 %. Run on
demand; CI never times anything.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from drapto.core.config import Config
from drapto.core.plan import plan_standard
from drapto.graph.cropdetect import analyse_crop
from drapto.graph.ffmpeg import resolve_ffmpeg
from drapto.graph.probe import probe, require_video
from drapto.graph.runner import CHILD_ENV


def make_clip(ffmpeg: str, target: Path, seconds: int) -> None:
    """2.39:1 testsrc2 letterboxed into 1920x1080, H.264 with 10 s GOPs like many real sources."""
    subprocess.run(
        [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc2=size=1920x804:rate=24:duration={seconds}",
         "-vf", "pad=1920:1080:0:138:black", "-c:v", "libx264", "-preset", "veryfast", "-crf", "20",
         "-g", "240", "-pix_fmt", "yuv420p", str(target)],
        check=True,
    )  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", nargs="?", type=Path)
    parser.add_argument("--seconds", type=int, default=60, help="length of the generated clip")
    args = parser.parse_args()
    ffmpeg = resolve_ffmpeg()
    with tempfile.TemporaryDirectory() as folder:
        source = args.source or Path(folder) / "letterbox-1080p.mkv"
        if args.source is None:
            print(f"generating a {args.seconds} s 1080p clip ...", file=sys.stderr)
            make_clip(ffmpeg, source, args.seconds)
        media = require_video(probe(source.absolute()))

        started = time.perf_counter()
        analysis = analyse_crop(ffmpeg, media, "auto")
        crop_seconds = time.perf_counter() - started
        decision = analysis.decision
        print(
            f"crop:   {crop_seconds:7.2f} s  {decision.crop or 'none'} ({decision.reason}, {decision.samples} samples)"
        )

        plan = plan_standard(
            media, Config(), ffmpeg=ffmpeg, output=Path(folder) / "out" / "film.mkv", crop=decision.crop
        )
        video = plan.steps[0]
        Path(video.partial).parent.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        # SVT-AV1 prints its banner unless told otherwise; drapto's runner sets the same variable
        subprocess.run(video.argv, check=True, stdout=subprocess.DEVNULL, env={**os.environ, **CHILD_ENV})
        encode_seconds = time.perf_counter() - started
        print(f"encode: {encode_seconds:7.2f} s  standard video encode, preset {plan.preset}, CRF {plan.crf}")
        print(f"ratio:  {crop_seconds / encode_seconds:7.2%}  (budget 3%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
