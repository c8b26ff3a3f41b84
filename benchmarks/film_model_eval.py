"""How well cheap features place a film's chunks: the film model's leave-scouts-out error, offline.

    python benchmarks/film_model_eval.py SOURCE WORK [WORK ...]

WORK is the work folder (`OUT/.drapto/STEM`, kept with `--keep`) of one or more chunked runs of SOURCE,
e.g. `benchmarks/film.py --keep DIR` (DIR/chunked/.drapto/...). Each chunk's truth is the CRF where its
measured tries (of every run given) meet the aim. The script reads the scan's packet sizes and scdet
scores, measures SI/TI (ffmpeg's `siti`) and the bits of a 160 px SVT-AV1 proxy encode in one more pass
over the source, then for each feature picks the scouts as the film model does, predicts every other chunk
from them, and prints the mean error against the prior's single CRF. No chunk is encoded again.
"""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from drapto.core.filmmodel import Features, Point, choose_scouts, measured_point, predict
from drapto.core.framecrc import parse_framecrc
from drapto.core.prediction import PRIOR_CRF_AT_93
from drapto.core.search import SearchSettings, Trial
from drapto.graph.ffmpeg import resolve_ffmpeg
from drapto.graph.probe import probe

SETTINGS = SearchSettings(target=93.0)


def per_frame(source: Path, folder: Path) -> tuple[list[float], list[float], list[int]]:
    """SI, TI and the proxy encode's packet bits per frame, from one decode of the source at 160 px."""
    ffmpeg = resolve_ffmpeg()
    graph = "[0:v]scale=160:-2:flags=area,format=yuv420p,split[a][b];[a]siti,metadata=mode=print:file=siti.txt[s]"
    subprocess.run(
        [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(source), "-filter_complex", graph,
         "-map", "[s]", "-f", "null", "-", "-map", "[b]", "-c:v", "libsvtav1", "-preset", "12", "-crf", "40",
         "-svtav1-params", "lp=1", "-f", "framecrc", "proxy.txt"],
        cwd=folder, check=True,
    )  # fmt: skip
    si, ti = [], []
    for line in (folder / "siti.txt").read_text().splitlines():
        key, _, value = line.partition("=")
        if key == "lavfi.siti.si":
            si.append(float(value))
        elif key == "lavfi.siti.ti":
            ti.append(float(value))
    listing = parse_framecrc((folder / "proxy.txt").read_text())
    return si, ti, [p.size * 8 for p in sorted(listing.packets, key=lambda p: p.pts or 0)]


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    source, works = Path(sys.argv[1]), [Path(p) for p in sys.argv[2:]]
    video = probe(source).video[0]
    scan = json.loads((works[0] / "scenes.json").read_text())["scan"]
    runs: dict[tuple[int, int], list[dict]] = {}
    for work in works:
        for path in (work / "results").glob("*.json"):
            result = json.loads(path.read_text())
            runs.setdefault((result["start"], result["end"]), []).append(result)
    with tempfile.TemporaryDirectory() as folder:
        si, ti, proxy = per_frame(source, Path(folder))
    chunks = []
    for (start, end), results in sorted(runs.items()):
        tries = [Trial(crf=t["crf"], vmaf=t["vmaf"]) for r in results for t in r["tries"]]
        probes = [Trial(crf=t["crf"], vmaf=t["vmaf"]) for r in results for t in r["probes"]]
        frames = end - start
        bpp = sum(scan["frame_bytes"][start:end]) * 8 / (frames * video.width * video.height)
        point = measured_point(Features(bits_per_pixel=bpp, change=0.0), tries, probes, SETTINGS)
        assert point is not None
        chunks.append({
            "truth": point.crf, "slope": point.slope, "bpp": bpp, "change": sum(scan["scores"][start:end]) / frames,
            "si": sum(si[start:end]) / frames, "ti": sum(ti[start + 1 : end]) / max(1, frames - 1),
            "proxy": sum(proxy[start:end]) / frames,
        })  # fmt: skip
    truth = [c["truth"] for c in chunks]
    prior = statistics.mean(abs(PRIOR_CRF_AT_93 - t) for t in truth)
    print(f"{len(chunks)} chunks; their CRF at the aim {min(truth):.1f}-{max(truth):.1f}")
    print(f"{'the prior (one CRF)':34s} mean error {prior:5.2f}")
    candidates = {
        "log2 bits per pixel (the model's)": lambda c: (math.log2(c["bpp"]), c["change"]),
        "log2 SI": lambda c: (math.log2(c["si"]), 0.0),
        "log2 TI": lambda c: (math.log2(c["ti"] + 1), 0.0),
        "log2 TI + log2 SI": lambda c: (math.log2(c["ti"] + 1), math.log2(c["si"]) / 0.02),
        "log2 proxy-encode bits": lambda c: (math.log2(c["proxy"]), 0.0),
    }
    for name, feature in candidates.items():
        features = [Features(bits_per_pixel=2 ** feature(c)[0], change=feature(c)[1]) for c in chunks]
        scouts = set(choose_scouts(features))
        points = [(i, Point(features=features[i], crf=chunks[i]["truth"], slope=chunks[i]["slope"])) for i in scouts]
        errors, sure = [], []
        for i, chunk in enumerate(chunks):
            if i not in scouts:
                prediction = predict(features[i], points, SETTINGS)
                assert prediction is not None
                errors.append(abs(prediction.crf - chunk["truth"]))
                if prediction.sure:
                    sure.append(errors[-1])
        r = statistics.correlation([feature(c)[0] for c in chunks], truth)
        print(
            f"{name:34s} mean error {statistics.mean(errors):5.2f} over {len(errors)} chunks from {len(scouts)} "
            f"scouts; within 2 CRF {sum(e <= 2 for e in errors)}; sure {len(sure)} "
            f"(mean error {statistics.mean(sure) if sure else 0:.2f}); r with the CRF {r:+.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
